"""Data commands: branches, survey definitions, access codes, paper ballots and the demo.

Each command checks its whole input first and prints every problem (``file:line: field: message``)
to stderr, then exits with status 1 having changed nothing; the work itself runs in one
transaction. The logic lives in ``survey.services``, which the browser's admin pages share.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable
from pathlib import Path
from typing import NoReturn

import click
from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from survey.db import db
from survey.models import Branch, InvalidTransition, Role, Survey, SurveyState, User
from survey.services import ballot_box, surveys
from survey.services.branches import import_branches
from survey.services.codes import (
    MintedBatch,
    MintRefused,
    mint_codes,
    mint_problems,
    slip_url,
)
from survey.services.definitions import export_definition, load_definition
from survey.services.imports import Problem, Rejected, import_ballots, read_ballots, read_table

#: Most codes one command mints per branch and category.
MAX_CODES = 100_000


def fail(problems: Iterable[Problem | str]) -> NoReturn:
    """Print every problem to stderr and stop with status 1; nothing has been written."""
    problems = list(problems)
    for problem in problems:
        click.echo(str(problem), err=True)
    message = ngettext(
        "Nothing was changed (%(num)d problem).",
        "Nothing was changed (%(num)d problems).",
        len(problems),
    )
    click.echo(message, err=True)
    raise click.exceptions.Exit(1)


def find_survey(slug: str) -> Survey:
    """The survey with this slug, or a clear error listing the surveys that exist."""
    survey = db.session.scalar(select(Survey).where(Survey.slug == slug))
    if survey is None:
        known = ", ".join(db.session.scalars(select(Survey.slug).order_by(Survey.slug))) or "-"
        raise click.ClickException(
            _('unknown survey "%(slug)s" (surveys: %(known)s)', slug=slug, known=known)
        )
    return survey


def _read(path: str) -> bytes:
    """The bytes of an input file (click has checked that it exists)."""
    return Path(path).read_bytes()


input_file = click.Path(exists=True, dir_okay=False, readable=True)


@click.command("import-branches")
@click.argument("file", type=input_file)
def import_branches_command(file: str) -> None:
    """Add or update branches from a CSV or .xlsx file with columns code,name[,parent]."""
    try:
        plan = import_branches(read_table(_read(file), file))
    except Rejected as rejected:
        fail(rejected.problems)
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
    try:
        text = _read(file).decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = _read(file).count(b"\n", 0, error.start) + 1
        fail([Problem(file, line, None, _("a survey definition must be saved as UTF-8"))])
    try:
        outcome = load_definition(text, file)
    except Rejected as rejected:
        fail(rejected.problems)
    survey = outcome.survey
    if outcome.created:
        message = _(
            "Survey %(survey)s created (%(state)s).", survey=survey.slug, state=survey.state
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


@click.command("mint-codes")
@click.argument("slug", metavar="SURVEY")
@click.option("--branch", "branch_code", help="Only this branch (default: every active branch).")
@click.option("--category", "category_key", help="Only this category (default: every category).")
@click.option(
    "--count",
    type=click.IntRange(1, MAX_CODES),
    required=True,
    help="Codes per branch and category.",
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
    count: int,
    output: str,
    reason: str | None,
) -> None:
    """Mint one-time access codes and write them to a CSV file: branch,category,code,url."""
    survey = find_survey(slug)
    path = Path(output)
    errors = []
    if branch_code is None:
        branches = list(
            db.session.scalars(select(Branch).where(Branch.is_active).order_by(Branch.code))
        )
    else:
        branch = db.session.scalar(select(Branch).where(Branch.code == branch_code))
        if branch is None:
            errors.append(_('unknown branch "%(code)s"', code=branch_code))
        branches = [branch] if branch is not None else []
    if category_key is None:
        categories = list(survey.categories)
    else:
        categories = [c for c in survey.categories if c.key == category_key]
        if not categories:
            errors.append(
                _(
                    'unknown category "%(key)s" (categories: %(known)s)',
                    key=category_key,
                    known=", ".join(c.key for c in survey.categories),
                )
            )
    cells = [(branch, category) for branch in branches for category in categories]
    if not errors:
        errors += mint_problems(survey, cells, count)
    if path.exists():
        errors.append(_("%(file)s already exists: choose a new file name", file=output))
    elif not path.parent.is_dir():
        errors.append(_("folder %(folder)s does not exist", folder=str(path.parent)))
    if errors:
        fail(errors)

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
    except MintRefused as refused:
        fail([str(refused)])
    except BaseException:
        _temporary_of(path).unlink(missing_ok=True)  # the commit failed: these codes never were
        raise
    _move_into_place(path)
    total = sum(len(entry.codes) for entry in minted)
    click.echo(_("Minted %(count)d codes into %(file)s.", count=total, file=output))


def _transition(slug: str, opening: bool) -> None:
    """Open (draft → open, or closed → open) or close a survey through the same service as the
    office's page, with the same checks and audit entry; an impossible move is a clear error."""
    survey = find_survey(slug)
    reopening = opening and survey.state is SurveyState.CLOSED
    action = "reopen" if reopening else "open" if opening else "close"
    try:
        surveys.change_state(None, survey, action)
    except InvalidTransition:
        if opening:
            message = _("survey %(survey)s is %(state)s and cannot be opened")
        else:
            message = _("survey %(survey)s is %(state)s and cannot be closed")
        raise click.ClickException(
            message % {"survey": survey.slug, "state": survey.state}
        ) from None
    except surveys.EditRefused as refused:
        fail(refused.messages)
    click.echo(_("Survey %(survey)s is now %(state)s.", survey=survey.slug, state=survey.state))
    held = ballot_box.waiting(survey) if survey.state is SurveyState.CLOSED else 0
    if held:
        click.echo(
            ngettext(
                "%(num)d answer is held back: it arrived after results were first shown, in a "
                "group of fewer than %(k)d new answers.",
                "%(num)d answers are held back: they arrived after results were first shown, "
                "in groups of fewer than %(k)d new answers.",
                held,
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
    try:
        ballots = import_ballots(survey, read_ballots(survey, _read(file), file))
    except Rejected as rejected:
        fail(rejected.problems)
    click.echo(_("Stored %(count)d paper ballots for %(survey)s.", count=len(ballots), survey=slug))


@click.command("load-demo")
def load_demo_command() -> None:
    """Load the demonstration campaign (branches, two surveys, ballots, codes) if absent."""
    from survey.demo import load_demo

    try:
        result = load_demo()
    except Rejected as rejected:
        fail(rejected.problems)
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


COMMANDS = (
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
