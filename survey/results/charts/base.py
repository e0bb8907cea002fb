"""What every figure shares: the chart and table types, colours, layout, and branch points.

Nothing here reads the database: the input is :class:`~survey.services.report.Report`, so a
suppressed branch (which carries no figures there) can never appear in a chart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _

from survey import display
from survey.services.report import BranchReport, Report

#: Item selector value of the composite (mean over items).
COMPOSITE = "composite"

#: Colours: favourable options in blues, the others in oranges (readable with colour blindness).
FAVOURABLE_COLOURS = ("#08519c", "#3182bd", "#6baed6", "#9ecae1", "#c6dbef")
UNFAVOURABLE_COLOURS = ("#fdae6b", "#e6550d", "#a63603", "#7f2704", "#4d1702")
BAR_COLOUR = "#3182bd"
UNRANKED_COLOUR = "#9ecae1"
OVERALL_COLOUR = "#444444"
BEFORE_COLOUR = "#fd8d3c"
AFTER_COLOUR = "#08519c"

#: Marks of a branch clearly above or below the rest.
SIGNAL_MARKS = {"above": "▲", "below": "▼"}


@dataclass(frozen=True, slots=True)
class Table:
    """A chart's numbers: the first column of each row is its header (``th scope="row"``)."""

    caption: str
    columns: list[str]
    rows: list[list[str]]


@dataclass(frozen=True, slots=True)
class Chart:
    """One figure for ``Plotly.newPlot`` with its data table and notes for the reader."""

    id: str
    title: str
    figure: dict[str, Any]
    table: Table
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Point:
    """One branch's rate on the chosen item (or composite), with its interval and n."""

    code: str
    label: str
    n: int
    rate: float
    lo: float | None
    hi: float | None
    rank: int | None
    signal: str | None
    effect: float | None


def pct(rate: float | None) -> float | None:
    """A rate in percent, rounded for drawing; None stays None."""
    return None if rate is None else round(100.0 * rate, 2)


def level_text(level: float) -> str:
    """A coverage level as people write it: ``95%``, ``99.8%``."""
    return f"{100 * level:g}%"


def layout(title: str, rows: int = 0, **extra: Any) -> dict[str, Any]:
    """A layout shared by all figures: readable fonts, room for branch names, no plotly logo."""
    shared: dict[str, Any] = {
        "title": {"text": title},
        "font": {"family": "system-ui, sans-serif", "size": 13},
        "margin": {"l": 170, "r": 30, "t": 90, "b": 60},
        "hovermode": "closest",
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        # Above the plot, where it cannot cover the axis title.
        "legend": {"orientation": "h", "x": 0, "xanchor": "left", "y": 1.01, "yanchor": "bottom"},
    }
    if rows:
        shared["height"] = max(320, 30 * rows + 150)
    shared.update(extra)
    return shared


def rate_axis(title: str, **extra: Any) -> dict[str, Any]:
    """A 0–100 % axis."""
    return {
        "title": {"text": title},
        "range": [0, 100],
        "ticksuffix": "%",
        "gridcolor": "#e5e5e5",
        "zeroline": False,
        **extra,
    }


def error_bars(points: list[tuple[float, float | None, float | None]]) -> dict[str, Any]:
    """Asymmetric horizontal error bars, in points of percent, for (rate, lo, hi) triples."""
    return {
        "type": "data",
        "symmetric": False,
        "array": [round(100 * (hi - rate), 2) if hi is not None else 0 for rate, _lo, hi in points],
        "arrayminus": [
            round(100 * (rate - lo), 2) if lo is not None else 0 for rate, lo, _hi in points
        ],
        "color": OVERALL_COLOUR,
        "thickness": 1.5,
    }


def what_is_drawn(report: Report, item: str) -> str:
    """The chosen item's short label, or the composite's name."""
    if item == COMPOSITE:
        return display.headline_name()
    return next(i.short() for i in report.items if i.key == item)


