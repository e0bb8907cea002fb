"""Forms of the manage area. Choices that depend on the database are filled in by the views."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
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

from survey.forms import PasswordTexts, SiteForm, new_password_fields
from survey.identity.passwords import MIN_LENGTH
from survey.models import Role
from survey.services.branches import CODE_PATTERN
from survey.services.definitions import KEY_PATTERN

#: Rows offered by the custom scale and category editors (blank rows are ignored).
SCALE_ROWS = 7
CATEGORY_ROWS = 6
#: Most codes per branch in one mint request.
MAX_MINT = 1000

_PATTERN_MESSAGE = _l('Use letters, digits, "_", "." or "-", starting with a letter or digit.')


def _as_int(value) -> int:
    """An id from a select; anything else becomes -1, which no choice has ("Not a valid choice")."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def _key_validators(required: bool = True) -> list:
    return [
        DataRequired(_l("Please enter a key.")) if required else Optional(),
        Length(max=40, message=_l("At most 40 characters.")),
        Regexp(
            KEY_PATTERN.pattern + "$",
            message=_PATTERN_MESSAGE,
        ),
    ]


class ActionForm(SiteForm):
    """Only the CSRF token: for buttons whose target is in the address."""

    submit = SubmitField(_l("Go"))


class OptionRow(Form):
    """One option of a custom scale; a row left blank is ignored."""

    key = StringField(_l("Key"), validators=_key_validators(required=False))
    label = StringField(_l("Label"), validators=[Optional(), Length(max=100)])
    weight = StringField(_l("Score"), validators=[Optional(), Length(max=20)])
    favourable = BooleanField(_l("Favourable"))

    def is_blank(self) -> bool:
        """Whether nothing was typed in the row."""
        return not (self.key.data or self.label.data or self.weight.data)


class ScaleForm(SiteForm):
    """A preset scale, or one of the survey's own (best option first)."""

    preset = RadioField(_l("Scale"), validators=[InputRequired(_l("Choose a scale."))])
    options = FieldList(FormField(OptionRow), min_entries=SCALE_ROWS, max_entries=SCALE_ROWS)
    submit = SubmitField(_l("Save scale"))

    def validate_options(self, field) -> None:
        """A custom scale's rows are complete, with numeric scores."""
        if self.preset.data != "custom":
            return
        filled = 0
        for row in field:
            if row.form.is_blank():
                continue
            filled += 1
            if not row.form.key.data:
                row.form.key.errors.append(_l("Please enter a key."))
            if not row.form.label.data:
                row.form.label.errors.append(_l("Please enter a label."))
            try:
                float(row.form.weight.data or "")
            except ValueError:
                row.form.weight.errors.append(_l("Please enter a number, such as 80."))
        if any(row.form.errors for row in field):
            raise ValidationError(_("Please correct the options marked below."))
        if filled < 2:
            raise ValidationError(_("A scale needs at least two options."))


class CategoryRow(Form):
    """One respondent category; a row left blank is ignored."""

    key = StringField(_l("Key"), validators=_key_validators(required=False))
    label = StringField(_l("Label"), validators=[Optional(), Length(max=100)])
    weight = StringField(_l("Weight"), validators=[Optional(), Length(max=20)])

    def is_blank(self) -> bool:
        """Whether nothing was typed in the row."""
        return not (self.key.data or self.label.data or self.weight.data)


class CategoriesForm(SiteForm):
    """The respondent categories and their optional weights in the composite."""

    categories = FieldList(
        FormField(CategoryRow), min_entries=CATEGORY_ROWS, max_entries=CATEGORY_ROWS
    )
    submit = SubmitField(_l("Save categories"))

    def validate_categories(self, field) -> None:
        """Filled rows have a key and a label; weights are positive numbers."""
        filled = 0
        for row in field:
            if row.form.is_blank():
                continue
            filled += 1
            if not row.form.key.data:
                row.form.key.errors.append(_l("Please enter a key."))
            if not row.form.label.data:
                row.form.label.errors.append(_l("Please enter a label."))
            if row.form.weight.data:
                try:
                    valid = float(row.form.weight.data) > 0
                except ValueError:
                    valid = False
                if not valid:
                    row.form.weight.errors.append(_l("A weight is a number above 0, such as 0.4."))
        if any(row.form.errors for row in field):
            raise ValidationError(_("Please correct the categories marked below."))
        if filled == 0:
            raise ValidationError(_("A survey needs at least one respondent category."))


class BranchForm(SiteForm):
    """A branch: code, name and the branch it belongs to."""

    code = StringField(
        _l("Code"),
        validators=[
            DataRequired(_l("Please enter a code.")),
            Length(max=40, message=_l("At most 40 characters.")),
            Regexp(
                CODE_PATTERN.pattern + "$",
                message=_PATTERN_MESSAGE,
            ),
        ],
        render_kw={"autocapitalize": "none", "spellcheck": "false"},
    )
    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(_l("Please enter a name.")),
            Length(max=200, message=_l("At most 200 characters.")),
        ],
    )
    parent = SelectField(_l("Belongs to"), coerce=_as_int, default=0)
    submit = SubmitField(_l("Save branch"))


