"""How the answers spread: the diverging bars of the options, and the branch × item heat map."""

from __future__ import annotations

import math
from typing import Any

from flask_babel import gettext as _

from analytics import Summary
from survey import display
from survey.results.charts.base import (
    COMPOSITE,
    SIGNAL_MARKS,
    Chart,
    Table,
    branch_order,
    category_axis,
    layout,
    option_colours,
    pct,
    sorting,
    survey_target,
    what_is_drawn,
)
from survey.services.report import Report


def _counts(summaries: list[Summary], width: int) -> list[int]:
    """Option counts summed over the given item summaries."""
    return [sum(s.counts[j] for s in summaries) for j in range(width)]


def _rows(report: Report, item: str) -> list[tuple[str, list[int]]]:
    """(label, option counts) for all branches together, then each shown branch in the page's
    order (:func:`branch_order`), on the item (or summed over every item); rows without answers
    are left out."""

    def chosen(items: dict[str, Summary]) -> list[Summary]:
        if item == COMPOSITE:
            return list(items.values())
        return [items[item]] if item in items else []

    width = len(report.scale)
    rows: list[tuple[str, list[int]]] = []
    overall = report.analysis.overall or {}
    if overall:
        rows.append((_("All branches"), _counts(chosen(overall), width)))
    for branch in branch_order(report, item):
        rows.append((branch.label, _counts(chosen(branch.result.items), width)))
    return [(label, counts) for label, counts in rows if sum(counts)]


def _option_traces(report: Report, rows: list[tuple[str, list[int]]], shares) -> list[dict]:
    """One stacked bar trace per option, stacked outwards from 0: the mildest favourable option
    first on the right, the mildest unfavourable first on the left (options are best first)."""
    keys = [o.key for o in report.scale]
    colours = option_colours(report)
    order = [j for j in reversed(range(len(keys))) if report.scale[j].favourable]
    order += [j for j in range(len(keys)) if not report.scale[j].favourable]
    traces = []
    for j in order:
        option = report.scale[j]
        sign = 1 if option.favourable else -1
        traces.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": option.label,
                "x": [sign * pct(row[j]) for row in shares],
                "y": [label for label, _c in rows],
                "customdata": [
                    [pct(row[j]), counts[j]] for row, (_l, counts) in zip(shares, rows, strict=True)
                ],
                "hovertemplate": "%{y}: "
                + option.label
                + " %{customdata[0]:.1f}% (%{customdata[1]})<extra></extra>",
                "marker": {"color": colours[option.key]},
                # The legend lists options in scale order (best first), whatever the stacking.
                "legendrank": j + 1,
            }
        )
    return traces


def distribution_chart(report: Report, item: str) -> Chart | None:
    """A diverging stacked bar per branch: favourable options to the right of 0, others left."""
    rows = _rows(report, item)
    if not rows:
        return None
    shares = [[c / sum(counts) for c in counts] for _label, counts in rows]
    title = _("Answers by branch: %(what)s", what=what_is_drawn(report, item))
    axis = {
        "title": {"text": _("← other answers · favourable answers →")},
        "range": [-100, 100],
        "tickvals": [-100, -75, -50, -25, 0, 25, 50, 75, 100],
        "ticktext": ["100%", "75%", "50%", "25%", "0", "25%", "50%", "75%", "100%"],
        "gridcolor": "#e5e5e5",
        "zeroline": True,
        "zerolinecolor": "#000",
    }
    figure = {
        "data": _option_traces(report, rows, shares),
        "layout": layout(
            title,
            rows=len(rows),
            barmode="relative",
            xaxis=axis,
            yaxis=category_axis([label for label, _c in rows]),
        ),
        "sort": sorting(branch_order(report, item), pinned=[_("All branches")]),
    }
    table_rows = [
        [label, str(sum(counts))]
        + [f"{display.percent(s)} ({c})" for s, c in zip(row, counts, strict=True)]
        for (label, counts), row in zip(rows, shares, strict=True)
    ]
    columns = [_("Branch"), _("Answers")] + [o.label for o in report.scale]
    notes = [
        _("Favourable answers extend to the right of the centre line, the others to the left.")
    ]
    return Chart("fig-distribution", title, figure, Table(title, columns, table_rows), notes)


def _heat_cells(report: Report, branches) -> tuple[list, list, list]:
    """The heat map's values (percent), cell texts (with the ▲/▼ marks) and hover data."""
    z, text, custom = [], [], []
    for branch in branches:
        z_row, text_row, custom_row = [], [], []
        for item in report.items:
            summary = branch.result.items[item.key]
            signal = branch.result.vs_rest[item.key].signal
            rate, mark = summary.favourable_rate, SIGNAL_MARKS.get(signal or "", "")
            z_row.append(pct(rate))
            text_row.append(
                "" if rate is None else f"{100 * rate:.0f}%{(' ' + mark) if mark else ''}"
            )
            custom_row.append(
                [summary.n, display.verdict_words(branch.result.vs_rest[item.key].verdict)]
            )
        z.append(z_row)
        text.append(text_row)
        custom.append(custom_row)
    return z, text, custom


