"""Branches against each other on one item: the ranked bars and the funnel plot."""

from __future__ import annotations

import math
from typing import Any

from flask_babel import gettext as _

from analytics import funnel
from survey import display
from survey.results.charts.base import (
    BAR_COLOUR,
    COMPOSITE,
    OVERALL_COLOUR,
    UNRANKED_COLOUR,
    Chart,
    Point,
    Table,
    branch_order,
    branch_points,
    category_axis,
    composite_mode,
    error_bars,
    layout,
    level_text,
    overall_rate,
    pct,
    rate_axis,
    sorting,
    what_is_drawn,
)
from survey.services.report import Report


def _rank_notes(report: Report, item: str, with_bars: bool) -> list[str]:
    level = level_text(report.confidence)
    if item == COMPOSITE:
        weighted = composite_mode(report) == "weighted"
        first = _(
            "All items: each branch's overall favourable rate, %(basis)s, with its %(level)s "
            "Wilson interval on the effective number of respondents.",
            basis=_("the items' favourable rates, weighted by respondent category")
            if weighted
            else _("the mean of the items' favourable rates"),
            level=level,
        )
        if weighted:
            first += " " + _(
                "The branch pages also give the unweighted mean of the items, which counts "
                "every answer alike; the two differ where kinds of respondent answered "
                "differently."
            )
    else:
        first = _(
            "Bars show the favourable rate; lines show its %(level)s Wilson interval.", level=level
        )
    return [
        first,
        _(
            "Branches with fewer than %(n)s respondents are drawn in a lighter colour and are "
            "not grouped: their intervals are too wide.",
            n=report.survey.min_rank_respondents,
        ),
        _(
            "Branches are not given ranks where their intervals overlap: each is clearly above, "
            "clearly below or not distinguishable from the other branches, by the test against "
            "the rest used on every page, after Holm's correction."
        ),
    ]


def _standing(report: Report, item: str) -> dict[str, str]:
    """Branch code → what every page says of it: its group on all items, or its verdict on
    one item (the same words as the heat map and the branch pages)."""
    if item == COMPOSITE:
        return {
            b.code: display.group_words(b.headline.group)
            for b in report.shown
            if b.headline is not None
        }
    return {b.code: display.verdict_words(b.result.vs_rest[item].verdict) for b in report.shown}


def _rank_trace(points: list[Point], with_bars: bool, standing: dict[str, str]) -> dict[str, Any]:
    trace: dict[str, Any] = {
        "type": "bar",
        "orientation": "h",
        "name": _("Favourable rate"),
        "x": [pct(p.rate) for p in points],
        "y": [p.label for p in points],
        "customdata": [[p.n, standing.get(p.code, display.MISSING)] for p in points],
        "hovertemplate": "%{y}: %{x:.1f}% (n = %{customdata[0]}; %{customdata[1]})<extra></extra>",
        "marker": {
            "color": [BAR_COLOUR if p.rank is not None else UNRANKED_COLOUR for p in points]
        },
    }
    if with_bars:
        trace["error_x"] = error_bars([(p.rate, p.lo, p.hi) for p in points])
    return trace


def rank_chart(report: Report, item: str) -> Chart:
    """Branches ranked by favourable rate with Wilson error bars (composite: weighted interval
    when every branch has one, else the plain mean of items without bars)."""
    points = branch_points(report, item)
    what = what_is_drawn(report, item)
    title = _("Favourable rate by branch: %(what)s", what=what)
    with_bars = True  # every figure drawn has an interval, the headline figure included
    standing = _standing(report, item)
    figure = {
        "data": [_rank_trace(points, with_bars, standing)],
        "layout": layout(
            title,
            rows=len(points),
            xaxis=rate_axis(_("Favourable rate")),
            yaxis=category_axis([p.label for p in points]),
            showlegend=False,
        ),
        "sort": sorting(points),
    }
    columns = [
        _("Branch"),
        _("Against the other branches"),
        _("Favourable rate"),
        display.interval_heading(report.confidence),
        _("Respondents"),
    ]
    rows = [
        [
            p.label,
            standing.get(p.code, display.MISSING),
            display.percent(p.rate),
            display.interval(p.lo, p.hi) if with_bars else display.MISSING,
            str(p.n),
        ]
        for p in points
    ]
    table = Table(title, columns, rows)
    return Chart("fig-rank", title, figure, table, _rank_notes(report, item, with_bars))


