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
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3f}" if p < 0.1 else f"p = {p:.2f}"


def interval_heading(confidence: float) -> str:
    """The column heading of intervals at ``confidence``, e.g. "95% interval"."""
    return _("%(level)s interval", level=f"{100 * confidence:g}%")


def signal_words(signal: str | None) -> str:
    """A branch's mark against the rest in plain words (after Holm's correction)."""
    return {
        "above": _("clearly above the other branches"),
        "below": _("clearly below the other branches"),
    }.get(signal or "", _("no clear difference"))


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
        "web_responses": count(row.web_responses),
        "responses": count(row.responses),
        "waiting": count(row.waiting),
        "turnout": percent(row.turnout_rate),
    }


def turnout_rows(turnout: SurveyTurnout) -> dict[str, Any]:
    """The whole turnout table as strings: a row per branch and the total."""
    return {
        "branches": [turnout_row(row) for row in turnout.branches],
        "total": turnout_row(turnout.total),
    }
