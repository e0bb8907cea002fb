"""Helpers for the tests of the pages: signing in, CSRF tokens, form fields, generated uploads."""

from __future__ import annotations

import html
import io
import re

from openpyxl import Workbook

from survey.auth.access import SESSION_KEY
from survey.models import User
from survey.services.own_account import open_session

#: The 21 party branches of the 2005 campaign, as an import file would list them.
BRANCHES_21 = [(f"b{n:02d}", f"第{n}黨支部") for n in range(1, 22)]


def sign_in_as(client, user: User | None, keep: tuple[str, ...] = ()) -> None:
    """Put ``user`` in the client's session the way the login view does (None: sign out), without
    the login form (the form has tests of its own: tests/survey/web/test_auth.py).

    Everything else in the session is dropped, except the keys in ``keep`` (``"csrf_token"``
    keeps a CSRF token fetched before valid).
    """
    with client.session_transaction() as session:
        kept = {key: session[key] for key in keep if key in session}
        session.clear()
        session.update(kept)
        if user is not None:
            session[SESSION_KEY] = open_session(user)
            session.permanent = True


def token(client, path: str = "/manage/campaigns/new") -> str:
    """A CSRF token of ``client``'s session, read from a page with a form."""
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    return token_in(page.get_data(as_text=True))


def token_in(text: str) -> str:
    """The CSRF token carried by a page."""
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', text
    )
    assert match, "the page carries no CSRF token"
    return match.group(1)


def hidden(text: str, name: str) -> str:
    """The value of the first hidden input called ``name`` on a page."""
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', text) or re.search(
        rf'value="([^"]*)"[^>]*name="{name}"', text
    )
    assert match, f"no field {name!r} on the page"
    return html.unescape(match.group(1))


def field_error(text: str, field_id: str) -> str | None:
    """The error shown right next to the field with ``field_id``, or None."""
    match = re.search(
        rf'id="{re.escape(field_id)}-error"[^>]*>(.*?)</(?:p|span)>', text, flags=re.S
    )
    return html.unescape(match.group(1)).strip() if match else None


def input_value(text: str, field_id: str) -> str | None:
    """What a text input with ``field_id`` holds (to prove the typed input was kept)."""
    tag = re.search(rf'<(?:input|textarea)[^>]*id="{re.escape(field_id)}"[^>]*>', text)
    if tag is None:
        return None
    if tag.group(0).startswith("<textarea"):
        body = re.search(rf'id="{re.escape(field_id)}"[^>]*>(.*?)</textarea>', text, flags=re.S)
        return html.unescape(body.group(1)).strip() if body else None
    value = re.search(r'value="([^"]*)"', tag.group(0))
    return html.unescape(value.group(1)) if value else ""


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    """An .xlsx workbook with ``rows`` on its first sheet, made with openpyxl."""
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def branches_xlsx(branches=BRANCHES_21) -> bytes:
    """tests/fixtures/branches21.xlsx, generated: header code,name,parent and the branches."""
    return xlsx_bytes([["code", "name", "parent"], *[[c, n, None] for c, n in branches]])
