"""The survey report: what the web layer calls to turn a count table into published figures.

``analyse`` takes one survey's counts (branch × category × item × option) and returns frozen
dataclasses holding only Python ints, floats, strings, booleans and None, so the result can be
rendered, exported or ``json.dumps``-ed as is. ``compare`` sets two surveys (stages) side by side.

Decisions worth knowing
-----------------------
* **Suppression** follows ``analytics.suppression`` for branches, and again for the category
  cells of each shown branch. A suppressed branch or cell carries its respondent count only.
  When the whole survey has 1..k−1 respondents, every non-empty branch is suppressed and the
  survey-wide figures (``overall``, ``tests``, ``cronbach_alpha``) are withheld as well
  (``overall_suppressed``), since they would describe that small group.
* **Branch vs the rest**: a branch's favourable answers against all other answers of the survey
  (suppressed branches' answers count among the rest), by the 2×2 rule of
  ``proportions.two_by_two_p``, Holm-adjusted across the shown branches of the item. The mark is
  "above"/"below" when the adjusted p is below 1 − confidence (0.05 by default).
* **Omnibus tests** (χ², Kruskal–Wallis) compare the *shown* branches only. Computed over every
  branch, the published statistic, the shown branches' counts and the hidden branches' sizes
  can be solved for a hidden branch's answers
  (tests/survey/properties/test_storage_anonymity.py does it).
* **Ordinal tests** (Kruskal–Wallis, Mann–Whitney) rank the option *weights*, so options that
  share a weight are ties, exactly as R's tests on the expanded scores.
* **Weighted composite**: per category, the mean over answered items of the favourable rate,
  post-stratified by the category weights with n_h = the category's respondents. To keep the
  figure from revealing a suppressed category (two differently weighted averages of the same
  cells could be solved for it), the branch's suppressed categories are pooled into one stratum
  whose weight is the sum of theirs; the pool holds ≥ k respondents by the complementary rule.
* **Verdicts** (:attr:`VsRest.verdict`) say what a page may say about a branch on an item:
  ``above``/``below`` (the Holm-adjusted mark), ``not_tested`` (no test was possible: no answers,
  or no variation in the 2×2 table), ``too_few`` (not clear, and the branch has fewer answers on
  the item than ``min_rank_respondents``, the survey's own "too few to rank"), else ``none``.
* **The headline figure** of a branch (:class:`analytics.headline.BranchHeadline`) is the
  post-stratified composite when categories are weighted, else the mean over items, with a
  Wilson interval on its effective n, its group (clearly above / not distinguishable / clearly
  below the rest, Holm-adjusted) and its mark against the survey's target.
* **Ranks** go only to shown branches with at least ``min_rank_respondents`` respondents, by the
  headline figure, descending, competition style (1, 2, 2, 4), ties within 1e-12. They stay in
  the JSON for compatibility; pages show the groups, which the data can support.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from analytics._util import as_counts, check_confidence, z_value
from analytics.headline import BranchHeadline, grouped, mean_effective_n, with_interval
from analytics.omnibus import (
    ChiSquare,
    KruskalWallis,
    chi_square,
    kruskal_wallis,
    mann_whitney,
)
from analytics.proportions import (
    holm,
    newcombe_difference,
    two_by_two_p,
    two_by_two_p_many,
    wilson_interval,
)
from analytics.reliability import cronbach_alpha
from analytics.scores import mean_intervals
from analytics.suppression import suppressed
from analytics.weighting import Weighted, shares_of, weight_arrays, weighted_rate

#: Branch statuses.
SHOWN = "shown"
SUPPRESSED = "suppressed"
EMPTY = "empty"

#: Signals of a branch against the rest of the survey.
ABOVE = "above"
BELOW = "below"
NO_SIGNAL = "none"
#: Verdicts beyond the signals (see :attr:`VsRest.verdict`).
NOT_TESTED = "not_tested"
TOO_FEW = "too_few"

#: Changes between two stages (see :attr:`Comparison.change`).
HIGHER = "higher"
LOWER = "lower"
NO_CLEAR_CHANGE = "none"

#: Composite rates closer than this are the same rank.
RANK_TOLERANCE = 1e-12


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True, slots=True)
class Scale:
    """An answer scale: option keys in order, their score weights and which are favourable."""

    option_keys: tuple[str, ...]
    weights: tuple[float, ...]
    favourable: tuple[bool, ...]

    def __post_init__(self) -> None:
        """Reject scales whose three tuples disagree in length or whose weights are not finite."""
        if not self.option_keys:
            raise ValueError("a scale needs at least one option")
        if not len(self.option_keys) == len(self.weights) == len(self.favourable):
            raise ValueError("option_keys, weights and favourable must have the same length")
        if len(set(self.option_keys)) != len(self.option_keys):
            raise ValueError("option keys must be unique")
        if not all(math.isfinite(float(w)) for w in self.weights):
            raise ValueError("weights must be finite")


@dataclass(frozen=True, slots=True, eq=False)
class SurveyCounts:
    """One survey's aggregated answers; arrays are coerced to int64/float64 and validated."""

    scale: Scale
    item_keys: tuple[str, ...]
    branch_keys: tuple[str, ...]
    category_keys: tuple[str, ...]
    #: None = no weighting for that category (it keeps its sample share).
    category_weights: tuple[float | None, ...]
    #: counts[b, c, i, o] answers from branch b, category c, to item i, with option o (int64)
    counts: np.ndarray
    #: respondents[b, c]: number of responses (a respondent may skip items)
    respondents: np.ndarray
    threshold: int
    #: (items, options) option counts over complete responses (every item answered)
    complete_item_counts: np.ndarray
    #: distinct total scores of complete responses
    complete_total_values: np.ndarray
    #: how many complete responses have each total score
    complete_total_counts: np.ndarray
    min_rank_respondents: int = 30
    #: The survey's yardstick, a favourable share in [0, 1], or None.
    target: float | None = None

    def __post_init__(self) -> None:
        """Coerce the arrays and check that shapes, keys and counts agree (caller errors raise)."""
        counts = as_counts(self.counts, ndim=4)
        respondents = as_counts(self.respondents, ndim=2)
        shape = (
            len(self.branch_keys),
            len(self.category_keys),
            len(self.item_keys),
            len(self.scale.option_keys),
        )
        if counts.shape != shape:
            raise ValueError(f"counts has shape {counts.shape}, keys say {shape}")
        if respondents.shape != shape[:2]:
            raise ValueError(f"respondents has shape {respondents.shape}, keys say {shape[:2]}")
        for name in ("item_keys", "branch_keys", "category_keys"):
            keys = getattr(self, name)
            if len(set(keys)) != len(keys):
                raise ValueError(f"{name} must be unique")
        if len(self.category_weights) != len(self.category_keys):
            raise ValueError("one category weight (or None) per category is needed")
        if np.any(counts.sum(axis=3) > respondents[:, :, None]):
            raise ValueError("an item has more answers than the cell has respondents")
        if self.threshold < 0 or self.min_rank_respondents < 0:
            raise ValueError("threshold and min_rank_respondents must not be negative")
        if self.target is not None and not 0 <= self.target <= 1:
            raise ValueError("the target is a share between 0 and 1")
        item_counts = as_counts(self.complete_item_counts, ndim=2)
        if item_counts.shape != shape[2:]:
            raise ValueError(f"complete_item_counts has shape {item_counts.shape}, not {shape[2:]}")
        total_counts = as_counts(self.complete_total_counts, ndim=1)
        total_values = np.asarray(self.complete_total_values, dtype=float)
        if total_values.shape != total_counts.shape:
            raise ValueError("complete_total_values and complete_total_counts differ in length")
        if np.any(item_counts.sum(axis=1) != total_counts.sum()):
            raise ValueError("each item needs one complete answer per complete response")
        object.__setattr__(self, "counts", counts)
        object.__setattr__(self, "respondents", respondents)
        object.__setattr__(self, "complete_item_counts", item_counts)
        object.__setattr__(self, "complete_total_values", total_values)
        object.__setattr__(self, "complete_total_counts", total_counts)


