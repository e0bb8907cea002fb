"""The public page of filed plans (公示) and its feedback, open to anyone without signing in,
and the office's poster that points to it.

Feedback is limited per browser by a signed cookie that stays in the browser (the server keeps
no address, time or counter; see :mod:`survey.services.rectification.public`).
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer

from survey.rectify import bp
from survey.rectify import forms as f
from survey.rectify.opinions import office_admin
from survey.refusals import Conflict, Refusal
from survey.services.links import poster_qr
from survey.services.lookup import find_campaign
from survey.services.rectification import plans, public

#: Signed cookie: how many feedbacks this browser left, per campaign slug.
FEEDBACK_COOKIE = "ceping_feedback"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="ceping.rectify.feedback")


def _sent() -> dict[str, int]:
    raw = request.cookies.get(FEEDBACK_COOKIE)
    try:
        value = _serializer().loads(raw) if raw else {}
    except BadSignature:
        return {}
    return value if isinstance(value, dict) else {}


def public_url(slug: str) -> str:
    return f"{current_app.config['CEPING_BASE_URL']}/plans/{slug}"


def _page(campaign, form, status: int = 200):
    filed = public.public_plans(campaign)
    form.plan.choices = [(0, _("The campaign as a whole"))] + [
        (p.id, p.branch.name if p.branch else p.title) for p in filed
    ]
    return render_template(
        "rectify/public.html",
        campaign=campaign,
        plans=filed,
        form=form,
        labels=plans,
        is_overdue=plans.is_overdue,
        limit_reached=_sent().get(campaign.slug, 0) >= public.FEEDBACK_PER_BROWSER,
    ), status


@bp.get("/plans/<slug>")
def show_public(slug: str):
    """Filed plans, their measures and progress; a form to leave an opinion."""
    campaign = public.public_campaign(slug)
    return _page(campaign, f.FeedbackForm(formdata=None))


@bp.post("/plans/<slug>")
def leave_feedback(slug: str):
    campaign = public.public_campaign(slug)
    form = f.FeedbackForm()
    filed = public.public_plans(campaign)
    form.plan.choices = [(0, "")] + [(p.id, "") for p in filed]
    sent = _sent()
    if sent.get(slug, 0) >= public.FEEDBACK_PER_BROWSER:
        raise Conflict(_("Thank you: this browser has already sent several opinions."))
    if not form.validate_on_submit():
        return _page(campaign, form, 422)
    try:
        public.leave_feedback(campaign, form.plan.data or None, form.text.data)
    except Refusal as refused:
        form.text.errors = [*form.text.errors, *refused.messages]
        return _page(campaign, form, refused.status)
    sent[slug] = sent.get(slug, 0) + 1
    flash(_("Thank you. Your opinion was received; nothing about you was kept."), "success")
    response = redirect(url_for("rectify.show_public", slug=slug), code=303)
    response.set_cookie(
        FEEDBACK_COOKIE,
        _serializer().dumps(sent),
        max_age=180 * 24 * 3600,
        path="/plans/",
        secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
        httponly=True,
        samesite="Lax",
    )
    return response


@bp.get("/rectify/<slug>/poster")
def show_poster(slug: str):
    """An A4 poster with the public page's address and QR code."""
    office_admin()
    campaign = find_campaign(slug)
    url = public_url(slug)
    return render_template("rectify/poster.html", campaign=campaign, url=url, qr=poster_qr(url))
