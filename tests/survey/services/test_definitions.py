"""load-survey and export-survey: validation with line numbers, updates, the lock that responses
put on items and scale, and the export/load round trip."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from survey.db import db
from survey.models import (
    Access,
    Action,
    AuditEntry,
    Campaign,
    Item,
    RespondentCategory,
    ResultsVisibility,
    ScaleOption,
    Survey,
    SurveyKind,
    SurveyState,
)
from survey.services.definition_yaml import export_definition, parse_definition
from tests.helpers.dbstate import snapshot
from tests.helpers.results import record_response

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
VALID = (FIXTURES / "survey.yaml").read_text(encoding="utf-8")
DEMO = Path(__file__).resolve().parents[3] / "survey" / "demo"


def edit(text: str, old: str, new: str) -> str:
    """``text`` with exactly one occurrence of ``old`` replaced."""
    assert text.count(old) == 1, old
    return text.replace(old, new)


def load(runner, tmp_path: Path, text: str, name: str = "survey.yaml"):
    """Run load-survey on ``text`` saved as ``name`` in the working folder."""
    (tmp_path / name).write_text(text, encoding="utf-8")
    return runner.invoke(args=["load-survey", name])


@pytest.fixture(autouse=True)
def _in_tmp(monkeypatch, tmp_path):
    """Run each command in the test's folder, so problems name the file as typed."""
    monkeypatch.chdir(tmp_path)


def test_load_survey_creates_campaign_and_survey(runner, tmp_path):
    result = load(runner, tmp_path, VALID)
    assert result.exit_code == 0, result.output
    assert "Survey pingyi-test created (Draft)" in result.output
    survey = db.session.scalar(select(Survey).where(Survey.slug == "pingyi-test"))
    assert survey.campaign.slug == "xjx-test"
    assert survey.campaign.title == "保持共產黨員先進性教育活動"
    assert survey.title == "分析評議階段測評表"
    assert (survey.kind, survey.access, survey.results_visibility, survey.state) == (
        SurveyKind.EVALUATION,
        Access.CODES,
        ResultsVisibility.AFTER_CLOSE,
        SurveyState.DRAFT,
    )
    assert survey.threshold == 5 and survey.allows_comments is True
    assert [(o.key, o.label, o.weight, o.is_favourable) for o in survey.options] == [
        ("good", "好", 100, True),
        ("fairly_good", "比較好", 80, True),
        ("average", "一般", 60, False),
        ("poor", "差", 0, False),
    ]
    assert [(c.key, c.label, c.weight) for c in survey.categories] == [
        ("member", "黨員", 0.4),
        ("public", "羣眾", 0.6),
    ]
    assert [(i.key, i.text) for i in survey.items] == [
        ("q1", "徵求意見是否廣泛"),
        ("q2", "談心活動是否深入"),
        ("q3", "問題找得準不準"),
    ]
    assert (survey.comment_max_length, survey.min_rank_respondents) == (2000, 30)


def test_loading_twice_is_harmless(runner, tmp_path):
    load(runner, tmp_path, VALID)
    before = snapshot()
    result = load(runner, tmp_path, VALID)
    assert result.exit_code == 0, result.output
    assert "Survey pingyi-test is unchanged" in result.output
    assert snapshot() == before


