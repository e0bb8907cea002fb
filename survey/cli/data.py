"""Data commands: branches, survey definitions, access codes, paper ballots and the demo.

Each command checks its whole input first and prints every problem (``file:line: field: message``)
to stderr, then exits with status 1 having changed nothing; the work itself runs in one
transaction. The logic lives in ``survey.services``, which the browser's admin pages share.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import click
from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from survey.cli import fail
from survey.db import db
from survey.models import Action, Role, Survey, User
from survey.services import ballot_box, ballot_drafts, lifecycle
from survey.services.branches import import_branches
from survey.services.codes import MintedBatch, mint_cells, mint_codes, mint_problems, slip_url
from survey.services.definition_yaml import export_definition, load_definition
from survey.services.imports import Problem, Rejected, read_table
from survey.services.lookup import find_branch, find_campaign, find_survey
from survey.services.mint_files import read_mint_counts
from survey.services.paper_ballots import read_ballots

#: Most codes one command mints per branch and category.
MAX_CODES = 100_000


def _read(path: str) -> bytes:
    """The bytes of an input file (click has checked that it exists)."""
    return Path(path).read_bytes()


input_file = click.Path(exists=True, dir_okay=False, readable=True)


@click.command("import-branches")
@click.argument("file", type=input_file)
@click.option(
    "--campaign",
    "campaign_slug",
    help="Add the file's branches to this campaign only (default: new branches join every "
    "running campaign).",
)
def import_branches_command(file: str, campaign_slug: str | None) -> None:
    """Add or update branches from a CSV or .xlsx file: code,name[,parent] (or 编号,名称,上级;
    a list of names alone gets codes)."""
    campaign = find_campaign(campaign_slug) if campaign_slug is not None else None
    plan = import_branches(read_table(_read(file), file), campaign=campaign)
    click.echo(
        _(
            "Branches: %(added)d added, %(updated)d updated, %(unchanged)d unchanged.",
            added=len(plan.to_add),
            updated=len(plan.to_change),
            unchanged=plan.unchanged,
        )
    )


@click.command("load-survey")
@click.argument("file", type=input_file)
def load_survey_command(file: str) -> None:
    """Create or update a survey (and its campaign) from a YAML definition."""
    data = _read(file)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise Rejected(
            [Problem(file, line, None, _("a survey definition must be saved as UTF-8"))]
        ) from None
    outcome = load_definition(text, file)
    survey = outcome.survey
    if outcome.created:
        message = _(
            "Survey %(survey)s created (%(state)s).", survey=survey.slug, state=survey.state.label
        )
    elif outcome.changed:
        message = _("Survey %(survey)s updated.", survey=survey.slug)
    else:
        message = _("Survey %(survey)s is unchanged.", survey=survey.slug)
    click.echo(message)


@click.command("export-survey")
@click.argument("slug", metavar="SURVEY")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None)
def export_survey_command(slug: str, output: str | None) -> None:
    """Print a survey's definition as YAML that load-survey reads back (or write it to a file)."""
    text = export_definition(find_survey(slug))
    if output is None:
        click.echo(text, nl=False)
        return
    _write_atomically(Path(output), lambda handle: handle.write(text), encoding="utf-8")
    click.echo(_("Wrote %(file)s.", file=output))


def _temporary_of(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp")


def _write_atomically(path: Path, write, encoding: str, keep_temporary: bool = False) -> None:
    """Write a file under a temporary name in the same folder, then rename it into place.

    With ``keep_temporary`` the complete file stays under its temporary name until
    :func:`_move_into_place` (after the database commit), so a failure on either side leaves
    neither a partial file nor a half-done change. The file is readable by its owner only.
    """
    temporary = _temporary_of(path)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding=encoding, newline="") as handle:
            write(handle)
        if not keep_temporary:
            os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _move_into_place(path: Path) -> None:
    """Give a file kept by :func:`_write_atomically` its name."""
    os.replace(_temporary_of(path), path)


def _cells_to_mint(survey, branch_code, category_key, count, counts_file):
    """The (branch, category) cells and their counts that ``mint-codes`` was asked for."""
    if (count is None) == (counts_file is None):
        fail([_("Give either --count or --counts FILE.")])
    if counts_file is not None:
        plan = read_mint_counts(survey, read_table(_read(counts_file), counts_file))
        return [(b, c) for b, c, _n in plan], [n for _b, _c, n in plan]
    branch = find_branch(branch_code) if branch_code is not None else None
    category = None
    if category_key is not None:
        category = survey.category(category_key)
        if category is None:
            fail(
                [
                    _(
                        'unknown category "%(key)s" (categories: %(known)s)',
                        key=category_key,
                        known=", ".join(c.key for c in survey.categories),
                    )
                ]
            )
    return mint_cells(survey, branch, category), count


