"""The report service: JSON contract, suppression, sealing, tallies, comparison, turnout, CLI."""

from __future__ import annotations

import json
import math
from collections import Counter

import numpy as np
import pytest
from sqlalchemy import func, select

from survey.db import db
from survey.models import (
    Action,
    Answer,
    AnswerTally,
    AuditEntry,
    CodeBatch,
    RespondentTally,
    Response,
    ResultsVisibility,
    Source,
    Survey,
    SurveyState,
    TotalTally,
)
from survey.services.codes import mint_batch
from survey.services.recount import delete_responses, rebuild_tallies
from survey.services.report import ResultsSealed, comments
from survey.services.report_counts import survey_counts
from survey.services.responses import (
    submit_with_code,
)
from survey.services.turnout import survey_turnout, turnout
from tests.helpers.results import record_response, report_dict

SUMMARY_KEYS = {"n", "counts", "favourable_rate", "favourable_ci", "score_mean", "score_ci"}
SUPPRESSED_KEYS = {"code", "name", "respondents", "suppressed", "status"}
OPTIONS = ("good", "fairly_good", "average", "poor")


def submit(survey, branch, rows, category="member", source=Source.WEB):
    """Store responses: each row maps item key → option key (missing items are skipped) and
    optionally ``_comment`` to a comment."""
    items = {i.key: i.id for i in survey.items}
    with db.transaction():
        for row in rows:
            answers = {items[k]: survey.option(v).id for k, v in row.items() if k in items}
            comment = row.get("_comment")
            record_response(
                survey, branch.id, survey.category(category).id, answers, comment, source
            )


def uniform(survey, option="good"):
    """One response row answering every item with ``option``."""
    return {item.key: option for item in survey.items}


def mixed(survey, n, seed=0):
    """``n`` response rows with random answers to every item."""
    rng = np.random.default_rng(seed)
    return [{i.key: OPTIONS[int(rng.integers(4))] for i in survey.items} for _ in range(n)]


def assert_plain(value, path="report"):
    """Only JSON types, and no NaN or infinity anywhere."""
    if isinstance(value, dict):
        for key, inner in value.items():
            assert isinstance(key, str), path
            assert_plain(inner, f"{path}.{key}")
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            assert_plain(inner, f"{path}[{index}]")
    elif isinstance(value, float):
        assert math.isfinite(value), path
    else:
        assert value is None or isinstance(value, str | int | bool), (path, type(value))


def assert_summary(summary):
    assert set(summary) >= SUMMARY_KEYS
    assert isinstance(summary["n"], int)
    assert set(summary["counts"]) == set(OPTIONS)
    assert all(isinstance(c, int) for c in summary["counts"].values())
    assert sum(summary["counts"].values()) == summary["n"]
    if summary["n"] == 0:
        assert summary["favourable_rate"] is None and summary["favourable_ci"] is None
        assert summary["score_mean"] is None and summary["score_ci"] is None
    else:
        lo, hi = summary["favourable_ci"]
        assert 0 <= lo <= summary["favourable_rate"] <= hi <= 1
        assert isinstance(summary["score_mean"], float)
        if summary["n"] >= 2:
            assert len(summary["score_ci"]) == 2


@pytest.fixture
def five_branches(make_survey, make_branch):
    """A closed survey: a 12, b 3 (suppressed), c 6 (complementary), d 0 (empty), e 35."""
    survey = make_survey("contract", state=SurveyState.CLOSED)
    branches = {code: make_branch(code, f"第{code}支部") for code in "abcde"}
    for code, n in {"a": 12, "b": 3, "c": 6, "e": 35}.items():
        submit(survey, branches[code], mixed(survey, n, seed=ord(code)))
    return survey, branches


