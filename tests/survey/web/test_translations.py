"""Translation catalogs: complete, placeholder-safe, and served by Accept-Language and the switcher.

The catalogs are survey/translations/<lang>/LC_MESSAGES/messages.po; English is the source, so the
en catalog stays empty. The .mo files are git-ignored and built by the Makefile; the session
fixture here builds them when they are missing or older than their .po, so the tests also run
straight from a fresh clone.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import flask_babel
import pytest
from babel.messages.catalog import PYTHON_FORMAT, Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

import survey
from survey import create_app
from survey.config import LANGUAGES
from survey.db import db

ROOT = Path(survey.__file__).resolve().parent.parent
CATALOGS = ROOT / "survey" / "translations"
TEMPLATE = CATALOGS / "messages.pot"
CHINESE = ("zh_Hant", "zh_Hans")

#: A named placeholder with its conversion, as Python's % operator reads it.
NAMED = re.compile(r"%\((\w+)\)[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?[diouxXeEfFgGcrs]")


def read_catalog(path: Path, locale: str | None = None) -> Catalog:
    """Parse one .po or .pot file."""
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def po_path(language: str) -> Path:
    """Where the catalog of ``language`` lives."""
    return CATALOGS / language / "LC_MESSAGES" / "messages.po"


def forms(value: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """A msgid or msgstr as a tuple of its (plural) forms."""
    return (value,) if isinstance(value, str) else tuple(value)


def placeholders(text: str) -> tuple[list[str], int, int]:
    """The named placeholders, the number of "%%" and the number of other "%" in ``text``."""
    named = sorted(match.group(0) for match in NAMED.finditer(text))
    rest = NAMED.sub("", text)
    escaped = rest.count("%%")
    return named, escaped, rest.replace("%%", "").count("%")


def untranslatable(msgid: str | tuple[str, ...]) -> bool:
    """Whether babel reads a bare "%" in the msgid as a placeholder no translation can keep."""
    return any(
        match.group(1) is None and match.group(3) != "%"
        for text in forms(msgid)
        for match in PYTHON_FORMAT.finditer(text)
    )


@pytest.fixture(scope="session")
def template() -> Catalog:
    """messages.pot, the list of every msgid."""
    return read_catalog(TEMPLATE)


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogs() -> Iterator[None]:
    """Build each .mo from its .po when missing or stale (the Makefile does the same)."""
    for language in LANGUAGES:
        source = po_path(language)
        target = source.with_suffix(".mo")
        if target.exists() and target.stat().st_mtime >= source.stat().st_mtime:
            continue
        catalog = read_catalog(source, language)
        # Several pytest workers may get here at once: write aside, then rename atomically.
        partial = target.with_name(f".messages.{os.getpid()}.mo")
        with partial.open("wb") as handle:
            write_mo(handle, catalog, use_fuzzy=True)
        os.replace(partial, target)
    yield


# ------------------------------------------------------------------------------- the catalogs


def test_the_template_lists_every_translatable_string_in_the_code(template):
    """A string added to the code but not extracted would stay English in every language."""
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
    found = {
        message
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=keywords
        )
    }
    found = {message if isinstance(message, str) else tuple(message) for message in found}
    listed = {
        message.id if isinstance(message.id, str) else tuple(message.id) for message in template
    }
    missing = sorted(map(str, found - listed))
    assert not missing, (
        f"{len(missing)} strings are not in messages.pot; run `make extract-messages` and "
        f"translate them: {missing[:10]}"
    )


def test_the_extraction_covers_code_templates_and_plurals(template):
    """babel.cfg reaches Python modules, Jinja templates, and ngettext in both."""
    places = {path for message in template for path, _line in message.locations}
    assert any(path.startswith("survey/") and path.endswith(".py") for path in places)
    assert any(path.startswith("templates/") and path.endswith(".html") for path in places)
    plural_places = {
        path.split("/")[0]
        for message in template
        if message.pluralizable
        for path, _ in message.locations
    }
    assert plural_places == {"survey", "templates"}


def test_no_msgid_has_a_percent_sign_that_babel_takes_for_a_placeholder(template):
    """ "95% limits" reads as "% li" to babel: any Chinese msgstr then fails `pybabel compile`.

    Write such a figure through a named placeholder instead, e.g. ``_("%(level)s limits",
    level=...)``, so that the Makefile's compile step keeps passing once it is translated.
    """
    stray = sorted(
        str(message.id) for message in template if message.id and untranslatable(message.id)
    )
    assert not stray, f"{len(stray)} msgids cannot be translated: {stray}"


@pytest.mark.parametrize("language", CHINESE)
def test_every_msgid_has_a_translation(template, language):
    """Every string of the interface is translated, none fuzzy, one form per plural (nplurals=1)."""
    catalog = read_catalog(po_path(language), language)
    assert catalog.num_plurals == 1
    problems = []
    for wanted in template:
        if not wanted.id or untranslatable(wanted.id):  # see the test above
            continue
        message: Message | None = catalog.get(wanted.id)
        if message is None:
            problems.append(f"missing: {wanted.id!r}")
        elif message.fuzzy:
            problems.append(f"fuzzy: {wanted.id!r}")
        elif len(forms(message.string)) != 1 or not forms(message.string)[0].strip():
            problems.append(f"untranslated: {wanted.id!r}")
    assert not problems, f"{len(problems)} problems in {language}: {problems[:10]}"


@pytest.mark.parametrize("language", CHINESE)
def test_every_translation_keeps_the_placeholders_of_its_msgid(language):
    """A lost or renamed %(name)s raises KeyError on the page; a stray "%" breaks templates."""
    catalog = read_catalog(po_path(language), language)
    problems = []
    for message in catalog:
        if not message.id:
            continue
        # Chinese has one plural form, so it follows the plural msgid (which always has the count).
        source = forms(message.id)[-1]
        for text in forms(message.string):
            if text and placeholders(text) != placeholders(source):
                problems.append(f"{source!r} -> {text!r}")
    assert not problems, problems


@pytest.mark.parametrize("language", LANGUAGES)
def test_pybabel_compile_accepts_every_catalog(language):
    """The Makefile's `pybabel compile` stops on these errors, so `make run` would fail."""
    catalog = read_catalog(po_path(language), language)
    errors = [(message.id, str(error)) for message, found in catalog.check() for error in found]
    assert not errors, errors


