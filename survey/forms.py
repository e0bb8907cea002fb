"""The base of every form: Flask-WTF with CSRF, reading only well-formed fields.

Flask-WTF merges uploaded files into the form data whenever a request carries any, so a
multipart body with a file part named like a text field would hand a text field a file object,
and a part without a name reaches WTForms as a ``None`` key. Hostile clients send both; here a
text field only ever sees text, and nameless parts are dropped.

WTForms' own messages are translated from catalogs loaded once per language and process:
Flask-WTF would parse the catalog file again on every request that validates a form.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from babel import support
from flask import current_app, request
from flask_babel import get_locale
from flask_wtf import FlaskForm
from werkzeug.datastructures import CombinedMultiDict, MultiDict
from wtforms import FileField, PasswordField
from wtforms.i18n import messages_path
from wtforms.validators import DataRequired, EqualTo, Length

from survey.identity.passwords import MIN_LENGTH


@cache
def _wtforms_catalog(locale: str) -> support.Translations:
    """WTForms' catalog for ``locale``, parsed once per process."""
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class _WTFormsTranslations:
    """WTForms' messages in the request's language (what Flask-WTF does, without re-reading)."""

    @staticmethod
    def _catalog() -> support.Translations | None:
        if not request or "babel" not in current_app.extensions:
            return None
        return _wtforms_catalog(str(get_locale()))

    def gettext(self, string: str) -> str:
        catalog = self._catalog()
        return string if catalog is None else catalog.ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        catalog = self._catalog()
        if catalog is None:
            return singular if n == 1 else plural
        return catalog.ungettext(singular, plural, n)


_TRANSLATIONS = _WTFormsTranslations()


class SiteForm(FlaskForm):
    """A FlaskForm that reads files only into its file fields and ignores nameless parts."""

    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            return _TRANSLATIONS

        def wrap_formdata(self, form, formdata):
            """Rebuild the request's form data from named fields and this form's uploads."""
            data = super().wrap_formdata(form, formdata)
            if data is not request.form and not isinstance(data, CombinedMultiDict):
                return data  # None, JSON, or form data passed in by the caller
            file_fields = {f.name for f in form if isinstance(f, FileField)}
            files = MultiDict(
                [(k, v) for k, v in request.files.items(multi=True) if k in file_fields]
            )
            fields = MultiDict(
                [(k, v) for k, v in request.form.items(multi=True) if isinstance(k, str)]
            )
            return CombinedMultiDict((files, fields))


@dataclass(frozen=True)
class PasswordTexts:
    """What a pair of new-password fields says: labels, and the messages of their checks."""

    label: str
    again: str
    missing: str
    too_short: str
    missing_again: str
    different: str


def new_password_fields(first: str, texts: PasswordTexts) -> tuple[PasswordField, PasswordField]:
    """A new password (at least ``MIN_LENGTH`` characters) and the same typed again: the
    second must equal the field named ``first``."""
    password = PasswordField(
        texts.label,
        validators=[
            DataRequired(texts.missing),
            Length(min=MIN_LENGTH, max=1000, message=texts.too_short),
        ],
        render_kw={"autocomplete": "new-password", "minlength": MIN_LENGTH},
    )
    again = PasswordField(
        texts.again,
        validators=[DataRequired(texts.missing_again), EqualTo(first, message=texts.different)],
        render_kw={"autocomplete": "new-password"},
    )
    return password, again
