"""Wilson, Newcombe, the 2×2 rule and Holm against scipy and statsmodels."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.multitest import multipletests

from analytics import holm, newcombe_difference, two_by_two_p, wilson, wilson_interval
from analytics.proportions import two_by_two_p_many


@settings(max_examples=80, deadline=None)
@given(
    n=st.integers(1, 500),
    fraction=st.floats(0, 1),
    confidence=st.sampled_from([0.8, 0.9, 0.95, 0.99]),
)
def test_wilson_equals_scipy_binomtest(n, fraction, confidence):
    """The closed form equals binomtest(...).proportion_ci('wilson')."""
    k = round(fraction * n)
    expected = stats.binomtest(k, n).proportion_ci(confidence, method="wilson")
    lo, hi = wilson(k, n, confidence)
    assert lo == pytest.approx(expected.low, abs=1e-12)
    assert hi == pytest.approx(expected.high, abs=1e-12)
    assert 0.0 <= lo <= k / n <= hi <= 1.0


def test_wilson_interval_is_vectorised_and_nan_for_empty():
    """The array form gives NaN (not a warning) where n = 0, and the scalar form None."""
    lo, hi = wilson_interval(np.array([0, 3, 0, 5]), np.array([0, 10, 7, 5]))
    assert math.isnan(lo[0]) and math.isnan(hi[0])
    assert lo[2] == 0.0 and hi[3] == 1.0
    assert wilson(0, 0) is None
    assert type(wilson(3, 10)[0]) is float


def test_wilson_rejects_impossible_counts():
    """k > n is a caller error, not an edge case."""
    with pytest.raises(ValueError):
        wilson(5, 4)
    with pytest.raises(ValueError):
        wilson(1, 4, confidence=1.0)


def test_newcombe_undefined_and_bounds():
    """None when a sample is empty; the interval contains the difference and stays in [−1, 1]."""
    assert newcombe_difference(0, 0, 3, 10) is None
    assert newcombe_difference(3, 10, 0, 0) is None
    diff, lo, hi = newcombe_difference(0, 20, 10, 10)
    assert diff == -1.0 and lo == -1.0 and -1.0 <= hi < 0


@settings(max_examples=60, deadline=None)
@given(
    n1=st.integers(1, 200),
    n2=st.integers(1, 200),
    f1=st.floats(0, 1),
    f2=st.floats(0, 1),
)
def test_newcombe_is_antisymmetric(n1, n2, f1, f2):
    """Swapping the samples negates the difference and mirrors the interval."""
    k1, k2 = round(f1 * n1), round(f2 * n2)
    diff, lo, hi = newcombe_difference(k1, n1, k2, n2)
    r_diff, r_lo, r_hi = newcombe_difference(k2, n2, k1, n1)
    assert r_diff == pytest.approx(-diff, abs=1e-12)
    assert (r_lo, r_hi) == pytest.approx((-hi, -lo), abs=1e-12)
    assert -1 <= lo <= diff <= hi <= 1


@settings(max_examples=100, deadline=None)
@given(table=st.lists(st.integers(0, 40), min_size=4, max_size=4))
def test_two_by_two_rule(table):
    """χ² (no Yates) when every expected count is ≥ 5, else Fisher; None on a zero margin."""
    a, b, c, d = table
    p, method = two_by_two_p(a, b, c, d)
    margins = [a + b, c + d, a + c, b + d]
    if min(margins) == 0:
        assert (p, method) == (None, None)
        return
    observed = np.array([[a, b], [c, d]])
    chi2 = stats.chi2_contingency(observed, correction=False)
    if chi2.expected_freq.min() >= 5:
        assert method == "chi2"
        assert p == pytest.approx(chi2.pvalue, rel=1e-9, abs=1e-300)
    else:
        assert method == "fisher"
        assert p == pytest.approx(stats.fisher_exact(observed).pvalue, rel=1e-12)


def test_two_by_two_boundary_expected_exactly_five():
    """An expected count of exactly 5 uses χ² (rows 10/10, columns 10/10 → all expected 5)."""
    assert two_by_two_p(5, 5, 5, 5)[1] == "chi2"
    assert two_by_two_p(5, 5, 4, 5)[1] == "fisher"


def test_two_by_two_many_matches_scalar():
    """The vectorised form agrees with the scalar form, table by table."""
    rng = np.random.default_rng(7)
    tables = rng.integers(0, 30, size=(200, 4))
    p_many, methods = two_by_two_p_many(*tables.T)
    for row, p, method in zip(tables.tolist(), p_many, methods, strict=True):
        assert (p, method) == two_by_two_p(*row)


@settings(max_examples=30, deadline=None)  # multipletests takes ~30 ms a call
@given(st.lists(st.floats(0, 1), min_size=1, max_size=30))
def test_holm_equals_statsmodels(pvalues):
    """Holm by hand equals statsmodels multipletests(method='holm')."""
    expected = multipletests(pvalues, method="holm")[1]
    assert holm(pvalues) == pytest.approx(expected.tolist(), abs=1e-15)


def test_holm_skips_none():
    """None entries stay None and are not counted in m."""
    assert holm([0.01, None, 0.04, 0.03]) == pytest.approx([0.03, None, 0.06, 0.06])
    assert holm([None, None]) == [None, None]
    assert holm([]) == []
    assert all(type(x) is float for x in holm([0.2, 0.5]))
