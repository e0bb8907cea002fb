"""Error pages: every refusal is a page in the visitor's language with a 4xx status.

API requests (``/api/…``) get the same status with a JSON body instead of a page. A
:class:`~survey.refusals.Refusal` that no view handled itself is answered here, with its own
status, message, title and headers: the one place where the web and the API turn a service's
refusal into an answer.
"""

from __future__ import annotations

from flask import Flask, g, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from survey.auth.access import home_endpoint
from survey.refusals import Refusal


def _messages() -> dict[int, str]:
    return {
        400: _("The request could not be understood."),
        401: _("Please sign in to see this page."),
        403: _("You do not have access to this page."),
        404: _("This page does not exist."),
        405: _("This address does not accept that kind of request."),
        409: _("This request conflicts with the current state."),
        413: _("The upload is too large."),
        422: _("The submitted data is not valid."),
        429: _("Too many attempts. Please wait a moment and try again."),
        500: _("Something went wrong on our side. Nothing you sent was stored."),
    }


def _titles() -> dict[int, str]:
    """What each status means, in words, for the heading of a page that has no title of its own."""
    return {
        400: _("The request could not be read"),
        401: _("Please sign in"),
        403: _("Not allowed"),
        404: _("Page not found"),
        405: _("Not possible here"),
        409: _("Not possible now"),
        413: _("The upload is too large"),
        422: _("Please check what was sent"),
        429: _("Please wait a moment"),
        500: _("Something went wrong"),
    }


def render_error(status: int, message: str | None = None, title: str | None = None):
    """A refusal page (or JSON for the API) with ``status`` and a message for the visitor.

    The page leads with words (a heading and the message, also the window's title); the status
    number comes last, small, for whoever reports the problem.
    """
    message = message or _messages().get(status, _("The request could not be completed."))
    if request.path.startswith("/api/"):
        return jsonify({"error": message, "status": status}), status
    title = title or _titles().get(status) or _("We could not do that")
    home = home_endpoint(g.user) if g.get("user") is not None else "respond.show_start"
    page = render_template(
        "errors/error.html", status=status, message=message, title=title, home=home
    )
    return page, status


def _http_error(error: HTTPException):
    if isinstance(error, CSRFError):
        return render_error(
            400,
            _(
                "This form has expired or was not sent from this site. "
                "Please go back, reload the page and try again."
            ),
            title=_("The form has expired"),
        )
    return render_error(error.code or 500)


def refused(refusal: Refusal):
    """The answer to a refusal: its page (or JSON), status and headers."""
    body, status = render_error(refusal.status, refusal.message, title=refusal.title)
    return body, status, refusal.headers()


def _unexpected(error: Exception):
    if isinstance(error, HTTPException):
        return _http_error(error)
    from flask import current_app

    current_app.logger.exception("unhandled error", exc_info=error)
    return render_error(500)


def init_app(app: Flask) -> None:
    """Register the error handlers."""
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Refusal, refused)
    app.register_error_handler(InternalServerError, _unexpected)
    app.register_error_handler(Exception, _unexpected)
