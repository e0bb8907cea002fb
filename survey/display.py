"""How figures are written for people: numbers, rates, intervals, changes, marks and turnout.

Pages, charts, spreadsheets and the turnout page's JSON refresh all format through here, so a
figure reads the same wherever it appears. An undefined figure is an em dash. The three
interface languages (English, Traditional and Simplified Chinese) share the digits, the
grouping comma and the percent sign, so the formats are written out rather than looked up per
locale (which the pages of 1,000 branches would pay for thousands of times).
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from survey.services.turnout import BranchTurnout, SurveyTurnout

#: What stands for a figure that is not defined (no answers, no interval).
MISSING = "—"


def count(value: int) -> str:
    """A count with thousands separators, e.g. ``1,234``."""
    return f"{value:,}"


def percent(rate: float | None) -> str:
    """A rate as a percentage, e.g. ``87.5%``."""
    return MISSING if rate is None else f"{100.0 * rate:.1f}%"


def interval(lo: float | None, hi: float | None) -> str:
    """An interval of rates, e.g. ``80.1–92.3%``."""
    if lo is None or hi is None:
        return MISSING
    return f"{100.0 * lo:.1f}–{100.0 * hi:.1f}%"


def points(difference: float | None) -> str:
    """A difference of rates in percentage points, signed, e.g. ``+8.2``."""
    return MISSING if difference is None else f"{100.0 * difference:+.1f}"


def points_interval(bounds: tuple[float, float] | None) -> str:
    """An interval of a difference in percentage points, e.g. ``+2.1 to +9.8``."""
    if not bounds:
        return MISSING
    return _("%(lo)s to %(hi)s", lo=points(bounds[0]), hi=points(bounds[1]))


def p_value(p: float) -> str:
    """A p-value as people read it: ``p < 0.001`` or ``p = 0.034``."""
    return "p < 0.001" if p < 0.001 else f"p = {p_figure(p)}"


def p_figure(p: float | None) -> str | None:
    """A p-value to the precision pages show, without the ``p``: ``<0.001``, ``0.034``,
    ``0.25`` (spreadsheets and the CSV)."""
    if p is None:
        return None
    if p < 0.001:
        return "<0.001"
    return f"{p:.3f}" if p < 0.1 else f"{p:.2f}"


def percent_figure(rate: float | None) -> float | None:
    """A rate in percent to the precision :func:`percent` shows (one decimal), as a number."""
    return None if rate is None else round(100.0 * rate, 1)


def interval_heading(confidence: float) -> str:
    """The column heading of intervals at ``confidence``, e.g. "95% interval"."""
    return _("%(level)s interval", level=f"{100 * confidence:g}%")


def verdict_words(verdict: str | None) -> str:
    """What every page says about a branch on one item (:attr:`analytics.VsRest.verdict`):
    the Holm-adjusted mark, or why there is none."""
    return {
        "above": _("clearly above the other branches"),
        "below": _("clearly below the other branches"),
        "too_few": _("too few answers to tell a difference"),
        "not_tested": _("not tested"),
    }.get(verdict or "", _("no clear difference"))


def headline_name() -> str:
    """The one name of a branch's headline figure (:attr:`BranchReport.headline`), the same on
    every page, chart and export."""
    return _("Overall favourable rate")


def headline_basis(headline: Any) -> str:
    """What a branch's headline figure is (:class:`analytics.BranchHeadline`), in words."""
    if headline is None:
        return ""
    if headline.is_weighted and headline.is_pooled:
        return _(
            "the items' favourable rates, weighted by respondent category; the categories "
            "hidden to protect anonymity are pooled, so for them the figure is not weighted "
            "by category"
        )
    if headline.is_weighted:
        return _("the items' favourable rates, weighted by respondent category")
    return _("the mean of the items' favourable rates")


def group_words(group: str | None) -> str:
    """A branch's group against the rest of the survey (:attr:`BranchHeadline.group`)."""
    return {
        "above": _("clearly above the other branches"),
        "below": _("clearly below the other branches"),
        "indistinguishable": _("not distinguishable from the other branches"),
    }.get(group or "", _("too few respondents to tell a difference"))


def target_words(mark: str | None) -> str:
    """A branch against the survey's target (:attr:`BranchHeadline.versus_target`)."""
    return {
        "above": _("clearly above the target"),
        "below": _("clearly below the target"),
    }.get(mark or "", _("no clear difference from the target"))


def change_words(change: str | None) -> str:
    """A change between two stages in plain words (the interval of the difference against 0)."""
    return {
        "higher": _("improved"),
        "lower": _("worsened"),
        "none": _("no clear change"),
    }.get(change or "", _("cannot be compared"))


def turnout_row(row: BranchTurnout) -> dict[str, Any]:
    """A turnout row as the strings to show (one branch, or all branches when its code is
    None)."""
    return {
        "code": row.code or "",
        "name": row.name or _("All branches"),
        "codes_issued": count(row.codes_issued),
        "codes_used": count(row.codes_used),
        "paper_ballots": count(row.paper_ballots),
        "paper_handed_out": count(row.paper_handed_out),
        "web_responses": count(row.web_responses),
        "responses": count(row.responses),
        "waiting": count(row.waiting),
        "turnout": percent(row.turnout_rate),
        "categories": [
            {
                "key": c.key,
                "label": c.label,
                "codes_issued": count(c.codes_issued),
                "codes_used": count(c.codes_used),
                "paper_handed_out": count(c.paper_handed_out),
                "paper_ballots": count(c.paper_ballots),
                "responses": count(c.responses),
                "turnout": percent(c.turnout_rate),
            }
            for c in row.categories
        ],
    }


def turnout_rows(turnout: SurveyTurnout) -> dict[str, Any]:
    """The whole turnout table as strings: a row per branch and the total."""
    return {
        "branches": [turnout_row(row) for row in turnout.branches],
        "total": turnout_row(turnout.total),
    }
