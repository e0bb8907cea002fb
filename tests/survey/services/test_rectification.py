"""The rectification stage's services: opinions, plans and measures, progress, the public page's
feedback, and the effect measured against the stage comparison's own figures."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, inspect, select

from survey.db import db
from survey.models import (
    MeasureStatus,
    Opinion,
    OpinionSource,
    PlanState,
    ProblemClass,
    PublicFeedback,
    Role,
    SurveyKind,
    SurveyState,
)
from survey.refusals import Conflict, Forbidden, Invalid, NotFound
from survey.services.imports import Rejected, read_table
from survey.services.rectification import effect, opinions, plans, public
from survey.services.report import build_report
from tests.conftest import add_responses


@pytest.fixture
def campaign(app, make_survey, make_branch):
    evaluation = make_survey("pingyi", state=SurveyState.CLOSED, threshold=3)
    make_branch("b01", "第一支部")
    make_branch("b02", "第二支部")
    make_branch("b03", "第三支部")
    return evaluation.campaign


def _measure(**changes) -> plans.MeasureInput:
    values = dict(
        problem="服務意識不強",
        method="設立接待日",
        expected_effect="羣眾滿意",
        problem_class=ProblemClass.IMMEDIATE,
        department="辦公室",
        deadline=None,
    )
    values.update(changes)
    return plans.MeasureInput(**values)


def _filed_plan(campaign, branch, supervisor, **measure):
    plan = plans.create_plan(None, campaign, branch, "整改方案")
    plans.add_measure(None, plan, _measure(**measure))
    plans.discuss_plan(None, plan, date.today())
    plans.file_plan(supervisor, plan)
    return plan


# ---- opinions -----------------------------------------------------------------------------


def test_an_import_with_chinese_headers_in_gbk_adds_every_opinion(campaign):
    data = (
        "意见,来源,支部,主题,人数\n"
        "办事拖拉,座谈会,第一支部,工作作风、效率,3\n"
        "食堂太贵,意见箱,,后勤,1\n"
    )
    table = read_table(data.encode("gbk"), "意见.csv")
    assert opinions.import_opinions(None, campaign, table) == 2
    found = {o.text: o for o in opinions.live_opinions(campaign)}
    assert found["办事拖拉"].source is OpinionSource.FORUM
    assert found["办事拖拉"].branch.code == "b01"
    assert found["办事拖拉"].count == 3
    assert [t.name for t in found["办事拖拉"].themes] == ["工作作风", "效率"]
    assert found["食堂太贵"].branch is None
    assert found["食堂太贵"].source is OpinionSource.OPINION_BOX


def test_an_import_with_a_bad_line_adds_nothing_and_says_where(campaign):
    data = "意見,來源,支部\n辦事拖拉,座談會,第九支部\n,意見箱,\n"
    table = read_table(data.encode("big5"), "意見.csv")
    with pytest.raises(Rejected) as refused:
        opinions.import_opinions(None, campaign, table)
    text = str(refused.value)
    assert '意見.csv:2: unknown branch "第九支部"' in text
    assert "意見.csv:3: the opinion text is missing" in text
    assert db.session.scalar(select(func.count()).select_from(Opinion)) == 0


def test_merging_keeps_every_voice_once(campaign):
    first = opinions.add_opinion(None, campaign, "辦事拖拉", OpinionSource.FORUM, themes=["作風"])
    second = opinions.add_opinion(
        None, campaign, "辦事太慢", OpinionSource.FORM, count=2, themes=["效率"]
    )
    opinions.merge_opinion(None, second, first)
    summary = opinions.summary(campaign)
    assert summary.opinions == 1 and summary.voices == 3
    assert {name: voices for name, _n, voices in summary.by_theme} == {"作風": 3, "效率": 3}
    with pytest.raises(Conflict):
        opinions.merge_opinion(None, second, first)
    with pytest.raises(Invalid):
        opinions.merge_opinion(None, first, first)


def test_comments_are_pulled_only_from_shown_branches(campaign, make_survey):
    survey = campaign.surveys[0]
    b01, b02, b03 = campaign.branches
    # b02 is below k, and b03 (the next smallest) is hidden with it so no total reveals b02.
    add_responses(survey, b01, {"good": 6}, comments=["多聯繫羣眾", "會議太多"])
    add_responses(survey, b02, {"poor": 1}, comments=["只有我一個人這樣說"])
    add_responses(survey, b03, {"average": 5}, comments=["第三支部的意見"])
    assert opinions.pull_comments(None, survey) == 2
    texts = {o.text for o in opinions.live_opinions(campaign)}
    assert texts == {"多聯繫羣眾", "會議太多"}
    # Pulling again adds nothing.
    assert opinions.pull_comments(None, survey) == 0


def test_comments_of_an_open_survey_are_not_pulled(campaign, make_survey):
    survey = make_survey("manyi", kind=SurveyKind.SATISFACTION)
    with pytest.raises(Conflict):
        opinions.pull_comments(None, survey)


# ---- plans and measures -------------------------------------------------------------------


def test_a_plan_is_drafted_discussed_and_filed_by_a_supervisor(campaign, make_user):
    admin = make_user("office", Role.ADMIN)
    supervisor = make_user("group", Role.SUPERVISOR)
    plan = plans.create_plan(admin, campaign, campaign.branches[0], "第一支部整改方案")
    with pytest.raises(Conflict):
        plans.discuss_plan(admin, plan, date.today())  # no measure yet
    plans.add_measure(admin, plan, _measure())
    with pytest.raises(Invalid):
        plans.discuss_plan(admin, plan, date.today() + timedelta(days=1))
    plans.discuss_plan(admin, plan, date.today())
    with pytest.raises(Forbidden):
        plans.file_plan(admin, plan)
    plans.file_plan(supervisor, plan)
    assert plan.state is PlanState.FILED and plan.filed_on == date.today()
    with pytest.raises(Conflict):
        plans.add_measure(admin, plan, _measure())
    with pytest.raises(Conflict):
        plans.create_plan(admin, campaign, campaign.branches[0], "again")


def test_an_opinion_answered_by_a_measure_counts_as_addressed(campaign):
    answered = opinions.add_opinion(None, campaign, "辦事拖拉", OpinionSource.FORUM)
    opinions.add_opinion(None, campaign, "食堂太貴", OpinionSource.OPINION_BOX)
    plan = plans.create_plan(None, campaign, None, "委員會整改方案")
    measure = plans.add_measure(None, plan, _measure(opinion_ids=(answered.id,)))
    assert opinions.addressed_by(campaign) == {answered.id: [measure]}
    assert opinions.summary(campaign).addressed == 1


def test_a_measure_needs_its_three_answers_and_a_deadline_when_classed_so(campaign):
    plan = plans.create_plan(None, campaign, None, "委員會整改方案")
    with pytest.raises(Invalid) as refused:
        plans.add_measure(None, plan, _measure(method=" "))
    assert refused.value.field == "method"
    with pytest.raises(Invalid) as refused:
        plans.add_measure(None, plan, _measure(problem_class=ProblemClass.BY_DEADLINE))
    assert refused.value.field == "deadline"
    other = make_item_elsewhere(campaign)
    with pytest.raises(Invalid):
        plans.add_measure(None, plan, _measure(item_ids=(other,)))


def make_item_elsewhere(campaign) -> int:
    """An item id that is not in the campaign's evaluation stage."""
    return max(item.id for s in campaign.surveys for item in s.items) + 1000