def test_report_has_every_field_of_the_contract(five_branches):
    survey, _branches = five_branches
    report = report_dict(survey)
    assert_plain(report)
    json.dumps(report, allow_nan=False)
    assert {
        "survey",
        "title",
        "kind",
        "threshold",
        "confidence",
        "respondents",
        "scale",
        "items",
        "overall",
        "branches",
        "tests",
        "reliability",
    } <= set(report)
    assert "comparison" not in report
    assert report["survey"] == "contract" and report["title"] == survey.title
    assert report["kind"] == "evaluation"
    assert report["threshold"] == 5 and report["confidence"] == 0.95
    assert report["respondents"] == 12 + 3 + 6 + 35
    assert [s["key"] for s in report["scale"]] == list(OPTIONS)
    assert report["scale"][0] == {"key": "good", "label": "好", "weight": 100.0, "favourable": True}
    assert report["items"] == [{"key": f"q{n}", "text": f"第{n}題"} for n in (1, 2, 3)]
    assert set(report["overall"]["items"]) == {"q1", "q2", "q3"}
    for summary in report["overall"]["items"].values():
        assert_summary(summary)
        assert summary["n"] == 56

    by_code = {b["code"]: b for b in report["branches"]}
    assert [b["code"] for b in report["branches"]] == list("abcde")
    for code in "bc":
        assert set(by_code[code]) == SUPPRESSED_KEYS
        assert by_code[code]["suppressed"] is True
        assert by_code[code]["status"] == "suppressed"
    assert by_code["b"]["respondents"] == 3 and by_code["c"]["respondents"] == 6
    for code in "ade":
        branch = by_code[code]
        assert branch["suppressed"] is False
        assert {"items", "composite", "rank"} <= set(branch)
        assert set(branch["items"]) == {"q1", "q2", "q3"}
        for cell in branch["items"].values():
            assert_summary(cell)
            assert {"p", "p_adjusted", "signal"} <= set(cell["vs_rest"])
            assert cell["vs_rest"]["signal"] in {"above", "below", "none"}
    assert by_code["d"]["status"] == "empty" and by_code["d"]["respondents"] == 0
    assert by_code["d"]["items"]["q1"]["n"] == 0
    assert by_code["d"]["rank"] is None
    assert by_code["a"]["rank"] is None  # 12 < min_rank_respondents (30)
    assert by_code["e"]["rank"] == 1
    assert by_code["a"]["items"]["q1"]["n"] == 12
    assert set(by_code["a"]["composite"]) >= {"favourable_rate", "score_mean", "weighted"}

    assert set(report["tests"]) == {"q1", "q2", "q3"}
    for tests in report["tests"].values():
        assert set(tests["chi2"]) >= {"statistic", "df", "p", "cramers_v"}
        assert set(tests["kruskal"]) >= {"statistic", "p", "epsilon_squared"}
    assert set(report["reliability"]) == {"cronbach_alpha"}


def test_report_figures_match_the_answers(make_survey, make_branch):
    """Hand-checked numbers: a branch of 10 with 7 favourable answers on q1."""
    survey = make_survey("figures", items=1, state=SurveyState.CLOSED)
    branch = make_branch("a")
    submit(survey, branch, [{"q1": "good"}] * 4 + [{"q1": "fairly_good"}] * 3)
    submit(survey, branch, [{"q1": "average"}] * 2 + [{"q1": "poor"}])
    cell = report_dict(survey)["branches"][0]["items"]["q1"]
    assert cell["n"] == 10
    assert cell["counts"] == {"good": 4, "fairly_good": 3, "average": 2, "poor": 1}
    assert cell["favourable_rate"] == pytest.approx(0.7)
    # Wilson 7/10: R prop.test(7, 10, correct = FALSE)$conf.int
    assert cell["favourable_ci"] == pytest.approx([0.3967781, 0.8922087], abs=1e-7)
    assert cell["score_mean"] == pytest.approx((400 + 240 + 120 + 0) / 10)


def test_suppression_worked_example(make_survey, make_branch):
    """k = 5; branches of 50, 40, 3, 22, 0, 9 and 70: the 3 and (complementary) the 9 hidden."""
    survey = make_survey("example", items=1, state=SurveyState.CLOSED)
    sizes = {"b1": 50, "b2": 40, "b3": 3, "b4": 22, "b5": 0, "b6": 9, "b7": 70}
    for code, n in sizes.items():
        branch = make_branch(code)
        submit(survey, branch, [{"q1": OPTIONS[i % 4]} for i in range(n)])
    report = report_dict(survey)
    status = {b["code"]: b["status"] for b in report["branches"]}
    assert status == {
        "b1": "shown",
        "b2": "shown",
        "b3": "suppressed",
        "b4": "shown",
        "b5": "empty",
        "b6": "suppressed",
        "b7": "shown",
    }
    for branch in report["branches"]:
        assert branch["respondents"] == sizes[branch["code"]]
        if branch["suppressed"]:
            assert set(branch) == SUPPRESSED_KEYS
    assert report["suppressed_respondents"] == 12


