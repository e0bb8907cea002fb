"""``flask --app wsgi report``: a survey's report as JSON, xlsx or CSV.

Sealed results stay sealed here too: a survey whose results appear after closing cannot be
reported from the command line while it is open. Every run is recorded in the audit trail.
"""

from __future__ import annotations

import json
import sys

import click
from flask_babel import gettext as _
from sqlalchemy import select

from survey.db import db
from survey.models import Survey
from survey.services import audit
from survey.services.exports import write_export
from survey.services.report import ResultsSealed, build_report, check_unsealed


def _survey(slug: str) -> Survey:
    survey = db.session.scalar(select(Survey).where(Survey.slug == slug))
    if survey is None:
        raise click.ClickException(_("There is no survey called %(slug)s.", slug=slug))
    return survey


@click.command("report")
@click.argument("survey_slug", metavar="SURVEY")
@click.option("--compare", "compare_slug", metavar="OTHER", help="Compare with another survey.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "xlsx", "csv"]),
    default="json",
    show_default=True,
    help="Output format.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    help="File to write (required for xlsx and csv; JSON goes to standard output without it).",
)
def report_command(
    survey_slug: str, compare_slug: str | None, fmt: str, output: str | None
) -> None:
    """Write a survey's report (suppressed branches are absent, as everywhere)."""
    if fmt != "json" and not output:
        raise click.UsageError(_("The %(format)s format needs -o FILE.", format=fmt))
    survey = _survey(survey_slug)
    compare = _survey(compare_slug) if compare_slug else None
    try:
        # Checked before any file is opened, so a sealed survey leaves no empty file behind.
        for checked in (survey, compare):
            if checked is not None:
                check_unsealed(checked)
        if fmt == "json":
            with db.transaction():
                report = build_report(survey, compare=compare)
                text = json.dumps(report, ensure_ascii=False, indent=2, allow_nan=False)
                detail = f"survey={survey.slug} format=json"
                if compare is not None:
                    detail += f" compare={compare.slug}"
                audit.record("report.export", detail)
            if output:
                with open(output, "w", encoding="utf-8") as handle:
                    handle.write(text + "\n")
            else:
                sys.stdout.write(text + "\n")
        else:
            with open(output, "wb") as handle:
                write_export(survey, fmt, handle, compare=compare)
    except ResultsSealed as sealed:
        raise click.ClickException(sealed.message) from None
    if output:
        click.echo(_("Report written to %(path)s.", path=output), err=True)


COMMANDS = (report_command,)