def _funnel_points(report: Report, item: str) -> list[tuple[str, int, float]]:
    """(label, n, rate) of the shown branches on the item, or their headline figure on its
    effective n (the same figure as the bars and the branch pages)."""
    if item != COMPOSITE:
        return [(p.label, p.n, p.rate) for p in branch_points(report, item)]
    return [
        (b.label, max(1, round(b.headline.effective_n)), b.headline.rate)
        for b in report.shown
        if b.headline is not None
    ]


def _limit_traces(p: float, low: int, high: int, branches: int) -> list[dict[str, Any]]:
    """The dotted 99.8 % and dashed 95 % limit lines (lower and upper) around ``p``, for the
    family of ``branches`` (:func:`analytics.funnel.adjusted_level`)."""
    traces = []
    for level, dash in zip(sorted(funnel.LEVELS, reverse=True), ("dot", "dash"), strict=True):
        name = _("%(level)s limits for %(m)s branches", level=level_text(level), m=branches)
        adjusted = funnel.adjusted_level(level, branches)
        sizes, lower, upper = funnel.limit_curves(p, low, high, adjusted)
        for side, values in enumerate((lower, upper)):
            traces.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "name": name,
                    "legendgroup": name,
                    "showlegend": side == 0,
                    "x": [round(n, 2) for n in sizes],
                    "y": [pct(v) for v in values],
                    "line": {"color": OVERALL_COLOUR, "dash": dash, "width": 1},
                    "hoverinfo": "skip",
                }
            )
    return traces


def _funnel_sizes(points: list[tuple[str, int, float]]) -> tuple[int, int]:
    """The range of n the limit lines are drawn over: a little beyond the smallest and largest
    branch, so every dot sits inside the lines' span."""
    low = max(1, int(min(n for _l, n, _r in points) * 0.8))
    high = max(low + 1, int(max(n for _l, n, _r in points) * 1.25) + 1)
    return low, high


def funnel_axes(p: float, points: list[tuple[str, int, float]]) -> tuple[list, list]:
    """Axis ranges that fit the dots and the survey-wide rate with a margin: the y axis in
    percent, rounded out to 5 points within 0–100; the x axis (log n) over the drawn sizes.
    The limit lines may leave the plot at very small n; the dots never do."""
    rates = [100 * r for _l, _n, r in points] + [100 * p]
    bottom = max(0.0, 5 * math.floor((min(rates) - 3) / 5))
    top = min(100.0, 5 * math.ceil((max(rates) + 3) / 5))
    if top - bottom < 10:
        bottom, top = max(0.0, top - 10), max(10.0, min(100.0, bottom + 10))
    low, high = _funnel_sizes(points)
    x_range = [round(math.log10(low), 4), round(math.log10(high), 4)]
    return x_range, [bottom, top]


def _funnel_data(p: float, points: list[tuple[str, int, float]]) -> list[dict[str, Any]]:
    low, high = _funnel_sizes(points)
    data = _limit_traces(p, low, high, len(points))
    data.append(
        {
            "type": "scatter",
            "mode": "lines",
            "name": _("Survey-wide rate"),
            "x": [low, high],
            "y": [pct(p), pct(p)],
            "line": {"color": OVERALL_COLOUR, "width": 1.5},
            "hoverinfo": "skip",
        }
    )
    data.append(
        {
            "type": "scatter",
            "mode": "markers",
            "name": _("Branches"),
            "x": [n for _l, n, _r in points],
            "y": [pct(r) for _l, _n, r in points],
            "text": [label for label, _n, _r in points],
            "hovertemplate": "%{text}: %{y:.1f}% (n = %{x})<extra></extra>",
            "marker": {"color": BAR_COLOUR, "size": 9, "line": {"color": "#fff", "width": 1}},
        }
    )
    return data


