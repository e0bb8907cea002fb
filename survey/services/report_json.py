"""The report's JSON: the one serialiser of :class:`~survey.services.report.Report`.

The API and ``flask report`` write the report through here, so both keep one contract, which
fields may be added to but never removed from: ``survey``, ``title``, ``kind``, ``state``,
``campaign``, ``threshold``, ``confidence``, ``min_rank_respondents``, ``target``, ``respondents``,
``suppressed_respondents``, ``suppressed_branches``, ``scale``, ``categories``, ``items``,
``overall`` (``suppressed``, ``items``, ``headline``), ``branches`` (a suppressed branch carries
only code, name, respondents, suppressed and status), ``tests``, ``reliability``,
``ballot_box`` and, when asked, ``comparison``. Undefined figures are null, never NaN, so
:func:`dumps` (``allow_nan=False``) always succeeds. ``tests/survey/api/test_report_golden.py``
holds the bytes to the recorded fixtures.
"""

from __future__ import annotations

import json
from typing import Any

from analytics import BranchHeadline, CategoryResult, Comparison, Composite, Summary, VsRest
from survey.services.report import BranchReport, Report, StageComparison, collector_paused


def dumps(data: Any, indent: int | None = None) -> str:
    """JSON text as Ceping writes it: UTF-8 characters as they are, never NaN. The data is
    plain dicts and lists built here, never cyclic, so the encoder's cycle check is skipped."""
    return json.dumps(
        data, ensure_ascii=False, allow_nan=False, indent=indent, check_circular=False
    )


def report_text(report: Report, indent: int | None = None) -> str:
    """The report as JSON text."""
    with collector_paused():
        return dumps(as_json(report), indent)


def _pair(values: tuple[float, float] | None) -> list[float] | None:
    return None if values is None else list(values)


def _summary(summary: Summary, option_keys: tuple[str, ...]) -> dict[str, Any]:
    return {
        "n": summary.n,
        "counts": dict(zip(option_keys, summary.counts, strict=True)),
        "favourable_rate": summary.favourable_rate,
        "favourable_ci": _pair(summary.favourable_ci),
        "score_mean": summary.score_mean,
        "score_ci": _pair(summary.score_ci),
    }


def _vs_rest(result: VsRest) -> dict[str, Any]:
    return {
        "p": result.p,
        "p_adjusted": result.p_adjusted,
        "signal": result.signal,
        "method": result.method,
        "effect": result.effect,
        "verdict": result.verdict,
    }


def _composite(composite: Composite | None) -> dict[str, Any] | None:
    if composite is None:
        return None
    weighted = composite.weighted
    return {
        "favourable_rate": composite.favourable_rate,
        "score_mean": composite.score_mean,
        "weighted": None
        if weighted is None
        else {
            "rate": weighted.rate,
            "lo": weighted.lo,
            "hi": weighted.hi,
            "effective_n": weighted.effective_n,
        },
    }


def _headline(headline: BranchHeadline | None) -> dict[str, Any] | None:
    """A branch's one headline figure (:class:`analytics.BranchHeadline`)."""
    if headline is None:
        return None
    return {
        "rate": headline.rate,
        "ci": _pair(headline.ci),
        "effective_n": headline.effective_n,
        "weighted": headline.is_weighted,
        "pooled": headline.is_pooled,
        "group": headline.group,
        "p": headline.p,
        "p_adjusted": headline.p_adjusted,
        "versus_target": headline.versus_target,
        "target_p_adjusted": headline.target_p_adjusted,
    }


def _category(category: CategoryResult, option_keys: tuple[str, ...]) -> dict[str, Any]:
    if category.suppressed:
        return {"key": category.key, "respondents": category.respondents, "suppressed": True}
    return {
        "key": category.key,
        "respondents": category.respondents,
        "suppressed": False,
        "items": {key: _summary(s, option_keys) for key, s in category.items.items()},
    }