def test_categories_inside_a_branch_follow_the_rule(make_survey, make_branch):
    survey = make_survey("cats", items=2, state=SurveyState.CLOSED)
    mostly_members = make_branch("a")
    balanced = make_branch("b")
    submit(survey, mostly_members, mixed(survey, 20, seed=1), category="member")
    submit(survey, mostly_members, mixed(survey, 2, seed=2), category="public")
    submit(survey, balanced, mixed(survey, 10, seed=3), category="member")
    submit(survey, balanced, mixed(survey, 8, seed=4), category="public")
    branches = {b["code"]: b for b in report_dict(survey)["branches"]}
    # 2 public respondents are hidden, and so (complementary) are the 20 members.
    assert branches["a"]["categories"] == [
        {"key": "member", "respondents": 20, "suppressed": True},
        {"key": "public", "respondents": 2, "suppressed": True},
    ]
    member, public = branches["b"]["categories"]
    assert not member["suppressed"] and not public["suppressed"]
    assert member["items"]["q1"]["n"] == 10 and public["items"]["q2"]["n"] == 8
    assert_summary(public["items"]["q1"])


def test_a_survey_below_the_threshold_withholds_even_the_totals(make_survey, make_branch):
    survey = make_survey("tiny", state=SurveyState.CLOSED)
    submit(survey, make_branch("a"), mixed(survey, 2))
    submit(survey, make_branch("b"), mixed(survey, 1))
    report = report_dict(survey)
    json.dumps(report, allow_nan=False)
    assert report["overall"]["suppressed"] is True
    assert report["overall"]["items"] == {}
    assert report["tests"] == {}
    assert report["reliability"] == {"cronbach_alpha": None}
    assert all(set(b) == SUPPRESSED_KEYS for b in report["branches"])


def test_results_are_sealed_until_the_survey_closes(make_survey, make_branch):
    branch = make_branch("a")
    sealed = make_survey("sealed", state=SurveyState.OPEN)
    draft = make_survey("draft", state=SurveyState.DRAFT)
    live = make_survey("live", state=SurveyState.OPEN, results=ResultsVisibility.LIVE)
    closed = make_survey("closed", state=SurveyState.CLOSED)
    for survey in (sealed, live, closed):
        submit(survey, branch, mixed(survey, 6))
    for survey in (sealed, draft):
        with pytest.raises(ResultsSealed) as raised:
            report_dict(survey)
        assert raised.value.survey is survey
        assert "after the survey closes" in raised.value.message
        with pytest.raises(ResultsSealed):
            comments(survey, branch)
    assert report_dict(live)["respondents"] == 6
    assert report_dict(closed)["respondents"] == 6
    with pytest.raises(ResultsSealed) as raised:
        report_dict(closed, compare=sealed)
    assert raised.value.survey is sealed
    sealed.move(Action.CLOSE)
    db.session.commit()
    assert report_dict(sealed)["respondents"] == 6


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_counts_from_tallies_equal_a_group_by_over_answers(make_survey, make_branch, seed):
    """Random submissions with skipped items, both sources: the tally-based count table equals
    the same counts taken from the answer rows."""
    rng = np.random.default_rng(seed)
    survey = make_survey(f"random{seed}", items=4, state=SurveyState.CLOSED)
    branches = [make_branch(f"r{n}") for n in range(4)]
    with db.transaction():
        for _ in range(120):
            branch = branches[int(rng.integers(len(branches)))]
            category = survey.categories[int(rng.integers(2))]
            answers = {
                item.id: survey.options[int(rng.integers(4))].id
                for item in survey.items
                if rng.random() > 0.2
            }
            source = Source.PAPER if rng.random() < 0.3 else Source.WEB
            record_response(survey, branch.id, category.id, answers, None, source)
    counts = survey_counts(survey)
    assert counts.branch_keys == ("r0", "r1", "r2", "r3")

    branch_at = {b.id: n for n, b in enumerate(branches)}
    category_at = {c.id: n for n, c in enumerate(survey.categories)}
    item_at = {i.id: n for n, i in enumerate(survey.items)}
    option_at = {o.id: n for n, o in enumerate(survey.options)}
    expected = np.zeros_like(counts.counts)
    rows = db.session.execute(
        select(
            Response.branch_id,
            Response.category_id,
            Answer.item_id,
            Answer.option_id,
            func.count(),
        )
        .join(Response, Response.id == Answer.response_id)
        .where(Response.survey_id == survey.id)
        .group_by(Response.branch_id, Response.category_id, Answer.item_id, Answer.option_id)
    )
    for b, c, i, o, n in rows:
        expected[branch_at[b], category_at[c], item_at[i], option_at[o]] = n
    np.testing.assert_array_equal(counts.counts, expected)

    respondents = np.zeros_like(counts.respondents)
    for b, c, n in db.session.execute(
        select(Response.branch_id, Response.category_id, func.count())
        .where(Response.survey_id == survey.id)
        .group_by(Response.branch_id, Response.category_id)
    ):
        respondents[branch_at[b], category_at[c]] = n
    np.testing.assert_array_equal(counts.respondents, respondents)

    # Complete responses: option counts per item and the distribution of total scores.
    answers: dict = {}
    for response_id, item_id, option_id in db.session.execute(
        select(Answer.response_id, Answer.item_id, Answer.option_id)
        .join(Response, Response.id == Answer.response_id)
        .where(Response.survey_id == survey.id)
    ):
        answers.setdefault(response_id, {})[item_id] = option_id
    complete = [a for a in answers.values() if len(a) == 4]
    assert complete, "the random data should contain complete responses"
    item_counts = np.zeros((4, 4), dtype=np.int64)
    weights = {o.id: o.weight for o in survey.options}
    totals = Counter()
    for a in complete:
        for item_id, option_id in a.items():
            item_counts[item_at[item_id], option_at[option_id]] += 1
        totals[round(sum(weights[o] for o in a.values()), 6)] += 1
    np.testing.assert_array_equal(counts.complete_item_counts, item_counts)
    assert dict(
        zip(
            counts.complete_total_values.tolist(),
            counts.complete_total_counts.tolist(),
            strict=False,
        )
    ) == dict(totals)


