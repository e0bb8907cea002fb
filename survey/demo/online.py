"""The demo's closed satisfaction stage, answered online through the real ballot path.

Codes are minted for every branch and category (with a few left unused, as in a real sitting),
and synthetic respondents answer with them through :func:`survey.services.responses.
submit_with_code`: each answer is sealed in the ballot box and counted in mixed batches, and
closing the stage (:func:`survey.services.lifecycle.change_state`) counts the rest, exactly as
for people on their phones. The answers are drawn from a seeded generator, so every install
shows the same comparison: most branches a little better than at the evaluation, the weak
branch of the evaluation clearly better, one branch too small to show (so the smallest other
branch is hidden with it) and one that never answered.
"""

from __future__ import annotations

import random

from sqlalchemy import select

from survey.db import db
from survey.models import Action, Branch, Survey
from survey.services.codes import mint_batch
from survey.services.lifecycle import change_state
from survey.services.responses import submit_with_code

#: Online answers per branch b01…b21: b16 stays under the threshold of 5 (hidden), b21 has codes
#: but nobody answered (no responses), so the comparison lists both with their reasons.
STAGE_SIZES = (13, 12, 14, 11, 12, 12, 13, 14, 12, 13, 11, 14, 12, 14, 12, 3, 13, 11, 14, 12, 0)
#: Codes minted beyond those used, per branch and category: turnout stays below 100%.
SPARE_CODES = 2
#: Favourable rate of the branches at this stage; the evaluation's weak branch caught up.
FAVOURABLE = 0.95
IMPROVED = {"b08": 0.96}
COMMENTS = (
    "整改措施落到了實處，辦事更方便了。",
    "希望把整改成效長期堅持下去。",
    "服務態度明顯好轉。",
    "監督渠道還可以再多一些。",
)


def mint_stage_codes(survey: Survey, rng: random.Random) -> list[tuple[str, str]]:
    """Mint codes for every branch and category of the stage; return (branch code, code) for
    the codes the synthetic respondents will use, shuffled as a hall's arrivals are."""
    branches = db.session.scalars(
        select(Branch).where(Branch.code.like("b__")).order_by(Branch.code)
    ).all()
    member, public = survey.category("member"), survey.category("public")
    used: list[tuple[str, str]] = []
    for branch, size in zip(branches, STAGE_SIZES, strict=True):
        members = round(size * (0.9 if branch.code in {"b19", "b20", "b21"} else 0.4))
        for category, count in ((member, members), (public, size - members)):
            _batch, codes = mint_batch(survey, branch, category, count + SPARE_CODES)
            used += [(branch.code, code) for code in codes[:count]]
    rng.shuffle(used)
    return used


def answer_online(survey: Survey, codes: list[tuple[str, str]], rng: random.Random) -> int:
    """Answer the stage with ``codes``, one respondent each, through the ballot box; then close
    it, which counts every ballot still sealed. Returns how many answered."""
    items = list(survey.items)
    good, fairly_good, average, poor = survey.options
    for branch_code, code in codes:
        favourable = IMPROVED.get(branch_code, FAVOURABLE + rng.uniform(-0.04, 0.03))
        temper = rng.gauss(0.0, 1.0)
        answers = {}
        for item in items:
            rate = min(0.995, max(0.5, favourable + 0.05 * temper))
            draw = rng.random()
            if draw < rate * min(0.9, max(0.3, 0.62 + 0.15 * temper)):
                option = good
            elif draw < rate:
                option = fairly_good
            elif draw < rate + (1 - rate) * 0.85:
                option = average
            else:
                option = poor
            answers[item.id] = option.id
        comment = rng.choice(COMMENTS) if rng.random() < 0.08 else None
        submit_with_code(code, answers, comment)
    change_state(None, survey, Action.CLOSE)
    return len(codes)