def _branch(branch: BranchReport, option_keys: tuple[str, ...]) -> dict[str, Any]:
    result = branch.result
    entry: dict[str, Any] = {
        "code": branch.code,
        "name": branch.name,
        "respondents": result.respondents,
        "suppressed": branch.is_suppressed,
        "status": result.status,
    }
    if branch.is_suppressed:
        return entry
    entry["items"] = {
        key: {**_summary(summary, option_keys), "vs_rest": _vs_rest(result.vs_rest[key])}
        for key, summary in result.items.items()
    }
    entry["composite"] = _composite(result.composite)
    entry["rank"] = result.rank
    entry["headline"] = _headline(result.headline)
    entry["categories"] = [_category(c, option_keys) for c in result.categories.values()]
    return entry


def _tests(report: Report) -> dict[str, Any]:
    return {
        key: {
            "chi2": {
                "statistic": t.chi2.statistic,
                "df": t.chi2.df,
                "p": t.chi2.p,
                "cramers_v": t.chi2.cramers_v,
                "small_expected": t.chi2.small_expected,
            },
            "kruskal": {
                "statistic": t.kruskal.statistic,
                "df": t.kruskal.df,
                "p": t.kruskal.p,
                "epsilon_squared": t.kruskal.epsilon_squared,
            },
        }
        for key, t in (report.analysis.tests or {}).items()
    }


def _change(result: Comparison) -> dict[str, Any]:
    return {
        "diff": result.diff,
        "diff_ci": _pair(result.diff_ci),
        "p": result.p,
        "mann_whitney_p": result.mann_whitney_p,
        "method": result.method,
        "change": result.change,
    }


def _comparison(comparison: StageComparison) -> dict[str, Any]:
    return {
        "against": comparison.against,
        "against_title": comparison.against_title,
        "overall": {key: _change(c) for key, c in comparison.overall.items()},
        "branches": {
            code: {key: _change(c) for key, c in by_item.items()}
            for code, by_item in comparison.branches.items()
        },
    }


def _overall(report: Report, option_keys: tuple[str, ...]) -> dict[str, Any]:
    headline = report.headline
    return {
        "suppressed": report.overall_suppressed,
        "items": {
            key: _summary(summary, option_keys)
            for key, summary in (report.analysis.overall or {}).items()
        },
        "headline": {
            "favourable_rate": headline.favourable_rate,
            "favourable_ci": _pair(headline.favourable_ci),
            "items_rated": headline.items_rated,
        },
    }


def as_json(report: Report) -> dict[str, Any]:
    """The report as JSON-ready dicts and lists, in the contract's order."""
    facts, analysis = report.survey, report.analysis
    option_keys = tuple(option.key for option in report.scale)
    data = {
        "survey": facts.slug,
        "title": facts.title,
        "kind": facts.kind.value,
        "state": facts.state.value,
        "campaign": facts.campaign,
        "threshold": facts.threshold,
        "confidence": report.confidence,
        "min_rank_respondents": facts.min_rank_respondents,
        "target": facts.target,
        "respondents": analysis.respondents,
        "suppressed_respondents": analysis.suppressed_total,
        "suppressed_branches": analysis.suppressed_branches,
        "scale": [
            {"key": o.key, "label": o.label, "weight": o.weight, "favourable": o.favourable}
            for o in report.scale
        ],
        "categories": [
            {"key": c.key, "label": c.label, "weight": c.weight} for c in report.categories
        ],
        "items": [{"key": i.key, "text": i.text} for i in report.items],
        "overall": _overall(report, option_keys),
        "branches": [_branch(branch, option_keys) for branch in report.branches],
        "tests": _tests(report),
        "reliability": {"cronbach_alpha": analysis.cronbach_alpha},
        "ballot_box": {
            "waiting": report.ballot_box.waiting,
            "held_back": report.ballot_box.held_back,
        },
    }
    if report.comparison is not None:
        data["comparison"] = _comparison(report.comparison)
    return data
