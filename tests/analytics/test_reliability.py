"""Cronbach's α from counts equals the textbook computation on the raw response matrix."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from analytics import cronbach_alpha

WEIGHTS = np.array([4.0, 3.0, 2.5, 1.0])


def alpha_from_matrix(scores: np.ndarray) -> float:
    """α = k/(k−1)·(1 − Σ var_i / var_total) on a respondents × items score matrix."""
    k = scores.shape[1]
    item_variances = scores.var(axis=0, ddof=1).sum()
    total_variance = scores.sum(axis=1).var(ddof=1)
    return k / (k - 1) * (1 - item_variances / total_variance)


def count_inputs(choices: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The count-table inputs for a respondents × items matrix of chosen option indices."""
    items = np.array([np.bincount(column, minlength=WEIGHTS.size) for column in choices.T])
    values, counts = np.unique(WEIGHTS[choices].sum(axis=1), return_counts=True)
    return items, values, counts


@settings(max_examples=80, deadline=None)
@given(
    arrays(
        np.int64,
        st.tuples(st.integers(2, 25), st.integers(2, 6)),
        elements=st.integers(0, WEIGHTS.size - 1),
    )
)
def test_alpha_equals_raw_matrix_computation(choices):
    """Counts-based α equals the raw-matrix α whenever the total variance is positive."""
    items, values, counts = count_inputs(choices)
    result = cronbach_alpha(items, WEIGHTS, values, counts)
    totals = WEIGHTS[choices].sum(axis=1)
    if np.unique(totals).size < 2:
        assert result is None
        return
    assert result == pytest.approx(alpha_from_matrix(WEIGHTS[choices]), rel=1e-9, abs=1e-9)
    assert type(result) is float


def test_known_value():
    """Three items answered identically by four people of different levels: α = 1."""
    choices = np.array([[0, 0, 0], [1, 1, 1], [2, 2, 2], [3, 3, 3]])
    assert cronbach_alpha(*_inputs(choices)) == pytest.approx(1.0)


def _inputs(choices):
    items, values, counts = count_inputs(choices)
    return items, WEIGHTS, values, counts


@pytest.mark.parametrize(
    "choices",
    [
        np.zeros((0, 3), dtype=np.int64),  # no complete response
        np.array([[0, 1, 2]]),  # one respondent
        np.array([[0], [1], [3]]),  # one item
        np.array([[0, 1], [1, 0], [0, 1]]),  # every total equal
    ],
)
def test_undefined_alpha_is_none(choices):
    """k < 2, n < 2 or var_total = 0 give None, not NaN or an exception."""
    items, values, counts = (
        count_inputs(choices)
        if choices.size
        else (
            np.zeros((3, WEIGHTS.size), dtype=np.int64),
            np.zeros(0),
            np.zeros(0, dtype=np.int64),
        )
    )
    assert cronbach_alpha(items, WEIGHTS, values, counts) is None


def test_inconsistent_inputs_rejected():
    """Item tables that do not add up to the number of totals are a caller error."""
    with pytest.raises(ValueError):
        cronbach_alpha([[1, 1, 0, 0], [2, 0, 0, 0]], WEIGHTS, [7.0], [3])