# --------------------------------------------------------------------------- outputs


@dataclass(frozen=True, slots=True)
class Summary:
    """One item in one group: n, option counts, favourable rate and mean score with intervals."""

    n: int
    counts: tuple[int, ...]
    favourable_rate: float | None
    favourable_ci: tuple[float, float] | None
    score_mean: float | None
    score_ci: tuple[float, float] | None


@dataclass(frozen=True, slots=True)
class VsRest:
    """A branch against the rest of the survey on one item; effect = branch rate − rest rate.
    ``verdict`` is what may be said in words (module docstring, "Verdicts")."""

    p: float | None
    p_adjusted: float | None
    signal: str
    method: str | None
    effect: float | None
    verdict: str = NO_SIGNAL


@dataclass(frozen=True, slots=True)
class Composite:
    """Mean over answered items of the favourable rate and of the score, and a weighted rate."""

    favourable_rate: float | None
    score_mean: float | None
    weighted: Weighted | None


@dataclass(frozen=True, slots=True)
class CategoryResult:
    """One respondent category inside a shown branch; items is None when suppressed."""

    key: str
    respondents: int
    suppressed: bool
    items: dict[str, Summary] | None


@dataclass(frozen=True, slots=True)
class BranchResult:
    """One branch: status shown/suppressed/empty; a suppressed branch carries no figures."""

    key: str
    respondents: int
    status: str
    items: dict[str, Summary] | None
    vs_rest: dict[str, VsRest] | None
    composite: Composite | None
    rank: int | None
    categories: dict[str, CategoryResult]
    #: The one figure every page names the branch by; None when suppressed or empty.
    headline: BranchHeadline | None = None


