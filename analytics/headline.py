"""A branch's one headline figure, its interval, and the groups the data can separate.

Every page, chart and export names a branch by one figure, :class:`BranchHeadline`:

* when the survey weights respondent categories, the **post-stratified composite**
  (``analytics.weighting``): the mean over items of the favourable rate, per category, weighted
  by category. Categories hidden inside the branch are pooled into one stratum, so for them the
  figure is *not* weighted by category (``is_pooled``);
* otherwise the **mean over items of the favourable rate**.

Its interval is the Wilson score interval on an effective sample size (Wilson 1927; Dean &
Pagano 2015 for Wilson on an effective n), so it never has zero width, even at 0 % or 100 %:

* weighted: Kish's effective n, 1/Σ(W_h²/n_h) (Kish 1965, §11.7);
* mean over items: the fewest answers any answered item has. The variance of a mean of item
  rates is at most (mean of the items' SDs)² ≤ p̄(1 − p̄)/min n_i by the concavity of
  sqrt(p(1 − p)), whatever the correlation between items, so this n is conservative.

**Groups instead of ranks.** Ranking 19 branches whose intervals overlap invents an order the
data cannot support. A branch is instead *clearly above*, *clearly below* or *not
distinguishable from* the rest of the survey, by the same standard as the per-item marks: a
test against the rest, Holm-adjusted across the branches compared (Holm 1979), at
1 − confidence. The test is the pooled two-proportion z-test of the branch's figure against the
same figure of all other answers, each on its effective n (as R's
``prop.test(c(r1 * n1, r2 * n2), c(n1, n2), correct = FALSE)``). Only branches with at least
``min_rank_respondents`` respondents are grouped; smaller ones are "too few to tell".

**Against the target** (a survey's yardstick, e.g. 90 %): the score test of the figure against
the target on its effective n (as ``prop.test(r * n, n, p = target, correct = FALSE)``), Holm
across the shown branches. A branch is *clearly below the target* when the adjusted p is below
1 − confidence and its figure is below the target.

The cost is one pass over the (branch, category, item, option) table, as for the rest of
the report.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from scipy import stats

from analytics.proportions import holm, wilson_interval_z

#: Groups of branches (see the module docstring).
ABOVE = "above"
BELOW = "below"
INDISTINGUISHABLE = "indistinguishable"

#: A branch against the survey's target.
MEETS = "none"


@dataclass(frozen=True, slots=True)
class BranchHeadline:
    """A branch's headline figure with its Wilson interval on an effective n, its group and
    where it stands against the survey's target (see the module docstring)."""

    rate: float
    ci: tuple[float, float]
    effective_n: float
    #: Post-stratified by respondent category (else the plain mean over items).
    is_weighted: bool
    #: Hidden categories were pooled into one stratum: not weighted by category for them.
    is_pooled: bool
    #: ``above``, ``below``, ``indistinguishable``; None when too few respondents to group.
    group: str | None = None
    p: float | None = None
    p_adjusted: float | None = None
    #: Against the target: ``above``, ``below`` or ``none`` (no clear difference); None when
    #: the survey has no target.
    versus_target: str | None = None
    target_p_adjusted: float | None = None


def mean_effective_n(item_n: np.ndarray) -> float | None:
    """The effective n of a mean over items: the fewest answers of an answered item."""
    answered = item_n[item_n > 0]
    return float(answered.min()) if answered.size else None


def with_interval(
    rate: float, effective_n: float, z: float, is_weighted: bool, is_pooled: bool
) -> BranchHeadline:
    """A headline with its Wilson interval on ``effective_n``."""
    lo, hi = wilson_interval_z(rate * effective_n, effective_n, z)
    return BranchHeadline(
        rate=rate,
        ci=(float(lo), float(hi)),
        effective_n=effective_n,
        is_weighted=is_weighted,
        is_pooled=is_pooled,
    )


def pooled_z_p(r1: np.ndarray, n1: np.ndarray, r2: np.ndarray, n2: np.ndarray) -> list:
    """Two-sided p of the pooled two-proportion z-test, on effective sizes; None where the
    pooled rate is 0 or 1 (no variation to test)."""
    r1, n1, r2, n2 = (np.asarray(x, dtype=float) for x in (r1, n1, r2, n2))
    pooled = (r1 * n1 + r2 * n2) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    testable = variance > 0
    z = np.abs(r1 - r2) / np.sqrt(np.where(testable, variance, 1.0))
    p = 2 * stats.norm.sf(z)
    return [float(v) if ok else None for v, ok in zip(p.tolist(), testable.tolist(), strict=True)]


def target_p(rate: np.ndarray, n: np.ndarray, target: float) -> list[float]:
    """Two-sided p of the score test of each rate against ``target`` on its n. At a target of
    0 or 1 a single answer on the other side refutes it: p is 0, or 1 at the target itself."""
    rate, n = np.asarray(rate, dtype=float), np.asarray(n, dtype=float)
    variance = target * (1 - target) / n
    if target <= 0 or target >= 1:
        return [0.0 if r != target else 1.0 for r in rate.tolist()]
    return (2 * stats.norm.sf(np.abs(rate - target) / np.sqrt(variance))).tolist()


def _marks(p: list, signs: np.ndarray, alpha: float, neutral: str) -> tuple[list, list]:
    """Holm-adjusted p and the mark of each: above/below when clear, else ``neutral``."""
    adjusted = holm(p)
    marks = [
        neutral if q is None or q >= alpha or s == 0 else ABOVE if s > 0 else BELOW
        for q, s in zip(adjusted, signs.tolist(), strict=True)
    ]
    return adjusted, marks


def grouped(
    headlines: dict[int, BranchHeadline],
    rest: dict[int, tuple[float, float]],
    target: float | None,
    alpha: float,
) -> dict[int, BranchHeadline]:
    """Headlines with their groups (branches in ``rest``, by (rate, effective n) of all
    other answers) and their marks against the target (every branch), Holm-adjusted."""
    out = dict(headlines)
    tested = [b for b in rest if b in headlines]
    if tested:
        mine = np.array([[headlines[b].rate, headlines[b].effective_n] for b in tested])
        others = np.array([rest[b] for b in tested])
        p = pooled_z_p(mine[:, 0], mine[:, 1], others[:, 0], others[:, 1])
        adjusted, marks = _marks(p, np.sign(mine[:, 0] - others[:, 0]), alpha, INDISTINGUISHABLE)
        for b, p_b, q, mark in zip(tested, p, adjusted, marks, strict=True):
            out[b] = dataclasses.replace(out[b], group=mark, p=p_b, p_adjusted=q)
    if target is not None and headlines:
        keys = list(headlines)
        rates = np.array([headlines[b].rate for b in keys])
        sizes = np.array([headlines[b].effective_n for b in keys])
        p = target_p(rates, sizes, target)
        adjusted, marks = _marks(p, np.sign(rates - target), alpha, MEETS)
        for b, q, mark in zip(keys, adjusted, marks, strict=True):
            out[b] = dataclasses.replace(out[b], versus_target=mark, target_p_adjusted=q)
    return out
