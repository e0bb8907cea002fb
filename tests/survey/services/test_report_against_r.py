"""Every figure of a report against base R on the same raw answers (one Rscript run).

A fixed random data set (7 branches: one empty, one suppressed by size, one by the
complementary rule, one whose two categories are both hidden; two categories with weights;
three items with skips; two stages) is stored through ``record_response``. R then recomputes
from the raw answers, not from counts: Wilson intervals (``prop.test(correct = FALSE)``),
t intervals (``t.test``), branch vs rest (``chisq.test(correct = FALSE)`` or ``fisher.test`` by
the expected ≥ 5 rule), Holm (``p.adjust``), χ² with Cramér's V and ``kruskal.test`` over the shown
branches, Cronbach's α,
the composite and its post-stratified rate with its Wilson interval on Kish's effective n
(``prop.test(rate * n_eff, n_eff)``), the branch's headline figure, its group against the rest
(``prop.test`` of two rates on effective sizes, Holm) and against the target (``prop.test(...,
p = target)``, Holm), ranks, and the comparison of stages (Newcombe's
hybrid interval from the Wilson limits, ``wilcox.test(exact = FALSE, correct = TRUE)``).
Figures must agree to 1e-6 (relative), and both sides must publish exactly the same figures.
"""

from __future__ import annotations

import csv
import math
import os
import shutil
import subprocess

import numpy as np
import pytest

from survey.db import db
from survey.models import Source, SurveyState
from tests.helpers.results import record_response, report_dict

RSCRIPT = shutil.which("Rscript") or (
    "/usr/bin/Rscript" if os.path.exists("/usr/bin/Rscript") else None
)
IN_CI = os.environ.get("CI", "").lower() == "true"

OPTIONS = ("good", "fairly_good", "average", "poor")
ITEMS = ("q1", "q2", "q3")
#: Branch → (members, public) per stage. "b0" stays empty in both stages.
SIZES = {
    "stage4": {
        "b1": (40, 12),
        "b2": (25, 10),
        "b3": (3, 0),  # suppressed: fewer than 5
        "b4": (14, 3),  # shown; its 3 public hide the 14 members too (complementary)
        "b5": (8, 6),  # suppressed by the complementary rule (smallest shown branch)
        "b6": (60, 35),
    },
    "stage2": {"b1": (30, 10), "b2": (20, 12), "b3": (9, 2), "b4": (12, 6), "b6": (45, 30)},
}
#: Probability of each option per branch (b4 is nearly all favourable, so Fisher is used).
PROFILES = {
    "b1": (0.45, 0.30, 0.15, 0.10),
    "b2": (0.20, 0.30, 0.30, 0.20),
    "b3": (0.25, 0.25, 0.25, 0.25),
    "b4": (0.70, 0.27, 0.03, 0.00),
    "b5": (0.10, 0.20, 0.40, 0.30),
    "b6": (0.35, 0.35, 0.20, 0.10),
}
SKIP = 0.08

