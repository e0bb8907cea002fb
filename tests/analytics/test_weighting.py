"""Post-stratified rates: hand-computed values, None weights and Kish's effective n."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics import post_stratified
from analytics.weighting import Weighted, shares_of, weight_arrays


def test_hand_computed_two_strata():
    """W = (0.75, 0.25) on p = (0.8, 0.4) with n = (50, 100)."""
    result = post_stratified([0.8, 0.4], [50, 100], [3, 1])
    rate = 0.75 * 0.8 + 0.25 * 0.4
    assert result.rate == pytest.approx(rate)
    respondent_weights = np.repeat([0.75 / 50, 0.25 / 100], [50, 100])
    kish = respondent_weights.sum() ** 2 / (respondent_weights**2).sum()
    assert result.effective_n == pytest.approx(kish)
    # Wilson on n_eff, written out (Wilson 1927): centre ± half, both over 1 + z²/n.
    z = 1.959963984540054
    centre = (rate + z**2 / (2 * kish)) / (1 + z**2 / kish)
    half = z * math.sqrt(rate * (1 - rate) / kish + z**2 / (4 * kish**2)) / (1 + z**2 / kish)
    assert (result.lo, result.hi) == pytest.approx((centre - half, centre + half), rel=1e-12)


def test_proportional_weights_give_the_pooled_rate_and_full_n():
    """Weights equal to the sample shares reproduce the pooled rate and n_eff = n."""
    result = post_stratified([0.5, 0.9], [20, 60], [1, 3])
    assert result.rate == pytest.approx((10 + 54) / 80)
    assert result.effective_n == pytest.approx(80)


def test_none_weight_keeps_sample_share():
    """A None category keeps n_h/n; the weighted ones share the rest by their weights."""
    shares = shares_of(np.array([25, 50, 25]), *weight_arrays([None, 1.0, 3.0]))
    assert shares.tolist() == pytest.approx([0.25, 0.75 * 0.25, 0.75 * 0.75])
    assert shares_of(np.array([10, 10]), *weight_arrays([None, None])).tolist() == pytest.approx(
        [0.5, 0.5]
    )
    assert shares_of(np.array([10, 10]), *weight_arrays([0.0, None])).tolist() == pytest.approx(
        [0.0, 1.0]
    )


def test_empty_strata_are_renormalised_away():
    """A stratum without respondents or without a rate takes no share."""
    result = post_stratified([0.6, None, 0.2], [10, 0, 10], [1, 5, 1])
    assert result.rate == pytest.approx(0.4)
    result = post_stratified([0.6, None], [10, 7], [1, 5])
    assert result.rate == pytest.approx(0.6)


@pytest.mark.parametrize(
    ("rates", "sizes", "weights"),
    [
        ([], [], []),
        ([None, None], [0, 0], [1, 1]),
        ([0.5], [10], [0.0]),
    ],
)
def test_undefined_gives_none_fields(rates, sizes, weights):
    """No respondents, or only zero weights: every field None."""
    assert post_stratified(rates, sizes, weights) == Weighted(None, None, None, None)


def test_degenerate_rates_never_give_a_zero_width_interval():
    """All strata at 0 % or 100 % favourable: the stratified variance is 0, yet the interval
    is the Wilson interval on n_eff = 10, as R gives it:
    prop.test(5, 10, correct = FALSE)$conf.int = (0.2365931, 0.7634069)."""
    result = post_stratified([1.0, 0.0], [5, 5], [1, 1])
    assert result.rate == 0.5 and result.effective_n == pytest.approx(10)
    assert (result.lo, result.hi) == pytest.approx((0.2365931, 0.7634069), abs=1e-7)


def test_a_branch_at_100_percent_keeps_an_interval_below_100():
    """Every stratum at 100 %: the old normal interval said 100.0–100.0 %; the Wilson interval
    on n_eff = 12 reaches down to 75.75 % (R: prop.test(12, 12, correct = FALSE))."""
    result = post_stratified([1.0, 1.0], [4, 8], [None, None])
    assert result.rate == result.hi == 1.0
    assert result.lo == pytest.approx(0.7575060, abs=1e-7)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0, 1),
            st.integers(0, 200),
            st.one_of(st.none(), st.floats(0, 10)),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_weighted_rate_within_bounds(strata):
    """The rate lies between the stratum rates, the interval in [0, 1], n_eff ≤ n."""
    rates, sizes, weights = zip(*strata, strict=True)
    result = post_stratified(list(rates), list(sizes), list(weights))
    if result.rate is None:
        return
    used = [r for r, n in zip(rates, sizes, strict=True) if n > 0]
    assert min(used) - 1e-12 <= result.rate <= max(used) + 1e-12
    assert 0 <= result.lo <= result.rate <= result.hi <= 1
    assert 0 < result.effective_n <= sum(sizes) * (1 + 1e-12)