@dataclass(frozen=True, slots=True)
class ItemTests:
    """Omnibus tests of one item across the shown branches (hidden ones are left out)."""

    chi2: ChiSquare
    kruskal: KruskalWallis


@dataclass(frozen=True, slots=True)
class SurveyAnalysis:
    """A whole survey's published figures; overall/tests are None when the survey is below k."""

    overall: dict[str, Summary] | None
    branches: tuple[BranchResult, ...]
    tests: dict[str, ItemTests] | None
    cronbach_alpha: float | None
    respondents: int
    #: respondents in suppressed branches (turnout may be shown)
    suppressed_total: int
    suppressed_branches: int
    #: True when the survey has 1..k−1 respondents, so even the survey-wide figures are withheld
    overall_suppressed: bool


@dataclass(frozen=True, slots=True)
class Comparison:
    """Two stages on one item: a − b favourable rate, Newcombe interval, 2×2 p, Mann–Whitney p."""

    diff: float | None
    diff_ci: tuple[float, float] | None
    p: float | None
    mann_whitney_p: float | None
    method: str | None = None

    @property
    def change(self) -> str | None:
        """Where the interval of the difference lies: wholly above 0 (``higher``), wholly below
        (``lower``) or across it (``none``); None when the stages cannot be compared."""
        if self.diff_ci is None:
            return None
        lo, hi = self.diff_ci
        return HIGHER if lo > 0 else LOWER if hi < 0 else NO_CLEAR_CHANGE


@dataclass(frozen=True, slots=True)
class Headline:
    """The survey-wide headline: the mean over items of the favourable rate, with a
    conservative interval, and how many items it averages."""

    favourable_rate: float | None
    favourable_ci: tuple[float, float] | None
    items_rated: int


@dataclass(frozen=True, slots=True)
class SurveyComparison:
    """Stage a against stage b, survey-wide and per branch shown in both."""

    overall: dict[str, Comparison]
    branches: dict[str, dict[str, Comparison]]


# --------------------------------------------------------------------------- helpers


def _finite_or_none(values: np.ndarray) -> list:
    """``values`` as nested lists of Python floats, with None where a value is NaN or infinite
    (what :func:`to_float` does one value at a time, here for a whole array at once)."""
    out = values.astype(object)
    out[~np.isfinite(values)] = None
    return out.tolist()


