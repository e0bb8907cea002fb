"""Post-stratification of a favourable rate by respondent category (Kish 1965, §11.7).

Each stratum h (a respondent category) has a rate p_h from n_h respondents and a target weight.
Weights are relative: they are normalised over the strata that have respondents, so that a weight
of 2 against 1 means two thirds against one third. A weight of ``None`` means "no weighting for
that category": the category keeps its sample share n_h/n and the weighted categories share the
rest in proportion to their weights.

    p_w = Σ W_h·p_h,   n_eff = (Σw_i)²/Σw_i² = 1/Σ(W_h²/n_h)   (Kish 1965, §11.7)

The Kish effective sample size is (Σw_i)²/Σw_i² with respondent weight w_i = W_h/n_h, which is
1/Σ(W_h²/n_h) because ΣW_h = 1.

The interval is the Wilson score interval of p_w on n_eff: the Wilson interval of
k = p_w·n_eff "successes" out of n_eff (Kish 1965 for n_eff; Dean & Pagano 2015, "Evaluating
confidence interval methods for binomial proportions in clustered surveys", J Surv Stat
Methodol 3:484, for the Wilson interval on an effective n). The normal (Wald) interval
p_w ± z·sqrt(Σ W_h²·p_h(1 − p_h)/n_h) that Ceping used before has zero width when every stratum
is at 0 % or 100 %, and so claimed certainty from a handful of answers; the Wilson interval
never does, and it agrees with R's ``prop.test(p_w * n_eff, n_eff, correct = FALSE)``. Every
field is None when no stratum has respondents (or every stratum with respondents has weight 0).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analytics._util import as_counts, z_value
from analytics.proportions import wilson_interval_z


@dataclass(frozen=True, slots=True)
class Weighted:
    """A post-stratified rate, its Wilson interval on the Kish effective sample size, and that
    effective sample size."""

    rate: float | None
    lo: float | None
    hi: float | None
    effective_n: float | None


def weight_arrays(weights: Sequence[float | None]) -> tuple[np.ndarray, np.ndarray]:
    """Checked weights as arrays: which strata have one, and its value (0 where None)."""
    given = np.array([w is not None for w in weights], dtype=bool)
    values = np.array([0.0 if w is None else float(w) for w in weights], dtype=float)
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError("weights must be finite and non-negative")
    return given, values


def shares_of(n: np.ndarray, given: np.ndarray, values: np.ndarray) -> np.ndarray | None:
    """Normalised stratum shares W_h from sizes and checked weights (:func:`weight_arrays`);
    a stratum without a weight keeps its sample share n_h/n (Kish 1965). None when no stratum
    with respondents has a share. A report calls this once per branch, with the weights checked
    once per survey."""
    present = n > 0
    if not present.any():
        return None
    free = present & ~given
    fixed = present & given
    shares = np.zeros(n.size)
    total = float(n[present].sum())
    weight_sum = float(values[fixed].sum())
    if weight_sum > 0:
        free_share = float(n[free].sum()) / total
        shares[free] = n[free] / total
        # Divide first: a tiny weight times a share can underflow to 0 before the division.
        shares[fixed] = (1.0 - free_share) * (values[fixed] / weight_sum)
    elif free.any():
        shares[free] = n[free] / float(n[free].sum())
    else:
        return None
    return shares


def post_stratified(
    rates: Sequence[float | None],
    sizes: Sequence[int] | np.ndarray,
    weights: Sequence[float | None],
    confidence: float = 0.95,
) -> Weighted:
    """Post-stratified rate with its Wilson interval on the Kish effective n (Kish 1965, §11.7)."""
    z = z_value(confidence)
    n = as_counts(sizes, ndim=1)
    if len(rates) != n.size:
        raise ValueError(f"{n.size} strata but {len(rates)} rates")
    p = np.array([math.nan if r is None else float(r) for r in rates], dtype=float)
    defined = np.isfinite(p)
    if np.any((p[defined] < 0) | (p[defined] > 1)):
        raise ValueError("rates must lie in [0, 1]")
    given, values = weight_arrays(weights)
    if given.size != n.size:
        raise ValueError(f"{n.size} strata but {given.size} weights")
    return weighted_rate(p, n, given, values, z)


def weighted_rate(
    p: np.ndarray, n: np.ndarray, given: np.ndarray, values: np.ndarray, z: float
) -> Weighted:
    """:func:`post_stratified` of checked arrays (rates with NaN where undefined, sizes, and the
    weights as :func:`weight_arrays` gives them), with z for the interval."""
    # A stratum without a rate (no answers) contributes no respondents to the estimate.
    usable = np.where(np.isfinite(p), n, 0)
    shares = shares_of(usable, given, values)
    if shares is None:
        return Weighted(None, None, None, None)
    present = usable > 0
    w_h, p_h, n_h = shares[present], p[present], usable[present].astype(float)
    rate = float(np.clip((w_h * p_h).sum(), 0.0, 1.0))
    effective_n = 1.0 / float((w_h**2 / n_h).sum())
    lo, hi = wilson_interval_z(rate * effective_n, effective_n, z)
    return Weighted(rate=rate, lo=float(lo), hi=float(hi), effective_n=effective_n)
