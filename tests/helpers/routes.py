"""Every route of the app, with its URL arguments filled from a seeded world.

``tests/survey/web/test_headers_everywhere.py`` requests every GET route and
``tests/survey/properties/test_fuzz.py`` attacks every POST route; both need real ids and slugs in
the URLs so that the requests reach the views instead of stopping at a 404. :func:`seed_world`
builds a small campaign with every kind of object a URL can name, and :func:`urls_for` turns a
rule into the URLs to request. A rule with an argument this module does not know fails loudly, so
a new route cannot silently escape the tests. Signing in is :func:`tests.helpers.web.sign_in_as`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from flask import Flask
from sqlalchemy import select
from werkzeug.routing import Rule
from werkzeug.routing.converters import AnyConverter

from survey.db import db
from survey.models import (
    Access,
    Branch,
    Campaign,
    CodeBatch,
    ResultsVisibility,
    Role,
    Survey,
    SurveyKind,
    SurveyState,
    User,
)
from tests.helpers.results import record_response

#: Methods a browser or API client could send that the tests look at.
METHODS = ("GET", "POST")


@dataclass
class World:
    """What :func:`seed_world` created, by the URL argument that names it."""

    campaign: Campaign
    survey: Survey  #: open, codes, with a batch, items, a ballot draft
    results_survey: Survey  #: closed, with responses above the threshold in two branches
    link_survey: Survey  #: open link survey
    branch: Branch
    other_branch: Branch
    admin: User
    supervisor: User
    viewer: User
    token_id: int
    batch_id: int
    draft_id: int | None
    plan_id: int  #: a filed plan of ``branch`` with one measure, on a public page
    measure_id: int
    opinion_id: int
    codes: list[str] = field(default_factory=list)
    users: dict[str, User] = field(default_factory=dict)

    def values(self, rule: Rule, name: str) -> list:
        """The values to put in argument ``name`` of ``rule`` (several for ``any(…)``)."""
        converter = rule._converters.get(name)
        if isinstance(converter, AnyConverter):
            return sorted(converter.items)
        # The literal path segment before the argument says what it names: /campaigns/<slug>.
        found = re.search(rf"/([^/<]+)/<(?:[^:>]+:)?{name}>", rule.rule)
        segment = found.group(1) if found else ""
        simple = {
            "survey_id": (
                self.link_survey.id if rule.endpoint == "manage.show_poster" else self.survey.id
            ),
            "campaign_id": self.campaign.id,
            "branch_id": self.other_branch.id,
            "batch_id": self.batch_id,
            "draft_id": self.draft_id,
            "item_id": self.survey.items[0].id,
            "user_id": self.viewer.id,
            "token_id": self.token_id,
            "plan_id": self.plan_id,
            "measure_id": self.measure_id,
            "opinion_id": self.opinion_id,
            "survey_slug": self.link_survey.slug,
            "branch_code": self.branch.code,
            "filename": "css/app.css",
        }
        if name in simple:
            if simple[name] is None:
                raise LookupError(f"the world has no value for {name!r} of {rule.rule}")
            return [simple[name]]
        if name == "slug":
            if segment in ("campaigns", "rectify", "plans"):
                return [self.campaign.slug]
            if segment == "surveys":
                return [self.results_survey.slug]
        if name == "code":
            if rule.endpoint == "set_language":
                return ["en"]
            if segment == "branches":
                return [self.branch.code]
        raise LookupError(
            f"tests/helpers/routes.py does not know what to put in <{name}> of {rule.rule} "
            f"({rule.endpoint}); add it to World.values"
        )


def rules(app: Flask, method: str) -> list[Rule]:
    """Every rule of the app that accepts ``method``, sorted by path."""
    return sorted(
        (r for r in app.url_map.iter_rules() if method in (r.methods or ())),
        key=lambda r: (r.rule, r.endpoint),
    )


def urls_for(rule: Rule, world: World) -> list[str]:
    """The URLs of ``rule`` with every argument filled (one per ``any(…)`` alternative)."""
    combinations: list[dict] = [{}]
    for name in sorted(rule.arguments):
        combinations = [
            {**combo, name: value} for combo in combinations for value in world.values(rule, name)
        ]
    urls = []
    for combo in combinations:
        _domain, path = rule.build(combo, append_unknown=False)
        urls.append(path)
    return urls


def seed_world(
    make_branch: Callable[..., Branch],
    make_survey: Callable[..., Survey],
    mint: Callable[..., list[str]],
    make_user: Callable[..., User],
) -> World:
    """Create a campaign with one object of every kind a URL can name; commit it."""
    from survey.services import own_account

    branch = make_branch("b01", "第一支部")
    other = make_branch("b02", "第二支部")
    make_branch("b03", "第三支部", is_active=False)
    survey = make_survey("pingyi", items=3)
    codes = mint(survey, branch, count=5) + mint(survey, other, count=3, category="public")
    results_survey = make_survey(
        "manyi", items=3, state=SurveyState.CLOSED, results=ResultsVisibility.AFTER_CLOSE
    )
    link_survey = make_survey("link", items=2, access=Access.LINK)
    # A second closed stage, so the campaign's comparison (and its downloads) has two to compare.
    make_survey("manyi-2", items=3, state=SurveyState.CLOSED, kind=SurveyKind.SATISFACTION)
    options = [o.id for o in results_survey.options]
    for number in range(12):
        for target, category in ((branch, 0), (other, 1)):
            answers = {
                item.id: options[(number + position) % len(options)]
                for position, item in enumerate(results_survey.items)
            }
            record_response(
                results_survey,
                target.id,
                results_survey.categories[category].id,
                answers,
                "很好" if number % 5 == 0 else None,
            )
    db.session.commit()

    admin = make_user("admin", Role.ADMIN)
    supervisor = make_user("supervisor", Role.SUPERVISOR)
    viewer = make_user("viewer", Role.BRANCH_VIEWER, branch=branch)
    token = own_account.create_token(admin, "fuzz")
    batch = db.session.scalar(select(CodeBatch.id).where(CodeBatch.survey_id == survey.id).limit(1))
    draft_id = _make_draft(admin, survey, branch)
    db.session.commit()
    campaign = survey.campaign
    plan, opinion = _make_plan(campaign, branch, results_survey)
    return World(
        campaign=campaign,
        survey=survey,
        results_survey=results_survey,
        link_survey=link_survey,
        branch=branch,
        other_branch=other,
        admin=admin,
        supervisor=supervisor,
        viewer=viewer,
        token_id=token.token.id,
        batch_id=batch,
        draft_id=draft_id,
        plan_id=plan.id,
        measure_id=plan.measures[0].id,
        opinion_id=opinion.id,
        codes=codes,
        users={"admin": admin, "supervisor": supervisor, "viewer": viewer},
    )


def _make_draft(actor: User, survey: Survey, branch: Branch) -> int | None:
    """A first keying of two paper ballots, through the ballots service (None without one)."""
    try:
        from survey.services.ballot_drafts import GRID, create_draft
    except ImportError:  # pragma: no cover - paper ballots not built
        return None
    options = [o.key for o in survey.options]
    rows = [
        {
            "branch": branch.code,
            "category": survey.categories[0].key,
            **{item.key: options[n % len(options)] for item in survey.items},
        }
        for n in range(2)
    ]
    # Keyed from the command line, so the admin may do the second keying (not the first keyer).
    return create_draft(None, survey, rows, GRID, GRID).id


def _make_plan(campaign: Campaign, branch: Branch, evaluation: Survey):
    """An opinion and a filed plan answering it, on the campaign's public page."""
    from survey.models import OpinionSource, ProblemClass
    from survey.services.rectification import opinions, plans, public

    opinion = opinions.add_opinion(None, campaign, "辦事拖拉", OpinionSource.FORUM, branch)
    plan = plans.create_plan(None, campaign, branch, "整改方案")
    plans.add_measure(
        None,
        plan,
        plans.MeasureInput(
            "問題", "辦法", "效果", ProblemClass.IMMEDIATE, "辦公室", None,
            opinion_ids=(opinion.id,), item_ids=(evaluation.items[0].id,),
        ),
    )  # fmt: skip
    plans.discuss_plan(None, plan, date.today())
    plans.file_plan(None, plan)
    public.set_public(None, campaign, True)
    return plan, opinion
