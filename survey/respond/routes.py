"""Views of the respond area: start page, questionnaire, thank-you page and open links.

Nothing from a respondent's request is stored except the answers: no address, agent, referrer or
time (the service layer is never given any). A code travels only in POST bodies: a slip's link
carries it in the URL fragment, which browsers never send (``respond.js`` takes it out of the
address bar and posts it at once), and the questionnaire is rendered as the response to the POST
that entered the code, so no URL, log line or history entry holds one. Nor does the session: a
code is never kept between requests, so a device left behind holds none once its tab is closed.

The questionnaire page moves its own history entry to :func:`show_questionnaire_again` (a plain
GET, by ``history.replaceState``), so that Back after sending reloads that address instead of
asking to send the form again, and lands on the thank-you page. Switching language on a
questionnaire posts the answers given so far back with the code (``language`` field, added by
``respond.js``), and the same questionnaire comes back in the new language with those answers
chosen: nothing is stored on the way, not even in the browser.

Code guessing is slowed down by :mod:`survey.services.throttle`. Its key is a short keyed hash of
the client address (many addresses share each key), so the address is never stored, and a row
exists only while that address has recent failed code entries (it expires with its window). A
used code entered on the start page counts as a failure too (see
:func:`survey.services.responses.enter_code`).
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import refresh
from flask_wtf.csrf import CSRFError, generate_csrf
from itsdangerous import BadSignature, URLSafeSerializer

from survey.config import LANGUAGES
from survey.db import db
from survey.errors import render_error
from survey.i18n import current_language
from survey.refusals import Conflict
from survey.respond import bp
from survey.respond.forms import ResponseForm, StartForm, make_response_form
from survey.services import questionnaires, responses, throttle
from survey.services.codes import normalise
from survey.services.questionnaires import Questionnaire
from survey.services.responses import (
    UnknownCode,
    resolve_answers,
    submit_open_link,
    submit_with_code,
)

#: Signed cookie listing the open-link surveys this browser has answered (slugs only: no id, no
#: time). It discourages a second answer; it cannot prevent one.
ANSWERED_COOKIE = "ceping_answered"
#: How long a browser remembers that it answered an open-link survey.
ANSWERED_MAX_AGE = timedelta(days=365)
#: At most this many slugs are remembered, so the cookie stays far below browsers' 4 KB limit.
ANSWERED_KEEP = 40
#: Session flag: this browser's last questionnaire was sent (a boolean: which one, when and with
#: which code are not kept), so that Back to it shows the thank-you page.
JUST_ANSWERED = "respond_sent"


# -- refusals -------------------------------------------------------------------------------
# A code or survey that is turned away raises one of the refusals of
# :mod:`survey.services.responses`; :mod:`survey.errors` answers it with its page and status.


def _client_key() -> str:
    """The throttle key of this client: a short keyed hash of its address, never the address."""
    return throttle.address_key("code", request.remote_addr or "")


@bp.errorhandler(CSRFError)
def refuse_expired_form(_error: CSRFError):
    """An expired or forged respondent form: say that nothing was stored and how to go on."""
    if request.path.startswith("/s/"):
        message = _(
            "This page has expired or was not sent from this site. Nothing was stored: please "
            "open the survey link again and answer once more."
        )
    else:
        message = _(
            "This page has expired or was not sent from this site. Nothing was stored, so your "
            "code can still be used: please go to the start page and enter it again."
        )
    return render_error(
        400,
        message,
        title=_("The page has expired"),
    )


# -- pages ----------------------------------------------------------------------------------


#: Respondent pages that are the same for everyone who sees them (see :func:`_shared_page`), by
#: what they show; cleared when it grows past ``_PAGES_KEPT`` entries.
_PAGES: dict[tuple, str] = {}
_PAGES_KEPT = 512


def _shared_page(template: str, key: tuple, slots: dict[str, str], **context) -> str:
    """Render a respondent page once for everyone it is the same for, and reuse it.

    A hall of respondents opens the same pages hundreds of times within minutes, and rendering
    them was most of the server's work. ``key`` names everything the page shows besides the
    layout's own parts, which are added here: the language, the address (the language links
    carry it) and the day (the print header). ``slots`` are the per-request values a page holds
    in a form field (``value="…"``: the CSRF token, the code), swapped for this request's own.
    A signed-in visitor, or one with messages waiting, gets a page rendered for them.
    """
    if g.get("user") is not None or session.get("_flashes"):
        return render_template(template, **context)
    full_key = (template, *key, current_language(), request.full_path, date.today())
    found = _PAGES.get(full_key)
    if found is None:
        page = render_template(template, **context)
        shared = page
        for name, value in slots.items():
            shared = shared.replace(f'value="{value}"', f'value="\ufffc{name}\ufffc"')
        if any(value in shared for value in slots.values()):
            return page  # a slot's value elsewhere on the page: never hand it to anyone else
        if len(_PAGES) >= _PAGES_KEPT:
            _PAGES.clear()
        found = _PAGES[full_key] = shared
    for name, value in slots.items():
        found = found.replace(f'value="\ufffc{name}\ufffc"', f'value="{value}"')
    return found


def _questionnaire(
    survey: Questionnaire,
    branch_name: str,
    form: ResponseForm,
    *,
    action: str,
    is_open_link: bool = False,
    status: int = 200,
    answered: bool = True,
):
    """Render the questionnaire, then end the read transaction. ``answered``: the form holds
    what was sent (and its errors); an unanswered one is a page shared by everyone answering
    this survey in this branch (keyed by the whole survey snapshot: an edited survey has a new
    key)."""
    context = {
        "title": survey.title,
        "branch_name": branch_name,
        "form": form,
        "item_fields": form.item_fields(),
        "error_summary": form.error_summary(),
        "action": action,
        "is_open_link": is_open_link,
        "comment_limit": survey.comment_max_length if survey.allows_comments else None,
        "welcome_text": survey.welcome_text,
        # Where the page moves its own history entry (see the module's docstring).
        "history_url": request.path
        if is_open_link
        else url_for("respond.show_questionnaire_again"),
    }
    if answered:
        page = render_template("respond/questionnaire.html", **context)
    else:
        slots = {"csrf": generate_csrf()}
        if "code" in form:
            slots["code"] = form.code.data
        key = (survey, branch_name, action, is_open_link, "category" in form)
        page = _shared_page("respond/questionnaire.html", key, slots, **context)
    db.session.commit()
    return page, status


def _switched_language() -> bool:
    """Take the language that a questionnaire's switcher posted with the answers so far; True
    when the request is such a switch (the questionnaire is then shown again, not stored)."""
    language = request.form.get("language")
    if language not in LANGUAGES:
        return False
    session["lang"] = language
    refresh()  # this request's pages already speak the new language
    return True


@bp.get("/")
def show_start():
    """The start page: enter the code from a slip (a slip's link fills it in by script)."""
    return _shared_page("respond/start.html", (), {"csrf": generate_csrf()}, form=StartForm())


@bp.post("/start")
def enter_code():
    """Check a typed code; reply with the questionnaire itself (no redirect: no code in a URL)."""
    form = StartForm()
    if not form.validate_on_submit():
        return render_template("respond/start.html", form=form), 422
    try:
        scope = responses.enter_code(form.code.data, _client_key())
    except UnknownCode as unknown:
        form.code.errors = unknown.messages
        return render_template("respond/start.html", form=form), unknown.status
    session.pop(JUST_ANSWERED, None)  # a new questionnaire: Back to it must not say "thank you"
    survey = scope.survey
    questionnaire = make_response_form(survey)(formdata=None, code=normalise(form.code.data))
    return _questionnaire(
        survey,
        scope.branch_name,
        questionnaire,
        action=url_for("respond.submit_response"),
        answered=False,
    )


@bp.get("/questionnaire")
def show_questionnaire_again():
    """Where a questionnaire's history entry leads: the thank-you page once it was sent (Back
    after sending), else the start page, since no code is kept to show it again (a reload)."""
    if session.get(JUST_ANSWERED):
        return redirect(url_for("respond.show_thanks"), code=303)
    flash(
        _(
            "The questionnaire cannot be opened again from the browser's history, because no "
            "code is kept there. Nothing was stored: please enter your code again."
        ),
        "info",
    )
    return redirect(url_for("respond.show_start"), code=303)


@bp.post("/submit")
def submit_response():
    """Validate the answers and store them with the code used up, atomically; then thank.

    A language switch posts here too: the questionnaire comes back in that language with the
    answers so far chosen, and nothing is stored."""
    entered = request.form.get("code", "")
    switching = _switched_language()
    scope = responses.enter_code(entered, _client_key(), then_submit=not switching)
    survey = scope.survey
    form = make_response_form(survey)()
    if switching:
        action = url_for("respond.submit_response")
        return _questionnaire(survey, scope.branch_name, form, action=action)
    if not form.validate_on_submit():
        return _questionnaire(
            survey, scope.branch_name, form, action=url_for("respond.submit_response"), status=422
        )
    answers, invalid = resolve_answers(survey, form.answers_by_key())
    if invalid:  # pragma: no cover - the form's AnyOf validators already refused these
        abort(422)
    submit_with_code(entered, answers, form.comment_text(), survey)
    session[JUST_ANSWERED] = survey.slug
    return redirect(url_for("respond.show_thanks"), code=303)


@bp.get("/thanks")
def show_thanks():
    """The thank-you page: the answer was stored anonymously, and the survey's own thank-you
    text when the office wrote one (the session names the survey just answered, nothing more)."""
    slug = session.get(JUST_ANSWERED)
    text, is_open_link = (
        questionnaires.thanks_page(slug) if isinstance(slug, str) else (None, False)
    )
    context = {"thanks_text": text, "is_open_link": is_open_link}
    return _shared_page("respond/thanks.html", (text, is_open_link), {}, **context)


# -- open links -----------------------------------------------------------------------------


def _answered_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="ceping.respond.answered")