def _intervals_or_none(lo: np.ndarray, hi: np.ndarray) -> list:
    """(lo, hi) tuples of Python floats as nested lists, None where either end is undefined."""
    pairs = np.empty(lo.shape, dtype=object)
    defined = np.isfinite(lo) & np.isfinite(hi)
    for index, low, high in zip(
        zip(*np.nonzero(defined), strict=True),
        lo[defined].tolist(),
        hi[defined].tolist(),
        strict=True,
    ):
        pairs[index] = (low, high)
    return pairs.tolist()


def _summaries(cells: np.ndarray, scale: Scale, confidence: float) -> list[list[Summary]]:
    """Summaries of a (groups, items, options) count array, computed in one vectorised pass.

    Undefined values become None array by array, not one at a time: a report of 1,000 branches
    builds some 30,000 summaries, and converting them value by value took half its analysis.
    """
    favourable = np.asarray(scale.favourable, dtype=bool)
    n = cells.sum(axis=-1)
    fav = cells[..., favourable].sum(axis=-1)
    safe_n = np.where(n > 0, n, 1)
    rate = np.where(n > 0, fav / safe_n, np.nan)
    lo, hi = wilson_interval(fav, n, confidence)
    mean, score_lo, score_hi = mean_intervals(cells, scale.weights, confidence)
    columns = (
        cells.tolist(),
        n.tolist(),
        _finite_or_none(np.asarray(rate, dtype=float)),
        _intervals_or_none(np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)),
        _finite_or_none(np.asarray(mean, dtype=float)),
        _intervals_or_none(np.asarray(score_lo, dtype=float), np.asarray(score_hi, dtype=float)),
    )
    return [
        [
            Summary(
                n=n_i,
                counts=tuple(option_counts),
                favourable_rate=r,
                favourable_ci=r_ci,
                score_mean=m,
                score_ci=m_ci,
            )
            for option_counts, n_i, r, r_ci, m, m_ci in zip(*group, strict=True)
        ]
        for group in zip(*columns, strict=True)
    ]


def _by_item(item_keys: tuple[str, ...], values: list) -> dict:
    """Key a per-item list by item key."""
    return dict(zip(item_keys, values, strict=True))


def _by_value(cells: np.ndarray, weights: tuple[float, ...]) -> np.ndarray:
    """Collapse the option axis onto the sorted distinct weights, so equal weights are ties."""
    _, inverse = np.unique(np.asarray(weights, dtype=float), return_inverse=True)
    one_hot = np.zeros((len(weights), int(inverse.max()) + 1), dtype=np.int64)
    one_hot[np.arange(len(weights)), inverse] = 1
    return cells @ one_hot


def _composite_rates(cells: np.ndarray, scale: Scale) -> np.ndarray:
    """Mean over answered items of the favourable rate of each (…, items, options) table,
    NaN where no item was answered. Unanswered items add an exact 0 in their own place, so a
    table whose items were all answered gets the very mean of its rates."""
    n = cells.sum(axis=-1)
    answered = n > 0
    fav = cells[..., np.asarray(scale.favourable, dtype=bool)].sum(axis=-1)
    rates = np.divide(fav, n, out=np.zeros(n.shape), where=answered)
    count = answered.sum(axis=-1)
    return np.divide(rates.sum(axis=-1), count, out=np.full(count.shape, np.nan), where=count > 0)


@dataclass(frozen=True, slots=True)
class _Weighting:
    """The category weights of a survey, checked once: which categories have one, its value,
    and z for the intervals (see :func:`analytics.weighting.weighted_rate`)."""

    given: np.ndarray
    values: np.ndarray
    z: float

    @classmethod
    def of(cls, counts: SurveyCounts, confidence: float) -> _Weighting | None:
        """None when no category has a weight: composites are then not post-stratified."""
        if all(w is None for w in counts.category_weights):
            return None
        given, values = weight_arrays(counts.category_weights)
        return cls(given, values, z_value(confidence))


