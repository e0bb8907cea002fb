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
        share = scores.size / (scores.size + stats.norm.ppf(0.5 + confidence / 2) ** 2)
        assert lo == pytest.approx(share * mean + (1 - share) * min(WEIGHTS), rel=1e-12)
        assert hi == pytest.approx(share * mean + (1 - share) * max(WEIGHTS), rel=1e-12)
        assert lo <= mean <= hi and lo < hi
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
    ],
)
def test_mean_interval_edge_cases(counts, expected):
    """n = 0 gives no mean, n = 1 no interval."""
    assert mean_interval(counts, [1, 2, 3]) == expected


def test_unanimous_answers_never_give_a_zero_width_interval():
    """Seven answers all at the top (3 on a 1–3 scale): the Wilson lower limit of the share at
    the top is 7/(7 + z²) = 0.6457 (R: prop.test(7, 7, correct = FALSE)$conf.int[1]), so the
    mean lies in [0.6457·3 + 0.3543·1, 3] = [2.2913, 3] (R-checked: 2.29133913)."""
    mean, lo, hi = mean_interval([0, 0, 7], [1, 2, 3])
    assert mean == 3.0 and hi == pytest.approx(3.0)
    assert lo == pytest.approx(2.29133913, abs=1e-9)


def test_constant_answers_with_awkward_weight_still_get_an_interval():
    """All answers equal at a weight like 0.1 count as unanimous (no rounding residue), and at
    n = 1,000,003 the interval is a sliver around the mean, not a point."""
    mean, lo, hi = mean_interval([0, 1_000_003], [0.3, 0.1])
    assert mean == pytest.approx(0.1)
    assert lo == pytest.approx(0.1) and hi == pytest.approx(0.1, abs=1e-6) and hi > mean


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
