"""Mean score intervals from counts equal Student t intervals on the raw scores."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats

from analytics import mean_interval
from analytics.scores import mean_intervals

WEIGHTS = np.array([100.0, 80.0, 60.0, 0.0, -3.5])


@settings(max_examples=100, deadline=None)
@given(
    counts=arrays(np.int64, 5, elements=st.integers(0, 15)),
    confidence=st.sampled_from([0.9, 0.95, 0.99]),
)
def test_mean_interval_equals_t_interval(counts, confidence):
    """Equals scipy t.interval on the expanded scores (R t.test(x)$conf.int)."""
    scores = np.repeat(WEIGHTS, counts)
    mean, lo, hi = mean_interval(counts, WEIGHTS, confidence)
    if scores.size == 0:
        assert (mean, lo, hi) == (None, None, None)
        return
    assert mean == pytest.approx(scores.mean(), rel=1e-12, abs=1e-12)
    if scores.size == 1:
        assert (lo, hi) == (None, None)
        return
    if np.unique(scores).size == 1:
        assert lo == hi == mean
        return
    expected = stats.t.interval(
        confidence, scores.size - 1, loc=scores.mean(), scale=stats.sem(scores)
    )
    assert (lo, hi) == pytest.approx(expected, rel=1e-10, abs=1e-10)


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ([0, 0, 0], (None, None, None)),
        ([0, 1, 0], (2.0, None, None)),
        ([0, 0, 7], (3.0, 3.0, 3.0)),
    ],
)
def test_mean_interval_edge_cases(counts, expected):
    """n = 0 gives no mean, n = 1 no interval, one distinct answer a zero-width interval."""
    assert mean_interval(counts, [1, 2, 3]) == expected


def test_constant_answers_with_awkward_weight_have_zero_width():
    """All answers equal at a weight like 0.1 still give var = 0 exactly (no rounding residue)."""
    mean, lo, hi = mean_interval([0, 1_000_003], [0.3, 0.1])
    assert lo == hi == mean == pytest.approx(0.1)


def test_mean_intervals_vectorised_shapes_and_python_floats():
    """The array form broadcasts over leading axes; the scalar form returns Python floats."""
    counts = np.array([[[3, 1, 0], [0, 0, 0]], [[1, 1, 1], [2, 0, 0]]])
    mean, lo, hi = mean_intervals(counts, [3, 2, 1])
    assert mean.shape == lo.shape == hi.shape == (2, 2)
    assert np.isnan(mean[0, 1])
    assert all(type(x) is float for x in mean_interval([3, 1, 0], [3, 2, 1]))


def test_mismatched_weights_rejected():
    """Counts and weights must describe the same options."""
    with pytest.raises(ValueError):
        mean_interval([1, 2, 3], [1, 2])