def _weighted_composite(
    category_rates: np.ndarray,
    category_cells: np.ndarray,
    category_respondents: np.ndarray,
    hidden_categories: np.ndarray,
    scale: Scale,
    weighting: _Weighting,
) -> Weighted:
    """A branch's post-stratified rate; suppressed categories are pooled into one stratum."""
    # A category whose respondents skipped every item has no rate and enters no stratum.
    sizes = np.where(np.isfinite(category_rates), category_respondents, 0)
    shares = shares_of(sizes, weighting.given, weighting.values)
    if shares is None:
        return Weighted(None, None, None, None)
    shown = ~hidden_categories
    rates, strata_sizes, strata_shares = category_rates[shown], sizes[shown], shares[shown]
    if hidden_categories.any():
        pooled = _composite_rates(category_cells[hidden_categories].sum(axis=0), scale)
        rates = np.append(rates, pooled)
        strata_sizes = np.append(strata_sizes, sizes[hidden_categories].sum())
        strata_shares = np.append(strata_shares, float(shares[hidden_categories].sum()))
    return weighted_rate(
        rates, strata_sizes, np.ones(rates.size, dtype=bool), strata_shares, weighting.z
    )


def _composite(
    items: list[Summary],
    category_rates: np.ndarray | None,
    category_cells: np.ndarray,
    category_respondents: np.ndarray,
    hidden_categories: np.ndarray,
    scale: Scale,
    weighting: _Weighting | None,
) -> Composite:
    """Composite of a branch: means over items, and the post-stratified rate when weighted."""
    rates = [s.favourable_rate for s in items if s.favourable_rate is not None]
    scores = [s.score_mean for s in items if s.score_mean is not None]
    weighted = None
    if weighting is not None:
        weighted = _weighted_composite(
            category_rates,
            category_cells,
            category_respondents,
            hidden_categories,
            scale,
            weighting,
        )
    return Composite(
        favourable_rate=float(np.mean(rates)) if rates else None,
        score_mean=float(np.mean(scores)) if scores else None,
        weighted=weighted,
    )


def _verdict(signal: str, p: float | None, n: int, min_answers: int) -> str:
    """What may be said: the mark, else why there is none (module docstring, "Verdicts")."""
    if signal != NO_SIGNAL:
        return signal
    if p is None:
        return NOT_TESTED
    return TOO_FEW if n < min_answers else NO_SIGNAL


def _vs_rest(
    branch_cells: np.ndarray,
    shown: np.ndarray,
    scale: Scale,
    confidence: float,
    min_answers: int = 0,
) -> list[list[VsRest]]:
    """Each shown branch against all other answers, per item, Holm across branches (Holm 1979)."""
    favourable = np.asarray(scale.favourable, dtype=bool)
    n = branch_cells.sum(axis=-1)  # (branches, items)
    fav = branch_cells[..., favourable].sum(axis=-1)
    n_rest = n.sum(axis=0)[None, :] - n
    fav_rest = fav.sum(axis=0)[None, :] - fav
    tested = shown[:, None] & (n > 0)
    idx = np.nonzero(tested)
    p_flat, methods_flat = two_by_two_p_many(
        fav[idx], (n - fav)[idx], fav_rest[idx], (n_rest - fav_rest)[idx]
    )
    branches, items = n.shape
    p = [[None] * items for _ in range(branches)]
    method = [[None] * items for _ in range(branches)]
    for b, i, p_value, m in zip(*(x.tolist() for x in idx), p_flat, methods_flat, strict=True):
        p[b][i] = p_value
        method[b][i] = m
    adjusted = [[None] * items for _ in range(branches)]
    for i in range(items):
        column = holm([p[b][i] for b in range(branches)])
        for b in range(branches):
            adjusted[b][i] = column[b]
    alpha = 1.0 - confidence
    out = []
    for b in range(branches):
        row = []
        for i in range(items):
            effect = None
            if tested[b, i] and n_rest[b, i] > 0:
                effect = float(fav[b, i] / n[b, i] - fav_rest[b, i] / n_rest[b, i])
            signal = NO_SIGNAL
            p_adj = adjusted[b][i]
            if p_adj is not None and p_adj < alpha and effect is not None and effect != 0:
                signal = ABOVE if effect > 0 else BELOW
            verdict = _verdict(signal, p[b][i], int(n[b, i]), min_answers)
            row.append(VsRest(p[b][i], p_adj, signal, method[b][i], effect, verdict))
        out.append(row)
    return out


