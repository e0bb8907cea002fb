"""Security headers on every response, and the CSP nonce that inline scripts must carry.

No page loads anything from another origin: scripts, styles, fonts and plotly.js are served by
the app itself, which both keeps intranet installs working and lets the CSP say ``'self'``.
"""

from __future__ import annotations

import secrets

from flask import Flask, g, request
from flask.wrappers import Response


def csp_nonce() -> str:
    """The nonce of this response, for ``<script nonce="…">``."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def _set_headers(response: Response) -> Response:
    policy = (
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{csp_nonce()}'; "
        # plotly.js sets inline style attributes and injects a style element for its toolbar.
        "style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
    headers = response.headers
    headers.setdefault("Content-Security-Policy", policy)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    # No page of Ceping should tell another site where its visitor came from.
    headers.setdefault("Referrer-Policy", "no-referrer")
    if request.endpoint != "static" and not request.path.startswith("/vendor/"):
        # Questionnaires carry a code in a hidden field: never keep them in a shared cache.
        headers.setdefault("Cache-Control", "no-store")
    return response


def _refuse_unreadable_input():
    """Refuse form fields and query values holding NUL, and multipart parts without a name.

    No text column (PostgreSQL's least of all) can store NUL, and no person types one. A part
    whose name cannot be read reaches Flask as a ``None`` key, which Flask-WTF's CSRF check would
    trip over with a 500; no browser sends one. This hook runs before that check.
    """
    from flask_babel import gettext as _

    from survey.errors import render_error

    keys = [*request.form.keys(), *request.files.keys()]
    if not all(isinstance(key, str) for key in keys):
        return render_error(400, _("The form could not be read: one of its parts has no name."))
    values = [*request.args.values(), *request.form.values()]
    if any("\x00" in value for value in values):
        return render_error(400, _("The form contains a character that cannot be stored (NUL)."))
    return None


def init_app(app: Flask) -> None:
    """Register the header hook, the input check and the nonce helper for templates.

    Call it before ``CSRFProtect.init_app``: the input check must run before the CSRF check.
    """
    app.before_request(_refuse_unreadable_input)
    app.after_request(_set_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
