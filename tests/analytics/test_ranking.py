"""Ranks follow the figure the office publishes: the weighted composite when categories weigh."""

from __future__ import annotations

import numpy as np

from analytics.report import Scale, SurveyCounts, analyse

SCALE = Scale(("good", "poor"), (100.0, 0.0), (True, False))


def _counts(weights: tuple[float | None, ...]) -> SurveyCounts:
    # Branch a: members all good, public all poor. Branch b: the other way round.
    # Unweighted, both are at 50 %; weighted 40/60 towards the public, b is ahead.
    counts = np.zeros((2, 2, 1, 2), dtype=np.int64)
    counts[0, 0, 0, 0] = counts[0, 1, 0, 1] = 40
    counts[1, 0, 0, 1] = counts[1, 1, 0, 0] = 40
    return SurveyCounts(
        scale=SCALE,
        item_keys=("q1",),
        branch_keys=("a", "b"),
        category_keys=("member", "public"),
        category_weights=weights,
        counts=counts,
        respondents=np.full((2, 2), 40),
        threshold=5,
        complete_item_counts=counts.sum(axis=(0, 1)),
        complete_total_values=np.array([0.0, 100.0]),
        complete_total_counts=np.array([80, 80]),
    )


def test_weighted_categories_decide_the_rank():
    ranks = {b.key: b.rank for b in analyse(_counts((0.4, 0.6))).branches}
    assert ranks == {"b": 1, "a": 2}


def test_without_weights_equal_rates_share_a_rank():
    ranks = {b.key: b.rank for b in analyse(_counts((None, None))).branches}
    assert ranks == {"a": 1, "b": 1}