def _answered_slugs() -> list[str]:
    """Slugs of the open-link surveys this browser has answered, from the signed cookie."""
    raw = request.cookies.get(ANSWERED_COOKIE)
    if not raw:
        return []
    try:
        value = _answered_serializer().loads(raw)
    except BadSignature:
        return []
    if not isinstance(value, list):
        return []
    return [slug for slug in value if isinstance(slug, str)]


def _remember_answered(response, slug: str) -> None:
    """Add ``slug`` to the signed cookie, which holds nothing else: no id, no time."""
    slugs = [s for s in _answered_slugs() if s != slug] + [slug]
    response.set_cookie(
        ANSWERED_COOKIE,
        _answered_serializer().dumps(slugs[-ANSWERED_KEEP:]),
        max_age=int(ANSWERED_MAX_AGE.total_seconds()),
        path="/s/",
        secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
        httponly=True,
        samesite="Lax",
    )


def _link_scope(survey_slug: str, branch_code: str) -> responses.LinkScope:
    """What the link opens; refused when this browser has already answered the survey (the
    signed cookie discourages a second answer; it cannot prevent one)."""
    scope = responses.open_link(survey_slug, branch_code)
    if scope.survey.slug in _answered_slugs():
        raise Conflict(
            _(
                "This browser has already sent an answer to this survey. To keep the results "
                "fair, please answer only once."
            ),
            title=_("Already answered"),
        )
    return scope


