"""analyse() and compare(): figures agree with the building blocks, and edge cases stay clean."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics import (
    Scale,
    SurveyCounts,
    analyse,
    chi_square,
    compare,
    cronbach_alpha,
    holm,
    kruskal_wallis,
    mann_whitney,
    newcombe_difference,
    post_stratified,
    two_by_two_p,
    wilson,
)
from analytics.report import SHOWN, Comparison, VsRest

SCALES = {
    "four": Scale(
        ("good", "fair", "average", "poor"), (4.0, 3.0, 2.0, 1.0), (True,) * 2 + (False,) * 2
    ),
    "three": Scale(("sat", "basic", "unsat"), (100.0, 60.0, 0.0), (True, True, False)),
    "single": Scale(("only",), (1.0,), (True,)),
    "none_favourable": Scale(("a", "b"), (1.0, 0.0), (False, False)),
    "all_favourable": Scale(("a", "b"), (1.0, 0.0), (True, True)),
    "tied_weights": Scale(("a", "b", "c"), (2.0, 2.0, 0.0), (True, False, False)),
}


def to_json(result) -> str:
    """Serialise a result the way the web layer would, refusing NaN."""
    return json.dumps(dataclasses.asdict(result), allow_nan=False)


@pytest.fixture
def survey(rng, simulate_survey):
    """Twelve branches × two categories, with an empty and two small branches, k = 5."""
    sizes = rng.integers(5, 40, size=(12, 2))
    sizes[0] = (0, 0)  # empty
    sizes[1] = (2, 1)  # primary suppression
    sizes[2] = (3, 4)  # complementary suppression (smallest shown)
    sizes[3] = (30, 2)  # shown branch with a suppressed category
    counts, raw = simulate_survey(rng, sizes, items=4, category_weights=(2.0, 1.0))
    return counts, raw


def test_statuses_and_suppression(survey, assert_plain):
    """Empty, suppressed and shown branches come out as the rule says, with no hidden figures."""
    counts, _ = survey
    result = analyse(counts)
    assert_plain(result)
    to_json(result)
    by_key = {b.key: b for b in result.branches}
    assert by_key["B00"].status == "empty"
    assert by_key["B00"].items["q1"].n == 0 and by_key["B00"].items["q1"].favourable_rate is None
    assert by_key["B01"].status == "suppressed" and by_key["B02"].status == "suppressed"
    assert by_key["B01"].respondents == 3
    assert result.suppressed_total == 3 + 7 and result.suppressed_branches == 2
    category = by_key["B03"].categories["cat1"]
    assert category.suppressed and category.items is None and category.respondents == 2
    # With one category hidden, the other (the whole rest of the branch) is hidden too.
    assert by_key["B03"].categories["cat0"].suppressed
    assert result.respondents == int(counts.respondents.sum())


def test_summaries_match_building_blocks(survey):
    """Branch and overall summaries equal wilson/mean computations on the summed counts."""
    counts, _ = survey
    result = analyse(counts)
    overall_cells = counts.counts.sum(axis=(0, 1))
    for i, item in enumerate(counts.item_keys):
        summary = result.overall[item]
        cells = overall_cells[i]
        favourable = int(cells[:2].sum())
        assert summary.counts == tuple(cells.tolist())
        assert summary.n == cells.sum()
        assert summary.favourable_rate == pytest.approx(favourable / cells.sum())
        assert summary.favourable_ci == pytest.approx(wilson(favourable, int(cells.sum())))
        scores = np.repeat(counts.scale.weights, cells)
        assert summary.score_mean == pytest.approx(scores.mean())
    branch = next(b for b in result.branches if b.key == "B05")
    cells = counts.counts[5].sum(axis=0)[0]
    assert branch.items["q1"].counts == tuple(cells.tolist())


def test_vs_rest_and_holm(survey):
    """Each shown branch against all other answers (suppressed ones included), Holm per item."""
    counts, _ = survey
    result = analyse(counts)
    branch_cells = counts.counts.sum(axis=1)[:, 0, :]  # item q1
    shown = [b for b in result.branches if b.status == "shown" and b.items["q1"].n > 0]
    raw_p = []
    for b in shown:
        j = counts.branch_keys.index(b.key)
        fav, n = int(branch_cells[j, :2].sum()), int(branch_cells[j].sum())
        fav_rest = int(branch_cells[:, :2].sum()) - fav
        n_rest = int(branch_cells.sum()) - n
        p, method = two_by_two_p(fav, n - fav, fav_rest, n_rest - fav_rest)
        assert b.vs_rest["q1"].p == p and b.vs_rest["q1"].method == method
        assert b.vs_rest["q1"].effect == pytest.approx(fav / n - fav_rest / n_rest)
        raw_p.append(p)
    adjusted = holm(raw_p)
    for b, p_adj in zip(shown, adjusted, strict=True):
        mark = b.vs_rest["q1"]
        assert mark.p_adjusted == p_adj
        if p_adj < 0.05:
            assert mark.signal == ("above" if mark.effect > 0 else "below")
            assert mark.verdict == mark.signal
        else:
            assert mark.signal == "none"
            too_few = b.items["q1"].n < counts.min_rank_respondents
            assert mark.verdict == ("too_few" if too_few else "none")
    empty = next(b for b in result.branches if b.status == "empty")
    assert empty.vs_rest["q1"] == VsRest(None, None, "none", None, None, "not_tested")


def test_signals_detect_a_clearly_different_branch(simulate_survey):
    """A branch far above the others is marked "above", with a positive effect."""
    rng = np.random.default_rng(3)
    probabilities = np.tile([0.1, 0.2, 0.4, 0.3], (6, 1))
    probabilities[2] = [0.7, 0.25, 0.05, 0.0]
    counts, _ = simulate_survey(
        rng, np.full((6, 1), 80), items=1, skip=0.0, probabilities=probabilities
    )
    result = analyse(counts)
    marks = [b.vs_rest["q1"] for b in result.branches]
    assert marks[2].signal == "above" and marks[2].effect > 0.4
    assert result.branches[2].rank == 1
    assert sum(m.signal == "above" for m in marks) == 1


def test_omnibus_tests_leave_suppressed_branches_out(survey):
    """Per-item χ² and Kruskal–Wallis run on the shown branches only, over categories: a test
    over every branch could be solved for a hidden branch's counts."""
    counts, _ = survey
    result = analyse(counts)
    shown = np.array([b.status == SHOWN for b in result.branches])
    assert 0 < shown.sum() < len(shown), "the fixture needs shown and hidden branches"
    table = counts.counts.sum(axis=1)[:, 2, :]
    assert result.tests["q3"].chi2 == chi_square(table[shown])
    assert result.tests["q3"].kruskal == kruskal_wallis(table[shown][:, ::-1])  # weights ascending
    # Control: with the hidden branches in, the statistic differs, so they do matter.
    assert result.tests["q3"].chi2 != chi_square(table)


