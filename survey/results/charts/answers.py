"""How the answers spread: the diverging bars of the options, and the branch × item heat map."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from analytics import Summary
from survey import display
from survey.results.charts.base import (
    COMPOSITE,
    SIGNAL_MARKS,
    Chart,
    Table,
    layout,
    option_colours,
    pct,
    what_is_drawn,
)
from survey.services.report import Report


def _counts(summaries: list[Summary], width: int) -> list[int]:
    """Option counts summed over the given item summaries."""
    return [sum(s.counts[j] for s in summaries) for j in range(width)]


def _rows(report: Report, item: str) -> list[tuple[str, list[int]]]:
    """(label, option counts) for all branches together, then each shown branch by code, on
    the item (or summed over every item); rows without answers are left out."""

    def chosen(items: dict[str, Summary]) -> list[Summary]:
        if item == COMPOSITE:
            return list(items.values())
        return [items[item]] if item in items else []

    width = len(report.scale)
    rows: list[tuple[str, list[int]]] = []
    overall = report.analysis.overall or {}
    if overall:
        rows.append((_("All branches"), _counts(chosen(overall), width)))
    for branch in sorted(report.shown, key=lambda b: b.code):
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
            yaxis={"autorange": "reversed", "automargin": True},
        ),
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
            custom_row.append([summary.n, display.signal_words(signal)])
        z.append(z_row)
        text.append(text_row)
        custom.append(custom_row)
    return z, text, custom


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
        "colorscale": [[0, "#f7fbff"], [0.5, "#9ecae1"], [1, "#08519c"]],
        "zmin": 0,
        "zmax": 100,
        "xgap": 2,
        "ygap": 2,
        "colorbar": {"title": {"text": _("Favourable rate")}, "ticksuffix": "%"},
    }


def heatmap_chart(report: Report) -> Chart | None:
    """Branch × item favourable rates; ▲/▼ mark cells clearly above/below the rest (Holm)."""
    branches = sorted(report.shown, key=lambda b: b.code)
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
            yaxis={"autorange": "reversed", "automargin": True},
        ),
    }
    rows = [
        [branch.label] + [t or display.MISSING for t in text_row]
        for branch, text_row in zip(branches, text, strict=True)
    ]
    columns = [_("Branch")] + [item.text for item in report.items]
    notes = [
        _(
            "▲ clearly above the other branches, ▼ clearly below the other branches: the "
            "difference from all other answers to the item is unlikely to be chance, after "
            "Holm's correction for testing every branch. Unmarked cells show no clear difference."
        )
    ]
    return Chart("fig-heatmap", title, figure, Table(title, columns, rows), notes)