#: The heat map's colours: oranges below the target, blues from the target up.
BELOW_TARGET = ("#a63603", "#fdd0a2")
FROM_TARGET = ("#deebf7", "#08519c")


def heat_range(values: list[float | None]) -> tuple[int, int]:
    """The observed range of the heat map's rates (percent), rounded out to whole points and
    at least one point wide."""
    seen = [v for v in values if v is not None]
    low, high = (math.floor(min(seen)), math.ceil(max(seen))) if seen else (0, 100)
    if high - low < 1:
        low, high = max(0, high - 1), max(1, high)
    return low, high


def heat_scale(values: list[float | None], target: float | None) -> dict[str, Any]:
    """The colour scale of the heat map over the observed range (in percent, rounded out to
    whole points), so differences between branches show as differences in colour. With a
    target inside the range, cells below it are orange and cells at or above it blue, and the
    colour bar names the target; otherwise one blue scale."""
    low, high = heat_range(values)
    scale: dict[str, Any] = {
        "zmin": low,
        "zmax": high,
        "colorscale": [[0, FROM_TARGET[0]], [1, FROM_TARGET[1]]],
        "colorbar": {"title": {"text": _("Favourable rate")}, "ticksuffix": "%"},
    }
    if target is None:
        return scale
    goal = 100 * target
    if goal <= low:
        return scale
    if goal > high:
        scale["colorscale"] = [[0, BELOW_TARGET[0]], [1, BELOW_TARGET[1]]]
        scale["colorbar"]["title"]["text"] = _(
            "Favourable rate (all below the target of %(target)s)", target=display.percent(target)
        )
        return scale
    at = (goal - low) / (high - low)
    scale["colorscale"] = [
        [0, BELOW_TARGET[0]],
        [at, BELOW_TARGET[1]],
        [at, FROM_TARGET[0]],
        [1, FROM_TARGET[1]],
    ]
    ticks = sorted({low, high, round(goal, 1)})
    scale["colorbar"].update(
        tickmode="array",
        tickvals=ticks,
        ticktext=[
            _("target %(rate)s", rate=display.percent(target)) if t == round(goal, 1) else f"{t:g}%"
            for t in ticks
        ],
        ticksuffix="",
    )
    return scale


def _heat_trace(report: Report, branches, z, text, custom) -> dict[str, Any]:
    return {
        "type": "heatmap",
        "z": z,
        "x": [item.short() for item in report.items],
        "y": [b.label for b in branches],
        "text": text,
        "texttemplate": "%{text}",
        "customdata": custom,
        "hovertemplate": "%{y} · %{x}: %{z:.1f}% (n = %{customdata[0]}); "
        "%{customdata[1]}<extra></extra>",
        "xgap": 2,
        "ygap": 2,
        **heat_scale([v for row in z for v in row], survey_target(report)),
    }


def heatmap_chart(report: Report, item: str = COMPOSITE) -> Chart | None:
    """Branch × item favourable rates, branches in the page's order for ``item``; ▲/▼ mark
    cells clearly above/below the rest (Holm); colours span the observed rates."""
    branches = branch_order(report, item)
    if not branches or not report.items:
        return None
    z, text, custom = _heat_cells(report, branches)
    title = _("Favourable rate by branch and item")
    figure = {
        "data": [_heat_trace(report, branches, z, text, custom)],
        "layout": layout(
            title,
            rows=len(branches),
            xaxis={"automargin": True},
            yaxis=category_axis([b.label for b in branches]),
        ),
        "sort": sorting(branches),
    }
    rows = [
        [branch.label] + [t or display.MISSING for t in text_row]
        for branch, text_row in zip(branches, text, strict=True)
    ]
    columns = [_("Branch")] + [item.text for item in report.items]
    target = survey_target(report)
    observed = heat_range([v for row in z for v in row])
    notes = [
        _(
            "Colours span the rates observed, from %(low)s to %(high)s, so that small "
            "differences show; read the numbers in the cells.",
            low=f"{observed[0]}%",
            high=f"{observed[1]}%",
        ),
        _(
            "▲ clearly above the other branches, ▼ clearly below the other branches: the "
            "difference from all other answers to the item is unlikely to be chance, after "
            "Holm's correction for testing every branch. Unmarked cells show no clear difference."
        ),
    ]
    if target is not None:
        notes.append(
            _(
                "Orange cells are below the survey's target of %(target)s, blue cells reach it.",
                target=display.percent(target),
            )
        )
    return Chart("fig-heatmap", title, figure, Table(title, columns, rows), notes)
