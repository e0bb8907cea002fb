"""The demonstration campaign: 21 party branches, a closed evaluation stage, a closed
satisfaction stage and an open satisfaction test, so a fresh install shows results, a stage
comparison and a working code at once.

The files here (``branches.csv``, ``evaluation.yaml``, ``rectification.yaml``,
``satisfaction.yaml``) are ordinary inputs of ``import-branches`` and ``load-survey``. The
evaluation's paper ballots and the satisfaction stage's online answers (:mod:`.online`, through
the codes and the ballot box) are synthetic, drawn from a seeded generator so every install
shows the same figures.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from importlib.resources import files

from flask_babel import gettext as _
from sqlalchemy import select

from survey.db import db
from survey.demo.online import answer_online, mint_stage_codes
from survey.demo.rectify import add_rectification
from survey.models import Action, Answer, Branch, Campaign, Comment, Response, Source, Survey
from survey.services import audit
from survey.services.branches import apply_branch_plan, plan_branches
from survey.services.codes import mint_batch
from survey.services.definition_yaml import parse_definition
from survey.services.definitions import apply_definition
from survey.services.imports import Problem, Rejected, read_table
from survey.services.recount import rebuild_tallies

CAMPAIGN = "xjx-2005"
EVALUATION = "pingyi-2005"
STAGE = "zhenggai-2005"
SATISFACTION = "manyidu-2005"
#: The seed's own yardstick: 好 and 比較好 together at 90% or more.
TARGET = 0.9

#: Evaluation ballots per branch b01…b21: mostly 20–40; b16 and b21 fall under the threshold of 5,
#: so the results show suppression.
BRANCH_SIZES = (32, 28, 36, 25, 30, 27, 33, 30, 29, 31, 26, 35, 30, 38, 30, 4, 34, 27, 37, 29, 3)
#: Retired members' branches: almost every respondent is a member.
RETIRED = {"b19", "b20", "b21"}
#: Per-item shift of the favourable rate: criticism and self-criticism (q4) was the weak point.
ITEM_SHIFT = (0.02, -0.01, 0.0, -0.06, -0.02, 0.03)
#: A branch clearly below the others, so the comparison has something to find.
WEAK_BRANCH = "b08"
COMMENTS = (
    "希望今後繼續深入基層聽取羣眾意見。",
    "談心活動可以再深入一些，多聽一般幹部的想法。",
    "領導帶頭作用明顯，整改措施要抓落實。",
    "批評和自我批評還不夠大膽，有些流於形式。",
    "查找問題比較準，建議把整改時限公開。",
    "辦事效率有提高，希望保持下去。",
    "黨性分析材料結合實際，但個別同志寫得較空。",
    "建議對服務對象的意見定期反饋。",
    "離退休同志的意見也要重視。",
    "會議多了些，希望多解決實際問題。",
)
#: Unused codes minted for the demo and printed once.
PRINTED_CODES = 5


@dataclass(frozen=True, slots=True)
class DemoResult:
    """What ``load-demo`` created, and the codes it prints (the only copy of them)."""

    summary: str
    code_survey: str
    code_branch: str
    code_category: str
    codes: list[str]


def read_file(name: str) -> bytes:
    """The bytes of one of the demo files."""
    return files(__package__).joinpath(name).read_bytes()


def load_demo(seed: int = 2005) -> DemoResult | None:
    """Load the demo campaign in one transaction; None (and no change) when it is already there.

    Raises :class:`Rejected` when the database already has branches b01…b21 with other names.
    """
    rng = random.Random(seed)
    with db.transaction() as session:
        if session.scalar(select(Campaign.id).where(Campaign.slug == CAMPAIGN)) is not None:
            return None
        _load_branches()
        evaluation = _load_survey("evaluation.yaml")
        evaluation.move(Action.OPEN)
        ballots = _fill_with_ballots(evaluation, rng)
        evaluation.move(Action.CLOSE)
        evaluation.is_published = True
        stage = _load_survey("rectification.yaml")
        stage.move(Action.OPEN)
        stage_codes = mint_stage_codes(stage, rng)
        satisfaction = _load_survey("satisfaction.yaml")
        satisfaction.move(Action.OPEN)
        for survey in (evaluation, stage, satisfaction):
            survey.target = TARGET
        branch = session.scalar(select(Branch).where(Branch.code == "b01"))
        category = satisfaction.category("public")
        _batch, codes = mint_batch(satisfaction, branch, category, PRINTED_CODES)
        audit.record("demo.load", f"campaign={CAMPAIGN} ballots={ballots}")
    answered = answer_online(stage, stage_codes, rng)
    add_rectification(evaluation.campaign, evaluation)
    summary = _(
        "Demo loaded: 21 branches; %(evaluation)s closed with %(ballots)d paper ballots; "
        "%(stage)s closed with %(answered)d answers given online with codes; "
        "%(satisfaction)s open.",
        evaluation=EVALUATION,
        ballots=ballots,
        stage=STAGE,
        answered=answered,
        satisfaction=SATISFACTION,
    )
    return DemoResult(summary, SATISFACTION, branch.name, category.label, codes)


def _load_branches() -> None:
    """Add the demo branches, refusing to rename branches the office already has."""
    table = read_table(read_file("branches.csv"), "branches.csv")
    plan = plan_branches(table)
    problems = list(plan.problems)
    problems += [
        Problem(
            "branches.csv",
            change.line,
            "code",
            _(
                'branch "%(code)s" already exists as "%(name)s"; the demo needs an empty database',
                code=change.code,
                name=change.old_name,
            ),
        )
        for change in plan.to_change
    ]
    if problems:
        raise Rejected(problems)
    apply_branch_plan(plan)


def _load_survey(name: str) -> Survey:
    """Create a survey from one of the demo definitions."""
    definition, problems = parse_definition(read_file(name).decode("utf-8"), name)
    if problems:
        raise Rejected(problems)
    return apply_definition(definition, name).survey


def _fill_with_ballots(survey: Survey, rng: random.Random) -> int:
    """Add the synthetic paper ballots of the evaluation stage; return how many.

    Several hundred ballots are added in one flush and counted by :func:`rebuild_tallies`, the
    same recount the office uses after deletions, instead of one ``record_response`` each.
    """
    today = date.today()
    session = db.session
    codes = [f"b{number:02d}" for number in range(1, len(BRANCH_SIZES) + 1)]
    branches = session.scalars(
        select(Branch).where(Branch.code.in_(codes)).order_by(Branch.code)
    ).all()
    member, public = survey.category("member"), survey.category("public")
    good, fairly_good, average, poor = survey.options
    count = 0
    for branch, size in zip(branches, BRANCH_SIZES, strict=True):
        favourable = 0.78 if branch.code == WEAK_BRANCH else 0.94 + rng.uniform(-0.05, 0.05)
        good_share = rng.uniform(0.5, 0.7)
        member_share = 0.9 if branch.code in RETIRED else 0.4
        for _n in range(size):
            category = member if rng.random() < member_share else public
            lean = 0.02 if category is member else -0.015
            # One respondent's general view of the branch colours every answer they give, so
            # the items correlate as in real forms (and Cronbach's alpha is realistic).
            temper = rng.gauss(0.0, 1.0)
            person_good_share = min(0.95, max(0.05, good_share + 0.2 * temper))
            answers = {}
            for item, shift in zip(survey.items, ITEM_SHIFT, strict=True):
                draw = rng.random()
                if draw < 0.02:
                    continue  # left blank on the paper form
                rate = min(0.995, max(0.3, favourable + shift + lean + 0.08 * temper))
                draw = rng.random()
                if draw < rate * person_good_share:
                    option = good
                elif draw < rate:
                    option = fairly_good
                elif draw < rate + (1 - rate) * 0.8:
                    option = average
                else:
                    option = poor
                answers[item.id] = option.id
            session.add(
                Response(
                    survey_id=survey.id,
                    branch_id=branch.id,
                    category_id=category.id,
                    submitted_on=today,
                    source=Source.PAPER,
                    answers=[Answer(item_id=i, option_id=o) for i, o in answers.items()],
                )
            )
            if rng.random() < 0.1:
                session.add(
                    Comment(survey_id=survey.id, branch_id=branch.id, text=rng.choice(COMMENTS))
                )
            count += 1
    session.flush()
    rebuild_tallies(survey)
    return count