def _branch_headline(
    composite: Composite, item_n: np.ndarray, pooled: bool, z: float
) -> BranchHeadline | None:
    """A shown branch's headline figure (module docstring of :mod:`analytics.headline`)."""
    weighted = composite.weighted
    if weighted is not None and weighted.rate is not None:
        return with_interval(weighted.rate, weighted.effective_n, z, True, pooled)
    effective_n = mean_effective_n(item_n)
    if composite.favourable_rate is None or effective_n is None:
        return None
    return with_interval(composite.favourable_rate, effective_n, z, False, False)


def _rest_figures(
    counts: SurveyCounts, branches: list[int], weighting: _Weighting | None
) -> dict[int, tuple[float, float]]:
    """(rate, effective n) of the same headline figure over all answers but each branch's."""
    if not branches:
        return {}
    scale, index = counts.scale, np.asarray(branches)
    out: dict[int, tuple[float, float]] = {}
    if weighting is not None:
        rest_cells = counts.counts.sum(axis=0)[None] - counts.counts[index]
        rest_rates = _composite_rates(rest_cells, scale)
        rest_sizes = counts.respondents.sum(axis=0)[None] - counts.respondents[index]
        for j, b in enumerate(branches):
            rest = weighted_rate(
                rest_rates[j], rest_sizes[j], weighting.given, weighting.values, weighting.z
            )
            if rest.rate is not None:
                out[b] = (rest.rate, rest.effective_n)
        return out
    all_cells = counts.counts.sum(axis=1)
    rest_cells = all_cells.sum(axis=0)[None] - all_cells[index]
    rates = _composite_rates(rest_cells, scale)
    for j, b in enumerate(branches):
        effective_n = mean_effective_n(rest_cells[j].sum(axis=-1))
        if np.isfinite(rates[j]) and effective_n is not None:
            out[b] = (float(rates[j]), effective_n)
    return out


def _ranking_rate(composite: Composite) -> float | None:
    """The figure branches are ranked by: the post-stratified composite when categories are
    weighted (the figure the office publishes), else the plain mean over items."""
    if composite.weighted is not None and composite.weighted.rate is not None:
        return composite.weighted.rate
    return composite.favourable_rate


def _ranks(rates: Mapping[int, float]) -> dict[int, int]:
    """Competition ranks (1, 2, 2, 4) by rate descending, ties within RANK_TOLERANCE."""
    ordered = np.sort(np.fromiter(rates.values(), dtype=float, count=len(rates)))
    return {
        b: 1 + len(ordered) - int(np.searchsorted(ordered, rate + RANK_TOLERANCE, side="right"))
        for b, rate in rates.items()
    }


def _statuses(counts: SurveyCounts) -> tuple[list[str], bool]:
    """Branch statuses under the suppression rule, and whether the survey total is below k."""
    sizes = counts.respondents.sum(axis=1).tolist()
    hidden = suppressed(dict(zip(counts.branch_keys, sizes, strict=True)), counts.threshold)
    statuses = [
        EMPTY if size == 0 else SUPPRESSED if key in hidden else SHOWN
        for key, size in zip(counts.branch_keys, sizes, strict=True)
    ]
    total = sum(sizes)
    return statuses, 1 <= total < counts.threshold


# --------------------------------------------------------------------------- entry points