@click.command("mint-codes")
@click.argument("slug", metavar="SURVEY")
@click.option("--branch", "branch_code", help="Only this branch (default: every active branch).")
@click.option("--category", "category_key", help="Only this category (default: every category).")
@click.option(
    "--count",
    type=click.IntRange(1, MAX_CODES),
    help="Codes per branch and category.",
)
@click.option(
    "--counts",
    "counts_file",
    type=input_file,
    help="A CSV or .xlsx file branch,category,count: how many codes each group gets.",
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), required=True, help="CSV file to write."
)
@click.option(
    "--reason",
    help="Why, when the survey is open or a group would get more codes than it has members.",
)
def mint_codes_command(
    slug: str,
    branch_code: str | None,
    category_key: str | None,
    count: int | None,
    counts_file: str | None,
    output: str,
    reason: str | None,
) -> None:
    """Mint one-time access codes and write them to a CSV file: branch,category,code,url.

    Codes go to the branches of the survey's campaign only."""
    survey = find_survey(slug)
    cells, count = _cells_to_mint(survey, branch_code, category_key, count, counts_file)
    path = Path(output)
    # Everything that would refuse the command, reported at once, before any code exists.
    problems = mint_problems(survey, cells, count)
    if path.exists():
        problems.append(_("%(file)s already exists: choose a new file name", file=output))
    elif not path.parent.is_dir():
        problems.append(_("folder %(folder)s does not exist", folder=str(path.parent)))
    if problems:
        fail(problems)
    base_url = current_app.config["CEPING_BASE_URL"]

    def write_file(minted: list[MintedBatch]) -> None:
        def write(handle) -> None:
            writer = csv.writer(handle, lineterminator="\r\n")
            writer.writerow(["branch", "category", "code", "url"])
            for entry in minted:
                for code in entry.codes:
                    row = [entry.batch.branch.code, entry.batch.category.key, code]
                    writer.writerow([*row, slip_url(base_url, code)])

        # The file is complete before the commit, and a failure writing it mints nothing.
        _write_atomically(path, write, encoding="utf-8-sig", keep_temporary=True)

    try:
        minted = mint_codes(None, survey, cells, count, reason, before_commit=write_file)
    except BaseException:
        _temporary_of(path).unlink(missing_ok=True)  # the commit failed: these codes never were
        raise
    _move_into_place(path)
    total = sum(len(entry.codes) for entry in minted)
    click.echo(_("Minted %(count)d codes into %(file)s.", count=total, file=output))


def _transition(slug: str, opening: bool) -> None:
    """Open (draft → open, or closed → open) or close a survey through the same service as the
    office's page, with the same checks and audit entry."""
    survey = find_survey(slug)
    action = Action.for_opening(survey.state) if opening else Action.CLOSE
    change = lifecycle.change_state(None, survey, action)
    click.echo(_("%(survey)s: %(done)s", survey=survey.slug, done=action.done))
    if change.held_back:
        click.echo(
            ngettext(
                "%(num)d answer is held back: it arrived after results were first shown, in a "
                "group of fewer than %(k)d new answers.",
                "%(num)d answers are held back: they arrived after results were first shown, "
                "in groups of fewer than %(k)d new answers.",
                change.held_back,
                k=survey.threshold,
            )
        )


@click.command("open-survey")
@click.argument("slug", metavar="SURVEY")
def open_survey_command(slug: str) -> None:
    """Start (or resume) accepting responses."""
    _transition(slug, opening=True)


@click.command("close-survey")
@click.argument("slug", metavar="SURVEY")
def close_survey_command(slug: str) -> None:
    """Stop accepting responses and count the ballot box; after-close results become visible."""
    _transition(slug, opening=False)


