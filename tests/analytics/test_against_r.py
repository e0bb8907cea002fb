"""Agreement with base R on fixed and random count tables (one Rscript run for the module).

R expands every count table into raw vectors with ``rep()`` and runs the textbook functions:
prop.test(correct=FALSE), t.test, chisq.test(correct=FALSE), fisher.test, kruskal.test,
wilcox.test(exact=FALSE, correct=TRUE) and p.adjust(, "holm"); the Newcombe interval is computed
from R's Wilson limits by the formula of Newcombe 1998, method 10. Without Rscript the module is
skipped, except in CI (CI=true), where that is a failure.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess

import numpy as np
import pytest

from analytics import (
    Scale,
    SurveyCounts,
    analyse,
    chi_square,
    holm,
    kruskal_wallis,
    mann_whitney,
    mean_interval,
    newcombe_difference,
    two_by_two_p,
    wilson,
)
from analytics.proportions import fisher_p

TOLERANCE = 1e-6
RNG = np.random.default_rng(19980417)

LEVEL_VALUES = [1.0, 2.0, 3.0, 4.0, 5.0]
SCORE_WEIGHTS = [100.0, 80.0, 60.0, 0.0]

WILSON_CASES = [(81, 263), (15, 148), (0, 20), (1, 29), (20, 20), (1, 1)] + [
    (int(k), int(n)) for n in RNG.integers(1, 400, size=10) for k in [RNG.integers(0, n + 1)]
]

MEAN_CASES = [[2, 3, 4, 1], [0, 5, 0, 1], [1, 1, 0, 0], [250, 120, 30, 11]]
while len(MEAN_CASES) < 12:
    counts = RNG.integers(0, 15, size=4)
    if counts.sum() >= 2 and np.count_nonzero(counts) >= 2:
        MEAN_CASES.append(counts.tolist())

CHI_CASES = [
    [[762, 327, 468], [484, 239, 477]],
    [[83, 3], [90, 3], [129, 7], [70, 12]],
    [[0, 0, 0], [5, 0, 7], [3, 0, 9]],  # an empty row and an empty column
]
while len(CHI_CASES) < 12:
    shape = tuple(RNG.integers(2, 6, size=2))
    table = RNG.integers(0, 30, size=shape) * (RNG.random(shape) > 0.15)
    kept = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    if min(kept.shape) >= 2:
        CHI_CASES.append(table.tolist())

TWO_BY_TWO_CASES = [[3, 1, 1, 3], [12, 5, 7, 9], [40, 2, 35, 9], [5, 5, 5, 5], [100, 0, 90, 10]]
while len(TWO_BY_TWO_CASES) < 20:
    a, b, c, d = (int(x) for x in RNG.integers(0, 40, size=4) * (RNG.random(4) > 0.1))
    if min(a + b, c + d, a + c, b + d) > 0:
        TWO_BY_TWO_CASES.append([a, b, c, d])

KW_CASES = [
    [[0, 1, 2, 1, 1], [1, 1, 0, 1, 1], [2, 1, 1, 0, 1]],
    [[5, 0, 0, 0, 0], [0, 0, 0, 0, 4]],
    [[3, 0, 4, 0, 0], [0, 0, 0, 0, 0], [1, 0, 2, 0, 6]],  # an empty group
]
while len(KW_CASES) < 12:
    groups = int(RNG.integers(2, 7))
    table = RNG.integers(0, 12, size=(groups, 5)) * (RNG.random((groups, 5)) > 0.2)
    if (table.sum(axis=1) > 0).sum() >= 2 and np.count_nonzero(table.sum(axis=0)) >= 2:
        KW_CASES.append(table.tolist())

MW_CASES = [
    ([0, 1, 2, 1, 0], [1, 0, 1, 0, 2]),
    ([10, 0, 0, 0, 0], [0, 0, 0, 0, 10]),
    ([3, 3, 0, 0, 0], [0, 3, 3, 0, 0]),
]
while len(MW_CASES) < 12:
    a, b = RNG.integers(0, 20, size=(2, 5)) * (RNG.random((2, 5)) > 0.2)
    if a.sum() and b.sum() and np.count_nonzero(a + b) >= 2:
        MW_CASES.append((a.tolist(), b.tolist()))

HOLM_CASES = [
    [0.01, None, 0.04, 0.03],
    [0.5, 0.5, 0.5],
    [1e-8, 0.2, 0.001, 0.049, 0.9],
] + [[float(x) for x in RNG.random(int(RNG.integers(2, 15))) ** 3] for _ in range(5)]

NEWCOMBE_CASES = [
    (56, 70, 48, 80),
    (9, 10, 3, 10),
    (5, 56, 0, 29),
    (0, 10, 0, 20),
    (10, 10, 0, 20),
] + [
    (int(k1), int(n1), int(k2), int(n2))
    for n1, n2 in RNG.integers(1, 200, size=(8, 2))
    for k1, k2 in [(RNG.integers(0, n1 + 1), RNG.integers(0, n2 + 1))]
]


def vs_rest_survey() -> SurveyCounts:
    """Eight branches, one item, k = 5: some branches are suppressed, some need Fisher."""
    scale = Scale(("sat", "basic", "unsat"), (100.0, 60.0, 0.0), (True, True, False))
    sizes = [3, 60, 7, 25, 40, 8, 55, 12]
    rows = []
    for size in sizes:
        p = RNG.dirichlet([2.0, 2.0, 1.0])
        rows.append(RNG.multinomial(size, p))
    counts = np.array(rows, dtype=np.int64).reshape(len(sizes), 1, 1, 3)
    return SurveyCounts(
        scale=scale,
        item_keys=("q1",),
        branch_keys=tuple(f"b{i}" for i in range(len(sizes))),
        category_keys=("all",),
        category_weights=(None,),
        counts=counts,
        respondents=np.array(sizes).reshape(-1, 1),
        threshold=5,
        complete_item_counts=counts.sum(axis=(0, 1)),
        complete_total_values=np.array([100.0, 60.0, 0.0]),
        complete_total_counts=counts.sum(axis=(0, 1, 2)),
    )


VS_REST_SURVEY = vs_rest_survey()


def vs_rest_tables(survey: SurveyCounts) -> list[tuple[str, list[int]]]:
    """The 2×2 table [fav, unfav; rest fav, rest unfav] of every shown branch with answers."""
    result = analyse(survey)
    cells = survey.counts[:, 0, 0, :]
    favourable = np.array(survey.scale.favourable)
    tables = []
    for b, branch in enumerate(result.branches):
        if branch.status != "shown" or branch.items["q1"].n == 0:
            continue
        fav, n = int(cells[b, favourable].sum()), int(cells[b].sum())
        fav_rest = int(cells[:, favourable].sum()) - fav
        n_rest = int(cells.sum()) - n
        tables.append((branch.key, [fav, n - fav, fav_rest, n_rest - fav_rest]))
    return tables


def r_vector(values) -> str:
    """An R numeric vector literal; None becomes NA."""
    return "c(" + ", ".join("NA" if v is None else repr(float(v)) for v in values) + ")"


def r_matrix(table) -> str:
    """An R matrix literal, filled by rows."""
    array = np.asarray(table)
    return f"matrix({r_vector(array.ravel().tolist())}, nrow = {array.shape[0]}, byrow = TRUE)"


R_PRELUDE = r"""
out <- function(key, x) cat(key, sapply(x, function(v) format(v, digits = 15)), "\n")
# Raw vectors from a groups x levels count matrix: the group and the level of every response.
expand <- function(m) list(
  g = rep(rep(seq_len(nrow(m)), times = ncol(m)), as.vector(m)),
  l = rep(rep(seq_len(ncol(m)), each = nrow(m)), as.vector(m))
)
table2 <- function(m) {
  e <- expand(m)
  table(factor(e$g, levels = 1:2), factor(e$l, levels = 1:2))
}
chisq_raw <- function(tab) suppressWarnings(chisq.test(tab, correct = FALSE))
rule_p <- function(m) {
  tab <- table2(m)
  if (all(chisq_raw(tab)$expected >= 5)) chisq_raw(tab)$p.value else fisher.test(tab)$p.value
}
"""


def r_script() -> str:
    """The whole R program: one block per case, each printing `key value...` lines."""
    lines = [R_PRELUDE]
    for i, (k, n) in enumerate(WILSON_CASES):
        lines.append(f"x <- rep(c(1, 0), c({k}, {n - k}))")
        lines.append(
            f'out("wilson.{i}", suppressWarnings(prop.test(sum(x), length(x), '
            "correct = FALSE))$conf.int)"
        )
    for i, counts in enumerate(MEAN_CASES):
        lines.append(f"x <- rep({r_vector(SCORE_WEIGHTS)}, {r_vector(counts)})")
        lines.append(f'out("mean.{i}", c(mean(x), t.test(x)$conf.int))')
    for i, table in enumerate(CHI_CASES):
        lines.append(f"e <- expand({r_matrix(table)})")
        lines.append("r <- chisq_raw(table(e$g, e$l))")
        lines.append(f'out("chi.{i}", c(r$statistic, r$parameter, r$p.value))')
    for i, (a, b, c, d) in enumerate(TWO_BY_TWO_CASES):
        lines.append(f"m <- {r_matrix([[a, b], [c, d]])}")
        lines.append("tab <- table2(m)")
        lines.append(
            f'out("tbt.{i}", c(chisq_raw(tab)$p.value, fisher.test(tab)$p.value, '
            "all(chisq_raw(tab)$expected >= 5), rule_p(m)))"
        )
    for i, table in enumerate(KW_CASES):
        lines.append(f"e <- expand({r_matrix(table)})")
        lines.append(f"r <- kruskal.test({r_vector(LEVEL_VALUES)}[e$l], factor(e$g))")
        lines.append(f'out("kw.{i}", c(r$statistic, r$parameter, r$p.value))')
    for i, (a, b) in enumerate(MW_CASES):
        lines.append(f"xa <- rep({r_vector(LEVEL_VALUES)}, {r_vector(a)})")
        lines.append(f"xb <- rep({r_vector(LEVEL_VALUES)}, {r_vector(b)})")
        lines.append("r <- wilcox.test(xa, xb, exact = FALSE, correct = TRUE)")
        lines.append(f'out("mw.{i}", c(r$statistic, r$p.value))')
    for i, pvalues in enumerate(HOLM_CASES):
        lines.append(f'out("holm.{i}", p.adjust({r_vector(pvalues)}, "holm"))')
    for i, (k1, n1, k2, n2) in enumerate(NEWCOMBE_CASES):
        lines.append(
            f"x1 <- rep(c(1, 0), c({k1}, {n1 - k1})); x2 <- rep(c(1, 0), c({k2}, {n2 - k2}))"
        )
        lines.append(
            "w1 <- suppressWarnings(prop.test(sum(x1), length(x1), correct = FALSE))$conf.int; "
            "w2 <- suppressWarnings(prop.test(sum(x2), length(x2), correct = FALSE))$conf.int"
        )
        lines.append("p1 <- mean(x1); p2 <- mean(x2); d <- p1 - p2")
        lines.append(
            f'out("newcombe.{i}", c(d, d - sqrt((p1 - w1[1])^2 + (w2[2] - p2)^2), '
            "d + sqrt((w1[2] - p1)^2 + (p2 - w2[1])^2)))"
        )
    tables = vs_rest_tables(VS_REST_SURVEY)
    matrices = ", ".join(r_matrix([t[:2], t[2:]]) for _, t in tables)
    lines.append(f"p <- sapply(list({matrices}), rule_p)")
    lines.append('out("vsrest.p", p)')
    lines.append('out("vsrest.holm", p.adjust(p, "holm"))')
    return "\n".join(lines) + "\n"


def parse(output: str) -> dict[str, list[float | None]]:
    """`key v1 v2 ...` lines into a dict of float lists (NA → None, TRUE/FALSE → 1/0)."""
    words = {"NA": None, "TRUE": 1.0, "FALSE": 0.0}
    results = {}
    for line in output.splitlines():
        if not line.strip():
            continue
        key, *values = line.split()
        results[key] = [words[v] if v in words else float(v) for v in values]
    return results


@pytest.fixture(scope="module")
def r(tmp_path_factory) -> dict[str, list[float | None]]:
    """Run the R program once for the module and return its parsed results."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("Rscript is not installed, but CI=true: the R cross-checks must run")
        pytest.skip("Rscript not found (install Debian's r-base-core to run the R cross-checks)")
    script = tmp_path_factory.mktemp("r") / "analytics_check.R"
    script.write_text(r_script(), encoding="utf-8")
    completed = subprocess.run(
        [rscript, "--vanilla", str(script)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if completed.returncode != 0:
        pytest.fail(f"Rscript failed ({completed.returncode}):\n{completed.stderr}")
    return parse(completed.stdout)


def close(actual: float | None, expected: float | None) -> bool:
    """Equal within the absolute tolerance; None only matches None."""
    if actual is None or expected is None:
        return actual is None and expected is None
    return math.isclose(actual, expected, rel_tol=0, abs_tol=TOLERANCE)


@pytest.mark.parametrize("i", range(len(WILSON_CASES)))
def test_wilson_matches_prop_test(r, i):
    """Wilson = prop.test(correct=FALSE)$conf.int."""
    k, n = WILSON_CASES[i]
    lo, hi = wilson(k, n)
    assert close(lo, r[f"wilson.{i}"][0]) and close(hi, r[f"wilson.{i}"][1])


@pytest.mark.parametrize("i", range(len(MEAN_CASES)))
def test_mean_interval_matches_t_test(r, i):
    """Mean score interval from counts = t.test(x)$conf.int on the expanded scores."""
    mean, lo, hi = mean_interval(MEAN_CASES[i], SCORE_WEIGHTS)
    expected = r[f"mean.{i}"]
    assert close(mean, expected[0]) and close(lo, expected[1]) and close(hi, expected[2])


@pytest.mark.parametrize("i", range(len(CHI_CASES)))
def test_chi_square_matches_chisq_test(r, i):
    """χ² = chisq.test(correct=FALSE) on the raw responses (empty rows/columns vanish in R)."""
    result = chi_square(CHI_CASES[i])
    statistic, df, p = r[f"chi.{i}"]
    assert close(result.statistic, statistic) and result.df == df and close(result.p, p)


@pytest.mark.parametrize("i", range(len(TWO_BY_TWO_CASES)))
def test_two_by_two_matches_chisq_and_fisher(r, i):
    """The 2×2 rule picks what R's expected counts say, and its p matches that R test."""
    a, b, c, d = TWO_BY_TWO_CASES[i]
    chi2_p, fisher_two_sided, chi2_ok, rule = r[f"tbt.{i}"]
    p, method = two_by_two_p(a, b, c, d)
    assert method == ("chi2" if chi2_ok else "fisher")
    assert close(p, rule)
    assert close(p, chi2_p if chi2_ok else fisher_two_sided)
    assert close(fisher_p(a, b, c, d), fisher_two_sided)


@pytest.mark.parametrize("i", range(len(KW_CASES)))
def test_kruskal_wallis_matches_kruskal_test(r, i):
    """Tie-corrected H from counts = kruskal.test on the raw responses."""
    result = kruskal_wallis(KW_CASES[i])
    statistic, df, p = r[f"kw.{i}"]
    assert close(result.statistic, statistic) and result.df == df and close(result.p, p)


@pytest.mark.parametrize("i", range(len(MW_CASES)))
def test_mann_whitney_matches_wilcox_test(r, i):
    """U and p = wilcox.test(exact=FALSE, correct=TRUE): W and p.value."""
    a, b = MW_CASES[i]
    result = mann_whitney(a, b)
    w, p = r[f"mw.{i}"]
    assert close(result.u, w) and close(result.p, p)


@pytest.mark.parametrize("i", range(len(HOLM_CASES)))
def test_holm_matches_p_adjust(r, i):
    """Holm = p.adjust(p, "holm"); NA stays NA and does not count."""
    adjusted = holm(HOLM_CASES[i])
    expected = r[f"holm.{i}"]
    assert len(adjusted) == len(expected)
    assert all(close(a, e) for a, e in zip(adjusted, expected, strict=True))


@pytest.mark.parametrize("i", range(len(NEWCOMBE_CASES)))
def test_newcombe_matches_r_formula(r, i):
    """Newcombe's hybrid interval = the method-10 formula on R's Wilson limits."""
    result = newcombe_difference(*NEWCOMBE_CASES[i])
    assert all(close(a, e) for a, e in zip(result, r[f"newcombe.{i}"], strict=True))


def test_vs_rest_matches_r(r):
    """analyse()'s branch-vs-rest p and Holm adjustment = R's rule_p and p.adjust."""
    result = analyse(VS_REST_SURVEY)
    keys = [key for key, _ in vs_rest_tables(VS_REST_SURVEY)]
    assert len(keys) >= 4
    by_key = {b.key: b for b in result.branches}
    marks = [by_key[key].vs_rest["q1"] for key in keys]
    assert {m.method for m in marks} == {"chi2", "fisher"}
    assert all(close(m.p, e) for m, e in zip(marks, r["vsrest.p"], strict=True))
    assert all(close(m.p_adjusted, e) for m, e in zip(marks, r["vsrest.holm"], strict=True))