def test_loading_again_updates_the_survey_and_campaign(runner, tmp_path):
    load(runner, tmp_path, VALID)
    survey = db.session.scalar(select(Survey))
    kept_item_id = survey.items[0].id
    changed = edit(VALID, "title: 分析評議階段測評表", "title: 新標題")
    changed = edit(changed, "title: 保持共產黨員先進性教育活動}", "title: 先進性教育}")
    changed = edit(changed, "  - {key: q3, text: 問題找得準不準}\n", "  - {key: q9, text: 新題}\n")
    result = load(runner, tmp_path, changed + "min_rank_respondents: 12\n")
    assert result.exit_code == 0, result.output
    assert "Survey pingyi-test updated" in result.output
    db.session.expire_all()
    survey = db.session.scalar(select(Survey))
    assert survey.title == "新標題" and survey.campaign.title == "先進性教育"
    assert [i.key for i in survey.items] == ["q1", "q2", "q9"]
    assert survey.items[0].id == kept_item_id
    assert survey.min_rank_respondents == 12
    assert db.session.scalar(select(Item).where(Item.key == "q3")) is None
    assert [e.action for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))] == [
        "survey.create",
        "survey.update",
    ]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "threshold: 5",
            "threshold: 2",
            "survey.yaml:7: threshold: must be a whole number of at "
            "least 3: with fewer than 3 respondents in a group",
        ),
        ("threshold: 5", "threshold: five", "survey.yaml:7: threshold: must be a whole number"),
        ("threshold: 5", "threshold: true", "survey.yaml:7: threshold: must be a whole number"),
        (
            "kind: evaluation",
            "kind: poll",
            "survey.yaml:5: kind: must be one of: evaluation, satisfaction, other",
        ),
        ("access: codes", "access: open", "survey.yaml:6: access: must be one of: codes, link"),
        ("results: after_close", "results: never", "survey.yaml:8: results: must be one of"),
        ("slug: pingyi-test", "slug: Pingyi Test", 'survey.yaml:3: slug: "Pingyi Test" is not'),
        ("weight: 80,", "weight: high,", "survey.yaml:11: scale[2].weight: must be a number"),
        (
            "label: 差, weight: 0, favourable: false",
            "label: 差, weight: 0, favourable: maybe",
            "survey.yaml:13: scale[4].favourable: must be true or false",
        ),
        (
            "60, favourable: false}\n  - {key: poor, label: 差, weight: 0, favourable: false}",
            "60, favourable: true}\n  - {key: poor, label: 差, weight: 0, favourable: true}",
            "survey.yaml:9: scale: needs at least one favourable and one unfavourable option",
        ),
        (
            "label: 一般",
            "label: 好",
            'survey.yaml:12: scale[3].label: "好" is already used by scale[1]',
        ),
        (
            "{key: poor, label: 差, weight: 0",
            "{key: poor, weight: 0",
            "survey.yaml:13: scale[4].label: this required key is missing",
        ),
        ("{key: q2, text", "{key: q1, text", 'survey.yaml:19: items[2].key: "q1" is already used'),
        ("{key: q2, text", "{key: 2, text", "survey.yaml:19: items[2].key: must be text"),
        (
            "{key: q2, text",
            "{key: comment, text",
            'survey.yaml:19: items[2].key: "comment" is reserved',
        ),
        ("title: 分析評議階段測評表\n", "", "survey.yaml:2: title: this required key is missing"),
        (
            "label: 羣眾, weight: 0.6",
            "label: 羣眾",
            "survey.yaml:16: categories[2].weight: when one category has a weight, every category",
        ),
        (
            "weight: 0.4",
            "weight: 0",
            "survey.yaml:15: categories[1].weight: must be a number greater than 0",
        ),
        (
            "campaign: {slug: xjx-test, title: 保持共產黨員先進性教育活動}",
            "campaign: xjx-test",
            "survey.yaml:2: campaign: must be a mapping",
        ),
        ("comments: true", "comments: yes please", "survey.yaml:21: comments: must be true or"),
        ("comments: true", "comments: true\ntitel: x", "survey.yaml:22: titel: unknown key"),
        (
            "comments: true",
            "comments: true\nthreshold: 6",
            "survey.yaml:22: threshold: this key appears twice",
        ),
        (
            "weight: 80, favourable: true}",
            "weight: 80, favourable: true",
            "survey.yaml:12: this is not valid YAML",
        ),
    ],
)
def test_load_survey_rejects_bad_definitions_and_changes_nothing(
    runner, tmp_path, old, new, expected
):
    load(runner, tmp_path, VALID)
    before = snapshot()
    result = load(runner, tmp_path, edit(VALID, old, new))
    assert result.exit_code == 1
    assert expected in result.stderr
    assert snapshot() == before


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (VALID.split("scale:")[0] + "scale: []\ncategories: []\nitems: {q1: x}\n",
         ["survey.yaml:9: scale: needs at least 2 entries",
          "survey.yaml:10: categories: needs at least 1 entries",
          "survey.yaml:11: items: must be a list"]),
        ("", ["survey.yaml: the file is empty"]),
        ("- just\n- a list\n", ["survey.yaml:1: must be a mapping of keys to values"]),
    ],
)  # fmt: skip
def test_load_survey_reports_every_problem(runner, tmp_path, text, expected):
    result = load(runner, tmp_path, text)
    assert result.exit_code == 1
    for message in expected:
        assert message in result.stderr
    assert db.session.scalar(select(Survey.id)) is None


