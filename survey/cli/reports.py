"""``flask --app wsgi report``: a survey's report as JSON, xlsx or CSV.

The same service as the API and the results pages' downloads: sealed results stay sealed here
too, a comparison needs another stage of the same campaign, and every run is recorded in the
audit trail with the same entry as a download.
"""

from __future__ import annotations

import sys

import click
from flask_babel import gettext as _

from survey.services import exports, report_json
from survey.services.lookup import find_campaign, find_survey
from survey.services.rectification.effect import exported_effect
from survey.services.report import check_comparable, check_unsealed, exported_report


@click.command("report")
@click.argument("survey_slug", metavar="SURVEY")
@click.option("--compare", "compare_slug", metavar="OTHER", help="Compare with another survey.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", *exports.MEDIA_TYPES]),
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
    survey = find_survey(survey_slug)
    compare = find_survey(compare_slug) if compare_slug else None
    # Checked before any file is opened, so a refused report leaves no empty file behind.
    check_unsealed(survey)
    if compare is not None:
        check_comparable(survey, compare)
        check_unsealed(compare)
    if fmt == "json":
        text = report_json.report_text(exported_report(None, survey, fmt, compare), indent=2)
        if output:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
        else:
            sys.stdout.write(text + "\n")
    else:
        with open(output, "wb") as handle:
            exports.write_export(survey, fmt, handle, compare=compare)
    if output:
        click.echo(_("Report written to %(path)s.", path=output), err=True)


@click.command("rectification-report")
@click.argument("campaign_slug", metavar="CAMPAIGN")
def rectification_report_command(campaign_slug: str) -> None:
    """Write the effect of a campaign's rectification as JSON (as the API gives it)."""
    found = exported_effect(None, find_campaign(campaign_slug), "json")
    sys.stdout.write(report_json.dumps(found, indent=2) + "\n")


COMMANDS = (report_command, rectification_report_command)
