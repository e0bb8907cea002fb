"""Funnel plots: control limits around a survey-wide rate for groups of every size.

A branch's favourable rate is compared with the survey-wide rate p: under the hypothesis that
it is p, its rate lies within p ± z·sqrt(p(1 − p)/n) with the chosen probability
(Spiegelhalter 2005, "Funnel plots for comparing institutional performance"). Ceping draws the
95 % and 99.8 % limits, the usual pair of warning and action limits.

With m branches on one plot, about m/20 of them fall outside plain 95 % limits by chance alone,
while the heat map and the branch pages call a difference only after Holm's correction for the
m branches. So the limits are drawn for the family of m branches (Bonferroni): at level L, z is
the normal quantile of 1 − (1 − L)/(2m) (:func:`adjusted_level`). A dot outside them is then
evidence by the same standard as the other pages: the funnel's z for a branch of n among N
answers is the vs-rest χ² test's z times sqrt((N − n)/N) ≤ 1, and Holm's first step is
Bonferroni, so a dot beyond the adjusted 95 % limit is also clearly different by the Holm-
adjusted χ² test. (Where a small branch is tested by Fisher's exact test instead, the page
says when that test does not agree.)
"""

from __future__ import annotations

import math

import numpy as np

from analytics._util import z_value

#: Coverage of the warning and the action limits.
LEVELS = (0.95, 0.998)


def adjusted_level(level: float, comparisons: int) -> float:
    """The coverage of each limit so that all ``comparisons`` together keep ``level``
    (Bonferroni): 1 − (1 − level)/m."""
    return 1.0 - (1.0 - level) / max(1, comparisons)


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


def position(rate: float, p: float, n: int, comparisons: int = 1) -> tuple[str, float] | None:
    """Where ``rate`` of a group of ``n`` falls: (``"above"`` or ``"below"``, the widest
    level it lies beyond), or None when it lies within the 95 % limits; the limits are
    adjusted for ``comparisons`` branches (:func:`adjusted_level`)."""
    for level in sorted(LEVELS, reverse=True):
        lo, hi = limits(p, n, adjusted_level(level, comparisons))
        if rate > hi:
            return "above", level
        if rate < lo:
            return "below", level
    return None
