"""Forms of the respondent path: the code entry and the questionnaire built from a survey's items.

Item keys become the ``name`` of each radio group, so an item may not be keyed ``code``,
``comment``, ``category`` or ``csrf_token`` (the definitions service refuses them, see
:data:`survey.services.definitions.RESERVED_ITEM_KEYS`); the Python attribute
of every item field is ``item_<n>``, so no item key can shadow a method of the form.
"""

from __future__ import annotations

from functools import lru_cache

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, RadioField, StringField, TextAreaField
from wtforms.validators import AnyOf, InputRequired, Length, Optional

from survey.forms import SiteForm
from survey.models import Survey
from survey.services.questionnaires import Questionnaire


class StartForm(SiteForm):
    """The start page: the code from the slip (typed, or filled in from the link's fragment)."""

    code = StringField(
        _l("Code from your slip"),
        validators=[InputRequired(message=_l("Please enter the code printed on your slip."))],
        render_kw={
            "class": "code-input",
            "autocomplete": "off",
            "autocapitalize": "characters",
            "autocorrect": "off",
            "inputmode": "text",
            "spellcheck": "false",
            "maxlength": 64,
            "aria-describedby": "code-hint",
        },
    )


def _normalise_newlines(value: str | None) -> str | None:
    """Count a line break as one character, as the browser's maxlength does (it sends CRLF)."""
    return value.replace("\r\n", "\n") if isinstance(value, str) else value


class ResponseForm(SiteForm):
    """Base of the questionnaire forms that :func:`make_response_form` builds per survey."""

    #: Attribute names of the item fields, in questionnaire order.
    item_attributes: tuple[str, ...] = ()

    def item_fields(self) -> list:
        """The bound radio group of every item, in questionnaire order."""
        return [self[name] for name in self.item_attributes]

    def answers_by_key(self) -> dict[str, str]:
        """The chosen option key of every item, keyed by item key."""
        return {field.name: field.data or "" for field in self.item_fields()}

    def comment_text(self) -> str | None:
        """The comment as typed, or None when the survey takes none."""
        field = self._fields.get("comment")
        return field.data if field is not None else None

    def error_summary(self) -> list[tuple[str, str, str]]:
        """(element id, question, message) of every field in error, for the top of the page."""
        summary = []
        for field in self:
            if not field.errors or field.type in ("CSRFTokenField", "HiddenField"):
                continue
            # A radio group is reached through its first option; other fields by their own id.
            anchor = f"{field.id}-0" if field.type == "RadioField" else field.id
            summary.append((anchor, str(field.label.text), str(field.errors[0])))
        return summary


def make_response_form(
    survey: Survey | Questionnaire, *, with_code: bool = True, choose_category: bool = False
) -> type[ResponseForm]:
    """The questionnaire form of ``survey``: one required radio group per item.

    Form classes are built once per process for each distinct definition (items, scale,
    categories, comment limit) and then reused: building one costs more than the rest of a
    respondent's request. The key is the definition itself, so an edited survey gets a new class.
    """
    definition = (
        tuple((option.key, option.label) for option in survey.options),
        tuple((item.key, item.text) for item in survey.items),
        tuple((c.key, c.label) for c in survey.categories) if choose_category else None,
        survey.comment_max_length if survey.allows_comments else None,
        with_code,
    )
    return _form_class(*definition)


@lru_cache(maxsize=512)
def _form_class(
    options: tuple[tuple[str, str], ...],
    items: tuple[tuple[str, str], ...],
    categories: tuple[tuple[str, str], ...] | None,
    comment_limit: int | None,
    with_code: bool,
) -> type[ResponseForm]:
    option_choices = list(options)
    option_keys = [key for key, _label in option_choices]
    attributes: dict = {}
    names = []
    for position, (key, text) in enumerate(items):
        name = f"item_{position}"
        names.append(name)
        attributes[name] = RadioField(
            text,
            name=key,
            id=f"item-{key}",
            choices=option_choices,
            validate_choice=False,
            validators=[
                InputRequired(message=_l("Please choose an answer to this question.")),
                AnyOf(option_keys, message=_l("This answer is not one of the choices.")),
            ],
        )
    attributes["item_attributes"] = tuple(names)
    if categories is not None:
        category_choices = list(categories)
        attributes["category"] = RadioField(
            _l("I am answering as"),
            id="category",
            choices=category_choices,
            validate_choice=False,
            validators=[
                InputRequired(message=_l("Please choose who you are answering as.")),
                AnyOf(
                    [key for key, _label in category_choices],
                    message=_l("This answer is not one of the choices."),
                ),
            ],
        )
    if comment_limit is not None:
        attributes["comment"] = TextAreaField(
            _l("Your comment (optional)"),
            filters=[_normalise_newlines],
            validators=[
                Optional(),
                Length(
                    max=comment_limit,
                    message=_l("Please shorten your comment to %(max)d characters."),
                ),
            ],
            render_kw={"maxlength": comment_limit, "rows": 6, "aria-describedby": "comment-hint"},
        )
    if with_code:
        attributes["code"] = HiddenField()
    return type("SurveyResponseForm", (ResponseForm,), attributes)
