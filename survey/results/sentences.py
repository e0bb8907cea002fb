"""What the result pages say in plain words: significance, effect sizes, reliability, the
ballot box and hidden groups.

One standard of evidence on every page (README, "Statistics"):
a difference is "clear" when its test, after the corrections the report applies, falls below
1 − the report's confidence level; every such statement carries its effect size. The numbers
and their classification come from :mod:`analytics`; only the words are chosen here.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import ngettext

from analytics import ItemTests, alpha_band
from survey import display
from survey.services.report import Report


def effect_words(size: str | None) -> str:
    """Cohen's effect size class (:attr:`analytics.ChiSquare.effect_size`) in words."""
    return {
        "large": _("a large effect"),
        "medium": _("a medium effect"),
        "small": _("a small effect"),
    }.get(size or "", _("a negligible effect"))


def _listed(names: list[str]) -> str:
    """Names joined as the reader's language lists them (、 in Chinese)."""
    return _(", ").join(names)


def _unanimous_label(report: Report, item_key: str) -> str | None:
    """The label of the one option everyone chose on an item, if they all chose one."""
    summary = (report.analysis.overall or {}).get(item_key)
    if summary is None:
        return None
    chosen = [o.label for o, count in zip(report.scale, summary.counts, strict=True) if count]
    return chosen[0] if len(chosen) == 1 else None


def omnibus_sentence(report: Report, item_key: str, item_text: str, tests: ItemTests | None) -> str:
    """Whether the branches differ on one item, in plain words, resting on Kruskal–Wallis
    (the scale is ordered, and its p holds up where χ²'s expected counts are small); the
    statistics are in :func:`omnibus_details`, one click away."""
    kruskal = tests.kruskal if tests is not None else None
    if kruskal is None or kruskal.p is None:
        label = _unanimous_label(report, item_key)
        if label is not None:
            return _("On “%(item)s” everyone answered %(option)s.", item=item_text, option=label)
        if len([b for b in report.shown if b.result.items[item_key].n]) < 2:
            return _(
                "On “%(item)s” fewer than two branches with published figures answered: "
                "there is nothing to compare.",
                item=item_text,
            )
        return _(
            "On “%(item)s” the branches shown gave the same answer: there is nothing to compare.",
            item=item_text,
        )
    if kruskal.p < 1 - report.confidence:
        return _(
            "On “%(item)s” the branches answered clearly differently (%(size)s).",
            item=item_text,
            size=effect_words(kruskal.effect_size),
        )
    return _("On “%(item)s” there is no clear difference between the branches.", item=item_text)


def omnibus_details(tests: ItemTests | None) -> str | None:
    """The test statistics behind :func:`omnibus_sentence`, for a details element."""
    if tests is None or tests.kruskal.p is None:
        return None
    kruskal, chi2 = tests.kruskal, tests.chi2
    text = _(
        "The sentence rests on the Kruskal–Wallis test of the ordered answers: H = %(h)s, "
        "df %(df)s, %(p)s, ε² = %(e)s.",
        h=f"{kruskal.statistic:.2f}",
        df=kruskal.df,
        p=display.p_value(kruskal.p),
        e=f"{kruskal.epsilon_squared:.3f}",
    )
    if chi2.p is None:
        return text
    text += " " + _(
        "χ² test of the answer shares: χ² = %(chi2)s, df %(df)s, %(p)s, Cramér's V = %(v)s.",
        chi2=f"{chi2.statistic:.1f}",
        df=chi2.df,
        p=display.p_value(chi2.p),
        v=f"{chi2.cramers_v or 0.0:.2f}",
    )
    if chi2.small_expected:
        text += " " + _(
            "%(share)s of its expected counts are under 5, so its p-value is only a rough guide.",
            share=display.percent(chi2.small_expected),
        )
    return text


def overall_sentence(report: Report) -> str | None:
    """The survey's answer in one sentence: its favourable rate against the target."""
    headline, target = report.headline, report.survey.target
    if report.overall_suppressed or headline.favourable_rate is None:
        return None
    rate = display.percent(headline.favourable_rate)
    if target is None:
        return _(
            "Overall, %(rate)s of the answers are favourable (the mean of the %(items)s "
            "items' favourable rates).",
            rate=rate,
            items=headline.items_rated,
        )
    values = {"rate": rate, "target": display.percent(target)}
    if headline.favourable_rate >= target:
        return _(
            "Overall, %(rate)s of the answers are favourable: the target of %(target)s is met.",
            **values,
        )
    if headline.favourable_ci is not None and headline.favourable_ci[1] < target:
        return _(
            "Overall, %(rate)s of the answers are favourable: clearly below the target of "
            "%(target)s.",
            **values,
        )
    return _(
        "Overall, %(rate)s of the answers are favourable: below the target of %(target)s, "
        "but within the margin of chance.",
        **values,
    )


def branches_sentences(report: Report) -> list[str]:
    """Which branches are clearly below the rest, and which clearly below the target."""
    shown = [b for b in report.shown if b.headline is not None]
    if not shown:
        return []
    below = [b.label for b in shown if b.headline.group == "below"]
    out = [
        _("Clearly below the other branches: %(branches)s.", branches=_listed(below))
        if below
        else _("No branch is clearly below the other branches.")
    ]
    target = report.survey.target
    if target is None:
        return out
    under = [b.label for b in shown if b.headline.versus_target == "below"]
    values = {"target": display.percent(target), "branches": _listed(under)}
    out.append(
        _("Clearly below the target of %(target)s: %(branches)s.", **values)
        if under
        else _("No branch is clearly below the target of %(target)s.", **values)
    )
    unsure = sum(
        1 for b in shown if b.headline.rate < target and b.headline.versus_target != "below"
    )
    if unsure:
        out.append(
            ngettext(
                "%(num)d more branch is below the target, but with too few answers to be sure.",
                "%(num)d more branches are below the target, but with too few answers to be sure.",
                unsure,
            )
        )
    return out