def test_progress_flags_overdue_measures(campaign, make_user):
    supervisor = make_user("group", Role.SUPERVISOR)
    past = date.today() - timedelta(days=3)
    plan = _filed_plan(
        campaign,
        campaign.branches[0],
        supervisor,
        problem_class=ProblemClass.BY_DEADLINE,
        deadline=past,
    )
    measure = plan.measures[0]
    assert plans.overdue_measures(campaign) == [measure]
    with pytest.raises(Invalid):
        plans.record_progress(None, measure, MeasureStatus.DELAYED, "人手不足")  # no new date
    plans.record_progress(
        None, measure, MeasureStatus.DELAYED, "人手不足", date.today() + timedelta(days=30)
    )
    assert plans.overdue_measures(campaign) == []
    with pytest.raises(Invalid):
        plans.record_progress(None, measure, MeasureStatus.DONE, "")
    plans.record_progress(None, measure, MeasureStatus.DONE, "已設立接待日")
    assert measure.done_on == date.today() and measure.new_deadline is None


# ---- the public page ----------------------------------------------------------------------


def test_the_public_page_shows_filed_plans_only(campaign, make_user):
    supervisor = make_user("group", Role.SUPERVISOR)
    filed = _filed_plan(campaign, campaign.branches[0], supervisor)
    plans.create_plan(None, campaign, campaign.branches[1], "草稿")
    with pytest.raises(NotFound):
        public.public_campaign(campaign.slug)
    public.set_public(None, campaign, True)
    assert public.public_plans(public.public_campaign(campaign.slug)) == [filed]
    plans.return_plan(supervisor, filed)
    assert public.public_plans(campaign) == []