def test_composite_and_weighted_composite(survey):
    """Composite = mean of item rates; weighted pools suppressed categories into one stratum."""
    counts, _ = survey
    result = analyse(counts)
    branch = next(b for b in result.branches if b.key == "B05")
    rates = [s.favourable_rate for s in branch.items.values()]
    assert branch.composite.favourable_rate == pytest.approx(np.mean(rates))
    scores = [s.score_mean for s in branch.items.values()]
    assert branch.composite.score_mean == pytest.approx(np.mean(scores))

    def category_rate(cells):
        n = cells.sum(axis=1)
        return float(np.mean(cells[:, :2].sum(axis=1)[n > 0] / n[n > 0]))

    cells = counts.counts[5]
    sizes = counts.respondents[5]
    expected = post_stratified(
        [category_rate(cells[0]), category_rate(cells[1])], sizes.tolist(), [2.0, 1.0]
    )
    assert branch.composite.weighted == pytest.approx(expected)
    # B03: both categories hidden inside the branch, so the weighted rate is the pooled one.
    b03 = next(b for b in result.branches if b.key == "B03")
    pooled = post_stratified([category_rate(counts.counts[3].sum(axis=0))], [32], [1.0])
    assert b03.composite.weighted == pytest.approx(pooled)


def test_ranks_competition_with_ties_and_minimum_size():
    """Equal composites share a rank (1, 2, 2, 4); small branches get none."""
    scale = SCALES["three"]
    rows = [[30, 0, 10], [20, 0, 20], [20, 0, 20], [10, 0, 30], [29, 0, 0]]
    counts = np.array(rows, dtype=np.int64).reshape(5, 1, 1, 3)
    survey = SurveyCounts(
        scale=scale,
        item_keys=("q1",),
        branch_keys=("a", "b", "c", "d", "e"),
        category_keys=("all",),
        category_weights=(None,),
        counts=counts,
        respondents=counts.sum(axis=(2, 3)),
        threshold=5,
        complete_item_counts=counts.sum(axis=(0, 1)),
        complete_total_values=[100.0, 0.0],
        complete_total_counts=[109, 80],
        min_rank_respondents=30,
    )
    result = analyse(survey)
    assert [b.rank for b in result.branches] == [1, 2, 2, 4, None]
    assert result.branches[4].status == "shown"


def test_cronbach_alpha_from_complete_responses(survey):
    """The survey's α equals the raw-matrix α of the respondents who answered every item."""
    counts, raw = survey
    choices = np.concatenate(raw)
    complete = choices[(choices >= 0).all(axis=1)]
    scores = np.asarray(counts.scale.weights)[complete]
    k = scores.shape[1]
    expected = k / (k - 1) * (1 - scores.var(axis=0, ddof=1).sum() / scores.sum(axis=1).var(ddof=1))
    assert analyse(counts).cronbach_alpha == pytest.approx(expected)


