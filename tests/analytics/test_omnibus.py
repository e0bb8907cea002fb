"""χ², Kruskal–Wallis and Mann–Whitney from counts equal scipy's raw-data functions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats

from analytics import chi_square, kruskal_wallis, mann_whitney
from analytics.omnibus import ChiSquare, KruskalWallis, MannWhitney, mid_ranks

LEVEL_VALUES = np.array([-1.0, 0.5, 2.0, 3.0, 7.5, 10.0])


def tables(max_rows: int = 6, max_cols: int = 5, max_count: int = 9):
    """Random small count tables, zero rows and columns included."""
    return st.tuples(st.integers(1, max_rows), st.integers(1, max_cols)).flatmap(
        lambda shape: arrays(np.int64, shape, elements=st.integers(0, max_count))
    )


def expand(counts: np.ndarray) -> np.ndarray:
    """Raw responses of one group: each level value repeated by its count."""
    return np.repeat(LEVEL_VALUES[: counts.size], counts)


@settings(max_examples=100, deadline=None)
@given(tables())
def test_chi_square_equals_scipy(table):
    """Equals chi2_contingency(correction=False) after dropping empty rows and columns."""
    result = chi_square(table)
    kept = table[table.sum(axis=1) > 0]
    kept = kept[:, kept.sum(axis=0) > 0]
    if min(kept.shape) < 2:
        assert result == ChiSquare(None, None, None, None)
        return
    expected = stats.chi2_contingency(kept, correction=False)
    assert result.statistic == pytest.approx(expected.statistic, rel=1e-9, abs=1e-12)
    assert result.df == expected.dof
    assert result.p == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-12)
    v = stats.contingency.association(kept, method="cramer", correction=False)
    assert result.cramers_v == pytest.approx(v, rel=1e-9, abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(tables())
def test_kruskal_wallis_equals_scipy(table):
    """Equals scipy.stats.kruskal on the expanded data; None where scipy gives NaN or raises."""
    result = kruskal_wallis(table)
    groups = [expand(row) for row in table if row.sum() > 0]
    values = np.concatenate(groups) if groups else np.array([])
    if len(groups) < 2 or np.unique(values).size < 2:
        assert result == KruskalWallis(None, None, None, None)
        return
    expected = stats.kruskal(*groups)
    assert result.statistic == pytest.approx(expected.statistic, rel=1e-9, abs=1e-12)
    # abs 1e-6: where H is 0 exactly, scipy's raw-data H is a rounding residue (~1e-14),
    # which moves its p away from 1 by about 1e-7.
    assert result.p == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-6)
    assert result.df == len(groups) - 1
    assert result.epsilon_squared == pytest.approx(expected.statistic / (values.size - 1))


@settings(max_examples=100, deadline=None)
@given(
    st.integers(1, 6).flatmap(
        lambda levels: st.tuples(
            arrays(np.int64, levels, elements=st.integers(0, 12)),
            arrays(np.int64, levels, elements=st.integers(0, 12)),
        )
    )
)
def test_mann_whitney_equals_scipy(pair):
    """Equals mannwhitneyu(method='asymptotic', use_continuity=True) on the expanded data."""
    a, b = pair
    result = mann_whitney(a, b)
    if a.sum() == 0 or b.sum() == 0:
        assert result == MannWhitney(None, None)
        return
    x, y = expand(a), expand(b)
    if np.unique(np.concatenate([x, y])).size < 2:
        assert result == MannWhitney(a.sum() * b.sum() / 2, None)
        return
    expected = stats.mannwhitneyu(x, y, method="asymptotic", use_continuity=True)
    assert result.u == pytest.approx(expected.statistic, abs=1e-9)
    assert result.p == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-12)


def test_mid_ranks():
    """Mid-ranks of levels with 2, 0, 3 answers are 1.5, 2.5 (unused), 4."""
    assert mid_ranks(np.array([2, 0, 3])).tolist() == [1.5, 2.5, 4.0]


@pytest.mark.parametrize(
    "table",
    [
        np.zeros((0, 3), dtype=np.int64),
        [[0, 0, 0]],
        [[0, 0], [0, 0]],
        [[5, 0, 0]],
        [[3, 0], [4, 0]],
        [[0, 7, 0], [0, 2, 0]],
    ],
)
def test_undefined_tables_give_none(table):
    """Empty tables, a single group and a single level give None, not NaN or an exception."""
    assert chi_square(table) == ChiSquare(None, None, None, None)
    assert kruskal_wallis(table) == KruskalWallis(None, None, None, None)


def test_mann_whitney_edge_cases():
    """An empty sample, and all answers equal, do not raise."""
    assert mann_whitney([0, 0, 0], [1, 2, 3]) == MannWhitney(None, None)
    assert mann_whitney([0, 4, 0], [0, 6, 0]) == MannWhitney(12.0, None)
    assert mann_whitney([1, 0], [0, 1]).p == 1.0


def test_results_are_python_numbers():
    """Statistics come back as Python float/int, ready for json.dumps."""
    chi = chi_square([[10, 3], [4, 9]])
    kw = kruskal_wallis([[10, 3], [4, 9]])
    mw = mann_whitney([10, 3], [4, 9])
    for value in (chi.statistic, chi.p, chi.cramers_v, kw.statistic, kw.p, mw.u, mw.p):
        assert type(value) is float
    assert type(chi.df) is int and type(kw.df) is int


def test_large_counts_do_not_overflow():
    """Tie sums use floats: N in the millions stays finite and well defined."""
    table = np.array([[2_000_000, 1_500_000, 900_000], [1_900_000, 1_600_000, 950_000]])
    result = kruskal_wallis(table)
    assert result.statistic is not None and result.statistic > 0
    assert 0 <= result.p <= 1
    mw = mann_whitney(table[0], table[1])
    assert mw.p is not None and 0 <= mw.p <= 1


def test_negative_counts_rejected():
    """Counts below zero are a caller error."""
    with pytest.raises(ValueError):
        chi_square([[1, -1], [2, 3]])
    with pytest.raises(ValueError):
        mann_whitney([1, 2], [3])


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 5).flatmap(
        lambda levels: arrays(np.int64, (2, levels), elements=st.integers(0, 6))
    )
)
def test_kruskal_with_two_groups_is_squared_mann_whitney_z(table):
    """With two groups, H equals the squared Mann–Whitney z without continuity correction."""
    assume((table.sum(axis=1) > 0).all())
    result = kruskal_wallis(table)
    assume(result.statistic is not None)
    a, b = table
    n1, n2 = a.sum(), b.sum()
    n = n1 + n2
    totals = a + b
    u = mann_whitney(a, b).u
    variance = n1 * n2 / 12 * ((n + 1) - ((totals**3 - totals).sum()) / (n * (n - 1)))
    assert result.statistic == pytest.approx((u - n1 * n2 / 2) ** 2 / variance, rel=1e-9)