def analyse(counts: SurveyCounts, confidence: float = 0.95) -> SurveyAnalysis:
    """One survey's summaries, vs-rest marks (Holm 1979), omnibus tests, ranks and α, suppressed."""
    check_confidence(confidence)
    scale, item_keys = counts.scale, counts.item_keys
    branch_cells = counts.counts.sum(axis=1)  # (branches, items, options)
    overall_cells = branch_cells.sum(axis=0)
    branch_respondents = counts.respondents.sum(axis=1)
    statuses, overall_suppressed = _statuses(counts)
    shown = np.array([s == SHOWN for s in statuses], dtype=bool)
    weighting = _Weighting.of(counts, confidence)
    category_rates = _composite_rates(counts.counts, scale) if weighting else None

    branch_summaries = _summaries(branch_cells, scale, confidence)
    n_branches, n_categories = counts.respondents.shape
    flat_cells = counts.counts.reshape((n_branches * n_categories, *counts.counts.shape[2:]))
    category_summaries = _summaries(flat_cells, scale, confidence)
    vs_rest = _vs_rest(branch_cells, shown, scale, confidence, counts.min_rank_respondents)
    headlines: dict[int, BranchHeadline] = {}
    z = z_value(confidence)

    composites: dict[int, Composite] = {}
    categories: dict[int, dict[str, CategoryResult]] = {}
    for b, status in enumerate(statuses):
        if status == SUPPRESSED:
            categories[b] = {}
            continue
        cat_sizes = counts.respondents[b]
        hidden = suppressed(
            dict(zip(counts.category_keys, cat_sizes.tolist(), strict=True)), counts.threshold
        )
        hidden_mask = np.array([key in hidden for key in counts.category_keys], dtype=bool)
        categories[b] = {
            key: CategoryResult(
                key=key,
                respondents=int(cat_sizes[c]),
                suppressed=bool(hidden_mask[c]),
                items=None
                if hidden_mask[c]
                else _by_item(item_keys, category_summaries[b * n_categories + c]),
            )
            for c, key in enumerate(counts.category_keys)
        }
        composites[b] = _composite(
            branch_summaries[b],
            category_rates[b] if category_rates is not None else None,
            counts.counts[b],
            cat_sizes,
            hidden_mask,
            scale,
            weighting,
        )
        figure = _branch_headline(
            composites[b], branch_cells[b].sum(axis=-1), bool(hidden_mask.any()), z
        )
        if figure is not None and status == SHOWN:
            headlines[b] = figure

    rankable = {
        b: _ranking_rate(composites[b])
        for b in range(n_branches)
        if statuses[b] == SHOWN
        and branch_respondents[b] >= counts.min_rank_respondents
        and _ranking_rate(composites[b]) is not None
    }
    ranks = _ranks(rankable)  # type: ignore[arg-type]
    headlines = grouped(
        headlines,
        _rest_figures(counts, sorted(rankable), weighting),
        counts.target,
        1.0 - confidence,
    )

    branches = []
    for b, (key, status) in enumerate(zip(counts.branch_keys, statuses, strict=True)):
        visible = status != SUPPRESSED
        branches.append(
            BranchResult(
                key=key,
                respondents=int(branch_respondents[b]),
                status=status,
                items=_by_item(item_keys, branch_summaries[b]) if visible else None,
                vs_rest=_by_item(item_keys, vs_rest[b]) if visible else None,
                composite=composites.get(b),
                rank=ranks.get(b),
                categories=categories[b],
                headline=headlines.get(b),
            )
        )

    overall = tests = alpha = None
    if not overall_suppressed:
        overall = _by_item(item_keys, _summaries(overall_cells[None], scale, confidence)[0])
        shown_cells = branch_cells[shown]
        ordinal_cells = _by_value(shown_cells, scale.weights)
        tests = {
            key: ItemTests(
                chi2=chi_square(shown_cells[:, i, :]),
                kruskal=kruskal_wallis(ordinal_cells[:, i, :]),
            )
            for i, key in enumerate(item_keys)
        }
        alpha = cronbach_alpha(
            counts.complete_item_counts,
            scale.weights,
            counts.complete_total_values,
            counts.complete_total_counts,
        )
    suppressed_sizes = [
        int(size) for size, s in zip(branch_respondents, statuses, strict=True) if s == SUPPRESSED
    ]
    return SurveyAnalysis(
        overall=overall,
        branches=tuple(branches),
        tests=tests,
        cronbach_alpha=alpha,
        respondents=int(branch_respondents.sum()),
        suppressed_total=sum(suppressed_sizes),
        suppressed_branches=len(suppressed_sizes),
        overall_suppressed=overall_suppressed,
    )