# ----------------------------------------------------------------------------- served pages


def fetch(client, path: str, language: str):
    """GET ``path`` with ``Accept-Language: language``, as a new visit would.

    The ``app`` fixture keeps one app context open for the whole test, and Flask-Babel caches the
    locale on it; in production every request has its own context, so forget the cached one.
    """
    flask_babel.refresh()
    return client.get(path, headers={"Accept-Language": language})


def test_start_page_follows_accept_language(client):
    """zh-TW reads Traditional, zh-CN Simplified, en English."""
    traditional = fetch(client, "/", "zh-TW,zh;q=0.9,en;q=0.5")
    page = traditional.get_data(as_text=True)
    assert traditional.status_code == 200
    assert '<html lang="zh-Hant"' in page
    assert "參加測評" in page and "紙條上的測評碼" in page and "打開測評表" in page
    assert "Answer a survey" not in page

    page = fetch(client, "/", "zh-CN").get_data(as_text=True)
    assert '<html lang="zh-Hans"' in page
    assert "参加测评" in page and "纸条上的测评码" in page and "打开测评表" in page
    assert "參加測評" not in page

    page = fetch(client, "/", "en").get_data(as_text=True)
    assert '<html lang="en"' in page
    assert "Answer a survey" in page and "Code from your slip" in page
    assert "參加測評" not in page and "参加测评" not in page


def test_interface_default_is_traditional_chinese(database_url):
    """Without Accept-Language the product speaks zh_Hant (the tests default to English)."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key-not-for-production",
            "DATABASE_URL": database_url,
            "BABEL_DEFAULT_LOCALE": "zh_Hant",
        }
    )
    try:
        page = app.test_client().get("/").get_data(as_text=True)
    finally:
        with app.app_context():
            db.engine.dispose()  # this second app's connections (the schedule check reads)
    assert '<html lang="zh-Hant"' in page and "參加測評" in page


def switcher_link(page: str, lang: str) -> str:
    """The href of the language switcher's link to ``lang`` (a BCP 47 tag)."""
    nav = re.search(r'<nav class="lang-switch".*?</nav>', page, re.S)
    assert nav, "the page has no language switcher"
    link = re.search(rf'<a href="([^"]+)"[^>]*lang="{lang}"', nav.group(0))
    assert link, f"the switcher has no link to {lang}"
    return link.group(1).replace("&amp;", "&")


def test_language_switcher_overrides_accept_language(client):
    """GET /lang/zh_Hans?next=/ returns to the start page, now Simplified; the choice persists."""
    response = fetch(client, "/lang/zh_Hans?next=/", "zh-TW")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = fetch(client, "/", "zh-TW").get_data(as_text=True)
    assert '<html lang="zh-Hans"' in page and "参加测评" in page and "參加測評" not in page

    # The switcher's own links switch again: to English, then back to Traditional.
    back = fetch(client, switcher_link(page, "en"), "zh-TW")
    assert back.status_code == 302
    page = fetch(client, back.headers["Location"], "zh-TW").get_data(as_text=True)
    assert '<html lang="en"' in page and "Answer a survey" in page
    fetch(client, switcher_link(page, "zh-Hant"), "zh-CN")
    page = fetch(client, "/", "zh-CN").get_data(as_text=True)
    assert '<html lang="zh-Hant"' in page and "參加測評" in page
    current = re.search(r'<a [^>]*aria-current="true"[^>]*>([^<]+)</a>', page)
    assert current and current.group(1) == "繁體中文"
