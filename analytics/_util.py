"""Small conversions shared by the analytics modules.

Results leave this package as plain Python ``int``/``float``/``None`` so that the web layer can
``json.dumps`` them; numpy scalars and NaN never escape.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy import stats


def to_float(value: object) -> float | None:
    """Return a finite Python float, or None for None/NaN/inf (undefined statistics)."""
    if value is None:
        return None
    result = float(value)  # type: ignore[arg-type]
    return result if math.isfinite(result) else None


@functools.lru_cache(maxsize=16)
def z_value(confidence: float) -> float:
    """Two-sided standard normal quantile for a confidence level, e.g. 1.96 for 0.95 (cached:
    a report asks for it once per branch, and ``norm.ppf`` costs far more than the lookup)."""
    check_confidence(confidence)
    return float(stats.norm.ppf(0.5 + confidence / 2))


def check_confidence(confidence: float) -> None:
    """Reject confidence levels outside (0, 1): a caller error, not an edge case."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")


def as_counts(values: object, ndim: int | None = None) -> np.ndarray:
    """Return a non-negative int64 count array, rejecting negative or fractional counts."""
    array = np.asarray(values)
    if array.dtype.kind == "f":
        if not np.all(np.isfinite(array)) or np.any(array != np.round(array)):
            raise ValueError("counts must be whole numbers")
    elif array.size and array.dtype.kind not in "iub":
        raise ValueError(f"counts must be integers, got dtype {array.dtype}")
    array = array.astype(np.int64)
    if np.any(array < 0):
        raise ValueError("counts must not be negative")
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"expected a {ndim}-dimensional count table, got shape {array.shape}")
    return array
