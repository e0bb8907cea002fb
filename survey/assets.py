"""Third-party browser assets served from installed packages, so no page needs a CDN."""

from __future__ import annotations

from pathlib import Path

import plotly
from flask import Flask, send_from_directory

PLOTLY_DIR = Path(plotly.__file__).resolve().parent / "package_data"


def plotly_js():
    """plotly.min.js from the installed plotly package (the version pinned in requirements)."""
    return send_from_directory(PLOTLY_DIR, "plotly.min.js", max_age=7 * 24 * 3600)


def init_app(app: Flask) -> None:
    """Register the vendor asset routes."""
    app.add_url_rule("/vendor/plotly.min.js", "plotly_js", plotly_js)
