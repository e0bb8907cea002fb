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


def omnibus_sentence(report: Report, item_text: str, tests: ItemTests | None) -> str:
    """Whether the branches differ on one item, in one plain sentence with the effect size."""
    chi2 = tests.chi2 if tests is not None else None
    if chi2 is None or chi2.statistic is None or chi2.p is None:
        return _(
            "On “%(item)s” the branches cannot be compared: too few branches or answers.",
            item=item_text,
        )
    values = {
        "item": item_text,
        "chi2": f"{chi2.statistic:.1f}",
        "df": chi2.df,
        "p": display.p_value(chi2.p),
        "v": f"{chi2.cramers_v or 0.0:.2f}",
        "size": effect_words(chi2.effect_size),
    }
    if chi2.p < 1 - report.confidence:
        return _(
            "On “%(item)s” the branches differ clearly (χ² = %(chi2)s, df %(df)s, %(p)s; "
            "Cramér's V = %(v)s, %(size)s).",
            **values,
        )
    return _(
        "On “%(item)s” there is no clear difference between the branches (χ² = %(chi2)s, "
        "df %(df)s, %(p)s; Cramér's V = %(v)s, %(size)s).",
        **values,
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


def vs_rest_text(signal: str | None, effect: float | None) -> str:
    """A branch's mark against the rest in words, with the effect in percentage points."""
    words = display.signal_words(signal)
    if effect is None:
        return words
    return _(
        "%(words)s (%(effect)s points against the rest)",
        words=words,
        effect=display.points(effect),
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
