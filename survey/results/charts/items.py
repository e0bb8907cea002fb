"""One group item by item (a branch, or all branches), and two stages side by side."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from analytics import Comparison, Summary
from survey import display
from survey.results.charts.base import (
    AFTER_COLOUR,
    BAR_COLOUR,
    BEFORE_COLOUR,
    OVERALL_COLOUR,
    Chart,
    Table,
    branch_order,
    category_axis,
    error_bars,
    layout,
    level_text,
    pct,
    rate_axis,
    sorting,
)
from survey.services.report import Report


def _items_traces(report, keys, summaries, compare_to, compare_name) -> list[dict[str, Any]]:
    short = {item.key: item.short() for item in report.items}
    data: list[dict[str, Any]] = [
        {
            "type": "bar",
            "orientation": "h",
            "name": _("Favourable rate"),
            "x": [pct(s.favourable_rate) for s in summaries],
            "y": [short[k] for k in keys],
            "customdata": [s.n for s in summaries],
            "hovertemplate": "%{y}: %{x:.1f}% (n = %{customdata})<extra></extra>",
            "marker": {"color": BAR_COLOUR},
            "error_x": error_bars([(s.favourable_rate, *s.favourable_ci) for s in summaries]),
        }
    ]
    if compare_to is not None:
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": compare_name,
                "x": [pct(_rate(compare_to.get(k))) for k in keys],
                "y": [short[k] for k in keys],
                "hovertemplate": "%{y}: %{x:.1f}%<extra>" + compare_name + "</extra>",
                "marker": {"color": OVERALL_COLOUR, "symbol": "line-ns-open", "size": 18,
                           "line": {"width": 3}},
            }
        )  # fmt: skip
    return data


def _rate(summary: Summary | None) -> float | None:
    return None if summary is None else summary.favourable_rate


def items_chart(
    chart_id: str,
    title: str,
    report: Report,
    items: dict[str, Summary],
    compare_to: dict[str, Summary] | None = None,
    compare_name: str | None = None,
) -> Chart | None:
    """Favourable rate per item with Wilson bars; optionally another group's rate as markers
    (``compare_name``, by default all branches)."""
    keys = [i.key for i in report.items if i.key in items and items[i.key].n]
    if not keys:
        return None
    summaries = [items[k] for k in keys]
    compare_name = compare_name or _("All branches")
    columns = [
        _("Item"),
        _("Favourable rate"),
        display.interval_heading(report.confidence),
        _("Answers"),
    ]
    if compare_to is not None:
        columns.append(compare_name)
    texts = report.item_texts()
    rows = []
    for key, summary in zip(keys, summaries, strict=True):
        row = [
            texts[key],
            display.percent(summary.favourable_rate),
            display.interval(*(summary.favourable_ci or (None, None))),
            str(summary.n),
        ]
        if compare_to is not None:
            row.append(display.percent(_rate(compare_to.get(key))))
        rows.append(row)
    figure = {
        "data": _items_traces(report, keys, summaries, compare_to, compare_name),
        "layout": layout(
            title,
            rows=len(keys),
            xaxis=rate_axis(_("Favourable rate")),
            yaxis={"autorange": "reversed", "automargin": True},
            showlegend=compare_to is not None,
        ),
    }
    notes = [
        _(
            "Bars show the favourable rate; lines show its %(level)s Wilson interval.",
            level=level_text(report.confidence),
        )
    ]
    return Chart(chart_id, title, figure, Table(title, columns, rows), notes)


#: One row of the dumbbell: label, rate before, rate after, the change.
Stage = tuple[str, float | None, float | None, Comparison]


def stage_rows(
    before: Report, after: Report, item: str, earlier_key: str | None = None
) -> list[Stage]:
    """All branches, then each branch shown in both stages (best later rate first), that can
    be compared on the later stage's ``item``, paired with the earlier stage's ``earlier_key``
    (by default the same key)."""
    comparison = after.comparison
    if comparison is None:
        return []
    earlier_key = earlier_key or item
    rows: list[Stage] = []
    change = comparison.overall.get(item)
    earlier = (before.analysis.overall or {}).get(earlier_key)
    later = (after.analysis.overall or {}).get(item)
    if change and earlier and later and change.diff is not None:
        rows.append((_("All branches"), earlier.favourable_rate, later.favourable_rate, change))
    before_by_code = {b.code: b for b in before.shown}
    for branch in branch_order(after, item):
        change = comparison.branches.get(branch.code, {}).get(item)
        earlier_branch = before_by_code.get(branch.code)
        if not change or change.diff is None or earlier_branch is None:
            continue
        rows.append(
            (
                branch.label,
                earlier_branch.result.items[earlier_key].favourable_rate,
                branch.result.items[item].favourable_rate,
                change,
            )
        )
    return rows


def _stage_traces(rows: list[Stage], before_name: str, after_name: str, level: str) -> list:
    names = [row[0] for row in rows]
    line_x: list[float | None] = []
    line_y: list[str | None] = []
    for name, earlier, later, _change in rows:
        line_x += [pct(earlier), pct(later), None]
        line_y += [name, name, None]

    def markers(name: str, index: int, colour: str) -> dict[str, Any]:
        return {
            "type": "scatter",
            "mode": "markers",
            "name": name,
            "x": [pct(row[index]) for row in rows],
            "y": names,
            "marker": {"color": colour, "size": 11},
            "hovertemplate": "%{y}: %{x:.1f}%<extra>" + name + "</extra>",
        }

    changes = [row[3] for row in rows]
    return [
        {
            "type": "scatter",
            "mode": "lines",
            "x": line_x,
            "y": line_y,
            "line": {"color": "#bbbbbb", "width": 3},
            "hoverinfo": "skip",
            "showlegend": False,
        },
        markers(before_name, 1, BEFORE_COLOUR),
        markers(after_name, 2, AFTER_COLOUR),
        {
            "type": "scatter",
            "mode": "markers",
            "name": _("Change with its %(level)s interval", level=level),
            "xaxis": "x2",
            "x": [pct(c.diff) for c in changes],
            "y": names,
            "marker": {"color": OVERALL_COLOUR, "size": 8, "symbol": "diamond"},
            "error_x": {**error_bars([(c.diff, *c.diff_ci) for c in changes]), "thickness": 2},
            "customdata": [display.change_words(c.change) for c in changes],
            "hovertemplate": "%{y}: %{x:+.1f} " + _("points") + " (%{customdata})<extra></extra>",
        },
    ]


def _stage_layout(title: str, rows: list[Stage]) -> dict[str, Any]:
    """Rates on the left panel, the change in points on the right, branches down the side."""
    return layout(
        title,
        rows=len(rows),
        xaxis=rate_axis(_("Favourable rate"), domain=[0, 0.58]),
        xaxis2={
            "domain": [0.66, 1],
            "title": {"text": _("Change (percentage points)")},
            "zeroline": True,
            "zerolinecolor": "#000",
            "zerolinewidth": 1.5,
            "gridcolor": "#e5e5e5",
            "anchor": "y",
        },
        yaxis=category_axis([row[0] for row in rows]),
    )


def dumbbell_chart(
    before: Report,
    after: Report,
    item: str,
    before_name: str,
    after_name: str,
    earlier_key: str | None = None,
) -> Chart | None:
    """Per branch, the favourable rate before and after joined by a line (left panel), and the
    change with its Newcombe interval (right panel); ``earlier_key`` is the earlier stage's item
    paired with ``item`` (by default the same key)."""
    rows = stage_rows(before, after, item, earlier_key)
    if not rows:
        return None
    level = level_text(after.confidence)
    title = _("Favourable rate before and after")
    figure = {
        "data": _stage_traces(rows, before_name, after_name, level),
        "layout": _stage_layout(title, rows),
        "sort": sorting(
            [b for b in branch_order(after, item) if b.label in {row[0] for row in rows}],
            pinned=[_("All branches")],
        ),
    }
    table_rows = [
        [
            name,
            display.percent(earlier),
            display.percent(later),
            display.points(change.diff),
            display.points_interval(change.diff_ci),
            display.change_words(change.change),
        ]
        for name, earlier, later, change in rows
    ]
    columns = [
        _("Branch"),
        before_name,
        after_name,
        _("Change (points)"),
        display.interval_heading(after.confidence),
        _("Verdict"),
    ]
    notes = [
        _(
            "Left: the favourable rate in each stage, joined by a line. Right: the change with "
            "its %(level)s interval (Newcombe's method). When the interval does not cross 0 the "
            "change is clear.",
            level=level,
        )
    ]
    return Chart("fig-dumbbell", title, figure, Table(title, columns, table_rows), notes)