class UploadForm(SiteForm):
    """A CSV or .xlsx file to check before anything is imported."""

    file = FileField(
        _l("File (CSV or .xlsx)"),
        validators=[
            FileRequired(_l("Please choose a file.")),
            FileAllowed(["csv", "txt", "xlsx"], _l("Only CSV or .xlsx files can be read.")),
        ],
    )
    submit = SubmitField(_l("Check the file"))


class ConfirmImportForm(SiteForm):
    """The checked rows, signed by the server, so the confirmed import is the previewed one."""

    payload = HiddenField(validators=[DataRequired()])
    submit = SubmitField(_l("Import these branches"))


class MintForm(SiteForm):
    """How many codes to mint, for which branch (or all) and category."""

    branch = SelectField(_l("Branch"), coerce=_as_int)
    category = SelectField(_l("Respondent category"), coerce=_as_int)
    count = IntegerField(
        _l("Codes per branch"),
        validators=[
            InputRequired(_l("Please enter how many codes to mint.")),
            NumberRange(min=1, max=MAX_MINT, message=_l("Between 1 and %(max)d.", max=MAX_MINT)),
        ],
    )
    reason = TextAreaField(
        _l("Reason (needed while the survey is open, or beyond a branch's members)"),
        validators=[Optional(), Length(max=500)],
        render_kw={"rows": 2},
    )
    submit = SubmitField(_l("Mint codes"))

    def __init__(self, *args, **kwargs):
        """The selects report invalid choices in words of their own."""
        super().__init__(*args, **kwargs)
        self.branch.validate_choice = False
        self.category.validate_choice = False

    def validate_branch(self, field) -> None:
        """The branch is one of the campaign's active branches, or 0 for all of them."""
        if field.data not in {value for value, _label in field.choices}:
            raise ValidationError(_l("Please choose one of the campaign's active branches."))

    def validate_category(self, field) -> None:
        """The category belongs to this survey, or 0 for all of them."""
        if field.data not in {value for value, _label in field.choices}:
            raise ValidationError(_l("Please choose a respondent category."))


class MintFileForm(SiteForm):
    """A file of ``branch,category,count`` rows: how many codes each group gets."""

    file = FileField(
        _l("File (CSV or .xlsx)"),
        validators=[
            FileRequired(_l("Please choose a file.")),
            FileAllowed(["csv", "txt", "xlsx"], _l("Only CSV or .xlsx files can be read.")),
        ],
        description=_l(
            "Columns branch, category, count (or 支部, 類別, 數量): one row per branch and "
            "category. The branch is its code or name; the category its key or label."
        ),
    )
    reason = MintForm.reason
    submit = SubmitField(_l("Mint the codes of the file"))


class CodesForm(SiteForm):
    """Minted codes sent back for a CSV or another print; checked against the stored hashes."""

    codes = HiddenField(validators=[DataRequired()])


class StateForm(SiteForm):
    """A lifecycle action; ``confirmed`` is set by the confirmation page."""

    action = HiddenField(validators=[DataRequired()])
    confirmed = HiddenField()


class UploadBallotsForm(UploadForm):
    """A ballots file in the format of ``import-responses``."""

    submit = SubmitField(_l("Check the ballots"))


#: The texts of the password an administrator gives someone else's account.
_PASSWORD_TEXTS = PasswordTexts(
    label=_l("Password"),
    again=_l("Password again"),
    missing=_l("Please enter a password."),
    too_short=_l("A password needs at least %(min)d characters.", min=MIN_LENGTH),
    missing_again=_l("Please enter the password a second time."),
    different=_l("The two passwords are not the same."),
)


ROLE_CHOICES = [
    (Role.ADMIN.value, _l("Administrator (campaign office)")),
    (Role.SUPERVISOR.value, _l("Supervisor (reads every branch)")),
    (Role.BRANCH_VIEWER.value, _l("Branch viewer (reads one branch)")),
    (Role.DATA_ENTRY.value, _l("Data entry (keys paper ballots, sees nothing else)")),
]


class RoleForm(SiteForm):
    """An account's role and, for a branch viewer, its branch."""

    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    branch = SelectField(
        _l("Branch"),
        coerce=_as_int,
        default=0,
        description=_l("Only for branch viewers: the one branch they may read."),
    )
    submit = SubmitField(_l("Save"))

    def validate_branch(self, field) -> None:
        """A branch viewer needs a branch."""
        if self.role.data == Role.BRANCH_VIEWER.value and not field.data:
            raise ValidationError(_l("A branch viewer needs a branch."))


class NewUserForm(RoleForm):
    """A new account with its first password."""

    username = StringField(
        _l("Username"),
        validators=[
            DataRequired(_l("Please enter a username.")),
            Length(max=80, message=_l("At most 80 characters.")),
            Regexp(r"^\S+$", message=_l("A username has no spaces.")),
        ],
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"},
    )
    password, confirm = new_password_fields("password", _PASSWORD_TEXTS)
    submit = SubmitField(_l("Create account"))


class PasswordResetForm(SiteForm):
    """A new password chosen by an administrator for someone else's account."""

    password, confirm = new_password_fields("password", _PASSWORD_TEXTS)
    submit = SubmitField(_l("Set password"))
