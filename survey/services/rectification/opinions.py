"""Opinions (意見): entered, imported, pulled from survey comments, tagged, merged, summarised.

The office gathers opinions from forums, the opinion box, opinion forms, deputies' proposals,
the surveys' comments and the public page, and sorts them into a summary by theme (梳理彙總)
that the leading group discusses. Counting matters: a merged duplicate adds its voices to the
opinion it joins, so the summary counts every voice once and no opinion twice.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from analytics.report import SHOWN
from survey.db import db
from survey.models import (
    Branch,
    Campaign,
    Comment,
    Measure,
    Opinion,
    OpinionSource,
    Plan,
    Survey,
    SurveyState,
    Theme,
    User,
)
from survey.models.rectify import measure_opinion
from survey.refusals import Conflict, Invalid
from survey.services import audit
from survey.services.imports import Problem, Rejected, Table, folded
from survey.services.report_counts import branch_statuses

#: Longest opinion text kept (a long letter is summarised by the office, not pasted whole).
TEXT_LIMIT = 4000
THEME_LIMIT = 100

SOURCE_LABELS = {
    OpinionSource.FORUM: _l("Forum"),
    OpinionSource.OPINION_BOX: _l("Opinion box"),
    OpinionSource.FORM: _l("Opinion form"),
    OpinionSource.PROPOSAL: _l("Deputies' proposal"),
    OpinionSource.SURVEY_COMMENT: _l("Survey comment"),
    OpinionSource.PUBLIC_FEEDBACK: _l("Public page"),
}

#: Column names an import accepts, folded, in English and both Chinese scripts.
IMPORT_COLUMNS = {
    "text": ("text", "opinion", "意见", "意見", "内容", "內容", "意见内容", "意見內容"),
    "source": ("source", "来源", "來源"),
    "branch": ("branch", "支部", "单位", "單位", "部门", "部門", "支部代码", "支部代碼"),
    "themes": ("themes", "theme", "主题", "主題", "分类", "分類"),
    "count": ("count", "人数", "人數", "次数", "次數"),
}

#: Words of the source column, folded, for each source.
SOURCE_WORDS = {
    OpinionSource.FORUM: ("forum", "座谈会", "座談會", "座谈", "座談"),
    OpinionSource.OPINION_BOX: ("opinion_box", "opinion box", "意见箱", "意見箱"),
    OpinionSource.FORM: ("form", "opinion form", "征求意见表", "徵求意見表", "意见表", "意見表"),
    OpinionSource.PROPOSAL: ("proposal", "代表建议", "代表建議", "建议", "建議"),
    OpinionSource.SURVEY_COMMENT: ("survey_comment", "survey comment", "测评", "測評"),
    OpinionSource.PUBLIC_FEEDBACK: ("public_feedback", "public", "公示", "群众", "羣眾"),
}

#: Separators between theme names in one cell.
THEME_SEPARATORS = ("；", ";", "、", "，", ",", "/")


def check_text(text: str, field: str = "text") -> str:
    """The opinion's text, stripped; refuse an empty or overlong one."""
    text = (text or "").strip()
    if not text:
        raise Invalid(_("Write the opinion."), field=field)
    if len(text) > TEXT_LIMIT:
        raise Invalid(
            _("An opinion may be %(limit)d characters long at most.", limit=TEXT_LIMIT),
            field=field,
        )
    return text


def themes_named(campaign: Campaign, names: list[str]) -> list[Theme]:
    """The campaign's themes with these names, created when new (inside the caller's
    transaction)."""
    found: list[Theme] = []
    for name in dict.fromkeys(n.strip() for n in names if n.strip()):
        if len(name) > THEME_LIMIT:
            raise Invalid(
                _("A theme may be %(limit)d characters long at most.", limit=THEME_LIMIT),
                field="themes",
            )
        theme = db.session.scalar(
            select(Theme).where(Theme.campaign_id == campaign.id, Theme.name == name)
        )
        if theme is None:
            theme = Theme(campaign_id=campaign.id, name=name)
            db.session.add(theme)
        found.append(theme)
    return found


def split_themes(cell: str) -> list[str]:
    for separator in THEME_SEPARATORS[1:]:
        cell = cell.replace(separator, THEME_SEPARATORS[0])
    return [name.strip() for name in cell.split(THEME_SEPARATORS[0]) if name.strip()]


def add_opinion(
    actor: User | None,
    campaign: Campaign,
    text: str,
    source: OpinionSource,
    branch: Branch | None = None,
    themes: list[str] = (),
    count: int = 1,
) -> Opinion:
    """Record one opinion about ``branch`` (None: the whole committee); audited."""
    text = check_text(text)
    if count < 1:
        raise Invalid(_("The number of people must be at least 1."), field="count")
    with db.transaction():
        opinion = Opinion(
            campaign_id=campaign.id,
            branch_id=branch.id if branch is not None else None,
            source=source,
            text=text,
            count=count,
            themes=themes_named(campaign, list(themes)),
        )
        db.session.add(opinion)
        db.session.flush()
        audit.record(
            "opinion.add",
            f"campaign={campaign.slug} opinion={opinion.id} source={source}",
            user=actor,
        )
    return opinion


