"""Favourable rates: Wilson intervals, Newcombe differences, 2×2 tests and Holm's adjustment.

Conventions
-----------
* ``wilson_interval`` is the vectorised workhorse and returns NaN where n = 0; every other public
  function returns ``None`` for an undefined result and never NaN.
* ``two_by_two_p`` returns ``(None, None)`` when the 2×2 table has a zero row or column margin:
  one of the two groups gave no answers, or nobody (or everybody) chose a favourable option, so
  there is no variation to test and both Pearson's χ² and Fisher's test are undefined (R returns
  NaN for χ² and p = 1 for Fisher there; we return "no test" instead).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np
from scipy import special, stats

from analytics._util import check_confidence, to_float, z_value

#: Methods reported by ``two_by_two_p``.
CHI2 = "chi2"
FISHER = "fisher"

#: A 2×2 χ² test is used when every expected count reaches this value (Cochran's rule).
MIN_EXPECTED = 5


def wilson_interval(
    k: object, n: object, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval, no continuity correction, vectorised (Newcombe 1998, method 3)."""
    return wilson_interval_z(k, n, z_value(confidence))


def wilson_interval_z(k: object, n: object, z: float) -> tuple[np.ndarray, np.ndarray]:
    """:func:`wilson_interval` for a given normal quantile z. k and n need not be whole: with
    k = p·n_eff and n = n_eff it is the Wilson interval on an effective sample size (as R's
    ``prop.test(p * n_eff, n_eff, correct = FALSE)``)."""
    k_arr = np.asarray(k, dtype=float)
    n_arr = np.asarray(n, dtype=float)
    k_arr, n_arr = np.broadcast_arrays(k_arr, n_arr)
    if np.any(n_arr < 0) or np.any(k_arr < 0) or np.any(k_arr > n_arr):
        raise ValueError("need 0 <= k <= n")
    valid = n_arr > 0
    safe_n = np.where(valid, n_arr, 1.0)
    z2 = z * z
    # (2k + z² ± z·sqrt(z² + 4k(1 − k/n))) / (2(n + z²)): exact 0 at k = 0 and 1 at k = n.
    root = z * np.sqrt(np.maximum(z2 + 4 * k_arr * (1 - k_arr / safe_n), 0.0))
    denominator = 2 * (safe_n + z2)
    lo = (2 * k_arr + z2 - root) / denominator
    hi = (2 * k_arr + z2 + root) / denominator
    lo = np.where(k_arr == 0, 0.0, np.clip(lo, 0.0, 1.0))
    hi = np.where(k_arr == n_arr, 1.0, np.clip(hi, 0.0, 1.0))
    lo = np.where(valid, lo, np.nan)
    hi = np.where(valid, hi, np.nan)
    return lo, hi


def wilson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float] | None:
    """Wilson score interval of k/n as floats, None when n = 0 (Wilson 1927)."""
    if n == 0:
        check_confidence(confidence)
        return None
    lo, hi = wilson_interval(k, n, confidence)
    return float(lo), float(hi)


def newcombe_difference(
    k1: int, n1: int, k2: int, n2: int, confidence: float = 0.95
) -> tuple[float, float, float] | None:
    """p1 − p2 with its hybrid score interval (Newcombe 1998, method 10); None if either n = 0."""
    if n1 == 0 or n2 == 0:
        check_confidence(confidence)
        return None
    lo, hi = wilson_interval([k1, k2], [n1, n2], confidence)
    l1, l2 = float(lo[0]), float(lo[1])
    u1, u2 = float(hi[0]), float(hi[1])
    p1, p2 = k1 / n1, k2 / n2
    diff = p1 - p2
    # Newcombe 1998 eq. (10): δ uses the lower limit of p1 and the upper of p2, ε the reverse.
    delta = math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    epsilon = math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return diff, max(-1.0, diff - delta), min(1.0, diff + epsilon)


def fisher_p(a: int, b: int, c: int, d: int, alternative: str = "two-sided") -> float | None:
    """Fisher's exact test p of [[a, b], [c, d]] (Fisher 1935); None when a margin is zero."""
    if min(a + b, c + d, a + c, b + d) == 0:
        return None
    if alternative == "two-sided":
        return _fisher_two_sided(a, b, c, d)
    result = stats.fisher_exact([[a, b], [c, d]], alternative=alternative)
    return to_float(min(1.0, float(result.pvalue)))


#: R's fisher.test counts tables as "as extreme" when their probability is within this factor.
_FISHER_RELATIVE_ERROR = 1 + 1e-7