def _tallies(survey: Survey) -> dict:
    """Every tally row of the survey, as sorted tuples per table (zero counts left out)."""
    result = {}
    for model in (AnswerTally, TotalTally, RespondentTally):
        table = model.__table__
        rows = db.session.execute(
            select(table).where(table.c.survey_id == survey.id, table.c.count > 0)
        )
        result[model.__name__] = sorted(tuple(str(v) for v in row) for row in rows)
    return result


def test_set_based_rebuild_equals_the_running_tallies(make_survey, make_branch):
    survey = make_survey("rebuild", items=3, state=SurveyState.CLOSED)
    survey.options[1].weight = 0.1  # totals such as 0.1 + 0.1 + 0.1 need the rounding
    db.session.commit()
    branches = [make_branch("x"), make_branch("y")]
    rng = np.random.default_rng(7)
    with db.transaction():
        for n in range(60):
            answers = {
                item.id: survey.options[int(rng.integers(4))].id
                for item in survey.items
                if rng.random() > 0.15
            }
            source = Source.PAPER if n % 4 == 0 else Source.WEB
            record_response(
                survey, branches[n % 2].id, survey.categories[n % 3 % 2].id, answers, None, source
            )
        record_response(survey, branches[0].id, survey.categories[0].id, {}, None)
    running = _tallies(survey)
    assert running["TotalTally"] and running["AnswerTally"]
    with db.transaction():
        rebuild_tallies(survey)
    assert _tallies(survey) == running


def test_deleting_test_responses_rebuilds_the_tallies(make_survey, make_branch):
    survey = make_survey("testmode", items=2, state=SurveyState.CLOSED)
    branch = make_branch("a")
    survey.is_test_mode = True
    db.session.commit()
    submit(survey, branch, mixed(survey, 7, seed=1))
    survey.is_test_mode = False
    db.session.commit()
    submit(survey, branch, mixed(survey, 9, seed=2))
    real_only = make_survey("realonly", items=2, state=SurveyState.CLOSED)
    submit(real_only, branch, mixed(real_only, 9, seed=2))
    with db.transaction():
        assert delete_responses(survey, only_test=True) == 7
    kept = survey_counts(survey)
    fresh = survey_counts(real_only)
    np.testing.assert_array_equal(kept.counts, fresh.counts)
    np.testing.assert_array_equal(kept.respondents, fresh.respondents)
    np.testing.assert_array_equal(kept.complete_total_counts, fresh.complete_total_counts)