def tag_opinion(actor: User | None, opinion: Opinion, themes: list[str]) -> None:
    """Replace an opinion's themes; audited."""
    campaign = db.session.get(Campaign, opinion.campaign_id)
    with db.transaction():
        opinion.themes = themes_named(campaign, themes)
        names = ",".join(t.name for t in opinion.themes)
        audit.record("opinion.tag", f"opinion={opinion.id} themes={names}", user=actor)


def merge_opinion(actor: User | None, duplicate: Opinion, into: Opinion) -> None:
    """Merge ``duplicate`` into ``into``: its voices and themes join, it leaves the summary."""
    if duplicate.id == into.id:
        raise Invalid(_("An opinion cannot be merged into itself."), field="into")
    if duplicate.campaign_id != into.campaign_id:
        raise Invalid(_("Only opinions of the same campaign can be merged."), field="into")
    if duplicate.merged_into_id is not None or into.merged_into_id is not None:
        raise Conflict(_("This opinion has already been merged into another."))
    with db.transaction():
        into.count += duplicate.count
        into.themes = list(dict.fromkeys([*into.themes, *duplicate.themes]))
        duplicate.merged_into_id = into.id
        audit.record(
            "opinion.merge",
            f"opinion={duplicate.id} into={into.id} count={into.count}",
            user=actor,
        )


def live_opinions(campaign: Campaign, branch_id: int | None = None) -> list[Opinion]:
    """The campaign's opinions that are not merged into another, newest first."""
    query = select(Opinion).where(
        Opinion.campaign_id == campaign.id, Opinion.merged_into_id.is_(None)
    )
    if branch_id is not None:
        query = query.where(Opinion.branch_id == branch_id)
    return list(db.session.scalars(query.order_by(Opinion.id.desc())))


def addressed_by(campaign: Campaign) -> dict[int, list[Measure]]:
    """Opinion id → the measures that answer it (an opinion with none is not addressed yet)."""
    rows = db.session.execute(
        select(measure_opinion.c.opinion_id, Measure)
        .join(Measure, Measure.id == measure_opinion.c.measure_id)
        .join(Plan, Plan.id == Measure.plan_id)
        .where(Plan.campaign_id == campaign.id)
        .order_by(Plan.id, Measure.position)
    ).all()
    found: dict[int, list[Measure]] = {}
    for opinion_id, measure in rows:
        found.setdefault(opinion_id, []).append(measure)
    return found


# ---- imports ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImportedOpinion:
    text: str
    source: OpinionSource
    branch: Branch | None
    themes: list[str]
    count: int


def _source_of(cell: str) -> OpinionSource | None:
    word = folded(cell).casefold()
    for source, words in SOURCE_WORDS.items():
        if word in {folded(w).casefold() for w in words}:
            return source
    return None


def _branch_of(cell: str, branches: dict[str, Branch]) -> Branch | None:
    return branches.get(folded(cell).casefold())


def _rename_columns(table: Table) -> list[Problem]:
    """Accept the Chinese and English names of each column (see :data:`IMPORT_COLUMNS`)."""
    aliases = {folded(a).casefold(): name for name, words in IMPORT_COLUMNS.items() for a in words}
    table.header = [aliases.get(folded(h).casefold(), h) for h in table.header]
    for row in table.rows:
        renamed = {aliases.get(folded(k).casefold(), k): v for k, v in row.cells.items()}
        row.cells.clear()
        row.cells.update(renamed)
    return table.check_header(list(IMPORT_COLUMNS), ["text"])


def _read_row(row, branches, default_source) -> tuple[ImportedOpinion | None, list[str]]:
    problems = []
    text = row.get("text")
    if not text:
        problems.append(_("the opinion text is missing"))
    elif len(text) > TEXT_LIMIT:
        problems.append(_("the opinion is longer than %(limit)d characters", limit=TEXT_LIMIT))
    source = _source_of(row.get("source")) if row.get("source") else default_source
    if source is None:
        problems.append(_('unknown source "%(source)s"', source=row.get("source")))
    branch = None
    if row.get("branch") and (branch := _branch_of(row.get("branch"), branches)) is None:
        problems.append(_('unknown branch "%(branch)s"', branch=row.get("branch")))
    count = 1
    if row.get("count"):
        try:
            count = int(row.get("count"))
        except ValueError:
            count = 0
        if count < 1:
            problems.append(_("the number of people must be a whole number of at least 1"))
    if problems:
        return None, problems
    return ImportedOpinion(text, source, branch, split_themes(row.get("themes")), count), []