def _link_form_class(survey: Questionnaire) -> type[ResponseForm]:
    return make_response_form(survey, with_code=False, choose_category=len(survey.categories) > 1)


@bp.get("/s/<survey_slug>/<branch_code>")
def show_link_form(survey_slug: str, branch_code: str):
    """An open-link questionnaire for one branch: no code; duplicates only discouraged. Back
    after sending it comes here, and is shown the thank-you page."""
    if session.get(JUST_ANSWERED) == survey_slug and survey_slug in _answered_slugs():
        return redirect(url_for("respond.show_thanks"), code=303)
    scope = _link_scope(survey_slug, branch_code)
    survey = scope.survey
    form = _link_form_class(survey)(formdata=None)
    return _questionnaire(
        survey, scope.branch_name, form, action=request.path, is_open_link=True, answered=False
    )


@bp.post("/s/<survey_slug>/<branch_code>")
def submit_link_response(survey_slug: str, branch_code: str):
    """Store an open-link answer, then remember in a signed cookie that this browser answered.
    A language switch posts here too, and gets the questionnaire back with its answers."""
    switching = _switched_language()
    scope = _link_scope(survey_slug, branch_code)
    survey = scope.survey
    form = _link_form_class(survey)()
    if switching:
        return _questionnaire(
            survey, scope.branch_name, form, action=request.path, is_open_link=True
        )
    if not form.validate_on_submit():
        return _questionnaire(
            survey, scope.branch_name, form, action=request.path, is_open_link=True, status=422
        )
    category = survey.category(form.category.data) if "category" in form else survey.categories[0]
    answers, invalid = resolve_answers(survey, form.answers_by_key())
    if invalid:  # pragma: no cover - the form's AnyOf validators already refused these
        abort(422)
    slug = survey.slug
    submit_open_link(survey, scope.branch_id, category.id, answers, form.comment_text())
    session[JUST_ANSWERED] = slug
    response = redirect(url_for("respond.show_thanks"), code=303)
    _remember_answered(response, slug)
    return response