R_SCRIPT = r"""
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], stringsAsFactors = FALSE, na.strings = "")
weights <- c(good = 100, fairly_good = 80, average = 60, poor = 0)
fav_keys <- c("good", "fairly_good")
opts <- names(weights)
items <- c("q1", "q2", "q3")
cat_weight <- c(member = 0.6, public = 0.4)
k <- 5
min_rank <- 30
target <- 0.6
z <- qnorm(0.975)
out <- character(0)
put <- function(key, value) {
  text <- if (is.null(value) || is.na(value)) "NA" else sprintf("%.17g", value)
  out <<- c(out, paste(key, text, sep = "\t"))
}
suppress <- function(sizes) {
  hidden <- names(sizes)[sizes >= 1 & sizes < k]
  while (sum(sizes[hidden]) >= 1 && sum(sizes[hidden]) < k) {
    cand <- names(sizes)[sizes > 0 & !(names(sizes) %in% hidden)]
    if (length(cand) == 0) break
    cand <- cand[order(sizes[cand], cand)]
    hidden <- c(hidden, cand[1])
  }
  hidden
}
wilson <- function(x, n) suppressWarnings(prop.test(x, n, correct = FALSE)$conf.int)
summary_of <- function(prefix, answers) {
  x <- answers[!is.na(answers)]
  n <- length(x)
  put(paste0(prefix, "|n"), n)
  for (o in opts) put(paste0(prefix, "|count|", o), sum(x == o))
  if (n == 0) {
    for (f in c("rate", "lo", "hi", "mean", "slo", "shi")) put(paste0(prefix, "|", f), NA)
    return(invisible())
  }
  fav <- sum(x %in% fav_keys)
  ci <- wilson(fav, n)
  put(paste0(prefix, "|rate"), fav / n)
  put(paste0(prefix, "|lo"), ci[1])
  put(paste0(prefix, "|hi"), ci[2])
  s <- unname(weights[x])
  put(paste0(prefix, "|mean"), mean(s))
  if (n < 2) {
    put(paste0(prefix, "|slo"), NA); put(paste0(prefix, "|shi"), NA)
  } else if (var(s) == 0) {
    # Unanimous: the Wilson lower limit L of the share at that answer; the rest anywhere.
    L <- wilson(n, n)[1]
    put(paste0(prefix, "|slo"), L * mean(s) + (1 - L) * min(weights))
    put(paste0(prefix, "|shi"), L * mean(s) + (1 - L) * max(weights))
  } else {
    tci <- t.test(s)$conf.int
    put(paste0(prefix, "|slo"), tci[1]); put(paste0(prefix, "|shi"), tci[2])
  }
}
two_by_two <- function(a, b, c, d) {
  t <- matrix(c(a, b, c, d), 2, byrow = TRUE)
  if (any(rowSums(t) == 0) || any(colSums(t) == 0)) return(NA)
  expected <- outer(rowSums(t), colSums(t)) / sum(t)
  if (all(expected >= 5)) {
    suppressWarnings(chisq.test(t, correct = FALSE)$p.value)
  } else {
    fisher.test(t)$p.value
  }
}
comp_rate <- function(rows) {
  rates <- c()
  for (q in items) {
    x <- rows[[q]][!is.na(rows[[q]])]
    if (length(x) > 0) rates <- c(rates, mean(x %in% fav_keys))
  }
  if (length(rates) == 0) NA else mean(rates)
}
comp_score <- function(rows) {
  means <- c()
  for (q in items) {
    x <- rows[[q]][!is.na(rows[[q]])]
    if (length(x) > 0) means <- c(means, mean(weights[x]))
  }
  if (length(means) == 0) NA else mean(means)
}

analyse <- function(stage) {
  s <- d[d$stage == stage, ]
  codes <- sort(unique(s$branch))
  sizes <- sapply(codes, function(b) sum(s$branch == b))
  names(sizes) <- codes
  hidden <- suppress(sizes)
  shown <- setdiff(codes, hidden)
  list(s = s, codes = codes, sizes = sizes, hidden = hidden, shown = shown)
}

a <- analyse("stage4")
s <- a$s
for (b in a$codes) {
  put(paste0("status|", b, "|respondents"), a$sizes[[b]])
  put(paste0("status|", b, "|suppressed"), as.numeric(b %in% a$hidden))
}
for (q in items) summary_of(paste0("overall|", q), s[[q]])
composites <- c()
headline <- list()
for (b in a$shown) {
  rows <- s[s$branch == b, ]
  for (q in items) summary_of(paste0("branch|", b, "|", q), rows[[q]])
  composites[b] <- comp_rate(rows)
  put(paste0("comp|", b, "|rate"), composites[b])
  put(paste0("comp|", b, "|score"), comp_score(rows))
  # Categories inside the branch, with the same suppression rule.
  cats <- c("member", "public")
  csizes <- sapply(cats, function(cc) sum(rows$category == cc))
  names(csizes) <- cats
  chidden <- suppress(csizes)
  for (cc in cats) {
    put(paste0("cat|", b, "|", cc, "|respondents"), csizes[[cc]])
    put(paste0("cat|", b, "|", cc, "|suppressed"), as.numeric(cc %in% chidden))
    if (!(cc %in% chidden)) {
      for (q in items) summary_of(paste0("cat|", b, "|", cc, "|", q), rows[rows$category == cc, q])
    }
  }
  # Post-stratified composite: hidden categories pooled into one stratum.
  present <- cats[sapply(cats, function(cc) !is.na(comp_rate(rows[rows$category == cc, ])))]
  shares <- cat_weight[present] / sum(cat_weight[present])
  strata <- list()
  for (cc in setdiff(present, chidden)) {
    strata[[cc]] <- c(comp_rate(rows[rows$category == cc, ]), csizes[[cc]], shares[[cc]])
  }
  pooled <- intersect(present, chidden)
  if (length(pooled) > 0) {
    strata[["pooled"]] <- c(comp_rate(rows[rows$category %in% pooled, ]),
                            sum(csizes[pooled]), sum(shares[pooled]))
  }
  p <- sapply(strata, `[`, 1); n <- sapply(strata, `[`, 2); w <- sapply(strata, `[`, 3)
  rate <- sum(w * p)
  effn <- 1 / sum(w^2 / n)
  # Wilson on Kish's effective n.
  ci <- wilson(rate * effn, effn)
  put(paste0("w|", b, "|rate"), rate)
  put(paste0("w|", b, "|lo"), ci[1])
  put(paste0("w|", b, "|hi"), ci[2])
  put(paste0("w|", b, "|effn"), effn)
  # The branch's headline figure is the weighted composite here (categories are weighted).
  headline[[b]] <- c(rate, effn)
  put(paste0("h|", b, "|rate"), rate)
  put(paste0("h|", b, "|lo"), ci[1])
  put(paste0("h|", b, "|hi"), ci[2])
  put(paste0("h|", b, "|effn"), effn)
}
weighted_of <- function(rows) {
  cats <- c("member", "public")
  present <- cats[sapply(cats, function(cc) !is.na(comp_rate(rows[rows$category == cc, ])))]
  shares <- cat_weight[present] / sum(cat_weight[present])
  p <- sapply(present, function(cc) comp_rate(rows[rows$category == cc, ]))
  n <- sapply(present, function(cc) sum(rows$category == cc))
  c(sum(shares * p), 1 / sum(shares^2 / n))
}
rankable <- a$shown[a$sizes[a$shown] >= min_rank]
ranks <- rank(-composites[rankable], ties.method = "min")
for (b in a$shown) {
  put(paste0("rank|", b), if (b %in% rankable) ranks[[b]] else NA)
}
# Groups: each rankable branch's headline against the same figure of all other answers,
# pooled two-proportion test on effective sizes, Holm across the rankable branches.
group_p <- sapply(rankable, function(b) {
  rest <- weighted_of(s[s$branch != b, ])
  mine <- headline[[b]]
  prop.test(c(mine[1] * mine[2], rest[1] * rest[2]), c(mine[2], rest[2]),
            correct = FALSE)$p.value
})
names(group_p) <- rankable
group_adj <- p.adjust(group_p, "holm")
for (b in rankable) {
  put(paste0("h|", b, "|p"), group_p[[b]])
  put(paste0("h|", b, "|padj"), group_adj[[b]])
}
# Against the target: the score test on the effective n, Holm across the shown branches.
target_p <- sapply(a$shown, function(b) {
  mine <- headline[[b]]
  suppressWarnings(prop.test(mine[1] * mine[2], mine[2], p = target, correct = FALSE)$p.value)
})
target_adj <- p.adjust(target_p, "holm")
for (i in seq_along(a$shown)) put(paste0("h|", a$shown[i], "|tpadj"), target_adj[i])
for (q in items) {
  answered <- s[!is.na(s[[q]]), ]
  fav <- answered[[q]] %in% fav_keys
  ps <- c(); effects <- c()
  for (b in a$shown) {
    mine <- answered$branch == b
    x <- c(sum(fav & mine), sum(!fav & mine), sum(fav & !mine), sum(!fav & !mine))
    ps[b] <- two_by_two(x[1], x[2], x[3], x[4])
    effects[b] <- x[1] / (x[1] + x[2]) - x[3] / (x[3] + x[4])
  }
  adjusted <- rep(NA, length(ps)); names(adjusted) <- names(ps)
  ok <- !is.na(ps)
  adjusted[ok] <- p.adjust(ps[ok], "holm")
  for (b in a$shown) {
    put(paste0("vs|", b, "|", q, "|p"), ps[[b]])
    put(paste0("vs|", b, "|", q, "|padj"), adjusted[[b]])
    put(paste0("vs|", b, "|", q, "|effect"), effects[[b]])
  }
  # The omnibus tests compare the shown branches only (hidden ones could be solved for).
  tested <- answered[answered$branch %in% a$shown, ]
  tbl <- table(factor(tested$branch), factor(tested[[q]], levels = opts))
  tbl <- tbl[rowSums(tbl) > 0, colSums(tbl) > 0, drop = FALSE]
  chi <- suppressWarnings(chisq.test(tbl))
  put(paste0("chi2|", q, "|stat"), chi$statistic)
  put(paste0("chi2|", q, "|df"), chi$parameter)
  put(paste0("chi2|", q, "|p"), chi$p.value)
  put(paste0("chi2|", q, "|v"), sqrt(chi$statistic / (sum(tbl) * (min(dim(tbl)) - 1))))
  scores <- unname(weights[tested[[q]]])
  kw <- kruskal.test(scores, factor(tested$branch))
  put(paste0("kw|", q, "|stat"), kw$statistic)
  put(paste0("kw|", q, "|df"), kw$parameter)
  put(paste0("kw|", q, "|p"), kw$p.value)
  put(paste0("kw|", q, "|eps"), kw$statistic / (length(scores) - 1))
}
complete <- s[complete.cases(s[, items]), items]
X <- sapply(items, function(q) unname(weights[complete[[q]]]))
kk <- length(items)
put("alpha", kk / (kk - 1) * (1 - sum(apply(X, 2, var)) / var(rowSums(X))))

bb <- analyse("stage2")
compare <- function(prefix, xa, xb) {
  xa <- xa[!is.na(xa)]; xb <- xb[!is.na(xb)]
  n1 <- length(xa); n2 <- length(xb)
  f1 <- sum(xa %in% fav_keys); f2 <- sum(xb %in% fav_keys)
  p1 <- f1 / n1; p2 <- f2 / n2
  c1 <- wilson(f1, n1); c2 <- wilson(f2, n2)
  diff <- p1 - p2
  put(paste0(prefix, "|diff"), diff)
  put(paste0(prefix, "|lo"), max(-1, diff - sqrt((p1 - c1[1])^2 + (c2[2] - p2)^2)))
  put(paste0(prefix, "|hi"), min(1, diff + sqrt((c1[2] - p1)^2 + (p2 - c2[1])^2)))
  put(paste0(prefix, "|p"), two_by_two(f1, n1 - f1, f2, n2 - f2))
  put(paste0(prefix, "|mw"), wilcox.test(unname(weights[xa]), unname(weights[xb]),
                                          exact = FALSE, correct = TRUE)$p.value)
}
sb <- bb$s
for (q in items) compare(paste0("cmp|overall|", q), s[[q]], sb[[q]])
for (b in intersect(a$shown, bb$shown)) {
  for (q in items) {
    compare(paste0("cmp|", b, "|", q), s[s$branch == b, q], sb[sb$branch == b, q])
  }
}
writeLines(out)
"""


