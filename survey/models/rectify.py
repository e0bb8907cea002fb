"""The rectification stage (整改提高): opinions, their themes, plans, measures and progress.

Between the evaluation stage and the final satisfaction test, the office gathers opinions
(意見), sorts them into a summary by theme, and branches and the committee publish plans whose
measures answer those opinions. The final test then measures whether the items a measure
targeted moved.

Opinions from the public page arrive through the anonymous path: a :class:`PublicFeedback` row
has a random id, no time, no address and, on SQLite, no rowid (the same storage rules as
responses), and becomes an :class:`Opinion` only when the office takes feedback in, in a batch
whose order is shuffled. Nothing here refers to a response: comments pulled in from a survey
are copied as text from branches that are shown, with no link back.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.models.base import Base, enum_column, random_id

if TYPE_CHECKING:
    from survey.models.branches import Branch
    from survey.models.surveys import Campaign, Item


class OpinionSource(enum.StrEnum):
    """Where an opinion came from (the speech's 座談會, 意見箱, 徵求意見表, 代表建議, ...)."""

    FORUM = "forum"
    OPINION_BOX = "opinion_box"
    FORM = "form"
    PROPOSAL = "proposal"
    SURVEY_COMMENT = "survey_comment"
    PUBLIC_FEEDBACK = "public_feedback"


class PlanState(enum.StrEnum):
    """A plan is drafted, discussed by the members' meeting, then filed with the committee."""

    DRAFT = "draft"
    DISCUSSED = "discussed"
    FILED = "filed"


class ProblemClass(enum.StrEnum):
    """The speech's three classes of problems."""

    #: 馬上整改: fixed at once.
    IMMEDIATE = "immediate"
    #: 限期整改: fixed with effort by a date.
    BY_DEADLINE = "by_deadline"
    #: 向羣眾說明情況、逐步解決: explained to the masses and solved step by step.
    GRADUAL = "gradual"


class MeasureStatus(enum.StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    DELAYED = "delayed"


opinion_theme = Table(
    "opinion_theme",
    Base.metadata,
    Column("opinion_id", ForeignKey("opinion.id", ondelete="CASCADE"), primary_key=True),
    Column("theme_id", ForeignKey("theme.id", ondelete="CASCADE"), primary_key=True),
)

measure_opinion = Table(
    "measure_opinion",
    Base.metadata,
    Column("measure_id", ForeignKey("measure.id", ondelete="CASCADE"), primary_key=True),
    Column("opinion_id", ForeignKey("opinion.id", ondelete="CASCADE"), primary_key=True),
)

measure_item = Table(
    "measure_item",
    Base.metadata,
    Column("measure_id", ForeignKey("measure.id", ondelete="CASCADE"), primary_key=True),
    Column("item_id", ForeignKey("item.id", ondelete="CASCADE"), primary_key=True),
)


class Theme(Base):
    """A heading of the opinion summary (意見彙總), such as 工作作風 or 服務羣眾."""

    __tablename__ = "theme"
    __table_args__ = (UniqueConstraint("campaign_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))


class Opinion(Base):
    """One opinion gathered for the campaign, about a branch or (branch None) the committee.

    Merging a duplicate adds its ``count`` to the opinion it is merged into and keeps the
    duplicate, marked ``merged_into``, so that the summary counts every voice once.
    """

    __tablename__ = "opinion"
    __table_args__ = (CheckConstraint("count >= 1", name="opinion_count_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaign.id", ondelete="CASCADE"), index=True
    )
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branch.id", ondelete="SET NULL"))
    source: Mapped[OpinionSource] = mapped_column(enum_column(OpinionSource, "opinion_source"))
    text: Mapped[str] = mapped_column(Text)
    #: How many people voiced it (merged duplicates add theirs).
    count: Mapped[int] = mapped_column(Integer, default=1)
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("opinion.id", ondelete="SET NULL")
    )
    #: The plan a public feedback was left on, if any.
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plan.id", ondelete="SET NULL"))

    branch: Mapped[Branch | None] = relationship()
    themes: Mapped[list[Theme]] = relationship(secondary=opinion_theme, order_by="Theme.name")


class Plan(Base):
    """A rectification plan (整改方案) of the committee (branch None) or of one branch."""

    __tablename__ = "plan"
    __table_args__ = (UniqueConstraint("campaign_id", "branch_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaign.id", ondelete="CASCADE"), index=True
    )
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branch.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    state: Mapped[PlanState] = mapped_column(
        enum_column(PlanState, "plan_state"), default=PlanState.DRAFT
    )
    #: The members' meeting that discussed it (提交黨員大會討論通過).
    discussed_on: Mapped[date | None] = mapped_column(Date)
    #: Filed with the supervising committee (報機關黨委備案) by a supervisor.
    filed_on: Mapped[date | None] = mapped_column(Date)

    campaign: Mapped[Campaign] = relationship()
    branch: Mapped[Branch | None] = relationship()
    measures: Mapped[list[Measure]] = relationship(
        back_populates="plan", order_by="Measure.position", cascade="all, delete-orphan"
    )


class Measure(Base):
    """A measure (整改措施): what the problem is, how it is fixed, what it should achieve."""

    __tablename__ = "measure"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    #: A measure for the members themselves (the optional member level of the plans).
    for_members: Mapped[bool] = mapped_column(Boolean, default=False)
    problem: Mapped[str] = mapped_column(Text)
    method: Mapped[str] = mapped_column(Text)
    expected_effect: Mapped[str] = mapped_column(Text)
    problem_class: Mapped[ProblemClass] = mapped_column(enum_column(ProblemClass, "problem_class"))
    department: Mapped[str] = mapped_column(String(200))
    deadline: Mapped[date | None] = mapped_column(Date)
    status: Mapped[MeasureStatus] = mapped_column(
        enum_column(MeasureStatus, "measure_status"), default=MeasureStatus.NOT_STARTED
    )
    #: What was done (done), or why it is late (delayed).
    status_note: Mapped[str] = mapped_column(Text, default="")
    #: The new date promised when delayed.
    new_deadline: Mapped[date | None] = mapped_column(Date)
    done_on: Mapped[date | None] = mapped_column(Date)

    plan: Mapped[Plan] = relationship(back_populates="measures")
    opinions: Mapped[list[Opinion]] = relationship(secondary=measure_opinion)
    items: Mapped[list[Item]] = relationship(secondary=measure_item, order_by="Item.position")


class PublicFeedback(Base):
    """An opinion left on the public page, waiting for the office to take it in.

    Stored like a response: a random id, no time, no address, no rowid on SQLite. The office
    takes the waiting feedback in as opinions in shuffled order, and the rows are deleted.
    """

    __tablename__ = "public_feedback"
    __table_args__ = {"sqlite_with_rowid": False}

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=random_id)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaign.id", ondelete="CASCADE"), index=True
    )
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
