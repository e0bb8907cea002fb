"""The demo campaign's rectification stage: opinions with themes, plans for the committee and a
few branches (filed, and one still waiting), measures in every state, and the public page on.

Everything goes through the rectification services, as the office's pages would, so the audit
trail reads like a real campaign's. With the closed satisfaction stage of the demo, the effect
report shows what moved out of the box.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from survey.db import db
from survey.models import Branch, Campaign, MeasureStatus, OpinionSource, ProblemClass, Survey
from survey.services.rectification import effect, opinions, plans, public

#: Opinions of the demo: (branch code or None for the committee, source, text, themes, people).
OPINIONS = (
    (None, OpinionSource.FORUM, "機關會議太多，佔用了下基層的時間。", ("工作作風",), 6),
    (
        None,
        OpinionSource.OPINION_BOX,
        "辦事流程不公開，羣眾不知道找誰。",
        ("服務羣眾", "政務公開"),
        4,
    ),
    (None, OpinionSource.PROPOSAL, "建議設立固定的羣眾接待日。", ("服務羣眾",), 3),
    ("b08", OpinionSource.FORM, "批評和自我批評流於形式，不觸及問題。", ("組織生活",), 5),
    ("b08", OpinionSource.FORUM, "支部很少聽取服務對象的意見。", ("服務羣眾",), 3),
    ("b08", OpinionSource.FORM, "民主生活會走過場。", ("組織生活",), 2),
    ("b01", OpinionSource.OPINION_BOX, "審批時間太長，材料要交好幾次。", ("辦事效率",), 4),
    ("b01", OpinionSource.FORUM, "審批要跑好幾趟。", ("辦事效率",), 2),
    ("b03", OpinionSource.FORM, "規劃項目的進展很少向羣眾通報。", ("政務公開",), 3),
)


#: The branches' measures: method, effect sought, and what progress says.
B08_MEASURE = (
    "每季度召開一次專題組織生活會，請服務對象列席",
    "批評有內容，問題有整改",
    "已召開兩次專題組織生活會，服務對象列席提出意見十二條。",
)
B01_MEASURE = (
    "審批材料一次告知，限時辦結",
    "審批只跑一次",
    "審批系統升級推遲，先以紙質一次性告知單代替。",
)


def add_rectification(campaign: Campaign, evaluation: Survey) -> None:
    """Opinions, plans, measures and progress for the demo campaign (commits as the office's
    pages do, one service call at a time)."""
    by_code = {b.code: b for b in db.session.scalars(select(Branch))}
    added = []
    for code, source, text, themes, people in OPINIONS:
        branch = by_code[code] if code else None
        added.append(
            opinions.add_opinion(None, campaign, text, source, branch, list(themes), people)
        )
    opinions.merge_opinion(None, added[7], added[6])  # 審批要跑好幾趟 repeats 審批時間太長
    opinions.pull_comments(None, evaluation)
    today = date.today()
    _committee_plan(campaign, added, today)
    _branch_plan(campaign, by_code["b08"], added[3:6], today, B08_MEASURE)
    _branch_plan(campaign, by_code["b01"], added[6:7], today, B01_MEASURE, delayed=True)
    b03 = by_code["b03"]
    waiting = plans.create_plan(None, campaign, b03, f"{b03.name}整改方案")
    _measure(
        waiting,
        "規劃項目進展通報不及時",
        "每季度在公示欄通報項目進展",
        "羣眾及時了解項目進展",
        ProblemClass.BY_DEADLINE,
        b03.name,
        today + timedelta(days=60),
        added[8:9],
    )
    plans.discuss_plan(None, waiting, today)  # waits for a supervisor to file it
    public.set_public(None, campaign, True)


def _measure(plan, problem, method, effect_sought, kind, department, deadline, answered, items=()):
    return plans.add_measure(
        None,
        plan,
        plans.MeasureInput(
            problem, method, effect_sought, kind, department, deadline,
            opinion_ids=tuple(o.id for o in answered), item_ids=tuple(i.id for i in items),
        ),
    )  # fmt: skip


def _committee_plan(campaign: Campaign, added, today: date) -> None:
    plan = plans.create_plan(None, campaign, None, "機關整改方案")
    weak = [p.item for p in effect.proposed_items(plan)]
    meetings = _measure(
        plan,
        "會議偏多，下基層時間少",
        "精簡會議，每月一次無會日",
        "會議減少三成，處室負責人每月下基層",
        ProblemClass.IMMEDIATE,
        "辦公室",
        None,
        added[0:1],
        weak[:1],
    )
    opening = _measure(
        plan,
        "辦事流程不公開",
        "在大廳和網站公開辦事流程和責任人",
        "羣眾知道找誰、怎麼辦",
        ProblemClass.BY_DEADLINE,
        "辦公室",
        today - timedelta(days=10),
        added[1:3],
        weak[1:2],
    )
    _measure(
        plan,
        "機關大樓無障礙設施不足",
        "向羣眾說明預算安排，分兩年改造",
        "兩年內完成改造",
        ProblemClass.GRADUAL,
        "機關事務管理處",
        None,
        (),
    )
    plans.discuss_plan(None, plan, today)
    plans.file_plan(None, plan)
    plans.record_progress(None, meetings, MeasureStatus.DONE, "已實行每月無會日，會議減少三成。")
    plans.record_progress(None, opening, MeasureStatus.IN_PROGRESS, "大廳已公開，網站待更新。")


def _branch_plan(campaign: Campaign, branch: Branch, answered, today, texts, delayed=False):
    method, effect_sought, progress = texts
    plan = plans.create_plan(None, campaign, branch, f"{branch.name}整改方案")
    weak = [p.item for p in effect.proposed_items(plan)][:2]
    first = _measure(
        plan, answered[0].text.rstrip("。"), method, effect_sought, ProblemClass.BY_DEADLINE,
        branch.name, today + timedelta(days=30), answered, weak,
    )  # fmt: skip
    plans.discuss_plan(None, plan, today)
    plans.file_plan(None, plan)
    if delayed:
        plans.record_progress(
            None, first, MeasureStatus.DELAYED, progress, today + timedelta(days=45)
        )
    else:
        plans.record_progress(None, first, MeasureStatus.DONE, progress)
