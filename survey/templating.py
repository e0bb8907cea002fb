"""Template helpers that every page's layout needs (navigation, print header)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache

from babel.dates import format_date
from flask import Flask, current_app, g
from flask_babel import get_locale, to_user_timezone
from flask_babel import lazy_gettext as _l

#: Navigation entries: endpoint, label, roles that see it.
NAVIGATION = (
    ("results.list_campaigns", _l("Results"), {"admin", "supervisor", "branch_viewer"}),
    ("manage.show_dashboard", _l("Administration"), {"admin"}),
    ("manage.list_keying", _l("Paper ballots"), {"data_entry"}),
    ("auth.list_audit", _l("Audit log"), {"admin"}),
    ("auth.list_oversight", _l("Oversight"), {"admin", "supervisor"}),
    ("auth.edit_account", _l("Account"), {"admin", "supervisor", "branch_viewer", "data_entry"}),
    ("auth.logout", _l("Sign out"), {"admin", "supervisor", "branch_viewer", "data_entry"}),
)


def nav_links() -> list[tuple[str, str]]:
    """The navigation entries the signed-in user's role may use."""
    user = g.get("user")
    if user is None:
        return []
    return [
        (endpoint, str(label))
        for endpoint, label, roles in NAVIGATION
        if str(user.role) in roles and endpoint in current_app.view_functions
    ]


def print_date() -> str:
    """Today's date in the configured time zone, written as the interface language writes a
    date (2026年12月1日, 1 December 2026), for the header of printed pages."""
    today = to_user_timezone(datetime.now(UTC)).date()
    return _long_date(today, str(get_locale()))


@lru_cache(maxsize=64)
def _long_date(day: date, locale: str) -> str:
    """Formatted once per day and language, as Flask-Babel's ``format_date`` formats it for the
    request's locale: formatting costs a page ~0.2 ms, and respondents' pages share this layout."""
    return format_date(day, format="long", locale=locale)


def init_app(app: Flask) -> None:
    """Expose the helpers to templates."""
    app.jinja_env.globals.update(nav_links=nav_links, print_date=print_date)
