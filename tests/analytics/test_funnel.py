"""Funnel plot limits and effect-size classes, against R's quantiles and Cohen's bands."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analytics import ChiSquare, alpha_band, funnel, holm, two_by_two_p


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


def test_limits_for_many_branches_use_the_bonferroni_quantile():
    """19 branches at 95 %: z = qnorm(1 − 0.05/(2·19)) = 3.007787 (R), not 1.96."""
    level = funnel.adjusted_level(0.95, 19)
    assert level == pytest.approx(1 - 0.05 / 19)
    lo, hi = funnel.limits(0.8, 100, level)
    assert hi - 0.8 == pytest.approx(3.0077866 * math.sqrt(0.8 * 0.2 / 100), rel=1e-6)
    # 0.9 of 100 lies beyond the plain 95 % limit but within the limit for 19 branches.
    assert funnel.position(0.9, 0.8, 100) == ("above", 0.95)
    assert funnel.position(0.9, 0.8, 100, comparisons=19) is None


def test_a_dot_beyond_the_adjusted_limit_is_clear_by_holm_too():
    """The funnel's z is the vs-rest χ² z shrunk by sqrt((N − n)/N), so a dot beyond the
    Bonferroni limit has a Holm-adjusted p < 0.05 wherever the 2×2 χ² test is the one used."""
    rng = np.random.default_rng(13)
    checked = 0
    for _ in range(300):
        m = int(rng.integers(2, 25))
        n = rng.integers(40, 400, size=m)
        fav = rng.binomial(n, rng.uniform(0.6, 0.95, size=m))
        p = fav.sum() / n.sum()
        tests = [
            two_by_two_p(
                int(fav[b]),
                int(n[b] - fav[b]),
                int(fav.sum() - fav[b]),
                int(n.sum() - n[b] - fav.sum() + fav[b]),
            )
            for b in range(m)
        ]
        adjusted = holm([t[0] for t in tests])
        for b in range(m):
            outside = funnel.position(fav[b] / n[b], p, int(n[b]), comparisons=m)
            if outside is not None and tests[b][1] == "chi2":
                checked += 1
                assert adjusted[b] < 0.05
    assert checked > 50
