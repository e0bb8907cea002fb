"""Fixtures for the analytics tests: simulated surveys and a check that results are plain data."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from analytics.report import Scale, SurveyCounts

FOUR_LEVELS = Scale(
    option_keys=("good", "fairly_good", "average", "poor"),
    weights=(4.0, 3.0, 2.0, 1.0),
    favourable=(True, True, False, False),
)


def simulate(
    rng: np.random.Generator,
    sizes: np.ndarray,
    *,
    items: int = 3,
    scale: Scale = FOUR_LEVELS,
    skip: float = 0.1,
    threshold: int = 5,
    category_weights: tuple[float | None, ...] | None = None,
    min_rank_respondents: int = 30,
    probabilities: np.ndarray | None = None,
) -> tuple[SurveyCounts, list[np.ndarray]]:
    """Simulate raw answers for sizes[b, c] respondents; return the counts and the raw matrices.

    Each raw matrix holds one row per respondent and one column per item, with the chosen option
    index, or -1 for a skipped item; matrices are listed branch by branch, category by category.
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    n_branches, n_categories = sizes.shape
    n_options = len(scale.option_keys)
    counts = np.zeros((n_branches, n_categories, items, n_options), dtype=np.int64)
    raw = []
    for b in range(n_branches):
        p = rng.dirichlet(np.ones(n_options)) if probabilities is None else probabilities[b]
        for c in range(n_categories):
            answers = rng.choice(n_options, size=(int(sizes[b, c]), items), p=p)
            answers[rng.random(answers.shape) < skip] = -1
            raw.append(answers)
            for i in range(items):
                counts[b, c, i] = np.bincount(
                    answers[:, i][answers[:, i] >= 0], minlength=n_options
                )
    everyone = np.concatenate(raw) if raw else np.zeros((0, items), dtype=np.int64)
    complete = everyone[(everyone >= 0).all(axis=1)]
    weights = np.asarray(scale.weights)
    item_counts = np.array(
        [np.bincount(complete[:, i], minlength=n_options) for i in range(items)], dtype=np.int64
    ).reshape(items, n_options)
    totals = weights[complete].sum(axis=1) if complete.size else np.zeros(0)
    values, total_counts = np.unique(np.round(totals, 9), return_counts=True)
    survey = SurveyCounts(
        scale=scale,
        item_keys=tuple(f"q{i + 1}" for i in range(items)),
        branch_keys=tuple(f"B{b:02d}" for b in range(n_branches)),
        category_keys=tuple(f"cat{c}" for c in range(n_categories)),
        category_weights=category_weights or (None,) * n_categories,
        counts=counts,
        respondents=sizes,
        threshold=threshold,
        complete_item_counts=item_counts,
        complete_total_values=values,
        complete_total_counts=total_counts,
        min_rank_respondents=min_rank_respondents,
    )
    return survey, raw


def walk_plain(value: object, path: str = "result") -> None:
    """Fail unless value is built of dataclasses, dicts, tuples and plain finite Python scalars."""
    if value is None or type(value) in (bool, int, str):
        return
    if type(value) is float:
        assert math.isfinite(value), f"{path} is {value}"
        return
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            walk_plain(getattr(value, field.name), f"{path}.{field.name}")
        return
    if type(value) is dict:
        for key, item in value.items():
            assert type(key) is str, f"{path} has a non-str key {key!r}"
            walk_plain(item, f"{path}[{key!r}]")
        return
    if type(value) in (tuple, list):
        for i, item in enumerate(value):  # type: ignore[arg-type]
            walk_plain(item, f"{path}[{i}]")
        return
    raise AssertionError(f"{path} has a {type(value).__name__}: {value!r}")


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator, so that failures reproduce."""
    return np.random.default_rng(20240607)


@pytest.fixture(scope="session")
def simulate_survey():
    """The ``simulate`` helper, as a fixture (session-scoped, so hypothesis tests may use it)."""
    return simulate


@pytest.fixture(scope="session")
def assert_plain():
    """The ``walk_plain`` check, as a fixture (session-scoped, so hypothesis tests may use it)."""
    return walk_plain


@pytest.fixture(scope="session")
def four_levels() -> Scale:
    """The 好 / 比較好 / 一般 / 差 scale, weights 4..1, the first two favourable."""
    return FOUR_LEVELS
