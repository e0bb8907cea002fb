"""Data commands: branches, survey definitions, access codes, paper ballots and the demo.

Each command checks its whole input first and prints every problem (``file:line: field: message``)
to stderr, then exits with status 1 having changed nothing; the work itself runs in one
transaction. The logic lives in ``survey.services``, which the browser's admin pages share.
"""

from __future__ import annotations

import csv
import os
import tempfile
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
from survey.services import audit
from survey.services.branches import import_branches
from survey.services.codes import mint_batch, slip_url
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


def _write_atomically(path: Path, write, encoding: str, before_rename=None) -> None:
    """Write a file under a temporary name in the same folder, then rename it into place.

    ``before_rename`` runs after the file is complete and before it appears under its name (the
    database commit), so a failure on either side leaves neither a partial file nor a half-done
    change. The temporary file is created readable by its owner only.
    """
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "w", encoding=encoding, newline="") as handle:
            write(handle)
        if before_rename is not None:
            before_rename()
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


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
def mint_codes_command(
    slug: str, branch_code: str | None, category_key: str | None, count: int, output: str
) -> None:
    """Mint one-time access codes and write them to a CSV file: branch,category,code,url."""
    survey = find_survey(slug)
    path = Path(output)
    errors = []
    if survey.state is SurveyState.CLOSED:
        errors.append(_("survey %(survey)s is closed: no new codes", survey=survey.slug))
    if branch_code is None:
        branches = list(
            db.session.scalars(select(Branch).where(Branch.is_active).order_by(Branch.code))
        )
        if not branches:
            errors.append(_("there are no active branches; run import-branches first"))
    else:
        branch = db.session.scalar(select(Branch).where(Branch.code == branch_code))
        if branch is None:
            errors.append(_('unknown branch "%(code)s"', code=branch_code))
        elif not branch.is_active:
            errors.append(_('branch "%(code)s" is inactive', code=branch_code))
        branches = [branch]
    if category_key is None:
        categories = list(survey.categories)
    else:
        categories = [survey.category(category_key)]
        if categories[0] is None:
            errors.append(
                _(
                    'unknown category "%(key)s" (categories: %(known)s)',
                    key=category_key,
                    known=", ".join(c.key for c in survey.categories),
                )
            )
    if path.exists():
        errors.append(_("%(file)s already exists: choose a new file name", file=output))
    elif not path.parent.is_dir():
        errors.append(_("folder %(folder)s does not exist", folder=str(path.parent)))
    if errors:
        fail(errors)

    base_url = current_app.config["CEPING_BASE_URL"]
    rows = []
    with db.transaction():
        for branch in branches:
            for category in categories:
                batch, codes = mint_batch(survey, branch, category, count)
                rows += [[branch.code, category.key, c, slip_url(base_url, c)] for c in codes]
        audit.record(
            "codes.mint",
            f"survey={survey.slug} batches={len(branches) * len(categories)} codes={len(rows)}",
        )

        def write(handle) -> None:
            writer = csv.writer(handle, lineterminator="\r\n")
            writer.writerow(["branch", "category", "code", "url"])
            writer.writerows(rows)

        # The file is complete before the commit and appears under its name only after it.
        _write_atomically(path, write, encoding="utf-8-sig", before_rename=db.session.commit)
    click.echo(_("Minted %(count)d codes into %(file)s.", count=len(rows), file=output))


def _transition(slug: str, action: str) -> None:
    """Open or close a survey, with an audit entry; an impossible move is a clear error."""
    survey = find_survey(slug)
    try:
        with db.transaction():
            getattr(survey, action)()
            audit.record(f"survey.{action}", f"survey={survey.slug}")
    except InvalidTransition:
        if action == "open":
            message = _("survey %(survey)s is %(state)s and cannot be opened")
        else:
            message = _("survey %(survey)s is %(state)s and cannot be closed")
        raise click.ClickException(
            message % {"survey": survey.slug, "state": survey.state}
        ) from None
    click.echo(_("Survey %(survey)s is now %(state)s.", survey=survey.slug, state=survey.state))


@click.command("open-survey")
@click.argument("slug", metavar="SURVEY")
def open_survey_command(slug: str) -> None:
    """Start (or resume) accepting responses."""
    _transition(slug, "open")


@click.command("close-survey")
@click.argument("slug", metavar="SURVEY")
def close_survey_command(slug: str) -> None:
    """Stop accepting responses; results of an after-close survey become visible."""
    _transition(slug, "close")


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
    import_responses_command,
    load_demo_command,
)