def weakest_items_sentence(report: Report) -> str | None:
    """The items with the lowest favourable rate over all answers."""
    overall = report.analysis.overall or {}
    rated = [
        (overall[i.key].favourable_rate, i.number, i.text)
        for i in report.items
        if i.key in overall and overall[i.key].favourable_rate is not None
    ]
    if len(rated) < 2:
        return None
    weakest = sorted(rated)[: 2 if len(rated) >= 4 else 1]
    return _(
        "Weakest items: %(items)s.",
        items=_listed(
            [
                _("“%(item)s” (%(rate)s)", item=text, rate=display.percent(rate))
                for rate, _number, text in weakest
            ]
        ),
    )


def alpha_sentence(alpha: float | None) -> str:
    """Cronbach's α with a plain reading (George & Mallery 2003 bands)."""
    if alpha is None:
        return _(
            "Cronbach's α cannot be computed: it needs at least two items and enough complete "
            "answers that vary."
        )
    meaning = {
        "excellent": _("excellent: the items measure one common quality very consistently"),
        "good": _("good: the items measure one common quality consistently"),
        "acceptable": _("acceptable: the items mostly measure one common quality"),
        "questionable": _("questionable: the items agree only loosely; read them one by one"),
    }.get(alpha_band(alpha), _("poor: the items measure different things; read them one by one"))
    return _("Cronbach's α = %(alpha)s, %(meaning)s.", alpha=f"{alpha:.2f}", meaning=meaning)


def vs_rest_text(verdict: str | None, effect: float | None) -> str:
    """A branch's verdict against the rest in words, with the effect in percentage points
    where a test was made on enough answers."""
    words = display.verdict_words(verdict)
    if effect is None or verdict in ("too_few", "not_tested"):
        return words
    return _(
        "%(words)s (%(effect)s points against the rest)",
        words=words,
        effect=display.points(effect),
    )


def branch_headline_text(report: Report, headline) -> str:
    """A branch's one headline figure, named as everywhere, with its interval and basis."""
    return _(
        "%(name)s: %(rate)s (%(level)s interval %(ci)s), %(basis)s.",
        name=display.headline_name(),
        rate=display.percent(headline.rate),
        level=f"{100 * report.confidence:g}%",
        ci=display.interval(*headline.ci),
        basis=display.headline_basis(headline),
    )


def headline_text(report: Report) -> str | None:
    """The survey-wide headline, labelled as what it is: a mean over the items."""
    headline = report.headline
    if report.overall_suppressed or headline.favourable_rate is None:
        return None
    return _(
        "Headline: the mean of the %(items)s items' favourable rates is %(rate)s "
        "(interval %(ci)s).",
        items=headline.items_rated,
        rate=display.percent(headline.favourable_rate),
        ci=display.interval(*(headline.favourable_ci or (None, None))),
    )


def ballot_box_sentence(report: Report) -> str | None:
    """What the ballot box still holds, and why it is not counted yet."""
    box, k = report.ballot_box, report.threshold
    if box.held_back:
        return ngettext(
            "%(num)d answer is held back, sealed and uncounted: it arrived after the results "
            "were first shown, in a group of fewer than %(k)d new answers, and counting it "
            "would show how those people answered. Reopening the survey lets it be counted "
            "with later answers.",
            "%(num)d answers are held back, sealed and uncounted: they arrived after the "
            "results were first shown, in groups of fewer than %(k)d new answers, and counting "
            "them would show how those people answered. Reopening the survey lets them be "
            "counted with later answers.",
            box.held_back,
            k=k,
        )
    if box.waiting:
        return ngettext(
            "%(num)d answer is waiting, sealed, to be counted: answers are counted in shuffled "
            "batches of at least %(k)d from the same branch and category, so that the figures "
            "never change by fewer than %(k)d people.",
            "%(num)d answers are waiting, sealed, to be counted: answers are counted in "
            "shuffled batches of at least %(k)d from the same branch and category, so that the "
            "figures never change by fewer than %(k)d people.",
            box.waiting,
            k=k,
        )
    return None


def tests_scope_sentence(report: Report) -> str | None:
    """Which branches the tests compare, when some are hidden."""
    if not report.analysis.suppressed_branches:
        return None
    return _(
        "These tests compare the branches whose figures are shown; the %(hidden)d hidden "
        "branches are left out, so that their answers cannot be worked out from the results.",
        hidden=report.analysis.suppressed_branches,
    )


def hidden_branch_reason(report: Report, respondents: int) -> str:
    """Why a suppressed branch is listed without figures."""
    if respondents < report.threshold:
        return _("fewer than %(k)s respondents, hidden to protect anonymity", k=report.threshold)
    return _("hidden as well, so that a smaller hidden branch cannot be worked out from the totals")


def hidden_branch_notice(report: Report, respondents: int) -> str:
    """What a suppressed branch's own page says instead of its figures."""
    if respondents < report.threshold:
        return _("Fewer than %(k)s respondents: hidden to protect anonymity.", k=report.threshold)
    return _(
        "Hidden to protect anonymity: with it shown, a smaller hidden branch could be worked "
        "out from the totals."
    )
