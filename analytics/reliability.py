"""Internal consistency of a questionnaire: Cronbach's α from count tables.

Only complete responses (respondents who answered every item) enter. The inputs are the option
counts of each item, the option weights and the distribution of the respondents' total scores
(the sum of the weights they chose). With sample variances (n − 1):

    α = k/(k − 1) · (1 − Σ var_i / var_total)

α is None when it is undefined: fewer than two items, fewer than two complete responses, or every
total score equal (var_total = 0). α may be negative; that is reported as is.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from analytics._util import as_counts


def _variance(values: np.ndarray, counts: np.ndarray) -> float:
    """Sample variance (n − 1) of values with frequencies; 0 when fewer than two values occur."""
    used = counts > 0
    if np.unique(values[used]).size < 2:
        return 0.0
    n = float(counts.sum())
    mean = float((counts * values).sum()) / n
    return float((counts * (values - mean) ** 2).sum()) / (n - 1)


def cronbach_alpha(
    item_counts: Sequence[Sequence[int]] | np.ndarray,
    weights: Sequence[float] | np.ndarray,
    total_values: Sequence[float] | np.ndarray,
    total_counts: Sequence[int] | np.ndarray,
) -> float | None:
    """Cronbach's α from item option counts and total-score counts (Cronbach 1951)."""
    items = as_counts(item_counts, ndim=2)
    w = np.asarray(weights, dtype=float)
    values = np.asarray(total_values, dtype=float).ravel()
    totals = as_counts(total_counts, ndim=1)
    if items.shape[1] != w.size:
        raise ValueError(f"item_counts has {items.shape[1]} options but {w.size} weights")
    if values.shape != totals.shape:
        raise ValueError("total_values and total_counts must have the same length")
    n = int(totals.sum())
    k = items.shape[0]
    if np.any(items.sum(axis=1) != n):
        raise ValueError("every item must have as many complete answers as there are totals")
    if k < 2 or n < 2:
        return None
    var_total = _variance(values, totals)
    if var_total <= 0:
        return None
    var_items = sum(_variance(w, row) for row in items)
    return float(k / (k - 1) * (1 - var_items / var_total))


#: George & Mallery's (2003) bands of α, from the top: (lower bound, name).
ALPHA_BANDS = ((0.9, "excellent"), (0.8, "good"), (0.7, "acceptable"), (0.6, "questionable"))


def alpha_band(alpha: float | None) -> str | None:
    """George & Mallery's (2003) reading of α: ``excellent`` (≥ 0.9), ``good``, ``acceptable``,
    ``questionable`` (≥ 0.6) or ``poor``; None when α is undefined."""
    if alpha is None:
        return None
    return next((band for bound, band in ALPHA_BANDS if alpha >= bound), "poor")
