"""Omnibus tests on count tables: Pearson χ², Kruskal–Wallis and Mann–Whitney, from counts.

Everything works on the aggregated table (cost grows with cells, not with responses). Ranks are
mid-ranks of the ordered levels: with t_l the count at level l over all groups,
r_l = (count below level l) + (t_l + 1)/2, and ties enter through Σ(t³ − t).

When a statistic is undefined, its fields are None:

* χ²: fewer than two non-empty rows or columns remain (one branch answered, or one option used).
* Kruskal–Wallis: fewer than two non-empty groups, or every answer falls on one level (the tie
  correction is then 0 and H is 0/0; scipy returns NaN there).
* Mann–Whitney: either sample is empty (u and p None), or every answer falls on one level
  (u = n1·n2/2 is reported, p is None because σ = 0).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from analytics._util import as_counts, to_float

#: Cohen's (1988) thresholds of w for a small, medium and large effect.
COHEN_W = ((0.5, "large"), (0.3, "medium"), (0.1, "small"))

#: Thresholds of ε² for a small, medium and large effect (Rea & Parker 1992, as tabled by
#: Tomczak & Tomczak 2014, Trends Sport Sci 21:19, and used by R's rstatix::kruskal_effsize).
EPSILON_SQUARED = ((0.26, "large"), (0.08, "medium"), (0.01, "small"))

#: Expected counts below this make the χ² approximation doubtful (Cochran 1954).
SMALL_EXPECTED = 5


@dataclass(frozen=True, slots=True)
class ChiSquare:
    """Pearson χ² test of independence with Cramér's V (no continuity correction).

    ``df_star`` is min(rows, columns) − 1 of the tested table (empty rows and columns dropped),
    which Cramér's V is scaled by. ``small_expected`` is the share of its cells whose expected
    count is below 5: where it is large the χ² p is only a rough guide (R warns "Chi-squared
    approximation may be incorrect"), which is why the pages lead with Kruskal–Wallis.
    """

    statistic: float | None
    df: int | None
    p: float | None
    cramers_v: float | None
    df_star: int | None = None
    small_expected: float | None = None

    @property
    def effect_size(self) -> str | None:
        """Cohen's (1988) size of the effect: ``negligible``, ``small``, ``medium`` or ``large``,
        from w = V·sqrt(df*) against w = 0.1, 0.3 and 0.5; None when V is undefined."""
        if self.cramers_v is None or self.df_star is None:
            return None
        w = self.cramers_v * math.sqrt(max(self.df_star, 1))
        return next((size for bound, size in COHEN_W if w >= bound), "negligible")


@dataclass(frozen=True, slots=True)
class KruskalWallis:
    """Kruskal–Wallis H, tie-corrected, with ε² = H/(N − 1)."""

    statistic: float | None
    df: int | None
    p: float | None
    epsilon_squared: float | None

    @property
    def effect_size(self) -> str | None:
        """``negligible``, ``small``, ``medium`` or ``large`` from ε² (:data:`EPSILON_SQUARED`);
        None when undefined."""
        if self.epsilon_squared is None:
            return None
        e2 = self.epsilon_squared
        return next((size for bound, size in EPSILON_SQUARED if e2 >= bound), "negligible")


@dataclass(frozen=True, slots=True)
class MannWhitney:
    """Mann–Whitney U of the first sample, with a two-sided normal-approximation p."""

    u: float | None
    p: float | None


def _drop_empty(table: np.ndarray) -> np.ndarray:
    """Remove all-zero rows and columns, which carry no information and break expected counts."""
    table = table[table.sum(axis=1) > 0]
    return table[:, table.sum(axis=0) > 0]


def chi_square(table: Sequence[Sequence[int]] | np.ndarray) -> ChiSquare:
    """Pearson χ² and Cramér's V of a groups × options table, empty lines dropped (Pearson 1900)."""
    observed = _drop_empty(as_counts(table, ndim=2))
    rows, cols = observed.shape
    if rows < 2 or cols < 2:
        return ChiSquare(None, None, None, None)
    obs = observed.astype(float)
    total = obs.sum()
    expected = np.outer(obs.sum(axis=1), obs.sum(axis=0)) / total
    statistic = float(((obs - expected) ** 2 / expected).sum())
    df = (rows - 1) * (cols - 1)
    cramers_v = float(np.sqrt(statistic / (total * (min(rows, cols) - 1))))
    return ChiSquare(
        statistic=statistic,
        df=df,
        p=to_float(stats.chi2.sf(statistic, df)),
        cramers_v=to_float(cramers_v),
        df_star=min(rows, cols) - 1,
        small_expected=float((expected < SMALL_EXPECTED).mean()),
    )


def mid_ranks(level_totals: np.ndarray) -> np.ndarray:
    """Mid-rank of each ordered level from its total count: below + (t + 1)/2 (Kendall 1945)."""
    totals = np.asarray(level_totals, dtype=float)
    below = np.cumsum(totals) - totals
    return below + (totals + 1) / 2


def _tie_sum(level_totals: np.ndarray) -> float:
    """Σ(t³ − t) over levels, in floating point so that large N cannot overflow."""
    t = np.asarray(level_totals, dtype=float)
    return float((t**3 - t).sum())


def kruskal_wallis(table: Sequence[Sequence[int]] | np.ndarray) -> KruskalWallis:
    """Tie-corrected Kruskal–Wallis H of a groups × ordered-levels table (Kruskal & Wallis 1952)."""
    counts = as_counts(table, ndim=2)
    counts = counts[counts.sum(axis=1) > 0]
    groups = counts.shape[0]
    totals = counts.sum(axis=0)
    if groups < 2 or np.count_nonzero(totals) < 2:
        return KruskalWallis(None, None, None, None)
    n_total = float(totals.sum())
    ranks = mid_ranks(totals)
    sizes = counts.sum(axis=1).astype(float)
    mean_ranks = (counts * ranks).sum(axis=1) / sizes
    # 12/(N(N+1))·Σ n_i(R̄_i − (N+1)/2)² equals 12/(N(N+1))·ΣR_i²/n_i − 3(N+1) without cancellation.
    h_uncorrected = (
        12.0
        / (n_total * (n_total + 1))
        * float((sizes * (mean_ranks - (n_total + 1) / 2) ** 2).sum())
    )
    tie_correction = 1.0 - _tie_sum(totals) / (n_total**3 - n_total)
    if tie_correction <= 0:  # only reachable by rounding at astronomically large N
        return KruskalWallis(None, None, None, None)
    statistic = h_uncorrected / tie_correction
    df = groups - 1
    return KruskalWallis(
        statistic=statistic,
        df=df,
        p=to_float(stats.chi2.sf(statistic, df)),
        epsilon_squared=statistic / (n_total - 1),
    )


def mann_whitney(
    counts_a: Sequence[int] | np.ndarray, counts_b: Sequence[int] | np.ndarray
) -> MannWhitney:
    """Two-sided Mann–Whitney U, normal approximation, tie and continuity corrected (Mann 1947)."""
    a = as_counts(counts_a, ndim=1)
    b = as_counts(counts_b, ndim=1)
    if a.shape != b.shape:
        raise ValueError(f"both samples need the same levels, got {a.shape} and {b.shape}")
    n1, n2 = float(a.sum()), float(b.sum())
    if n1 == 0 or n2 == 0:
        return MannWhitney(None, None)
    totals = a + b
    n_total = n1 + n2
    u = float((a * mid_ranks(totals)).sum()) - n1 * (n1 + 1) / 2
    if np.count_nonzero(totals) < 2:
        return MannWhitney(u, None)
    variance = n1 * n2 / 12 * ((n_total + 1) - _tie_sum(totals) / (n_total * (n_total - 1)))
    if variance <= 0:  # only reachable by rounding at astronomically large N
        return MannWhitney(u, None)
    z = (abs(u - n1 * n2 / 2) - 0.5) / math.sqrt(variance)
    p = min(1.0, 2 * float(stats.norm.sf(z)))
    return MannWhitney(u, to_float(p))
