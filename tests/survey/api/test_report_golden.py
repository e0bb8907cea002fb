"""The report's JSON, byte for byte, on the fixtures in ``tests/fixtures/report``.

Two stages of one campaign over nine branches (one empty, three under the threshold, a
category under it inside a shown branch) are loaded through the command line, as an office
would, and reported by the command line and by the API. The expected files were written by the
code before the report became typed; a refactor that changes one byte of any of them fails
here. To accept an intended change of the contract, run this module with
``CEPING_WRITE_GOLDEN=1`` and review the diff of the files.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from survey.db import db
from survey.models import Branch, Role
from tests.survey.api.test_api import with_token

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "report"
WRITE = os.environ.get("CEPING_WRITE_GOLDEN") == "1"


def _invoke(runner, *args: str) -> str:
    result = runner.invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def stages(runner):
    """Both stages loaded, answered on paper and closed, through the command line."""
    _invoke(runner, "import-branches", str(FIXTURES / "branches.csv"))
    for stage in ("evaluation", "satisfaction"):
        _invoke(runner, "load-survey", str(FIXTURES / f"{stage}.yaml"))
        _invoke(runner, "open-survey", f"fixture-{stage}")
        _invoke(runner, "import-responses", f"fixture-{stage}", str(FIXTURES / f"{stage}.csv"))
        _invoke(runner, "close-survey", f"fixture-{stage}")
    return runner


def _matches(text: str, name: str) -> None:
    path = FIXTURES / name
    if WRITE:
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} changed"


def test_cli_report_is_unchanged(stages, tmp_path):
    output = tmp_path / "evaluation.json"
    _invoke(stages, "report", "fixture-evaluation", "-o", str(output))
    _matches(output.read_text(encoding="utf-8"), "evaluation.json")


def test_cli_comparison_is_unchanged(stages, tmp_path):
    output = tmp_path / "satisfaction.json"
    arguments = ["report", "fixture-satisfaction", "--compare", "fixture-evaluation"]
    _invoke(stages, *arguments, "-o", str(output))
    _matches(output.read_text(encoding="utf-8"), "satisfaction-vs-evaluation.json")


@pytest.mark.parametrize("viewer", [None, "r02"], ids=["admin", "branch-viewer"])
def test_api_report_is_unchanged(stages, web, make_user, viewer):
    if viewer is None:
        user = make_user("golden", Role.ADMIN)
    else:
        branch = db.session.query(Branch).filter_by(code=viewer).one()
        user = make_user("golden", Role.BRANCH_VIEWER, branch=branch)
    response = web.get(
        "/api/v1/surveys/fixture-satisfaction/report?compare=fixture-evaluation",
        headers=with_token(user),
    )
    assert response.status_code == 200
    _matches(response.get_data(as_text=True), f"api-{viewer or 'admin'}.json")
