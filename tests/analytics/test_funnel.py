"""Funnel plot limits and effect-size classes, against R's quantiles and Cohen's bands."""

from __future__ import annotations

import pytest

from analytics import ChiSquare, alpha_band, funnel


def test_limits_use_r_qnorm():
    # R: p ± qnorm(0.975)·sqrt(p(1 − p)/n) and qnorm(0.999) = 3.090232306167813
    assert funnel.limits(0.5, 100, 0.95)[1] == pytest.approx(0.5 + 1.959963984540054 * 0.05)
    assert funnel.limits(0.5, 100, 0.998)[0] == pytest.approx(0.5 - 3.090232306167813 * 0.05)


def test_limits_formula_and_clipping():
    assert funnel.limits(0.5, 100, 0.95) == pytest.approx((0.402, 0.598), abs=1e-3)
    assert funnel.limits(0.99, 4, 0.998)[1] == 1.0
    assert funnel.limits(0.02, 4, 0.998)[0] == 0.0


def test_curves_run_geometrically_between_the_sizes():
    sizes, lower, upper = funnel.limit_curves(0.8, 5, 500, 0.95, steps=3)
    assert sizes == pytest.approx([5, 50, 500])
    assert lower[2] == pytest.approx(funnel.limits(0.8, 500, 0.95)[0])
    assert upper[0] == pytest.approx(funnel.limits(0.8, 5, 0.95)[1])


@pytest.mark.parametrize(
    ("rate", "expected"),
    [(0.9, ("above", 0.998)), (0.64, ("above", 0.95)), (0.5, None), (0.36, ("below", 0.95))],
)
def test_position_names_the_widest_limit_crossed(rate, expected):
    # p = 0.5, n = 100: 95 % limits 0.402–0.598, 99.8 % limits 0.345–0.655.
    assert funnel.position(rate, 0.5, 100) == expected


@pytest.mark.parametrize(
    ("v", "df_star", "size"),
    [(0.2, 3, "medium"), (0.1044, 1, "small"), (0.05, 1, "negligible"), (0.6, 1, "large")],
)
def test_cramers_v_effect_size_follows_cohen(v, df_star, size):
    # w = V·sqrt(df*): 0.2·sqrt(3) = 0.346 is medium (0.3 ≤ w < 0.5).
    assert ChiSquare(1.0, 2, 0.5, v, df_star).effect_size == size
    assert ChiSquare(None, None, None, None).effect_size is None


@pytest.mark.parametrize(
    ("alpha", "band"),
    [(0.95, "excellent"), (0.85, "good"), (0.7, "acceptable"), (0.65, "questionable"),
     (0.2, "poor"), (None, None)],
)  # fmt: skip
def test_alpha_bands_follow_george_and_mallery(alpha, band):
    assert alpha_band(alpha) == band