def test_comparison_with_shared_items(make_survey, make_branch):
    earlier = make_survey("stage2", state=SurveyState.CLOSED)
    later = make_survey("stage4", state=SurveyState.CLOSED)
    a, b, small = make_branch("a"), make_branch("b"), make_branch("s")
    submit(earlier, a, [uniform(earlier, "average")] * 12)
    submit(earlier, b, mixed(earlier, 10, seed=1))
    submit(later, a, [uniform(later, "good")] * 12)
    submit(later, b, mixed(later, 10, seed=2))
    submit(later, small, mixed(later, 2, seed=3))
    report = report_dict(later, compare=earlier)
    json.dumps(report, allow_nan=False)
    comparison = report["comparison"]
    assert comparison["against"] == "stage2"
    assert set(comparison["overall"]) == {"q1", "q2", "q3"}
    # The small branch is suppressed in the later stage (and b with it), so only a compares.
    assert set(comparison["branches"]) == {"a"}
    cmp = comparison["branches"]["a"]["q1"]
    assert set(cmp) >= {"diff", "diff_ci", "p", "mann_whitney_p"}
    assert cmp["diff"] == pytest.approx(1.0)
    lo, hi = cmp["diff_ci"]
    assert 0 < lo < hi <= 1
    assert cmp["change"] == "higher"
    assert cmp["p"] < 0.001 and cmp["mann_whitney_p"] < 0.001


def test_comparison_without_shared_items_is_empty(make_survey, make_branch):
    first = make_survey("first", state=SurveyState.CLOSED)
    other = make_survey("other", state=SurveyState.CLOSED)
    for item in other.items:
        item.key = "x" + item.key
    db.session.commit()
    branch = make_branch("a")
    submit(first, branch, mixed(first, 8))
    submit(other, branch, mixed(other, 8))
    comparison = report_dict(first, compare=other)["comparison"]
    assert comparison["against"] == "other"
    assert comparison["overall"] == {} and comparison["branches"] == {}


def test_branch_id_limits_the_branches(five_branches):
    survey, branches = five_branches
    report = report_dict(survey, branch_id=branches["a"].id)
    assert [b["code"] for b in report["branches"]] == ["a"]
    assert report["overall"]["items"]["q1"]["n"] == 56
    hidden = report_dict(survey, branch_id=branches["b"].id)
    assert hidden["branches"] == [
        {
            "code": "b",
            "name": "第b支部",
            "respondents": 3,
            "suppressed": True,
            "status": "suppressed",
        }
    ]


def test_comments_come_in_random_order_from_shown_branches_only(make_survey, make_branch):
    survey = make_survey("talk", items=1, state=SurveyState.CLOSED)
    shown, hidden = make_branch("a"), make_branch("b")
    texts = [f"意見 {n}" for n in range(30)]
    submit(survey, shown, [{"q1": "good", "_comment": t} for t in texts])
    submit(survey, shown, [{"q1": "good", "_comment": "   "}])
    submit(survey, hidden, [{"q1": "poor", "_comment": "only two of us"}] * 2)
    # The 10 of branch c are suppressed with the 2 of b (complementary); a stays shown.
    submit(survey, make_branch("c"), [{"q1": "poor", "_comment": "c"}] * 10)
    orders = [comments(survey, shown) for _ in range(4)]
    assert all(sorted(order) == sorted(texts) for order in orders)
    assert len({tuple(order) for order in orders}) > 1, "comments should come in random order"
    assert comments(survey, hidden) == []


