"""The suppression rule: the worked example, tie-breaking and the no-disclosure property."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics import analyse, suppressed


def test_worked_example_of_the_readme():
    """k = 5; 50, 40, 3, 22, 0, 9, 70: the 3 (primary) and the 9 (complementary) are hidden."""
    sizes = {"b1": 50, "b2": 40, "b3": 3, "b4": 22, "b5": 0, "b6": 9, "b7": 70}
    assert suppressed(sizes, 5) == frozenset({"b3", "b6"})


def test_ties_broken_by_key_in_string_order():
    """Two smallest shown groups of equal size: the lower key is suppressed."""
    sizes = {"b": 8, "a10": 8, "a9": 8, "c": 2}
    assert suppressed(sizes, 5) == frozenset({"c", "a10"})


def test_empty_groups_never_suppressed_and_stop_when_nothing_left():
    """Zero-size groups stay shown; when only small groups exist, all of them are hidden."""
    assert suppressed({"a": 0, "b": 0}, 5) == frozenset()
    assert suppressed({"a": 2, "b": 1, "c": 0}, 5) == frozenset({"a", "b"})
    assert suppressed({}, 5) == frozenset()
    assert suppressed({"a": 1, "b": 2}, 0) == frozenset()


def test_complementary_may_take_several_rounds():
    """The smallest shown group is added until the hidden total reaches k (or is 0)."""
    sizes = {"a": 1, "b": 6, "c": 7, "d": 30}
    assert suppressed(sizes, 5) == frozenset({"a", "b"})
    assert suppressed({"a": 1, "b": 1, "c": 30, "d": 40}, 5) == frozenset({"a", "b", "c"})


def test_negative_sizes_rejected():
    """A negative respondent count is a caller error."""
    with pytest.raises(ValueError):
        suppressed({"a": -1}, 5)


@settings(max_examples=200, deadline=None)
@given(
    sizes=st.dictionaries(
        st.text("abcdef", min_size=1, max_size=3),
        st.one_of(st.integers(0, 12), st.integers(0, 200)),
        max_size=12,
    ),
    threshold=st.integers(0, 15),
)
def test_shown_groups_never_reveal_a_small_remainder(sizes, threshold):
    """Total minus the shown groups is 0 or ≥ k, unless everything is hidden and total < k."""
    hidden = suppressed(sizes, threshold)
    total = sum(sizes.values())
    remainder = total - sum(n for key, n in sizes.items() if key not in hidden)
    everything_hidden = all(sizes[key] == 0 for key in sizes if key not in hidden)
    assert not (1 <= remainder < threshold) or (everything_hidden and total < threshold)
    # Primary cells are always hidden; empty groups never are.
    assert all(key in hidden for key, n in sizes.items() if 1 <= n < threshold)
    assert all(key not in hidden for key, n in sizes.items() if n == 0)


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 12), min_size=1, max_size=8),
    threshold=st.integers(1, 10),
    seed=st.integers(0, 2**32 - 1),
)
def test_analyse_carries_no_figures_for_suppressed_branches(
    sizes, threshold, seed, simulate_survey, assert_plain
):
    """A suppressed branch or category cell exposes its respondent count and nothing else."""
    rng = np.random.default_rng(seed)
    cells = np.column_stack([np.array(sizes), rng.integers(0, 4, size=len(sizes))])
    survey, _ = simulate_survey(
        rng, cells, items=2, threshold=threshold, category_weights=(1.0, 2.0)
    )
    result = analyse(survey)
    assert_plain(result)
    hidden = suppressed(
        dict(zip(survey.branch_keys, cells.sum(axis=1).tolist(), strict=True)), threshold
    )
    for branch in result.branches:
        if branch.key in hidden:
            assert branch.status == "suppressed"
            assert branch.items is None and branch.vs_rest is None
            assert branch.composite is None and branch.rank is None
            assert branch.categories == {}
            continue
        for category in branch.categories.values():
            if category.suppressed:
                assert category.items is None
                assert category.respondents >= 1
        shown = [c.respondents for c in branch.categories.values() if not c.suppressed]
        assert not 1 <= branch.respondents - sum(shown) < threshold
    if 1 <= survey.respondents.sum() < threshold:
        assert result.overall_suppressed
        assert result.overall is None and result.tests is None and result.cronbach_alpha is None