def generate(seed: int = 20051231) -> list[dict]:
    """The raw data set: one dict per response (stage, branch, category, q1..q3 or None)."""
    rng = np.random.default_rng(seed)
    rows = []
    for stage, sizes in SIZES.items():
        for branch, (members, public) in sizes.items():
            profile = np.array(PROFILES[branch])
            if stage == "stage2":
                profile = np.roll(profile, 1) * 0.5 + profile * 0.5
            for category, count in (("member", members), ("public", public)):
                for _ in range(count):
                    row = {"stage": stage, "branch": branch, "category": category}
                    for item in ITEMS:
                        skipped = rng.random() < SKIP
                        row[item] = None if skipped else OPTIONS[rng.choice(4, p=profile)]
                    rows.append(row)
    return rows


def run_r(rows: list[dict], tmp_path) -> dict[str, float | None]:
    """Run the R script once on the raw data; returns key → value (None for NA)."""
    if RSCRIPT is None:
        if IN_CI:
            pytest.fail("Rscript is missing in CI: the reference figures must be checked there")
        pytest.skip("Rscript (Debian r-base-core) is not installed")
    data = tmp_path / "answers.csv"
    with data.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["stage", "branch", "category", *ITEMS])
        writer.writeheader()
        writer.writerows(rows)
    script = tmp_path / "reference.R"
    script.write_text(R_SCRIPT, encoding="utf-8")
    done = subprocess.run(
        [RSCRIPT, "--vanilla", str(script), str(data)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = {}
    for line in done.stdout.splitlines():
        key, value = line.split("\t")
        result[key] = None if value == "NA" else float(value)
    return result


def flatten(report: dict) -> dict[str, float | None]:
    """The report's figures under the R script's keys."""
    out: dict[str, float | None] = {}

    def summary(prefix: str, cell: dict) -> None:
        out[f"{prefix}|n"] = cell["n"]
        for option, count in cell["counts"].items():
            out[f"{prefix}|count|{option}"] = count
        out[f"{prefix}|rate"] = cell["favourable_rate"]
        lo, hi = cell["favourable_ci"] or (None, None)
        out[f"{prefix}|lo"], out[f"{prefix}|hi"] = lo, hi
        out[f"{prefix}|mean"] = cell["score_mean"]
        slo, shi = cell["score_ci"] or (None, None)
        out[f"{prefix}|slo"], out[f"{prefix}|shi"] = slo, shi

    for item, cell in report["overall"]["items"].items():
        summary(f"overall|{item}", cell)
    for branch in report["branches"]:
        code = branch["code"]
        if branch["status"] == "empty":
            continue
        out[f"status|{code}|respondents"] = branch["respondents"]
        out[f"status|{code}|suppressed"] = float(branch["suppressed"])
        if branch["suppressed"]:
            continue
        for item, cell in branch["items"].items():
            summary(f"branch|{code}|{item}", cell)
            vs_rest = cell["vs_rest"]
            out[f"vs|{code}|{item}|p"] = vs_rest["p"]
            out[f"vs|{code}|{item}|padj"] = vs_rest["p_adjusted"]
            out[f"vs|{code}|{item}|effect"] = vs_rest["effect"]
        composite = branch["composite"]
        out[f"comp|{code}|rate"] = composite["favourable_rate"]
        out[f"comp|{code}|score"] = composite["score_mean"]
        weighted = composite["weighted"]
        out[f"w|{code}|rate"] = weighted["rate"]
        out[f"w|{code}|lo"] = weighted["lo"]
        out[f"w|{code}|hi"] = weighted["hi"]
        out[f"w|{code}|effn"] = weighted["effective_n"]
        out[f"rank|{code}"] = branch["rank"]
        figure = branch["headline"]
        out[f"h|{code}|rate"] = figure["rate"]
        out[f"h|{code}|lo"], out[f"h|{code}|hi"] = figure["ci"]
        out[f"h|{code}|effn"] = figure["effective_n"]
        out[f"h|{code}|tpadj"] = figure["target_p_adjusted"]
        if figure["group"] is not None:
            out[f"h|{code}|p"] = figure["p"]
            out[f"h|{code}|padj"] = figure["p_adjusted"]
        for category in branch["categories"]:
            prefix = f"cat|{code}|{category['key']}"
            out[f"{prefix}|respondents"] = category["respondents"]
            out[f"{prefix}|suppressed"] = float(category["suppressed"])
            for item, cell in (category.get("items") or {}).items():
                summary(f"{prefix}|{item}", cell)
    for item, tests in report["tests"].items():
        chi2, kruskal = tests["chi2"], tests["kruskal"]
        out[f"chi2|{item}|stat"] = chi2["statistic"]
        out[f"chi2|{item}|df"] = chi2["df"]
        out[f"chi2|{item}|p"] = chi2["p"]
        out[f"chi2|{item}|v"] = chi2["cramers_v"]
        out[f"kw|{item}|stat"] = kruskal["statistic"]
        out[f"kw|{item}|df"] = kruskal["df"]
        out[f"kw|{item}|p"] = kruskal["p"]
        out[f"kw|{item}|eps"] = kruskal["epsilon_squared"]
    out["alpha"] = report["reliability"]["cronbach_alpha"]
    comparison = report["comparison"]
    scopes = [("overall", comparison["overall"]), *comparison["branches"].items()]
    for scope, by_item in scopes:
        for item, cmp in by_item.items():
            prefix = f"cmp|{scope}|{item}"
            out[f"{prefix}|diff"] = cmp["diff"]
            out[f"{prefix}|lo"], out[f"{prefix}|hi"] = cmp["diff_ci"]
            out[f"{prefix}|p"] = cmp["p"]
            out[f"{prefix}|mw"] = cmp["mann_whitney_p"]
    return out


def seed_database(rows, make_survey, make_branch):
    """Store the data set through record_response; returns the two closed surveys."""
    surveys = {slug: make_survey(slug, state=SurveyState.CLOSED) for slug in ("stage4", "stage2")}
    for survey in surveys.values():
        survey.categories[0].weight = 0.6
        survey.categories[1].weight = 0.4
        survey.target = 0.6
    db.session.commit()
    branches = {code: make_branch(code) for code in ("b0", "b1", "b2", "b3", "b4", "b5", "b6")}
    with db.transaction():
        for row in rows:
            survey = surveys[row["stage"]]
            items = {item.key: item.id for item in survey.items}
            answers = {
                items[item]: survey.option(row[item]).id for item in ITEMS if row[item] is not None
            }
            record_response(
                survey,
                branches[row["branch"]].id,
                survey.category(row["category"]).id,
                answers,
                None,
                Source.WEB,
            )
    return surveys


def test_every_figure_agrees_with_base_r(make_survey, make_branch, tmp_path):
    rows = generate()
    surveys = seed_database(rows, make_survey, make_branch)
    report = report_dict(surveys["stage4"], compare=surveys["stage2"])
    expected = run_r(rows, tmp_path)
    actual = flatten(report)

    # The data set exercises what it claims to.
    statuses = {b["code"]: b["status"] for b in report["branches"]}
    assert statuses == {
        "b0": "empty",
        "b1": "shown",
        "b2": "shown",
        "b3": "suppressed",
        "b4": "shown",
        "b5": "suppressed",
        "b6": "shown",
    }
    methods = {
        cell["vs_rest"]["method"]
        for b in report["branches"]
        if b["status"] == "shown"
        for cell in b["items"].values()
    }
    assert methods == {"chi2", "fisher"}
    b4 = next(b for b in report["branches"] if b["code"] == "b4")
    assert all(c["suppressed"] for c in b4["categories"])
    assert set(report["comparison"]["branches"]) == {"b1", "b2", "b4", "b6"}

    assert sorted(actual) == sorted(expected), "both sides must publish the same figures"
    mismatches = []
    for key, want in expected.items():
        got = actual[key]
        if want is None or got is None:
            if want is not got:
                mismatches.append((key, got, want))
        elif not math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-12):
            mismatches.append((key, got, want))
    assert not mismatches, mismatches[:20]

    # Groups and target marks follow from their adjusted p.
    for branch in report["branches"]:
        figure = branch.get("headline")
        if not figure:
            continue
        if figure["group"] is not None:
            clear = figure["p_adjusted"] < 0.05
            assert figure["group"] in (("above", "below") if clear else ("indistinguishable",))
        clear = figure["target_p_adjusted"] < 0.05
        side = "above" if figure["rate"] > 0.6 else "below"
        assert figure["versus_target"] == (side if clear else "none")

    # Signals follow from the adjusted p and the effect.
    for branch in report["branches"]:
        for cell in (branch.get("items") or {}).values():
            vs_rest = cell["vs_rest"]
            if vs_rest["p_adjusted"] is not None and vs_rest["p_adjusted"] < 0.05:
                assert vs_rest["signal"] == ("above" if vs_rest["effect"] > 0 else "below")
            else:
                assert vs_rest["signal"] == "none"