def test_turnout_counts_codes_and_responses(make_survey, make_branch, mint):
    survey = make_survey("turnout", items=1)
    a, b = make_branch("a"), make_branch("b")
    make_branch("idle")
    make_branch("gone", is_active=False)
    codes = mint(survey, a, 10)
    for code in codes[:4]:
        submit_with_code(code, {survey.items[0].id: survey.options[0].id}, None)
    batch, void_codes = mint_batch(survey, b, survey.category("public"), 5)
    db.session.commit()
    submit_with_code(void_codes[0], {survey.items[0].id: survey.options[1].id}, None)
    batch.is_void = True
    db.session.commit()
    submit(survey, b, [{"q1": "poor"}] * 3, source=Source.PAPER)

    result = survey_turnout(survey)
    rows = {row.code: row for row in result.branches}
    assert list(rows) == ["a", "b", "idle"]
    assert (rows["a"].codes_issued, rows["a"].codes_used) == (10, 4)
    assert rows["a"].web_responses == 4 and rows["a"].paper_ballots == 0
    assert rows["a"].turnout_rate == pytest.approx(0.4)
    # The voided batch: its used code stays issued, its 4 unused codes are withdrawn.
    assert (rows["b"].codes_issued, rows["b"].codes_used) == (1, 1)
    assert rows["b"].web_responses == 1 and rows["b"].paper_ballots == 3
    assert rows["idle"].codes_issued == 0 and rows["idle"].turnout_rate is None
    total = result.total
    assert (total.codes_issued, total.codes_used, total.web_responses, total.paper_ballots) == (
        11,
        5,
        5,
        3,
    )
    assert total.turnout_rate == pytest.approx(5 / 11)
    assert [row.code for row in turnout(survey)] == ["a", "b", "idle"]
    assert [row.code for row in survey_turnout(survey, branch_id=b.id).branches] == ["b"]
    json.dumps(result.as_dict(), allow_nan=False)


def test_test_batches_count_only_in_test_mode(make_survey, make_branch):
    survey = make_survey("trial", items=1)
    branch = make_branch("a")
    batch, _codes = mint_batch(survey, branch, survey.category("member"), 4)
    batch.is_test = True
    mint_batch(survey, branch, survey.category("member"), 6)
    db.session.commit()
    assert survey_turnout(survey).total.codes_issued == 6
    survey.is_test_mode = True
    db.session.commit()
    assert survey_turnout(survey).total.codes_issued == 10
    assert db.session.scalar(select(func.count()).select_from(CodeBatch)) == 2


# --------------------------------------------------------------------------- CLI


def test_cli_prints_the_json_report(runner, five_branches):
    survey, _branches = five_branches
    result = runner.invoke(args=["report", "contract"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    db.session.expire_all()
    assert printed == json.loads(json.dumps(report_dict(survey)))
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert actions == ["report.export"]


def test_cli_writes_files_and_refuses_sealed_surveys(runner, make_survey, make_branch, tmp_path):
    closed = make_survey("done", state=SurveyState.CLOSED)
    earlier = make_survey("earlier", state=SurveyState.CLOSED)
    sealed = make_survey("running", state=SurveyState.OPEN)
    branch = make_branch("a")
    submit(closed, branch, mixed(closed, 6))
    submit(earlier, branch, mixed(earlier, 6))
    submit(sealed, branch, mixed(sealed, 6))

    missing = runner.invoke(args=["report", "done", "--format", "xlsx"])
    assert missing.exit_code != 0 and "-o FILE" in missing.output

    target = tmp_path / "done.csv"
    written = runner.invoke(args=["report", "done", "--format", "csv", "-o", str(target)])
    assert written.exit_code == 0, written.output
    assert target.read_bytes().startswith(b"\xef\xbb\xbf")

    workbook = tmp_path / "done.xlsx"
    written = runner.invoke(
        args=["report", "done", "--format", "xlsx", "-o", str(workbook), "--compare", "earlier"]
    )
    assert written.exit_code == 0, written.output
    assert workbook.read_bytes().startswith(b"PK")

    refused = runner.invoke(args=["report", "running"])
    assert refused.exit_code == 1
    assert "after the survey closes" in refused.output
    assert not refused.stdout.strip().startswith("{")
    blocked = tmp_path / "blocked.xlsx"
    refused = runner.invoke(args=["report", "running", "--format", "xlsx", "-o", str(blocked)])
    assert refused.exit_code == 1 and not blocked.exists()
    unknown = runner.invoke(args=["report", "nope"])
    assert unknown.exit_code == 1 and "nope" in unknown.output
    itself = tmp_path / "itself.json"
    refused = runner.invoke(args=["report", "done", "--compare", "done", "-o", str(itself)])
    assert refused.exit_code == 1 and not itself.exists()
    assert "Compare with another survey of the same campaign." in refused.output
