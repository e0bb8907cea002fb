"""Weighted mean scores and their Student t intervals, computed from option counts.

A respondent's score for an item is the weight of the option chosen. From counts c_o and weights
w_o: n = Σc, mean = Σc·w/n and the sample variance is Σc·(w − mean)²/(n − 1), the two-pass form
of (Σc·w² − n·mean²)/(n − 1), which cannot go negative by cancellation. The interval is
mean ± t_{n−1}·sqrt(var/n), as R ``t.test(x)$conf.int`` on the expanded responses.

* n = 0: no mean, no interval.
* n = 1: a mean but no interval (no variance).
* every one of n ≥ 2 answers the same, w: the t interval would be [w, w], a claim of certainty
  from a few answers. Instead, the share q of the population that would answer w has the
  Wilson lower limit L = n/(n + z²) (Wilson 1927, k = n); the rest, at most 1 − L, may sit
  anywhere on the scale [w_min, w_max]. The interval is
  [L·w + (1 − L)·w_min, L·w + (1 − L)·w_max]: it has the width of the scale times 1 − L, so
  it narrows as n grows (to about a tenth of the scale at n = 35) and is never empty. Its
  coverage is at least the Wilson limit's one-sided coverage, 97.5 % at the 95 % level. R:
  ``L <- prop.test(n, n, correct = FALSE)$conf.int[1]``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats

from analytics._util import as_counts, check_confidence, to_float


def mean_intervals(
    counts: np.ndarray, weights: Sequence[float] | np.ndarray, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised mean score and Student t interval over the last axis of counts (Student 1908)."""
    check_confidence(confidence)
    c = as_counts(counts)
    w = np.asarray(weights, dtype=float)
    if c.shape[-1:] != w.shape:
        raise ValueError(f"counts' last axis {c.shape[-1:]} does not match weights {w.shape}")
    n = c.sum(axis=-1)
    has_answers = n > 0
    safe_n = np.where(has_answers, n, 1).astype(float)
    mean = (c * w).sum(axis=-1) / safe_n
    # Only options someone chose contribute, so one distinct answer gives var = 0 exactly.
    deviation = np.where(c > 0, w - mean[..., None], 0.0)
    sum_squares = (c * deviation**2).sum(axis=-1)
    has_spread = n > 1
    var = np.where(has_spread, sum_squares / np.where(has_spread, n - 1, 1), 0.0)
    distinct = (c > 0).sum(axis=-1)
    var = np.where(distinct > 1, var, 0.0)
    t_quantile = stats.t.ppf(0.5 + confidence / 2, np.where(has_spread, n - 1, 1))
    half = t_quantile * np.sqrt(var / safe_n)
    mean = np.where(has_answers, mean, np.nan)
    lo = np.where(has_spread, mean - half, np.nan)
    hi = np.where(has_spread, mean + half, np.nan)
    # One distinct answer: bound the mean by the Wilson limit of that answer's share.
    unanimous = has_spread & (distinct == 1)
    if np.any(unanimous) and w.size:
        z = float(stats.norm.ppf(0.5 + confidence / 2))
        share = safe_n / (safe_n + z * z)
        lo = np.where(unanimous, share * mean + (1 - share) * float(w.min()), lo)
        hi = np.where(unanimous, share * mean + (1 - share) * float(w.max()), hi)
    return mean, lo, hi


def mean_interval(
    counts: Sequence[int] | np.ndarray,
    weights: Sequence[float] | np.ndarray,
    confidence: float = 0.95,
) -> tuple[float | None, float | None, float | None]:
    """(mean, lo, hi) of the weighted score from counts, Student t interval (Student 1908)."""
    mean, lo, hi = mean_intervals(as_counts(counts, ndim=1), weights, confidence)
    return to_float(mean), to_float(lo), to_float(hi)