def headline(overall: Mapping[str, Summary] | None) -> Headline:
    """The mean over items of the favourable rate (as in a branch composite), with a
    conservative interval: the mean of the items' Wilson limits, since SD(mean) ≤ mean(SD)
    whatever the correlation between items (exact when every respondent answers all items
    alike)."""
    rated = [s for s in (overall or {}).values() if s.favourable_rate is not None]
    if not rated:
        return Headline(None, None, 0)
    rate = float(np.mean([s.favourable_rate for s in rated]))
    lo = float(np.mean([s.favourable_ci[0] for s in rated]))
    hi = float(np.mean([s.favourable_ci[1] for s in rated]))
    return Headline(rate, (lo, hi), len(rated))


def _compare_cells(
    cells_a: np.ndarray,
    cells_b: np.ndarray,
    scale_a: Scale,
    scale_b: Scale,
    same_scale: bool,
    confidence: float,
) -> Comparison:
    """Compare one item's option counts across two surveys (Newcombe 1998, method 10)."""
    n_a, n_b = int(cells_a.sum()), int(cells_b.sum())
    if n_a == 0 or n_b == 0:
        return Comparison(None, None, None, None, None)
    fav_a = int(cells_a[np.asarray(scale_a.favourable, dtype=bool)].sum())
    fav_b = int(cells_b[np.asarray(scale_b.favourable, dtype=bool)].sum())
    difference = newcombe_difference(fav_a, n_a, fav_b, n_b, confidence)
    assert difference is not None  # both n > 0
    diff, lo, hi = difference
    p, method = two_by_two_p(fav_a, n_a - fav_a, fav_b, n_b - fav_b)
    mw_p = None
    if same_scale:
        mw_p = mann_whitney(
            _by_value(cells_a, scale_a.weights), _by_value(cells_b, scale_b.weights)
        ).p
    return Comparison(diff=diff, diff_ci=(lo, hi), p=p, mann_whitney_p=mw_p, method=method)


def compare(a: SurveyCounts, b: SurveyCounts, confidence: float = 0.95) -> SurveyComparison:
    """Stage a against stage b per item, overall and per branch shown in both (Newcombe 1998)."""
    check_confidence(confidence)
    same_scale = a.scale.option_keys == b.scale.option_keys and tuple(
        float(w) for w in a.scale.weights
    ) == tuple(float(w) for w in b.scale.weights)
    items = [
        (i, b.item_keys.index(key), key) for i, key in enumerate(a.item_keys) if key in b.item_keys
    ]
    statuses_a, overall_hidden_a = _statuses(a)
    statuses_b, overall_hidden_b = _statuses(b)
    cells_a = a.counts.sum(axis=1)
    cells_b = b.counts.sum(axis=1)
    empty = Comparison(None, None, None, None, None)

    overall: dict[str, Comparison] = {}
    total_a, total_b = cells_a.sum(axis=0), cells_b.sum(axis=0)
    for i_a, i_b, key in items:
        if overall_hidden_a or overall_hidden_b:
            overall[key] = empty
        else:
            overall[key] = _compare_cells(
                total_a[i_a], total_b[i_b], a.scale, b.scale, same_scale, confidence
            )

    shown_b = {
        key: j
        for j, (key, s) in enumerate(zip(b.branch_keys, statuses_b, strict=True))
        if s == SHOWN
    }
    branches: dict[str, dict[str, Comparison]] = {}
    for j_a, (key, status) in enumerate(zip(a.branch_keys, statuses_a, strict=True)):
        if status != SHOWN or key not in shown_b:
            continue
        j_b = shown_b[key]
        branches[key] = {
            item: _compare_cells(
                cells_a[j_a, i_a], cells_b[j_b, i_b], a.scale, b.scale, same_scale, confidence
            )
            for i_a, i_b, item in items
        }
    return SurveyComparison(overall=overall, branches=branches)
