"""Plotly figures of the result pages, built from the report dict as plain data + layout dicts.

Every builder returns a :class:`Chart`: the figure (rendered in the browser by
``static/js/charts.js`` from a JSON data block) and the same numbers as an accessible
:class:`Table`, so the page is complete without JavaScript and in print. Only SVG trace types
(bar, scatter, heatmap text) are used. Rates are drawn in percent.

Nothing here reads the database: the input is :func:`survey.services.report.build_report`'s
dict, so a suppressed branch (which carries no figures there) can never appear in a chart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _

#: z for the 95 % and 99.8 % funnel control limits (two-sided).
Z95 = 1.959963984540054
Z998 = 3.090232306167813

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


# --------------------------------------------------------------------------- formatting


def pct(rate: float | None) -> float | None:
    """A rate in percent, rounded for drawing; None stays None."""
    return None if rate is None else round(100.0 * rate, 2)


def percent_text(rate: float | None) -> str:
    """A rate as text for tables, e.g. ``87.5%``; an undefined rate is a dash."""
    return "—" if rate is None else f"{100.0 * rate:.1f}%"


def interval_text(lo: float | None, hi: float | None) -> str:
    """An interval as text, e.g. ``80.1–92.3%``."""
    if lo is None or hi is None:
        return "—"
    return f"{100.0 * lo:.1f}–{100.0 * hi:.1f}%"


def points_text(difference: float | None) -> str:
    """A difference of rates in percentage points, signed, e.g. ``+8.2``."""
    return "—" if difference is None else f"{100.0 * difference:+.1f}"


def interval_heading() -> str:
    """The column heading of 95 % intervals."""
    return _("%(level)s interval", level="95%")


def points_interval_text(interval: list[float] | None) -> str:
    """An interval of a difference in percentage points, e.g. ``+2.1 to +9.8``."""
    if not interval:
        return "—"
    return _("%(lo)s to %(hi)s", lo=points_text(interval[0]), hi=points_text(interval[1]))


def signal_words(signal: str | None) -> str:
    """A branch-vs-rest mark in plain words (after Holm's correction)."""
    return {
        "above": _("clearly above the other branches"),
        "below": _("clearly below the other branches"),
    }.get(signal or "", _("no clear difference"))


def change_words(change: str | None) -> str:
    """A change between two stages in plain words (the Newcombe interval against 0)."""
    return {
        "higher": _("improved"),
        "lower": _("worsened"),
        "none": _("no clear change"),
    }.get(change or "", _("cannot be compared"))


# --------------------------------------------------------------------------- labels


def branch_labels(branches: list[dict[str, Any]]) -> dict[str, str]:
    """Branch code → display name; names that occur twice get their code appended."""
    seen: dict[str, int] = {}
    for branch in branches:
        seen[branch["name"]] = seen.get(branch["name"], 0) + 1
    return {
        b["code"]: b["name"] if seen[b["name"]] == 1 else f"{b['name']} [{b['code']}]"
        for b in branches
    }


def item_labels(report: dict[str, Any], width: int = 18) -> dict[str, str]:
    """Item key → a short, unique axis label: its number and the start of its text."""
    labels = {}
    for number, item in enumerate(report["items"], start=1):
        text = item["text"]
        short = text if len(text) <= width else text[: width - 1] + "…"
        labels[item["key"]] = f"{number}. {short}"
    return labels


def item_texts(report: dict[str, Any]) -> dict[str, str]:
    """Item key → its full text."""
    return {item["key"]: item["text"] for item in report["items"]}


def _layout(title: str, rows: int = 0, **extra: Any) -> dict[str, Any]:
    """A layout shared by all figures: readable fonts, room for branch names, no plotly logo."""
    layout: dict[str, Any] = {
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
        layout["height"] = max(320, 30 * rows + 150)
    layout.update(extra)
    return layout


def _rate_axis(title: str, **extra: Any) -> dict[str, Any]:
    """A 0–100 % axis."""
    return {
        "title": {"text": title},
        "range": [0, 100],
        "ticksuffix": "%",
        "gridcolor": "#e5e5e5",
        "zeroline": False,
        **extra,
    }


# --------------------------------------------------------------------------- selection


def shown_branches(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Branches with published figures (not suppressed, with at least one respondent)."""
    return [b for b in report["branches"] if b["status"] == "shown"]


def composite_mode(report: dict[str, Any]) -> str:
    """``weighted`` when every shown branch has a post-stratified rate with an interval,
    else ``mean`` (mean of the items' rates, drawn without an interval)."""
    branches = [
        b for b in shown_branches(report) if (b.get("composite") or {}).get("favourable_rate")
    ]
    if branches and all(
        ((b["composite"] or {}).get("weighted") or {}).get("lo") is not None for b in branches
    ):
        return "weighted"
    return "mean"


def branch_points(report: dict[str, Any], item: str) -> list[Point]:
    """Shown branches with a rate on ``item`` (or the composite), best first, ties by code."""
    labels = branch_labels(report["branches"])
    mode = composite_mode(report) if item == COMPOSITE else None
    points = []
    for branch in shown_branches(report):
        if item == COMPOSITE:
            composite = branch.get("composite") or {}
            if mode == "weighted":
                weighted = composite["weighted"]
                rate, lo, hi = weighted["rate"], weighted["lo"], weighted["hi"]
            else:
                rate, lo, hi = composite.get("favourable_rate"), None, None
            n, signal, effect = branch["respondents"], None, None
        else:
            summary = branch["items"][item]
            rate, n = summary["favourable_rate"], summary["n"]
            lo, hi = summary["favourable_ci"] or (None, None)
            vs_rest = summary.get("vs_rest") or {}
            signal, effect = vs_rest.get("signal"), vs_rest.get("effect")
        if rate is None:
            continue
        points.append(
            Point(
                branch["code"], labels[branch["code"]], n, rate, lo, hi, branch.get("rank"),
                signal, effect,
            )
        )  # fmt: skip
    points.sort(key=lambda p: (-p.rate, p.code))
    return points


def overall_rate(report: dict[str, Any], item: str) -> float | None:
    """The survey-wide rate the funnel is centred on: the item's, or the mean over items."""
    overall = report["overall"]
    if item == COMPOSITE:
        return overall["headline"]["favourable_rate"]
    summary = overall["items"].get(item)
    return None if summary is None else summary["favourable_rate"]


# --------------------------------------------------------------------------- survey page


def rank_chart(report: dict[str, Any], item: str) -> Chart:
    """Branches ranked by favourable rate with Wilson error bars (composite: weighted interval
    when every branch has one, else the plain mean of items without bars)."""
    points = branch_points(report, item)
    minimum = report.get("min_rank_respondents", 0)
    what = _("all items (mean)") if item == COMPOSITE else item_labels(report)[item]
    title = _("Favourable rate by branch: %(what)s", what=what)
    notes = []
    with_bars = item != COMPOSITE or composite_mode(report) == "weighted"
    if item == COMPOSITE and with_bars:
        notes.append(
            _(
                "All items: the favourable rate averaged over the items, weighted by respondent "
                "category, with its %(level)s interval.",
                level="95%",
            )
        )
    elif item == COMPOSITE:
        notes.append(
            _(
                "All items: the mean of the items' favourable rates. No interval is drawn for "
                "this mean; choose a single item to see intervals."
            )
        )
    else:
        notes.append(
            _(
                "Bars show the favourable rate; lines show its %(level)s Wilson interval.",
                level="95%",
            )
        )
    notes.append(
        _(
            "Branches with fewer than %(n)s respondents are drawn in a lighter colour and are "
            "not ranked: their intervals are too wide.",
            n=minimum,
        )
    )
    trace: dict[str, Any] = {
        "type": "bar",
        "orientation": "h",
        "name": _("Favourable rate"),
        "x": [pct(p.rate) for p in points],
        "y": [p.label for p in points],
        "customdata": [[p.n, p.rank if p.rank is not None else "—"] for p in points],
        "hovertemplate": "%{y}: %{x:.1f}% (n = %{customdata[0]}, "
        + _("rank")
        + " %{customdata[1]})<extra></extra>",
        "marker": {
            "color": [BAR_COLOUR if p.rank is not None else UNRANKED_COLOUR for p in points]
        },
    }
    if with_bars:
        trace["error_x"] = {
            "type": "data",
            "symmetric": False,
            "array": [round(100 * (p.hi - p.rate), 2) if p.hi is not None else 0 for p in points],
            "arrayminus": [
                round(100 * (p.rate - p.lo), 2) if p.lo is not None else 0 for p in points
            ],
            "color": OVERALL_COLOUR,
            "thickness": 1.5,
        }
    figure = {
        "data": [trace],
        "layout": _layout(
            title,
            rows=len(points),
            xaxis=_rate_axis(_("Favourable rate")),
            yaxis={"autorange": "reversed", "automargin": True},
            showlegend=False,
        ),
    }
    columns = [_("Branch"), _("Rank"), _("Favourable rate"), interval_heading(), _("Respondents")]
    rows = [
        [
            p.label,
            str(p.rank) if p.rank is not None else _("not ranked"),
            percent_text(p.rate),
            interval_text(p.lo, p.hi) if with_bars else "—",
            str(p.n),
        ]
        for p in points
    ]
    table = Table(_("Favourable rate by branch: %(what)s", what=what), columns, rows)
    return Chart("fig-rank", title, figure, table, notes)


def funnel_limits(p: float, n: float, z: float) -> tuple[float, float]:
    """Control limits p ± z·sqrt(p(1−p)/n), clipped to [0, 1] (Spiegelhalter 2005)."""
    half = z * math.sqrt(p * (1.0 - p) / n)
    return max(0.0, p - half), min(1.0, p + half)


def _funnel_ns(low: int, high: int, steps: int = 60) -> list[float]:
    """Sizes at which the limits are drawn: geometric from ``low`` to ``high``."""
    low = max(1, low)
    high = max(high, low + 1)
    ratio = (high / low) ** (1.0 / (steps - 1))
    return [low * ratio**i for i in range(steps)]


def _funnel_position(rate: float, p: float, n: int) -> str:
    """Where a branch falls relative to the limits, in words."""
    lo95, hi95 = funnel_limits(p, n, Z95)
    lo998, hi998 = funnel_limits(p, n, Z998)
    if rate > hi998:
        return _("above the %(level)s limit", level="99.8%")
    if rate < lo998:
        return _("below the %(level)s limit", level="99.8%")
    if rate > hi95:
        return _("above the %(level)s limit", level="95%")
    if rate < lo95:
        return _("below the %(level)s limit", level="95%")
    return _("within the limits")


def funnel_chart(report: dict[str, Any], item: str) -> Chart | None:
    """Rate against n with 95 % and 99.8 % control limits around the survey-wide rate; None
    when there is no survey-wide rate to centre on."""
    p = overall_rate(report, item)
    if item == COMPOSITE:
        labels = branch_labels(report["branches"])
        points = [
            (labels[b["code"]], b["respondents"], b["composite"]["favourable_rate"])
            for b in shown_branches(report)
            if (b.get("composite") or {}).get("favourable_rate") is not None
        ]
        what = _("all items (mean)")
    else:
        points = [(pt.label, pt.n, pt.rate) for pt in branch_points(report, item)]
        what = item_labels(report)[item]
    if p is None or not points:
        return None
    ns = _funnel_ns(min(n for _l, n, _r in points) // 2, int(max(n for _l, n, _r in points) * 1.1))
    data: list[dict[str, Any]] = []
    for z, name, dash in (
        (Z998, _("%(level)s limits", level="99.8%"), "dot"),
        (Z95, _("%(level)s limits", level="95%"), "dash"),
    ):
        limits = [funnel_limits(p, n, z) for n in ns]
        for side, values in enumerate(zip(*limits, strict=True)):
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "name": name,
                    "legendgroup": name,
                    "showlegend": side == 0,
                    "x": [round(n, 2) for n in ns],
                    "y": [pct(v) for v in values],
                    "line": {"color": OVERALL_COLOUR, "dash": dash, "width": 1},
                    "hoverinfo": "skip",
                }
            )
    data.append(
        {
            "type": "scatter",
            "mode": "lines",
            "name": _("Survey-wide rate"),
            "x": [round(ns[0], 2), round(ns[-1], 2)],
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
    title = _("Funnel plot: %(what)s", what=what)
    figure = {
        "data": data,
        "layout": _layout(
            title,
            xaxis={"title": {"text": _("Respondents (n)")}, "type": "log", "gridcolor": "#e5e5e5"},
            yaxis=_rate_axis(_("Favourable rate")),
            margin={"l": 70, "r": 30, "t": 90, "b": 60},
            height=440,
        ),
    }
    rows = [
        [label, str(n), percent_text(rate), _funnel_position(rate, p, n)]
        for label, n, rate in sorted(points, key=lambda x: (-x[2], x[0]))
    ]
    table = Table(
        _("Branches against the control limits around %(rate)s", rate=percent_text(p)),
        [_("Branch"), _("Respondents"), _("Favourable rate"), _("Position")],
        rows,
    )
    notes = [
        _(
            "Each dot is a branch. A branch outside the funnel differs from the survey-wide rate "
            "by more than chance would explain: outside the dashed lines in 1 case in 20, "
            "outside the dotted lines in 1 in 500. Small branches scatter more."
        )
    ]
    if item == COMPOSITE:
        notes.append(
            _("For all items the limits are approximate: the mean of several rates is drawn.")
        )
    return Chart("fig-funnel", title, figure, table, notes)


def _option_colours(scale: list[dict[str, Any]]) -> dict[str, str]:
    """A colour per option: favourable ones blue (darkest = best), others orange."""
    favourable = [o["key"] for o in scale if o["favourable"]]
    others = [o["key"] for o in scale if not o["favourable"]]
    colours = {}
    for i, key in enumerate(favourable):
        colours[key] = FAVOURABLE_COLOURS[min(i, len(FAVOURABLE_COLOURS) - 1)]
    for i, key in enumerate(others):
        colours[key] = UNFAVOURABLE_COLOURS[min(i, len(UNFAVOURABLE_COLOURS) - 1)]
    return colours


def _distribution_counts(summaries: list[dict[str, Any]], keys: list[str]) -> list[int]:
    """Option counts summed over the given item summaries."""
    return [sum(s["counts"].get(k, 0) for s in summaries) for k in keys]


def distribution_chart(report: dict[str, Any], item: str) -> Chart | None:
    """A diverging stacked bar per branch: favourable options to the right of 0, others left."""
    scale = report["scale"]
    keys = [o["key"] for o in scale]
    labels_by_key = {o["key"]: o["label"] for o in scale}
    favourable = {o["key"] for o in scale if o["favourable"]}
    labels = branch_labels(report["branches"])
    what = _("all items together") if item == COMPOSITE else item_labels(report)[item]

    def summaries_of(items: dict[str, Any]) -> list[dict[str, Any]]:
        if item == COMPOSITE:
            return list(items.values())
        return [items[item]] if item in items else []

    rows_counts: list[tuple[str, list[int]]] = []
    overall_items = report["overall"]["items"]
    if overall_items:
        rows_counts.append(
            (_("All branches"), _distribution_counts(summaries_of(overall_items), keys))
        )
    for branch in sorted(shown_branches(report), key=lambda b: b["code"]):
        counts = _distribution_counts(summaries_of(branch["items"]), keys)
        if sum(counts):
            rows_counts.append((labels[branch["code"]], counts))
    rows_counts = [(label, counts) for label, counts in rows_counts if sum(counts)]
    if not rows_counts:
        return None
    shares = [[c / sum(counts) for c in counts] for _label, counts in rows_counts]
    colours = _option_colours(scale)
    # Stack outwards from 0: the mildest favourable option first on the right, the mildest
    # unfavourable first on the left (options are listed best first).
    order = [k for k in reversed(keys) if k in favourable] + [
        k for k in keys if k not in favourable
    ]
    data = []
    for key in order:
        j = keys.index(key)
        sign = 1 if key in favourable else -1
        data.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": labels_by_key[key],
                "x": [sign * pct(row[j]) for row in shares],
                "y": [label for label, _c in rows_counts],
                "customdata": [
                    [pct(row[j]), counts[j]]
                    for row, (_l, counts) in zip(shares, rows_counts, strict=True)
                ],
                "hovertemplate": "%{y}: "
                + labels_by_key[key]
                + " %{customdata[0]:.1f}% (%{customdata[1]})<extra></extra>",
                "marker": {"color": colours[key]},
                # The legend lists options in scale order (best first), whatever the stacking.
                "legendrank": j + 1,
            }
        )
    title = _("Answers by branch: %(what)s", what=what)
    figure = {
        "data": data,
        "layout": _layout(
            title,
            rows=len(rows_counts),
            barmode="relative",
            xaxis={
                "title": {"text": _("← other answers · favourable answers →")},
                "range": [-100, 100],
                "tickvals": [-100, -75, -50, -25, 0, 25, 50, 75, 100],
                "ticktext": ["100%", "75%", "50%", "25%", "0", "25%", "50%", "75%", "100%"],
                "gridcolor": "#e5e5e5",
                "zeroline": True,
                "zerolinecolor": "#000",
            },
            yaxis={"autorange": "reversed", "automargin": True},
        ),
    }
    table_rows = [
        [label, str(sum(counts))]
        + [f"{percent_text(share)} ({count})" for share, count in zip(row, counts, strict=True)]
        for (label, counts), row in zip(rows_counts, shares, strict=True)
    ]
    table = Table(
        title,
        [_("Branch"), _("Answers")] + [labels_by_key[k] for k in keys],
        table_rows,
    )
    notes = [
        _("Favourable answers extend to the right of the centre line, the others to the left.")
    ]
    return Chart("fig-distribution", title, figure, table, notes)


def heatmap_chart(report: dict[str, Any]) -> Chart | None:
    """Branch × item favourable rates; ▲/▼ mark cells clearly above/below the rest (Holm)."""
    branches = sorted(shown_branches(report), key=lambda b: b["code"])
    if not branches or not report["items"]:
        return None
    labels = branch_labels(report["branches"])
    short = item_labels(report)
    keys = [i["key"] for i in report["items"]]
    z, text, custom = [], [], []
    for branch in branches:
        z_row, text_row, custom_row = [], [], []
        for key in keys:
            summary = branch["items"][key]
            rate = summary["favourable_rate"]
            signal = (summary.get("vs_rest") or {}).get("signal")
            mark = SIGNAL_MARKS.get(signal or "", "")
            z_row.append(pct(rate))
            text_row.append(
                "" if rate is None else f"{100 * rate:.0f}%{(' ' + mark) if mark else ''}"
            )
            custom_row.append([summary["n"], signal_words(signal)])
        z.append(z_row)
        text.append(text_row)
        custom.append(custom_row)
    title = _("Favourable rate by branch and item")
    figure = {
        "data": [
            {
                "type": "heatmap",
                "z": z,
                "x": [short[k] for k in keys],
                "y": [labels[b["code"]] for b in branches],
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
        ],
        "layout": _layout(
            title,
            rows=len(branches),
            xaxis={"automargin": True},
            yaxis={"autorange": "reversed", "automargin": True},
        ),
    }
    texts = item_texts(report)
    rows = []
    for branch, text_row in zip(branches, text, strict=True):
        rows.append([labels[branch["code"]]] + [t or "—" for t in text_row])
    table = Table(title, [_("Branch")] + [texts[k] for k in keys], rows)
    notes = [
        _(
            "▲ clearly above the other branches, ▼ clearly below the other branches: the "
            "difference from all other answers to the item is unlikely to be chance, after "
            "Holm's correction for testing every branch. Unmarked cells show no clear difference."
        )
    ]
    return Chart("fig-heatmap", title, figure, table, notes)


# --------------------------------------------------------------------------- other pages


def items_chart(
    chart_id: str,
    title: str,
    report: dict[str, Any],
    items: dict[str, Any],
    compare_to: dict[str, Any] | None = None,
    compare_name: str | None = None,
) -> Chart | None:
    """Favourable rate per item with Wilson bars; optionally the survey-wide rate as markers."""
    short = item_labels(report)
    texts = item_texts(report)
    keys = [i["key"] for i in report["items"] if items.get(i["key"], {}).get("n")]
    if not keys:
        return None
    summaries = [items[k] for k in keys]
    trace = {
        "type": "bar",
        "orientation": "h",
        "name": _("Favourable rate"),
        "x": [pct(s["favourable_rate"]) for s in summaries],
        "y": [short[k] for k in keys],
        "customdata": [s["n"] for s in summaries],
        "hovertemplate": "%{y}: %{x:.1f}% (n = %{customdata})<extra></extra>",
        "marker": {"color": BAR_COLOUR},
        "error_x": {
            "type": "data",
            "symmetric": False,
            "array": [
                round(100 * (s["favourable_ci"][1] - s["favourable_rate"]), 2) for s in summaries
            ],
            "arrayminus": [
                round(100 * (s["favourable_rate"] - s["favourable_ci"][0]), 2) for s in summaries
            ],
            "color": OVERALL_COLOUR,
            "thickness": 1.5,
        },
    }
    data = [trace]
    columns = [_("Item"), _("Favourable rate"), interval_heading(), _("Answers")]
    if compare_to is not None:
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": compare_name or _("All branches"),
                "x": [pct((compare_to.get(k) or {}).get("favourable_rate")) for k in keys],
                "y": [short[k] for k in keys],
                "hovertemplate": "%{y}: %{x:.1f}%<extra>" + (compare_name or "") + "</extra>",
                "marker": {"color": OVERALL_COLOUR, "symbol": "line-ns-open", "size": 18,
                           "line": {"width": 3}},
            }
        )  # fmt: skip
        columns.append(compare_name or _("All branches"))
    rows = []
    for key, summary in zip(keys, summaries, strict=True):
        ci = summary["favourable_ci"] or (None, None)
        row = [
            texts[key],
            percent_text(summary["favourable_rate"]),
            interval_text(*ci),
            str(summary["n"]),
        ]
        if compare_to is not None:
            row.append(percent_text((compare_to.get(key) or {}).get("favourable_rate")))
        rows.append(row)
    figure = {
        "data": data,
        "layout": _layout(
            title,
            rows=len(keys),
            xaxis=_rate_axis(_("Favourable rate")),
            yaxis={"autorange": "reversed", "automargin": True},
            showlegend=compare_to is not None,
        ),
    }
    notes = [
        _("Bars show the favourable rate; lines show its %(level)s Wilson interval.", level="95%")
    ]
    return Chart(chart_id, title, figure, Table(title, columns, rows), notes)


def dumbbell_chart(
    before: dict[str, Any],
    after: dict[str, Any],
    item: str,
    before_name: str,
    after_name: str,
) -> Chart | None:
    """Per branch, the favourable rate before and after joined by a line (left panel), and the
    change with its Newcombe interval (right panel)."""
    comparison = after.get("comparison") or {}
    labels = branch_labels(after["branches"])
    before_by_code = {b["code"]: b for b in before["branches"] if b["status"] == "shown"}
    rows_data = []
    overall_change = (comparison.get("overall") or {}).get(item)
    before_overall = before["overall"]["items"].get(item)
    after_overall = after["overall"]["items"].get(item)
    if overall_change and before_overall and after_overall and overall_change["diff"] is not None:
        rows_data.append((_("All branches"), before_overall, after_overall, overall_change))
    for branch in sorted(shown_branches(after), key=lambda b: b["code"]):
        change = (comparison.get("branches") or {}).get(branch["code"], {}).get(item)
        earlier = before_by_code.get(branch["code"])
        if not change or change["diff"] is None or earlier is None:
            continue
        rows_data.append(
            (labels[branch["code"]], earlier["items"][item], branch["items"][item], change)
        )
    if not rows_data:
        return None
    names = [r[0] for r in rows_data]
    before_rates = [pct(r[1]["favourable_rate"]) for r in rows_data]
    after_rates = [pct(r[2]["favourable_rate"]) for r in rows_data]
    line_x: list[float | None] = []
    line_y: list[str | None] = []
    for name, b, a in zip(names, before_rates, after_rates, strict=True):
        line_x += [b, a, None]
        line_y += [name, name, None]
    diffs = [r[3] for r in rows_data]
    data = [
        {
            "type": "scatter",
            "mode": "lines",
            "x": line_x,
            "y": line_y,
            "line": {"color": "#bbbbbb", "width": 3},
            "hoverinfo": "skip",
            "showlegend": False,
        },
        {
            "type": "scatter",
            "mode": "markers",
            "name": before_name,
            "x": before_rates,
            "y": names,
            "marker": {"color": BEFORE_COLOUR, "size": 11},
            "hovertemplate": "%{y}: %{x:.1f}%<extra>" + before_name + "</extra>",
        },
        {
            "type": "scatter",
            "mode": "markers",
            "name": after_name,
            "x": after_rates,
            "y": names,
            "marker": {"color": AFTER_COLOUR, "size": 11},
            "hovertemplate": "%{y}: %{x:.1f}%<extra>" + after_name + "</extra>",
        },
        {
            "type": "scatter",
            "mode": "markers",
            "name": _("Change with its %(level)s interval", level="95%"),
            "xaxis": "x2",
            "x": [pct(d["diff"]) for d in diffs],
            "y": names,
            "marker": {"color": OVERALL_COLOUR, "size": 8, "symbol": "diamond"},
            "error_x": {
                "type": "data",
                "symmetric": False,
                "array": [round(100 * (d["diff_ci"][1] - d["diff"]), 2) for d in diffs],
                "arrayminus": [round(100 * (d["diff"] - d["diff_ci"][0]), 2) for d in diffs],
                "color": OVERALL_COLOUR,
            },
            "customdata": [change_words(d["change"]) for d in diffs],
            "hovertemplate": "%{y}: %{x:+.1f} " + _("points") + " (%{customdata})<extra></extra>",
        },
    ]
    title = _("Favourable rate before and after")
    figure = {
        "data": data,
        "layout": _layout(
            title,
            rows=len(names),
            xaxis=_rate_axis(_("Favourable rate"), domain=[0, 0.58]),
            xaxis2={
                "domain": [0.66, 1],
                "title": {"text": _("Change (percentage points)")},
                "zeroline": True,
                "zerolinecolor": "#000",
                "zerolinewidth": 1.5,
                "gridcolor": "#e5e5e5",
                "anchor": "y",
            },
            yaxis={"autorange": "reversed", "automargin": True},
        ),
    }
    rows = [
        [
            name,
            percent_text(r[1]["favourable_rate"]),
            percent_text(r[2]["favourable_rate"]),
            points_text(d["diff"]),
            points_interval_text(d["diff_ci"]),
            change_words(d["change"]),
        ]
        for name, r, d in zip(names, rows_data, diffs, strict=True)
    ]
    table = Table(
        title,
        [
            _("Branch"),
            before_name,
            after_name,
            _("Change (points)"),
            interval_heading(),
            _("Verdict"),
        ],
        rows,
    )
    notes = [
        _(
            "Left: the favourable rate in each stage, joined by a line. Right: the change with "
            "its %(level)s interval (Newcombe's method). When the interval does not cross 0 the "
            "change is clear.",
            level="95%",
        )
    ]
    return Chart("fig-dumbbell", title, figure, table, notes)