def composite_mode(report: Report) -> str:
    """``weighted`` when the branches' headline figures are weighted by respondent category,
    else ``mean`` (the mean of the items' rates); both are drawn with their interval."""
    headlines = [b.headline for b in report.shown if b.headline is not None]
    if headlines and all(h.is_weighted for h in headlines):
        return "weighted"
    return "mean"


def _point(branch: BranchReport, item: str) -> Point | None:
    result = branch.result
    if item == COMPOSITE:
        # The branch's one headline figure (BranchReport.headline), as on every page.
        headline = branch.headline
        if headline is None:
            return None
        rate, (lo, hi) = headline.rate, headline.ci
        n, effect = result.respondents, None
        signal = headline.group if headline.group in ("above", "below") else None
    else:
        summary, vs_rest = result.items[item], result.vs_rest[item]
        rate, n = summary.favourable_rate, summary.n
        lo, hi = summary.favourable_ci or (None, None)
        signal, effect = vs_rest.signal, vs_rest.effect
    if rate is None:
        return None
    return Point(branch.code, branch.label, n, rate, lo, hi, result.rank, signal, effect)


def branch_points(report: Report, item: str) -> list[Point]:
    """Shown branches with a rate on ``item`` (or the composite), best first, ties by code."""
    points = [_point(branch, item) for branch in report.shown]
    found = [p for p in points if p is not None]
    found.sort(key=lambda p: (-p.rate, p.code))
    return found


def overall_rate(report: Report, item: str) -> float | None:
    """The survey-wide rate the funnel is centred on: the item's, or the mean over items."""
    if item == COMPOSITE:
        return report.headline.favourable_rate
    summary = (report.analysis.overall or {}).get(item)
    return None if summary is None else summary.favourable_rate


def survey_target(report: Report) -> float | None:
    """The survey's target favourable rate (0–1), or None when it sets none."""
    return getattr(report.survey, "target", None)


def branch_order(report: Report, item: str) -> list[BranchReport]:
    """The order every chart of a page lists branches in by default: best favourable rate on
    ``item`` (the figure the rank chart draws) first, ties and branches without a rate by code.

    The reader can change it in the browser (``static/js/charts.js`` reads :func:`sorting`).
    """
    position = {p.code: i for i, p in enumerate(branch_points(report, item))}
    return sorted(report.shown, key=lambda b: (position.get(b.code, len(position)), b.code))


def sorting(
    branches: list[BranchReport] | list[Point], pinned: list[str] | None = None
) -> dict[str, Any]:
    """What ``charts.js`` needs to re-sort a figure's branch axis and its table: the branches
    (label and code) in the default order, the labels that stay first (all branches
    together), and the choices of the order selector in the reader's language."""
    return {
        "branches": [[b.label, b.code] for b in branches],
        "pinned": pinned or [],
        "label": _("Order of branches"),
        "choices": [
            ["rate", _("Favourable rate, highest first")],
            ["code", _("Branch code")],
            ["name", _("Branch name")],
        ],
    }


def category_axis(labels: list[str], **extra: Any) -> dict[str, Any]:
    """A branch axis read top to bottom in the given order (``charts.js`` may re-sort it)."""
    return {
        "categoryorder": "array",
        "categoryarray": labels,
        "autorange": "reversed",
        "automargin": True,
        **extra,
    }


def option_colours(report: Report) -> dict[str, str]:
    """A colour per option: favourable ones blue (darkest = best), others orange."""
    favourable = [o.key for o in report.scale if o.favourable]
    others = [o.key for o in report.scale if not o.favourable]
    colours = {}
    for i, key in enumerate(favourable):
        colours[key] = FAVOURABLE_COLOURS[min(i, len(FAVOURABLE_COLOURS) - 1)]
    for i, key in enumerate(others):
        colours[key] = UNFAVOURABLE_COLOURS[min(i, len(UNFAVOURABLE_COLOURS) - 1)]
    return colours