def test_whole_survey_below_threshold_withholds_overall(simulate_survey, rng, assert_plain):
    """With 1..k−1 respondents in all, nothing but turnout is published."""
    counts, _ = simulate_survey(rng, np.array([[1, 1], [2, 0], [0, 0]]), threshold=5)
    result = analyse(counts)
    assert_plain(result)
    assert result.overall_suppressed
    assert result.overall is None and result.tests is None and result.cronbach_alpha is None
    assert [b.status for b in result.branches] == ["suppressed", "suppressed", "empty"]


def _edge_survey(scale, sizes, counts_per_cell, threshold=1):
    """A hand-made survey with the given per-cell option counts for every item."""
    sizes = np.asarray(sizes, dtype=np.int64)
    counts = np.zeros((*sizes.shape, 2, len(scale.option_keys)), dtype=np.int64)
    counts[..., 0, :] = counts_per_cell
    counts[..., 0, :] = np.minimum(counts[..., 0, :], sizes[..., None])
    # Item q2 is answered by nobody.
    return SurveyCounts(
        scale=scale,
        item_keys=("q1", "q2"),
        branch_keys=tuple(f"b{i}" for i in range(sizes.shape[0])),
        category_keys=tuple(f"c{i}" for i in range(sizes.shape[1])),
        category_weights=(1.0,) + (None,) * (sizes.shape[1] - 1),
        counts=counts,
        respondents=sizes,
        threshold=threshold,
        complete_item_counts=np.zeros((2, len(scale.option_keys)), dtype=np.int64),
        complete_total_values=np.zeros(0),
        complete_total_counts=np.zeros(0, dtype=np.int64),
    )


@pytest.mark.parametrize(
    ("scale", "sizes", "cell"),
    [
        ("four", [[0, 0], [0, 0]], [0, 0, 0, 0]),  # n = 0 everywhere
        ("four", [[6, 6], [7, 7]], [0, 0, 6, 0]),  # every answer the same, none favourable
        ("four", [[9, 9]], [2, 3, 4, 0]),  # a single branch
        ("single", [[3, 4], [5, 6]], [3]),  # one-option scale
        ("none_favourable", [[10, 10], [10, 10]], [4, 6]),
        ("all_favourable", [[10, 10], [10, 10]], [4, 6]),
        ("tied_weights", [[10, 10], [10, 10]], [4, 6, 0]),
        ("four", [[1, 0], [0, 0]], [1, 0, 0, 0]),  # a single respondent
    ],
)
def test_edge_cases_never_nan_or_raise(scale, sizes, cell, assert_plain):
    """Degenerate surveys give None for undefined statistics and never NaN or an exception."""
    counts = _edge_survey(SCALES[scale], sizes, cell)
    result = analyse(counts)
    assert_plain(result)
    to_json(result)
    comparison = compare(counts, counts)
    assert_plain(comparison)
    to_json(comparison)
    if result.overall is not None:
        assert result.overall["q2"].n == 0
        assert result.overall["q2"].favourable_rate is None
        assert result.tests["q2"].chi2.p is None and result.tests["q2"].kruskal.p is None


def test_all_answers_equal_gives_a_wide_interval_and_no_tests(assert_plain):
    """Every answer on one option: rate 0 or 1, a score interval that is not a point, no tests."""
    counts = _edge_survey(SCALES["four"], [[6, 6], [7, 7]], [0, 0, 6, 0])
    result = analyse(counts)
    summary = result.overall["q1"]
    assert summary.favourable_rate == 0.0 and summary.score_mean == 2.0
    lo, hi = summary.score_ci
    assert lo < 2.0 < hi
    assert result.tests["q1"].kruskal.statistic is None
    assert result.tests["q1"].chi2.statistic is None
    assert all(b.vs_rest["q1"].p is None for b in result.branches)


def test_huge_counts_stay_finite(assert_plain):
    """Counts in the hundreds of millions: no overflow, no warning, cost independent of n."""
    counts = _edge_survey(
        SCALES["four"], [[400_000_000, 300_000_100], [350_000_000, 0]], [10**8, 2 * 10**8, 5, 7]
    )
    result = analyse(counts, confidence=0.99)
    assert_plain(result)
    assert result.tests["q1"].kruskal.p is not None


