"""analytics/ stays a pure statistics package: numpy, scipy and the standard library only."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_importing_analytics_pulls_in_no_web_or_test_libraries():
    """A fresh interpreter importing every analytics module loads no Flask, SQLAlchemy, etc."""
    modules = sorted(p.stem for p in (ROOT / "analytics").glob("*.py") if p.stem != "__init__")
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module('analytics.' + name)\n"
        "banned = ('flask', 'sqlalchemy', 'pandas', 'statsmodels', 'survey', 'pingouin')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in banned))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert completed.stdout.strip() == "[]"
