"""The audit log as the office reads it: actions named in the reader's language, times in the
configured time zone, the detail's values (and changes) shown as labelled values."""

from __future__ import annotations

import ast
import html as markup
import re
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from survey import ROOT
from survey.db import db
from survey.models import Action, AuditEntry, Role
from survey.services import audit, surveys
from survey.services.audit_labels import ACTION_LABELS, detail_pairs


def _entry(action: str, detail: str, at: datetime) -> None:
    with db.transaction():
        audit.record(action, detail).at = at


def _rows(html: str) -> list[list[str]]:
    """The audit table's rows as the cells' text."""
    body = html[html.index("<tbody>") : html.index("</tbody>")]
    return [
        [
            " ".join(markup.unescape(re.sub(r"<[^>]+>", "", cell)).split())
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


@pytest.mark.parametrize(
    ("language", "export", "column"),
    [
        ("zh-TW", "導出結果", "時間（Asia/Shanghai）"),
        ("zh-CN", "导出结果", "时间（Asia/Shanghai）"),
        ("en", "Exported results", "When (Asia/Shanghai)"),
    ],
)
def test_actions_in_the_readers_language_and_times_in_the_office_zone(
    admin, language, export, column
):
    _entry("report.export", "survey=pingyi format=xlsx", datetime(2026, 12, 1, 1, 30, 5))
    admin.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    html = admin.get("/audit").get_data(as_text=True)
    assert column in html
    exported = next(row for row in _rows(html) if export in row[2])
    # 01:30 UTC is 09:30 in Shanghai.
    assert exported[0] == "2026-12-01 09:30:05"
    assert exported[1] == "—" or exported[1]  # the command line, or the name
    assert "report.export" not in exported[2]
    assert 'title="report.export"' in html  # the stored key stays at hand


def test_a_configured_time_zone_is_used(app, admin):
    app.config["TIME_ZONE"] = "Europe/London"
    _entry("report.export", "survey=pingyi format=csv", datetime(2026, 7, 1, 12, 0, 0))
    html = admin.get("/audit").get_data(as_text=True)
    assert "When (Europe/London)" in html
    assert [r[0] for r in _rows(html) if "Exported results" in r[2]] == ["2026-07-01 13:00:00"]


def test_values_and_changes_are_shown_readably(admin):
    _entry("survey.update", "survey=pingyi threshold=5->7 items=changed", datetime(2026, 1, 1))
    _entry("user.update", "user=bob supervisor/- -> branch_viewer/b01", datetime(2026, 1, 2))
    html = admin.get("/audit").get_data(as_text=True)
    rows = {row[2]: row[3] for row in _rows(html)}
    assert rows["Changed a survey's questionnaire or settings"] == (
        "survey: pingyi; threshold: 5 → 7; items: changed"
    )
    assert rows["Changed an account"] == "account: bob; supervisor/- → branch_viewer/b01"


def test_a_key_without_a_label_is_shown_as_stored(admin):
    _entry("something.new", "x=1", datetime(2026, 1, 1))
    row = next(r for r in _rows(admin.get("/audit").get_data(as_text=True)) if "something" in r[2])
    assert row[2:] == ["something.new", "x: 1"]


def test_campaign_and_survey_text_changes_record_before_and_after(admin, make_survey):
    from survey.models import Campaign, User

    make_survey("pingyi")
    office = db.session.scalar(select(User).where(User.username == "office"))
    campaign = db.session.scalar(select(Campaign))
    old_title = campaign.title
    surveys.update_campaign(office, campaign, "二〇二六年 巡察")
    detail = db.session.scalar(
        select(AuditEntry.detail).where(AuditEntry.action == "campaign.update")
    )
    assert detail == f"campaign={campaign.slug} title={audit.shown(old_title)}->'二〇二六年 巡察'"
    pairs = dict(detail_pairs(detail))
    assert pairs["title"] == f"{old_title} → 二〇二六年 巡察"
    html = admin.get("/audit").get_data(as_text=True)
    assert f'title: <span class="audit-value">{old_title} → 二〇二六年 巡察</span>' in html


def test_shown_values_stay_one_pair_and_short():
    assert audit.shown(None) == "-" and audit.shown("") == "-"
    assert audit.shown(0.9) == "0.9"
    assert audit.shown(Role.ADMIN) == "admin"
    assert audit.shown(datetime(2026, 12, 1, 1, 30)) == "'2026-12-01 01:30 UTC'"
    long = audit.shown("歡迎 " * 40 + "\n下一行")
    assert long.startswith("'歡迎 ") and long.endswith("…'") and len(long) == audit.SHOWN_TEXT + 2
    assert audit.shown("歡迎" * 40) == "歡迎" * 19 + "歡…"
    change = audit.change("welcome_text", "", "第一行\n第二行")
    assert change == "welcome_text=-->'第一行 第二行'"
    assert detail_pairs(change) == (("welcome text", "— → 第一行 第二行"),)


def _recorded_actions() -> set[str]:
    """Every action key the code records: the first argument of each ``audit.record(...)``
    (and of own_account's ``_record``), literal, either branch of a conditional, or a name
    assigned such values in the same function; ``f"survey.{action}"`` stands for the actions."""
    found: set[str] = set()

    def values(node, function) -> set[str]:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return {node.value}
        if isinstance(node, ast.IfExp):
            return values(node.body, function) | values(node.orelse, function)
        if isinstance(node, ast.JoinedStr):
            return {f"survey.{a.value}" for a in Action}
        if isinstance(node, ast.Name) and function is not None:
            assigned = set()
            for child in ast.walk(function):
                if isinstance(child, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == node.id for t in child.targets
                ):
                    assigned |= values(child.value, None)
            return assigned
        return set()

    for path in Path(ROOT, "survey").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for call in ast.walk(function):
                if not isinstance(call, ast.Call) or not call.args:
                    continue
                name = ast.unparse(call.func)
                if name in ("audit.record", "_record") and function.name != "_record":
                    found |= values(call.args[0], function)
    return found


def test_every_recorded_action_has_a_label():
    recorded = _recorded_actions()
    assert {"report.export", "codes.mint", "survey.open", "auth.login"} <= recorded
    assert len(recorded) > 40
    assert recorded - set(ACTION_LABELS) == set()