@settings(max_examples=40, deadline=None)
@given(
    scale=st.sampled_from(sorted(SCALES)),
    branches=st.integers(1, 6),
    categories=st.integers(1, 3),
    max_size=st.sampled_from([0, 3, 12, 60]),
    skip=st.sampled_from([0.0, 0.3, 1.0]),
    threshold=st.integers(0, 8),
    weights=st.lists(st.one_of(st.none(), st.floats(0, 3)), min_size=3, max_size=3),
    seed=st.integers(0, 2**32 - 1),
    confidence=st.sampled_from([0.9, 0.95]),
)
def test_random_surveys_are_plain_data(
    scale,
    branches,
    categories,
    max_size,
    skip,
    threshold,
    weights,
    seed,
    confidence,
    simulate_survey,
    assert_plain,
):
    """Random small surveys, including empty and degenerate ones, give plain finite data."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(0, max_size + 1, size=(branches, categories))
    a, _ = simulate_survey(
        rng,
        sizes,
        items=3,
        scale=SCALES[scale],
        skip=skip,
        threshold=threshold,
        category_weights=tuple(weights[:categories]),
        min_rank_respondents=5,
    )
    b, _ = simulate_survey(
        rng, sizes[::-1], items=2, scale=SCALES["four"], skip=skip, threshold=threshold
    )
    result = analyse(a, confidence)
    assert_plain(result)
    to_json(result)
    for comparison in (compare(a, b, confidence), compare(a, a, confidence)):
        assert_plain(comparison)
        to_json(comparison)


def test_compare_against_building_blocks(simulate_survey):
    """Differences, Newcombe intervals, 2×2 p and Mann–Whitney p per item and shown branch."""
    rng = np.random.default_rng(11)
    sizes = np.array([[20, 20], [3, 0], [15, 15], [0, 0], [4, 4]])
    a, _ = simulate_survey(rng, sizes, items=2)
    b, _ = simulate_survey(rng, sizes + [[5, 5], [10, 0], [0, 0], [0, 0], [0, 0]], items=2)
    result = compare(a, b)
    assert set(result.overall) == {"q1", "q2"}
    # In a, B01 (3) and then B04 (8) are suppressed; B03 is empty: B00 and B02 are compared.
    assert set(result.branches) == {"B00", "B02"}
    ca, cb = a.counts[2].sum(axis=0)[1], b.counts[2].sum(axis=0)[1]
    fa, na, fb, nb = int(ca[:2].sum()), int(ca.sum()), int(cb[:2].sum()), int(cb.sum())
    expected_diff = newcombe_difference(fa, na, fb, nb)
    got = result.branches["B02"]["q2"]
    assert got.diff == pytest.approx(expected_diff[0])
    assert got.diff_ci == pytest.approx(expected_diff[1:])
    assert (got.p, got.method) == two_by_two_p(fa, na - fa, fb, nb - fb)
    assert got.mann_whitney_p == mann_whitney(ca[::-1], cb[::-1]).p


def test_compare_different_scales_and_items(simulate_survey):
    """Only shared items are compared; Mann–Whitney only when the scales are identical."""
    rng = np.random.default_rng(5)
    sizes = np.array([[30], [30]])
    a, _ = simulate_survey(rng, sizes, items=3, scale=SCALES["four"])
    b, _ = simulate_survey(rng, sizes, items=2, scale=SCALES["three"])
    result = compare(a, b)
    assert set(result.overall) == {"q1", "q2"}
    assert all(c.mann_whitney_p is None and c.diff is not None for c in result.overall.values())


def test_compare_with_empty_side_gives_none():
    """An item nobody answered on one side compares to all-None fields."""
    counts = _edge_survey(SCALES["four"], [[9, 9]], [2, 3, 4, 0])
    result = compare(counts, counts)
    assert result.overall["q2"] == Comparison(None, None, None, None, None)
    same = result.overall["q1"]
    assert same.diff == 0.0 and same.mann_whitney_p == 1.0


def test_malformed_input_rejected():
    """Shape mismatches and impossible counts are caller errors, raised at construction."""
    good = _edge_survey(SCALES["four"], [[9, 9]], [2, 3, 4, 0])
    fields = {f.name: getattr(good, f.name) for f in dataclasses.fields(good)}
    with pytest.raises(ValueError):
        SurveyCounts(**{**fields, "respondents": np.array([[1, 1]])})
    with pytest.raises(ValueError):
        SurveyCounts(**{**fields, "branch_keys": ("a", "b")})
    with pytest.raises(ValueError):
        SurveyCounts(**{**fields, "category_weights": (1.0,)})
    with pytest.raises(ValueError):
        Scale(("a", "b"), (1.0,), (True, False))
    with pytest.raises(ValueError):
        analyse(good, confidence=95)


def test_reliability_inputs_passed_through(survey):
    """analyse() uses the survey-wide complete-response tables for α."""
    counts, _ = survey
    expected = cronbach_alpha(
        counts.complete_item_counts,
        counts.scale.weights,
        counts.complete_total_values,
        counts.complete_total_counts,
    )
    assert analyse(counts).cronbach_alpha == expected