@click.command("mix-ballots")
@click.argument("slug", metavar="[SURVEY]", required=False)
def mix_ballots_command(slug: str | None) -> None:
    """Count what the ballot box may count now, for one survey or every survey.

    Submissions and closing mix by themselves; this catches up after a failure (a mix that could
    not open its ballots leaves them sealed) and is safe to run at any time, on any server.
    """
    if slug is None:
        chosen = list(db.session.scalars(select(Survey).order_by(Survey.slug)))
    else:
        chosen = [find_survey(slug)]
    locked_out = 0
    for survey in chosen:
        counted = ballot_box.mix_survey(survey)
        left = ballot_box.waiting(survey)
        if counted or left:
            click.echo(
                _(
                    "%(survey)s: %(counted)d counted, %(left)d still sealed.",
                    survey=survey.slug,
                    counted=counted,
                    left=left,
                )
            )
        locked_out += ballot_box.unreadable(survey) if left else 0
    if locked_out:
        raise click.ClickException(
            ngettext(
                "%(num)d sealed ballot does not open with this SECRET_KEY; run mix-ballots "
                "again with the key it was sealed with.",
                "%(num)d sealed ballots do not open with this SECRET_KEY; run mix-ballots "
                "again with the key they were sealed with.",
                locked_out,
            )
        )


@click.command("import-responses")
@click.argument("slug", metavar="SURVEY")
@click.argument("file", type=input_file)
def import_responses_command(slug: str, file: str) -> None:
    """Store paper ballots from a CSV (UTF-8, GBK/GB18030 or Big5) or .xlsx file.

    Header: branch,category,<item keys…>[,comment]. Cells hold option keys or labels; a blank
    cell is an unanswered item.
    """
    survey = find_survey(slug)
    stored = ballot_drafts.import_table(None, survey, read_ballots(survey, _read(file), file))
    click.echo(_("Stored %(count)d paper ballots for %(survey)s.", count=stored, survey=slug))


@click.command("load-demo")
def load_demo_command() -> None:
    """Load the demonstration campaign (branches, two surveys, ballots, codes) if absent."""
    from survey.demo import load_demo

    result = load_demo()
    base_url = current_app.config["CEPING_BASE_URL"]
    if result is None:
        click.echo(_("The demo campaign is already loaded; nothing was changed."))
    else:
        click.echo(result.summary)
        click.echo(
            _(
                "Unused codes for %(survey)s (%(branch)s, %(category)s), one respondent each:",
                survey=result.code_survey,
                branch=result.code_branch,
                category=result.code_category,
            )
        )
        for code in result.codes:
            click.echo(f"  {code}  {slip_url(base_url, code)}")
    click.echo(_("Respondents start at %(url)s/", url=base_url))
    has_admin = db.session.scalar(select(User.id).where(User.role == Role.ADMIN).limit(1))
    if has_admin is None:
        click.echo(
            _(
                "No administrator exists yet; create one with: "
                "flask --app wsgi create-user admin --role admin"
            )
        )
    else:
        login = current_app.url_map.bind("localhost").build("auth.login")
        click.echo(_("Administrators sign in at %(url)s", url=base_url + login))


@click.command("apply-schedule")
def apply_schedule_command() -> None:
    """Open and close the surveys whose scheduled time has come (safe to run from cron, say
    every minute; pages and commands also do it when they read a survey)."""
    for survey, action in lifecycle.apply_due_schedules():
        click.echo(_("%(survey)s: %(done)s", survey=survey.slug, done=action.done))


@click.command("survey-links")
@click.argument("slug", metavar="SURVEY")
@click.option(
    "--poster",
    "poster_dir",
    type=click.Path(file_okay=False, exists=True, writable=True),
    help="Also write each branch's QR code as an SVG file into this folder, for a poster.",
)
def survey_links_command(slug: str, poster_dir: str | None) -> None:
    """Print the open link of each branch of an open-link survey (and write QR codes)."""
    from survey.models import Access
    from survey.services.links import survey_links

    survey = find_survey(slug)
    if survey.access is not Access.LINK:
        fail([_("%(survey)s is answered with codes, not an open link.", survey=survey.slug)])
    for link in survey_links(survey, current_app.config["CEPING_BASE_URL"]):
        click.echo(f"{link.branch.code}\t{link.branch.name}\t{link.url}")
        if poster_dir is not None:
            import segno

            target = Path(poster_dir) / f"{survey.slug}-{link.branch.code}.svg"
            segno.make(link.url, error="m", micro=False).save(str(target), scale=10, border=4)


COMMANDS = (
    apply_schedule_command,
    survey_links_command,
    import_branches_command,
    load_survey_command,
    export_survey_command,
    mint_codes_command,
    open_survey_command,
    close_survey_command,
    mix_ballots_command,
    import_responses_command,
    load_demo_command,
)
