"""Forms of the manage area for campaigns and surveys: creating them, their settings, their
items, the branches a campaign measures, and confirmations of deleting and archiving.

A clerk never has to invent an ASCII identifier: short names and item keys may be left blank,
and the service suggests one (:mod:`survey.services.naming`); the forms are prefilled with it.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FloatField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from survey.forms import SiteForm
from survey.manage.forms import _as_int, _key_validators
from survey.models import Access, ResultsVisibility, SurveyKind
from survey.services.definitions import MIN_THRESHOLD, RESERVED_ITEM_KEYS, SLUG_PATTERN

#: Longest welcome or thank-you text.
TEXT_LENGTH = 2000

_SLUG_HELP = _l(
    'Optional: lower-case letters, digits, "_" and "-", used in addresses and file names. Left '
    "blank, one is made from the title."
)
_KEY_HELP = _l(
    'Optional: letters, digits, "_", "." or "-", the column name in ballots files and exports. '
    "Left blank, the next free key (q7, q8 …) is used."
)


def _slug_field(label) -> StringField:
    return StringField(
        label,
        validators=[
            Optional(),
            Length(max=64, message=_l("At most 64 characters.")),
            Regexp(
                SLUG_PATTERN.pattern + "$",
                message=_l(
                    'Use lower-case letters, digits, "_" and "-", starting with a letter or digit.'
                ),
            ),
        ],
        description=_SLUG_HELP,
        render_kw={"autocapitalize": "none", "spellcheck": "false"},
    )


def _title_field() -> StringField:
    return StringField(
        _l("Title"),
        validators=[DataRequired(_l("Please enter a title.")), Length(max=200)],
    )


class CampaignForm(SiteForm):
    """A campaign: a title and a short name (suggested from the title; fixed once created)."""

    title = _title_field()
    slug = _slug_field(_l("Short name"))
    submit = SubmitField(_l("Save campaign"))


class NewSurveyForm(SiteForm):
    """A new survey: where it belongs, what it is called, and what it starts from."""

    campaign = SelectField(_l("Campaign"), coerce=_as_int, validate_choice=False)
    title = _title_field()
    slug = _slug_field(_l("Short name"))
    kind = SelectField(
        _l("Kind"),
        choices=[
            (SurveyKind.EVALUATION.value, _l("Evaluation (測評)")),
            (SurveyKind.SATISFACTION.value, _l("Satisfaction test (滿意度測評)")),
            (SurveyKind.OTHER.value, _l("Other")),
        ],
    )
    start = RadioField(
        _l("Start from"),
        validators=[InputRequired(_l("Choose how to start the survey."))],
        description=_l(
            "A copy keeps the item keys of the earlier survey, so the two stages can be compared."
        ),
    )
    submit = SubmitField(_l("Create survey"))

    def validate_campaign(self, field) -> None:
        """A survey belongs to a campaign that exists."""
        if field.data not in {value for value, _label in field.choices}:
            raise ValidationError(_l("Please choose a campaign (create one first)."))


def _whole_number(label, low: int, high: int, message, description=None) -> IntegerField:
    return IntegerField(
        label,
        validators=[
            InputRequired(_l("Please enter a whole number.")),
            NumberRange(min=low, max=high, message=message),
        ],
        description=description,
    )


class SettingsForm(SiteForm):
    """A survey's title, settings, texts and schedule; its questionnaire has pages of its own."""

    title = _title_field()
    kind = NewSurveyForm.kind
    access = RadioField(
        _l("Access"),
        choices=[
            (Access.CODES.value, _l("One-time access codes on printed slips")),
            (Access.LINK.value, _l("An open link (anyone with the link may answer)")),
        ],
        validators=[InputRequired(_l("Choose how respondents get in."))],
    )
    threshold = _whole_number(
        _l("Anonymity threshold"),
        MIN_THRESHOLD,
        1000,
        _l(
            "At least %(min)d: with fewer respondents in a group, each can work out "
            "what the others said.",
            min=MIN_THRESHOLD,
        ),
        _l("Groups with fewer respondents than this are hidden from every result."),
    )
    results = RadioField(
        _l("Results"),
        choices=[
            (ResultsVisibility.AFTER_CLOSE.value, _l("Shown once the survey is closed")),
            (ResultsVisibility.LIVE.value, _l("Shown live while the survey is open")),
        ],
        validators=[InputRequired(_l("Choose when results are shown."))],
    )
    target = FloatField(
        _l("Target favourable rate (%)"),
        validators=[
            Optional(),
            NumberRange(min=1, max=100, message=_l("A percentage between 1 and 100, such as 90.")),
        ],
        description=_l(
            "For example 90: 好 and 比較好 together at 90 percent or more. Results are read "
            "against it. Leave blank for no target."
        ),
        render_kw={"inputmode": "decimal"},
    )
    comments = BooleanField(_l("Respondents may add a written comment"))
    comment_max_length = _whole_number(
        _l("Longest comment (characters)"), 1, 20000, _l("Between 1 and 20000.")
    )
    min_rank_respondents = _whole_number(
        _l("Respondents needed to rank a branch"), 1, 100000, _l("At least 1.")
    )
    welcome_text = TextAreaField(
        _l("Welcome text"),
        validators=[Optional(), Length(max=TEXT_LENGTH, message=_l("At most 2000 characters."))],
        description=_l("Shown above the questionnaire. Left blank, the standard text is shown."),
        render_kw={"rows": 3},
    )
    thanks_text = TextAreaField(
        _l("Thank-you text"),
        validators=[Optional(), Length(max=TEXT_LENGTH, message=_l("At most 2000 characters."))],
        description=_l("Shown once an answer is sent. Left blank, the standard text is shown."),
        render_kw={"rows": 3},
    )
    opens_at = DateTimeLocalField(
        _l("Opens by itself at"),
        format="%Y-%m-%dT%H:%M",
        validators=[Optional()],
        description=_l("Optional. A draft survey opens at this time."),
    )
    closes_at = DateTimeLocalField(
        _l("Closes by itself at"),
        format="%Y-%m-%dT%H:%M",
        validators=[Optional()],
        description=_l("Optional. An open survey closes at this time."),
    )
    submit = SubmitField(_l("Save settings"))

    def validate_closes_at(self, field) -> None:
        """A survey closes after it opens."""
        if field.data and self.opens_at.data and field.data <= self.opens_at.data:
            raise ValidationError(_l("The closing time must come after the opening time."))


class ItemForm(SiteForm):
    """One item of the questionnaire; a blank key gets the next free one."""

    key = StringField(_l("Key"), validators=_key_validators(required=False), description=_KEY_HELP)
    text = TextAreaField(
        _l("Question"),
        validators=[
            DataRequired(_l("Please enter the question.")),
            Length(max=500, message=_l("At most 500 characters.")),
        ],
        render_kw={"rows": 2},
    )
    submit = SubmitField(_l("Save item"))

    def validate_key(self, field) -> None:
        """Keys that name other fields of the questionnaire or of a ballots file are taken."""
        if (field.data or "").strip().casefold() in RESERVED_ITEM_KEYS:
            raise ValidationError(
                _l('"%(key)s" is reserved; choose another key.', key=field.data.strip())
            )


class CampaignBranchesForm(SiteForm):
    """The branches a campaign measures: one checkbox per branch."""

    branches = SelectMultipleField(
        _l("Branches of this campaign"),
        coerce=int,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validate_choice=False,
    )
    submit = SubmitField(_l("Save the branches"))


class ConfirmForm(SiteForm):
    """A confirmation of deleting or archiving (the CSRF token and one button)."""

    submit = SubmitField(_l("Yes, go ahead"))