def funnel_position_words(
    rate: float, p: float, n: int, branches: int = 1, verdict: str | None = None
) -> str:
    """Where a branch falls relative to the funnel's limits for ``branches`` branches, in
    words. ``verdict`` is what the other pages say of it (above/below, else no mark): a dot
    beyond a limit that the branch's own test does not confirm (Fisher's exact test on a
    small branch) is said to be so, never called a difference."""
    found = funnel.position(rate, p, n, branches)
    if found is None:
        return _("within the limits")
    side, level = found
    if verdict is not None and verdict != side:
        return _(
            "outside the limits, but the exact test on its few answers finds no clear difference"
        )
    if side == "above":
        return _("above the %(level)s limit", level=level_text(level))
    return _("below the %(level)s limit", level=level_text(level))


def _funnel_marks(report: Report, item: str) -> dict[str, str]:
    """Branch code → above/below where the other pages mark it (group or item verdict)."""
    if item == COMPOSITE:
        found = {b.code: b.headline.group for b in report.shown if b.headline is not None}
    else:
        found = {b.code: b.result.vs_rest[item].verdict for b in report.shown}
    return {code: mark if mark in ("above", "below") else "none" for code, mark in found.items()}


def _funnel_layout(title: str, p: float, points: list[tuple[str, int, float]]) -> dict[str, Any]:
    """Respondents on a log axis, the rate in percent; both axes fit the dots."""
    x_range, y_range = funnel_axes(p, points)
    return layout(
        title,
        xaxis={
            "title": {"text": _("Respondents (n)")},
            "type": "log",
            "range": x_range,
            "gridcolor": "#e5e5e5",
        },
        yaxis=rate_axis(_("Favourable rate"), range=y_range),
        margin={"l": 70, "r": 30, "t": 90, "b": 60},
        height=440,
    )


def funnel_chart(report: Report, item: str) -> Chart | None:
    """Rate against n with 95 % and 99.8 % control limits around the survey-wide rate; None
    when there is no survey-wide rate to centre on."""
    p = overall_rate(report, item)
    points = _funnel_points(report, item)
    if p is None or not points:
        return None
    title = _("Funnel plot: %(what)s", what=what_is_drawn(report, item))
    order = branch_order(report, item)
    figure = {
        "data": _funnel_data(p, points),
        "layout": _funnel_layout(title, p, points),
        "sort": sorting(order),
    }
    position = {b.label: i for i, b in enumerate(order)}
    standing = _standing(report, item)
    marks = _funnel_marks(report, item)
    by_label = {b.label: b.code for b in report.shown}
    rows = [
        [
            label,
            str(n),
            display.percent(rate),
            funnel_position_words(rate, p, n, len(points), marks.get(by_label.get(label))),
            standing.get(by_label.get(label), display.MISSING),
        ]
        for label, n, rate in sorted(points, key=lambda x: (position.get(x[0], len(order)), x[0]))
    ]
    table = Table(
        _("Branches against the control limits around %(rate)s", rate=display.percent(p)),
        [
            _("Branch"),
            _("Effective respondents") if item == COMPOSITE else _("Respondents"),
            _("Favourable rate"),
            _("Position"),
            _("Against the other branches"),
        ],
        rows,
    )
    notes = [
        _(
            "Each dot is a branch. The limits allow for the %(m)s branches shown together "
            "(Bonferroni), so a dot outside them differs from the survey-wide rate by more than "
            "chance would explain, by the same standard as the heat map and the branch pages: "
            "outside the dashed lines in 1 case in 20 for all branches together, outside the "
            "dotted lines in 1 in 500. Small branches scatter more.",
            m=len(points),
        )
    ]
    if item == COMPOSITE:
        notes.append(
            _("For all items the limits are approximate: the mean of several rates is drawn.")
        )
    return Chart("fig-funnel", title, figure, table, notes)