def test_threshold_and_kind_problems_are_reported_together(runner, tmp_path):
    text = edit(edit(VALID, "threshold: 5", "threshold: 1"), "kind: evaluation", "kind: x")
    result = load(runner, tmp_path, text)
    assert result.exit_code == 1
    assert result.stderr.index("survey.yaml:5: kind") < result.stderr.index("survey.yaml:7:")
    assert "Nothing was changed (2 problems)" in result.stderr


def _respond_once(make_branch, category: int = 0) -> None:
    """Open the loaded survey and store one response, which locks its items and scale."""
    survey = db.session.scalar(select(Survey))
    branch = make_branch(f"b{category}")
    with db.transaction():
        if not survey.is_open:
            survey.move(Action.OPEN)
        record_response(
            survey,
            branch.id,
            survey.categories[category].id,
            {survey.items[0].id: survey.options[0].id},
            None,
        )


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("text: 談心活動是否深入", "text: 談心活動", "items"),
        ("  - {key: q3, text: 問題找得準不準}\n", "", "items"),
        ("  - {key: q1, text: 徵求意見是否廣泛}\n  - {key: q2, text: 談心活動是否深入}\n",
         "  - {key: q2, text: 談心活動是否深入}\n  - {key: q1, text: 徵求意見是否廣泛}\n", "items"),
        ("weight: 80,", "weight: 75,", "scale"),
        ("label: 比較好", "label: 較好", "scale"),
        ("weight: 60, favourable: false", "weight: 60, favourable: true", "scale"),
        ("  - {key: public, label: 羣眾, weight: 0.6}\n", "", "categories"),
    ],
)  # fmt: skip
def test_with_responses_items_and_scale_are_locked(runner, make_branch, tmp_path, old, new, field):
    load(runner, tmp_path, VALID)
    _respond_once(make_branch)
    _respond_once(make_branch, category=1)
    before = snapshot()
    result = load(runner, tmp_path, edit(VALID, old, new))
    assert result.exit_code == 1
    line = {"items": 17, "scale": 9, "categories": 14}[field]
    assert f"survey.yaml:{line}: {field}:" in result.stderr
    if field == "categories":
        assert 'category "public" has responses or access codes' in result.stderr
    else:
        assert f"survey pingyi-test already has responses, so its {field}" in result.stderr
    assert snapshot() == before


def test_with_responses_other_fields_may_change(runner, make_branch, tmp_path):
    load(runner, tmp_path, VALID)
    _respond_once(make_branch)
    text = edit(VALID, "title: 分析評議階段測評表", "title: 測評表（修訂）")
    text = edit(text, "threshold: 5", "threshold: 10")
    text = edit(text, "label: 黨員, weight: 0.4", "label: 共產黨員, weight: 0.5")
    text = edit(text, "comments: true", "comments: false")
    result = load(runner, tmp_path, text)
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    survey = db.session.scalar(select(Survey))
    assert survey.title == "測評表（修訂）" and survey.threshold == 10
    assert survey.allows_comments is False
    assert (survey.categories[0].label, survey.categories[0].weight) == ("共產黨員", 0.5)
    assert survey.state is SurveyState.OPEN