def test_feedback_stores_its_text_and_nothing_about_its_sender(campaign, make_user):
    supervisor = make_user("group", Role.SUPERVISOR)
    plan = _filed_plan(campaign, campaign.branches[0], supervisor)
    draft = plans.create_plan(None, campaign, campaign.branches[1], "草稿")
    public.set_public(None, campaign, True)
    with pytest.raises(Invalid):
        public.leave_feedback(campaign, draft.id, "看不到的方案")
    public.leave_feedback(campaign, plan.id, "接待日應該在週末")
    public.leave_feedback(campaign, None, "總體不錯")
    columns = {c.key for c in inspect(PublicFeedback).columns}
    assert columns == {"id", "campaign_id", "plan_id", "text"}
    assert public.waiting_feedback(campaign) == 2
    assert public.take_in_feedback(None, campaign) == 2
    assert public.waiting_feedback(campaign) == 0
    taken = {o.text: o for o in opinions.live_opinions(campaign)}
    assert taken["接待日應該在週末"].branch_id == campaign.branches[0].id
    assert taken["總體不錯"].source is OpinionSource.PUBLIC_FEEDBACK
    with pytest.raises(Conflict):
        public.take_in_feedback(None, campaign)


# ---- the effect ---------------------------------------------------------------------------


def test_the_effect_equals_the_stage_comparison_for_the_same_branch_and_item(
    campaign, make_survey, make_user
):
    evaluation = campaign.surveys[0]
    b01, b02 = campaign.branches[0], campaign.branches[1]
    add_responses(evaluation, b01, {"good": 2, "average": 6, "poor": 4})
    add_responses(evaluation, b02, {"good": 8, "fairly_good": 4})
    supervisor = make_user("group", Role.SUPERVISOR)
    plan = plans.create_plan(None, campaign, b01, "第一支部整改方案")
    proposed = effect.proposed_items(plan)
    assert proposed and all(p.favourable_rate < 0.5 for p in proposed)
    plans.add_measure(None, plan, _measure(item_ids=tuple(p.item.id for p in proposed[:1])))
    plans.discuss_plan(None, plan, date.today())
    plans.file_plan(supervisor, plan)
    plans.record_progress(None, plan.measures[0], MeasureStatus.DONE, "已整改")
    final = make_survey("manyi", kind=SurveyKind.SATISFACTION, threshold=3)
    assert not effect.effect_report(campaign).ready
    add_responses(final, b01, {"good": 10, "fairly_good": 2})
    add_responses(final, b02, {"good": 8, "fairly_good": 4})
    final.state = SurveyState.CLOSED
    db.session.commit()

    result = effect.effect_report(campaign)
    assert result.ready
    (_plan, (measure_effect,)), *_ = result.plans
    (item_effect,) = measure_effect.items
    expected = build_report(final, compare=evaluation).comparison.branches["b01"]
    assert item_effect.comparison == expected[item_effect.item.key]
    assert item_effect.verdict == effect.IMPROVED
    assert result.by_class["immediate"].done == 1 and result.by_class["immediate"].moved == 1
    as_json = effect.effect_json(result)
    assert as_json["plans"][0]["measures"][0]["items"][0]["verdict"] == "improved"