def import_opinions(
    actor: User | None,
    campaign: Campaign,
    table: Table,
    default_source: OpinionSource = OpinionSource.FORM,
) -> int:
    """Add every opinion of a table (all or nothing); the number added. Columns: text, source,
    branch (code or name; blank: the committee), themes (separated by 、 or ;), count."""
    problems = _rename_columns(table) or table.extra_cells()
    if problems:
        raise Rejected(problems)
    branches: dict[str, Branch] = {}
    for branch in campaign.branches:
        branches[folded(branch.name).casefold()] = branch
        branches[folded(branch.code).casefold()] = branch
    rows = []
    for row in table.rows:
        read, messages = _read_row(row, branches, default_source)
        problems += [Problem(table.source, row.line, None, m) for m in messages]
        rows.append(read)
    if not rows:
        problems.append(Problem(table.source, None, None, _("the file lists no opinions")))
    if problems:
        raise Rejected(problems)
    with db.transaction():
        for read in rows:
            db.session.add(
                Opinion(
                    campaign_id=campaign.id,
                    branch_id=read.branch.id if read.branch else None,
                    source=read.source,
                    text=read.text,
                    count=read.count,
                    themes=themes_named(campaign, read.themes),
                )
            )
        audit.record(
            "opinion.import",
            f"campaign={campaign.slug} file={table.source} opinions={len(rows)}",
            user=actor,
        )
    return len(rows)


def pull_comments(actor: User | None, survey: Survey) -> int:
    """Copy a closed survey's comments into opinions, from shown branches only.

    A comment of a suppressed branch stays where it is: listing it would tell a small group's
    words. The copy is text only, in random order, so nothing leads back to a response; a
    comment already pulled (same text, branch and source) is not added twice.
    """
    if survey.state is not SurveyState.CLOSED:
        raise Conflict(_("Comments can be taken in once the survey is closed."))
    shown = [b for b, status in branch_statuses(survey).items() if status == SHOWN]
    rows = db.session.execute(
        select(Comment.branch_id, Comment.text).where(
            Comment.survey_id == survey.id, Comment.branch_id.in_(shown)
        )
    ).all()
    existing = Counter(
        db.session.execute(
            select(Opinion.branch_id, Opinion.text).where(
                Opinion.campaign_id == survey.campaign_id,
                Opinion.source == OpinionSource.SURVEY_COMMENT,
            )
        ).all()
    )
    fresh = []
    for row in rows:
        if existing[tuple(row)] > 0:
            existing[tuple(row)] -= 1  # pulled before
        else:
            fresh.append(tuple(row))
    random.SystemRandom().shuffle(fresh)
    with db.transaction():
        for branch_id, text in fresh:
            db.session.add(
                Opinion(
                    campaign_id=survey.campaign_id,
                    branch_id=branch_id,
                    source=OpinionSource.SURVEY_COMMENT,
                    text=text[:TEXT_LIMIT],
                    count=1,
                )
            )
        audit.record("opinion.pull", f"survey={survey.slug} opinions={len(fresh)}", user=actor)
    return len(fresh)


# ---- the summary -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OpinionSummary:
    """Voices per theme and per branch (意見彙總); an opinion with two themes counts in both."""

    opinions: int
    voices: int
    by_theme: list[tuple[str, int, int]]
    by_branch: list[tuple[Branch | None, int, int]]
    by_source: list[tuple[OpinionSource, int, int]]
    untagged: int
    #: Opinions answered by at least one measure.
    addressed: int


def summary(campaign: Campaign) -> OpinionSummary:
    """The campaign's opinion summary: (name, opinions, voices) per theme, branch and source."""
    opinions = live_opinions(campaign)
    themes: dict[str, list[int]] = {}
    branches: dict[int | None, list[int]] = {}
    sources: dict[OpinionSource, list[int]] = {}
    for opinion in opinions:
        for theme in opinion.themes:
            _add(themes, theme.name, opinion.count)
        _add(branches, opinion.branch_id, opinion.count)
        _add(sources, opinion.source, opinion.count)
    by_id = {b.id: b for b in db.session.scalars(select(Branch))}
    return OpinionSummary(
        opinions=len(opinions),
        voices=sum(o.count for o in opinions),
        by_theme=sorted(((n, *v) for n, v in themes.items()), key=lambda r: (-r[2], r[0])),
        by_branch=sorted(
            ((by_id.get(b) if b else None, *v) for b, v in branches.items()),
            key=lambda r: (r[0] is not None, -r[2], r[0].code if r[0] else ""),
        ),
        by_source=[(s, *sources[s]) for s in OpinionSource if s in sources],
        untagged=sum(1 for o in opinions if not o.themes),
        addressed=len(addressed_by(campaign).keys() & {o.id for o in opinions}),
    )


def _add(table: dict, key, voices: int) -> None:
    row = table.setdefault(key, [0, 0])
    row[0] += 1
    row[1] += voices
