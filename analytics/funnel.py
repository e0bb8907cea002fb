"""Funnel plots: control limits around a survey-wide rate for groups of every size.

A branch's favourable rate is compared with the survey-wide rate p: under the hypothesis that
it is p, its rate lies within p ± z·sqrt(p(1 − p)/n) with the chosen probability
(Spiegelhalter 2005, "Funnel plots for comparing institutional performance"). Ceping draws the
95 % and 99.8 % limits, the usual pair of warning and action limits.
"""

from __future__ import annotations

import math

import numpy as np

from analytics._util import z_value

#: Coverage of the warning and the action limits.
LEVELS = (0.95, 0.998)


def limits(p: float, n: float, level: float) -> tuple[float, float]:
    """The control limits p ± z·sqrt(p(1 − p)/n) at ``level``, clipped to [0, 1]."""
    half = z_value(level) * math.sqrt(p * (1.0 - p) / n)
    return max(0.0, p - half), min(1.0, p + half)


def limit_curves(p: float, low: int, high: int, level: float, steps: int = 60):
    """Sizes from ``low`` to ``high`` (geometric, ``steps`` of them) and the lower and upper
    limits at each, as three lists: what a funnel plot draws."""
    low = max(1, low)
    high = max(high, low + 1)
    sizes = np.geomspace(low, high, steps)
    half = z_value(level) * np.sqrt(p * (1.0 - p) / sizes)
    lower = np.clip(p - half, 0.0, 1.0)
    upper = np.clip(p + half, 0.0, 1.0)
    return sizes.tolist(), lower.tolist(), upper.tolist()


def position(rate: float, p: float, n: int) -> tuple[str, float] | None:
    """Where ``rate`` of a group of ``n`` falls: (``"above"`` or ``"below"``, the widest
    level it lies beyond), or None when it lies within the 95 % limits."""
    for level in sorted(LEVELS, reverse=True):
        lo, hi = limits(p, n, level)
        if rate > hi:
            return "above", level
        if rate < lo:
            return "below", level
    return None