def test_a_hidden_branch_has_no_effect_figures(campaign, make_survey, make_user):
    evaluation = campaign.surveys[0]
    b01, b02, b03 = campaign.branches
    add_responses(evaluation, b01, {"good": 2})  # below k = 3: hidden
    add_responses(evaluation, b02, {"good": 8, "fairly_good": 4})
    add_responses(evaluation, b03, {"average": 5})
    supervisor = make_user("group", Role.SUPERVISOR)
    plan = plans.create_plan(None, campaign, b01, "整改")
    assert effect.proposed_items(plan) == []
    item = evaluation.items[0]
    plans.add_measure(None, plan, _measure(item_ids=(item.id,)))
    plans.discuss_plan(None, plan, date.today())
    plans.file_plan(supervisor, plan)
    final = make_survey("manyi", kind=SurveyKind.SATISFACTION, threshold=3)
    add_responses(final, b01, {"good": 6})
    add_responses(final, b02, {"good": 8, "fairly_good": 4})
    add_responses(final, b03, {"good": 5})
    final.state = SurveyState.CLOSED
    db.session.commit()
    (_plan, (measure_effect,)), *_ = effect.effect_report(campaign).plans
    assert [(e.comparison, e.verdict) for e in measure_effect.items] == [
        (None, effect.NOT_MEASURED)
    ]


def test_the_demo_shows_the_whole_loop(app):
    """``load-demo`` leaves opinions with themes (one merged), filed plans and one waiting,
    measures in every state with one overdue, the public page on, and an effect report read
    from the closed satisfaction stage in which the weak branch's targeted items improved."""
    from survey.demo import CAMPAIGN, load_demo
    from survey.services.lookup import find_campaign

    assert load_demo() is not None
    campaign = find_campaign(CAMPAIGN)
    summary = opinions.summary(campaign)
    assert summary.by_theme and summary.addressed >= 5
    assert any(o.merged_into_id for o in db.session.scalars(select(Opinion)))
    states = {p.branch.code if p.branch else None: p.state for p in plans.plans_of(campaign)}
    assert states == {
        None: PlanState.FILED,
        "b08": PlanState.FILED,
        "b01": PlanState.FILED,
        "b03": PlanState.DISCUSSED,
    }
    statuses = {m.status for p in plans.plans_of(campaign) for m in p.measures}
    assert statuses == set(MeasureStatus)
    assert len(plans.overdue_measures(campaign)) == 1
    assert public.public_plans(public.public_campaign(CAMPAIGN))
    result = effect.effect_report(campaign)
    assert result.ready
    b08 = next(e for p, es in result.plans if p.branch and p.branch.code == "b08" for e in es)
    assert {i.verdict for i in b08.items} == {effect.IMPROVED}


def test_the_effect_follows_an_explicit_pairing_of_items(campaign, make_survey, make_user):
    """The final test renumbered its items: q1 of the evaluation is asked as q3 there, paired by
    the office. The measure's item is read from that pair, with the final wording noted."""
    from survey.services.item_pairs import pair_item

    evaluation = campaign.surveys[0]
    b01, b02, b03 = campaign.branches
    for branch in (b01, b02, b03):
        add_responses(evaluation, branch, {"good": 2, "poor": 8})
    plan = plans.create_plan(None, campaign, b01, "整改")
    plans.add_measure(None, plan, _measure(item_ids=(evaluation.items[0].id,)))
    plans.discuss_plan(None, plan, date.today())
    plans.file_plan(make_user("group", Role.SUPERVISOR), plan)
    final = make_survey("manyi", kind=SurveyKind.SATISFACTION, threshold=3)
    final.items[2].text = "改寫後的第1題"
    db.session.commit()
    pair_item(None, final.items[2], evaluation.items[0])
    for branch in (b01, b02, b03):
        add_responses(
            final,
            branch,
            {"poor": 10},
            per_item={"q3": {"good": 10}},
        )
    final.state = SurveyState.CLOSED
    db.session.commit()
    (_plan, (measure_effect,)), *_ = effect.effect_report(campaign).plans
    (item_effect,) = measure_effect.items
    expected = build_report(final, compare=evaluation).comparison.branches["b01"]["q3"]
    assert item_effect.comparison == expected
    assert item_effect.verdict == effect.IMPROVED
    assert item_effect.asked_as == "改寫後的第1題"