def test_export_then_load_round_trip(runner, tmp_path):
    load(runner, tmp_path, VALID)
    survey = db.session.scalar(select(Survey))
    exported = export_definition(survey)
    assert parse_definition(exported, "x.yaml") == parse_definition(VALID, "survey.yaml")
    before = snapshot()
    result = load(runner, tmp_path, exported, "exported.yaml")
    assert result.exit_code == 0, result.output
    assert "unchanged" in result.output
    assert snapshot() == before

    result = runner.invoke(args=["export-survey", "pingyi-test"])
    assert result.exit_code == 0 and result.stdout == exported
    result = runner.invoke(args=["export-survey", "pingyi-test", "-o", "out.yaml"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out.yaml").read_text(encoding="utf-8") == exported


def test_round_trip_keeps_values_that_look_like_other_types(runner, tmp_path):
    """Keys such as "no" and texts such as "true" or "12: x" must come back as the same text."""
    campaign = Campaign(slug="c", title="yes")
    survey = Survey(
        campaign=campaign,
        slug="odd",
        title="#1: 測評 'quoted' \"double\"",
        kind=SurveyKind.OTHER,
        access=Access.LINK,
        threshold=3,
        results_visibility=ResultsVisibility.LIVE,
        allows_comments=False,
        comment_max_length=500,
        min_rank_respondents=7,
        opened_on=date.today(),
    )
    survey.options = [
        ScaleOption(key="no", label="1", weight=2.5, is_favourable=True, position=0),
        ScaleOption(key="yes", label="null", weight=-1, is_favourable=False, position=1),
    ]
    survey.categories = [RespondentCategory(key="on", label="~", position=0)]
    survey.items = [
        Item(key="0.5", text="true", position=0),
        Item(key="x", text="12: x", position=1),
    ]
    db.session.add(survey)
    db.session.commit()
    exported = export_definition(survey)
    definition, problems = parse_definition(exported, "odd.yaml")
    assert problems == []
    before = snapshot()
    result = load(runner, tmp_path, exported, "odd.yaml")
    assert result.exit_code == 0, result.output
    assert "unchanged" in result.output
    assert snapshot() == before
    assert [o.key for o in definition.scale] == ["no", "yes"]
    assert [i.text for i in definition.items] == ["true", "12: x"]


@pytest.mark.parametrize("name", ["evaluation.yaml", "satisfaction.yaml"])
def test_demo_definitions_are_valid_load_survey_input(runner, name):
    result = runner.invoke(args=["load-survey", str(DEMO / name)])
    assert result.exit_code == 0, result.output
    survey = db.session.scalar(select(Survey))
    assert survey.campaign.slug == "xjx-2005"
    assert [i.key for i in survey.items] == ["q1", "q2", "q3", "q4", "q5", "q6"]
    assert [o.label for o in survey.options] == ["好", "比較好", "一般", "差"]
    assert [(c.label, c.weight) for c in survey.categories] == [("黨員", 0.4), ("羣眾", 0.6)]
    assert survey.threshold == 5 and survey.allows_comments


def test_load_survey_refuses_a_file_that_is_not_utf8(runner, tmp_path):
    (tmp_path / "survey.yaml").write_bytes(VALID.encode("gb18030"))
    result = runner.invoke(args=["load-survey", "survey.yaml"])
    assert result.exit_code == 1
    assert "survey.yaml:2: a survey definition must be saved as UTF-8" in result.stderr


def test_target_and_texts_travel_with_the_definition(runner, tmp_path):
    """The target (a percentage in the file, a share in the survey) and the welcome and
    thank-you texts load, export and load again unchanged; a target over 100 is refused."""
    text = VALID + (
        'target: 90\nwelcome_text: "歡迎參加測評。\\n請如實填寫。"\nthanks_text: 謝謝！\n'
    )
    result = load(runner, tmp_path, text)
    assert result.exit_code == 0, result.output
    survey = db.session.scalar(select(Survey))
    assert survey.target == pytest.approx(0.9)
    assert survey.welcome_text == "歡迎參加測評。\n請如實填寫。"
    assert survey.thanks_text == "謝謝！"
    exported = export_definition(survey)
    assert "target: 90" in exported
    assert parse_definition(exported, "x.yaml") == parse_definition(text, "survey.yaml")
    refused = load(runner, tmp_path, VALID + "target: 120\n", "bad.yaml")
    assert refused.exit_code == 1
    assert "target: must be a percentage between 0 and 100" in refused.output
