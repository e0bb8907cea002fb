"""Interface language: Flask-Babel with Traditional Chinese, Simplified Chinese and English.

The language comes from the visitor's explicit choice (the switcher, kept in the session) or else
from Accept-Language. Catalogs live in ``survey/translations`` and are compiled by the setup.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, has_request_context, redirect, request, session
from flask_babel import Babel, get_locale

from survey.config import LANGUAGES

#: What each interface language is called in itself, for the switcher.
LANGUAGE_NAMES = {"zh_Hant": "繁體中文", "zh_Hans": "简体中文", "en": "English"}

#: Accept-Language tags and the catalog that serves them.
_TAGS = {
    "zh-hant": "zh_Hant", "zh-tw": "zh_Hant", "zh-hk": "zh_Hant", "zh-mo": "zh_Hant",
    "zh-hans": "zh_Hans", "zh-cn": "zh_Hans", "zh-sg": "zh_Hans", "zh": "zh_Hans",
    "en": "en",
}  # fmt: skip


def select_locale() -> str | None:
    """The visitor's chosen language, else the best match of Accept-Language, else None."""
    if not has_request_context():  # CLI commands speak the default language
        return None
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    best, best_quality = None, 0.0
    for tag, quality in request.accept_languages:
        tag = tag.lower()
        match = _TAGS.get(tag) or _TAGS.get(tag.split("-")[0])
        if tag.startswith("zh-hant") or tag.startswith("zh-hans"):
            match = _TAGS[tag[:7]]
        if match and quality > best_quality:
            best, best_quality = match, quality
    return best


def set_language(code: str):
    """Remember the chosen language and go back to the page the visitor came from."""
    if code in LANGUAGES:
        session["lang"] = code
    target = request.args.get("next", "/")
    parts = urlsplit(target)
    # Only same-site paths: an open redirect would let a link dress a phishing page as ours.
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        target = "/"
    return redirect(target)


def current_language() -> str:
    """The language of this request, as a catalog name."""
    return str(get_locale())


def html_lang() -> str:
    """The BCP 47 tag for ``<html lang>``."""
    return {"zh_Hant": "zh-Hant", "zh_Hans": "zh-Hans"}.get(current_language(), "en")


def init_app(app: Flask) -> None:
    """Attach Flask-Babel and the language switcher."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(app.root_path + "/translations"))
    default = app.config.get("BABEL_DEFAULT_LOCALE", LANGUAGES[0])

    def locale_selector() -> str:
        return select_locale() or default

    Babel(app, locale_selector=locale_selector)
    app.add_url_rule("/lang/<code>", "set_language", set_language)
    app.jinja_env.globals.update(
        LANGUAGES=LANGUAGES,
        LANGUAGE_NAMES=LANGUAGE_NAMES,
        current_language=current_language,
        html_lang=html_lang,
    )