@functools.lru_cache(maxsize=65536)
def _fisher_two_sided(a: int, b: int, c: int, d: int) -> float:
    """Two-sided Fisher p as R's fisher.test computes it: the total probability of the tables
    with the same margins that are no more likely than the observed one.

    The hypergeometric probabilities of the whole support are computed at once in log space;
    this is about 100 times faster than ``scipy.stats.fisher_exact`` per table, which matters
    when a report tests every small branch against the rest. Tables repeat across items and
    surveys, hence the cache.
    """
    row, col, total = a + b, a + c, a + b + c + d
    support = np.arange(max(0, row + col - total), min(row, col) + 1)
    log_pmf = (
        special.gammaln(row + 1)
        + special.gammaln(total - row + 1)
        + special.gammaln(col + 1)
        + special.gammaln(total - col + 1)
        - special.gammaln(total + 1)
        - special.gammaln(support + 1)
        - special.gammaln(row - support + 1)
        - special.gammaln(col - support + 1)
        - special.gammaln(total - row - col + support + 1)
    )
    observed = log_pmf[a - support[0]]
    extreme = log_pmf[log_pmf <= observed + math.log(_FISHER_RELATIVE_ERROR)]
    return min(1.0, float(np.exp(special.logsumexp(extreme))))


def two_by_two_p(a: int, b: int, c: int, d: int) -> tuple[float | None, str | None]:
    """p of [[a, b], [c, d]]: Pearson χ² if all expected ≥ 5, else Fisher exact (Cochran 1954)."""
    p, method = two_by_two_p_many([a], [b], [c], [d])
    return p[0], method[0]


def two_by_two_p_many(
    a: Sequence[int] | np.ndarray,
    b: Sequence[int] | np.ndarray,
    c: Sequence[int] | np.ndarray,
    d: Sequence[int] | np.ndarray,
) -> tuple[list[float | None], list[str | None]]:
    """Vectorised ``two_by_two_p`` over many tables (Pearson 1900 χ² / Fisher 1935 exact)."""
    a_, b_, c_, d_ = (np.asarray(x, dtype=np.int64).ravel() for x in (a, b, c, d))
    if np.any(np.concatenate([a_, b_, c_, d_]) < 0):
        raise ValueError("counts must not be negative")
    r1, r2, c1, c2 = a_ + b_, c_ + d_, a_ + c_, b_ + d_
    total = r1 + r2
    defined = (r1 > 0) & (r2 > 0) & (c1 > 0) & (c2 > 0)
    # Expected count r·c/N ≥ 5 ⇔ r·c ≥ 5N, compared exactly in integers.
    smallest_margin_product = np.minimum(r1, r2) * np.minimum(c1, c2)
    use_chi2 = defined & (smallest_margin_product >= MIN_EXPECTED * total)

    p_values: list[float | None] = [None] * a_.size
    methods: list[str | None] = [None] * a_.size
    if np.any(use_chi2):
        idx = np.flatnonzero(use_chi2)
        af, bf, cf, df_ = (x[idx].astype(float) for x in (a_, b_, c_, d_))
        n = total[idx].astype(float)
        margins = r1[idx].astype(float) * r2[idx] * c1[idx] * c2[idx]
        statistic = n * (af * df_ - bf * cf) ** 2 / margins
        p_chi2 = stats.chi2.sf(statistic, 1)
        for j, i in enumerate(idx.tolist()):
            p_values[i] = to_float(p_chi2[j])
            methods[i] = CHI2
    for i in np.flatnonzero(defined & ~use_chi2).tolist():
        p_values[i] = fisher_p(int(a_[i]), int(b_[i]), int(c_[i]), int(d_[i]))
        methods[i] = FISHER
    return p_values, methods


def holm(pvalues: Sequence[float | None]) -> list[float | None]:
    """Holm step-down adjusted p-values; None entries stay None and are not counted (Holm 1979)."""
    present = [i for i, p in enumerate(pvalues) if p is not None]
    adjusted: list[float | None] = [None] * len(pvalues)
    if not present:
        return adjusted
    p = np.asarray([float(pvalues[i]) for i in present], dtype=float)  # type: ignore[arg-type]
    if np.any(np.isnan(p)) or np.any(p < 0) or np.any(p > 1):
        raise ValueError("p-values must lie in [0, 1]")
    m = p.size
    order = np.argsort(p, kind="stable")
    steps = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = steps
    for i, value in zip(present, out.tolist(), strict=True):
        adjusted[i] = value
    return adjusted
