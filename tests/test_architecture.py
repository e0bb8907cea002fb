"""The layout that ARCHITECTURE.md describes, checked: sizes, and which layer imports which.

These read the source, not the running app: a module that grew past its size, a service that
reaches into a blueprint, or a view that opens a transaction fails here before review.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SURVEY = ROOT / "survey"
#: The web areas (blueprints) and the command line: the ways in.
ENTRY_POINTS = ("auth", "manage", "results", "respond", "rectify", "api", "cli")
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60


def _modules(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*.py") if "__pycache__" not in path.parts)


def _imported(path: Path) -> set[str]:
    """Every module name ``path`` imports (at any depth, including inside functions)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_no_module_of_the_app_is_over_500_lines():
    long = {
        _relative(path): lines
        for path in _modules(SURVEY)
        if (lines := path.read_text(encoding="utf-8").count("\n")) > MAX_MODULE_LINES
    }
    assert long == {}


def test_no_function_of_the_app_is_over_60_lines():
    long = {}
    for path in _modules(SURVEY):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long[f"{_relative(path)}:{node.name}"] = lines
    assert long == {}


@pytest.mark.parametrize("layer", ["services", "identity", "models"])
def test_lower_layers_never_import_an_entry_point(layer):
    """Services, identity and models serve the web, the API and the CLI alike, so none of them
    may depend on one of those."""
    offending = {
        _relative(path): sorted(
            name
            for name in _imported(path)
            if any(
                name == f"survey.{area}" or name.startswith(f"survey.{area}.")
                for area in ENTRY_POINTS
            )
        )  # fmt: skip
        for path in _modules(SURVEY / layer)
    }
    assert {path: names for path, names in offending.items() if names} == {}


def test_models_import_no_service():
    offending = [
        _relative(path)
        for path in _modules(SURVEY / "models")
        if any(name.startswith("survey.services") for name in _imported(path))
    ]
    assert offending == []


def test_entry_points_open_no_transaction_of_their_own():
    """Domain work happens in services, in their transactions; a view or command may only end
    the read it began (``commit``), never begin a write of its own."""
    offending = [
        _relative(path)
        for area in ENTRY_POINTS
        for path in _modules(SURVEY / area)
        if "db.transaction(" in path.read_text(encoding="utf-8")
    ]
    assert offending == []


def test_statistics_live_in_analytics():
    """No scipy outside ``analytics``: every interval, test and limit is computed there."""
    offending = [
        _relative(path)
        for path in _modules(SURVEY)
        if any(name == "scipy" or name.startswith("scipy.") for name in _imported(path))
    ]
    assert offending == []
