"""Spreadsheets of the rectification stage: the opinion summary and the effect report.

Laid out for a leader's printer (labels in the reader's language, landscape, fit to width,
heading rows repeated), and audited like every export: who took which figures out.
"""

from __future__ import annotations

import io

import xlsxwriter
from flask_babel import gettext as _

from survey.db import db
from survey.models import Campaign, ProblemClass, User
from survey.services import audit
from survey.services.rectification import effect as effects
from survey.services.rectification.opinions import SOURCE_LABELS, summary
from survey.services.rectification.plans import CLASS_LABELS, STATUS_LABELS


def _sheet(book, name: str, title: str, header: list[str], widths: list[int]):
    sheet = book.add_worksheet(name[:31])
    bold = book.add_format({"bold": True, "text_wrap": True, "valign": "top", "border": 1})
    sheet.write(0, 0, title, book.add_format({"bold": True, "font_size": 14}))
    sheet.write_row(2, 0, header, bold)
    for column, width in enumerate(widths):
        sheet.set_column(column, column, width)
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(2)
    sheet.freeze_panes(3, 0)
    return sheet


def _audited(actor: User | None, campaign: Campaign, what: str) -> None:
    with db.transaction():
        audit.record("rectification.export", f"campaign={campaign.slug} {what}", user=actor)


def summary_workbook(actor: User | None, campaign: Campaign) -> io.BytesIO:
    """The opinion summary: voices per theme, per branch and per source."""
    found = summary(campaign)
    stream = io.BytesIO()
    book = xlsxwriter.Workbook(stream, {"in_memory": True})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    header = [_("Opinions"), _("People")]
    for name, title, rows in (
        (_("By theme"), _("Opinions by theme"), found.by_theme),
        (
            _("By branch"),
            _("Opinions by branch"),
            [(b.name if b else _("The whole committee"), n, v) for b, n, v in found.by_branch],
        ),
        (
            _("By source"),
            _("Opinions by source"),
            [(str(SOURCE_LABELS[s]), n, v) for s, n, v in found.by_source],
        ),
    ):
        sheet = _sheet(book, name, f"{campaign.title}: {title}", ["", *header], [40, 12, 12])
        for row, values in enumerate(rows, start=3):
            sheet.write_row(row, 0, values, wrap)
    book.close()
    _audited(actor, campaign, "what=opinion-summary format=xlsx")
    stream.seek(0)
    return stream


def effect_workbook(actor: User | None, campaign: Campaign) -> io.BytesIO:
    """The effect report: each measure's items and their change, and the tallies."""
    report = effects.effect_report(campaign)
    stream = io.BytesIO()
    book = xlsxwriter.Workbook(stream, {"in_memory": True})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    percent = book.add_format({"num_format": "+0.0%;-0.0%;0.0%", "valign": "top"})
    header = [
        _("Plan of"),
        _("Problem"),
        _("Class"),
        _("Responsible department"),
        _("Status"),
        _("Item"),
        _("Change in favourable rate"),
        _("Verdict"),
    ]
    sheet = _sheet(
        book,
        _("Effect"),
        f"{campaign.title}: {_('Effect of rectification')}",
        header,
        [16, 40, 16, 18, 12, 30, 14, 14],
    )
    row = 3
    for plan, measures in report.plans:
        for measure_effect in measures:
            measure = measure_effect.measure
            first = [
                plan.branch.name if plan.branch else _("The whole committee"),
                measure.problem,
                str(CLASS_LABELS[measure.problem_class]),
                measure.department,
                str(STATUS_LABELS[measure.status]),
            ]
            for item_effect in measure_effect.items or [None]:
                sheet.write_row(row, 0, first, wrap)
                if item_effect is not None:
                    sheet.write(row, 5, item_effect.item.text, wrap)
                    comparison = item_effect.comparison
                    if comparison is not None and comparison.diff is not None:
                        sheet.write_number(row, 6, comparison.diff, percent)
                    sheet.write(row, 7, str(effects.VERDICT_LABELS[item_effect.verdict]), wrap)
                row += 1
    _tallies(book, campaign, report)
    book.close()
    _audited(actor, campaign, "what=effect format=xlsx")
    stream.seek(0)
    return stream


def _tallies(book, campaign: Campaign, report: effects.EffectReport) -> None:
    header = ["", _("Measures"), _("Done"), _("Done and moved an item")]
    for name, rows in (
        (_("By class"), [(str(CLASS_LABELS[k]), t) for k, t in _by_class(report)]),
        (_("By department"), sorted(report.by_department.items())),
    ):
        sheet = _sheet(book, name, f"{campaign.title}: {name}", header, [30, 12, 12, 18])
        for row, (label, tally) in enumerate(rows, start=3):
            sheet.write_row(row, 0, [label, tally.measures, tally.done, tally.moved])


def _by_class(report: effects.EffectReport):
    return [(c, report.by_class[c.value]) for c in ProblemClass if c.value in report.by_class]
