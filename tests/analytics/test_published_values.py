"""Published values from the literature, reproduced to the precision they were published with."""

from __future__ import annotations

import pytest

from analytics import chi_square, kruskal_wallis, mann_whitney, newcombe_difference, wilson
from analytics.proportions import fisher_p, two_by_two_p


def counts_over_levels(*samples: list[float]) -> list[list[int]]:
    """Turn raw samples into a samples × sorted-distinct-values count table."""
    levels = sorted({value for sample in samples for value in sample})
    return [[sample.count(level) for level in levels] for sample in samples]


@pytest.mark.parametrize(
    ("k", "n", "expected"),
    [
        (81, 263, (0.2553, 0.3662)),
        (15, 148, (0.0624, 0.1605)),
        (0, 20, (0.0, 0.1611)),
        (1, 29, (0.0061, 0.1718)),
    ],
)
def test_wilson_newcombe_1998_table_i(k, n, expected):
    """1. Wilson score intervals, Newcombe 1998 (Stat Med 17:857), Table I."""
    lo, hi = wilson(k, n)
    assert (round(lo, 4), round(hi, 4)) == expected


@pytest.mark.parametrize(
    ("k1", "n1", "k2", "n2", "expected"),
    [
        (56, 70, 48, 80, (0.0524, 0.3339)),
        (9, 10, 3, 10, (0.1705, 0.8090)),
        (5, 56, 0, 29, (-0.0381, 0.1926)),
        (0, 10, 0, 20, (-0.1611, 0.2775)),
        (10, 10, 0, 20, (0.6791, 1.0)),
    ],
)
def test_newcombe_1998_table_ii(k1, n1, k2, n2, expected):
    """2. Hybrid score intervals of a difference, Newcombe 1998 (Stat Med 17:873), Table II."""
    diff, lo, hi = newcombe_difference(k1, n1, k2, n2)
    assert diff == pytest.approx(k1 / n1 - k2 / n2)
    assert (round(lo, 4), round(hi, 4)) == expected


def test_chi_square_agresti_2007():
    """3. Party identification by gender, Agresti 2007 p.39 (R chisq.test example)."""
    result = chi_square([[762, 327, 468], [484, 239, 477]])
    assert round(result.statistic, 2) == 30.07
    assert result.df == 2
    assert result.p == pytest.approx(2.954e-7, rel=5e-4)
    assert round(result.cramers_v, 4) == 0.1044


def test_kruskal_wallis_hollander_wolfe():
    """4. Mucociliary efficiency, Hollander & Wolfe (R kruskal.test example)."""
    table = counts_over_levels(
        [2.9, 3.0, 2.5, 2.6, 3.2], [3.8, 2.7, 4.0, 2.4], [2.8, 3.4, 3.7, 2.2, 2.0]
    )
    result = kruskal_wallis(table)
    assert round(result.statistic, 4) == 0.7714
    assert result.df == 2
    assert round(result.p, 2) == 0.68


def test_chi_square_homogeneity_fleiss():
    """5. Smokers with lung cancer in four groups, Fleiss (R prop.test example)."""
    smokers, patients = [83, 90, 129, 70], [86, 93, 136, 82]
    table = [[s, n - s] for s, n in zip(smokers, patients, strict=True)]
    result = chi_square(table)
    assert round(result.statistic, 1) == 12.6
    assert result.df == 3
    assert result.p == pytest.approx(0.005585, abs=5e-7)


def test_fisher_exact_greater():
    """6. Fisher's tea-tasting lady, one-sided (R fisher.test example)."""
    assert round(fisher_p(3, 1, 1, 3, alternative="greater"), 4) == 0.2429
    p, method = two_by_two_p(3, 1, 1, 3)  # expected counts of 2: Fisher, two-sided
    assert method == "fisher"
    assert round(p, 4) == 0.4857


def test_mann_whitney_shier_2004():
    """7. Mann–Whitney, Shier 2004 (scipy mannwhitneyu docs): U = 17, asymptotic p = 0.1113."""
    table = counts_over_levels([19, 22, 16, 29, 24], [20, 11, 17, 12])
    result = mann_whitney(table[0], table[1])
    assert result.u == 17
    assert round(result.p, 4) == 0.1113
