"""Campaigns and their surveys: the questionnaire, its scale and respondent categories."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.models.ballots import Response, SealedBallot
from survey.models.base import Base, enum_column
from survey.models.lifecycle import Action, InvalidTransition, SurveyState

if TYPE_CHECKING:
    from survey.models.branches import Branch


class SurveyKind(enum.StrEnum):
    EVALUATION = "evaluation"
    SATISFACTION = "satisfaction"
    OTHER = "other"


class Access(enum.StrEnum):
    CODES = "codes"
    LINK = "link"


class ResultsVisibility(enum.StrEnum):
    AFTER_CLOSE = "after_close"
    LIVE = "live"


#: The branches a campaign measures. A report lists its campaign's branches (and any other
#: branch that has answers), so a branch list imported for a new campaign never adds rows to
#: an earlier campaign's report, and codes are minted only for the campaign's own branches.
campaign_branch = Table(
    "campaign_branch",
    Base.metadata,
    Column("campaign_id", ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True),
    Column("branch_id", ForeignKey("branch.id", ondelete="CASCADE"), primary_key=True),
)


class Campaign(Base):
    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    created_on: Mapped[date] = mapped_column(Date, default=date.today)
    #: Hidden from the default lists, kept intact (only a campaign whose surveys are all closed).
    is_archived: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The public page of filed rectification plans (公示) is on: anyone may read it and leave
    #: feedback, without signing in.
    plans_are_public: Mapped[bool] = mapped_column(Boolean, default=False)

    surveys: Mapped[list[Survey]] = relationship(
        back_populates="campaign", order_by="Survey.id", cascade="all, delete-orphan"
    )
    branches: Mapped[list[Branch]] = relationship(secondary=campaign_branch, order_by="Branch.code")


class Survey(Base):
    """One measured stage of a campaign, with its questionnaire."""

    __tablename__ = "survey"
    __table_args__ = (
        CheckConstraint("threshold >= 3", name="threshold_at_least_three"),
        CheckConstraint("target IS NULL OR (target > 0 AND target <= 1)", name="target_is_a_rate"),
        CheckConstraint(
            "opens_at IS NULL OR closes_at IS NULL OR opens_at < closes_at",
            name="opens_before_closes",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[SurveyKind] = mapped_column(enum_column(SurveyKind, "survey_kind"))
    state: Mapped[SurveyState] = mapped_column(
        enum_column(SurveyState, "survey_state"), default=SurveyState.DRAFT
    )
    access: Mapped[Access] = mapped_column(
        enum_column(Access, "survey_access"), default=Access.CODES
    )
    #: Groups with fewer respondents than this are hidden from every result.
    threshold: Mapped[int] = mapped_column(Integer, default=5)
    results_visibility: Mapped[ResultsVisibility] = mapped_column(
        enum_column(ResultsVisibility, "results_visibility"), default=ResultsVisibility.AFTER_CLOSE
    )
    allows_comments: Mapped[bool] = mapped_column(Boolean, default=False)
    comment_max_length: Mapped[int] = mapped_column(Integer, default=2000)
    #: Branches with fewer respondents than this are shown but not ranked.
    min_rank_respondents: Mapped[int] = mapped_column(Integer, default=30)
    #: Responses received in test mode are marked as test and wiped when the survey goes live.
    is_test_mode: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Results have been visible at least once (live while open, or closed). From then on a
    #: close leaves groups of fewer than ``threshold`` new ballots sealed: counting them would
    #: change a published figure by fewer than ``threshold`` people.
    is_published: Mapped[bool] = mapped_column(Boolean, default=False)
    opened_on: Mapped[date | None] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    #: The favourable rate the organisation aims for (the seed's yardstick: 好 and 比較好 at
    #: 90% or more), as a share; None = no target. Results are read against it.
    target: Mapped[float | None] = mapped_column(Float)
    #: Shown above the questionnaire and on the thank-you page ('' = the standard text).
    welcome_text: Mapped[str] = mapped_column(Text, default="")
    thanks_text: Mapped[str] = mapped_column(Text, default="")
    #: Scheduled opening and closing (naive UTC); the survey takes these steps by itself,
    #: audited like any other state change.
    opens_at: Mapped[datetime | None] = mapped_column(DateTime)
    closes_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: Hidden from the default lists, kept intact (closed surveys only).
    is_archived: Mapped[bool] = mapped_column(Boolean, default=False)

    campaign: Mapped[Campaign] = relationship(back_populates="surveys")
    options: Mapped[list[ScaleOption]] = relationship(
        order_by="ScaleOption.position", cascade="all, delete-orphan", back_populates="survey"
    )
    categories: Mapped[list[RespondentCategory]] = relationship(
        order_by="RespondentCategory.position",
        cascade="all, delete-orphan",
        back_populates="survey",
    )
    items: Mapped[list[Item]] = relationship(
        order_by="Item.position", cascade="all, delete-orphan", back_populates="survey"
    )

    def move(self, action: Action) -> None:
        """Take a lifecycle step (:class:`survey.lifecycle.Action`), recording the day it opened
        or closed; raise :class:`~survey.lifecycle.InvalidTransition` where the state forbids it.
        """
        if not action.allowed(self.state, self.is_test_mode):
            raise InvalidTransition(self.slug, self.state, action)
        if action.target is not self.state:
            self.state = action.target
            if action.target is SurveyState.OPEN:
                self.opened_on, self.closed_on = date.today(), None
            else:
                self.closed_on = date.today()

    @property
    def is_open(self) -> bool:
        return self.state is SurveyState.OPEN

    @property
    def results_are_sealed(self) -> bool:
        """Results of an open after-close survey stay hidden: a live count could identify people."""
        return (
            self.state is not SurveyState.CLOSED
            and self.results_visibility is ResultsVisibility.AFTER_CLOSE
        )

    def option(self, key: str) -> ScaleOption | None:
        return next((o for o in self.options if o.key == key), None)

    def category(self, key: str) -> RespondentCategory | None:
        return next((c for c in self.categories if c.key == key), None)

    def has_responses_select(self):
        """A query for whether any ballot exists, counted or still sealed in the ballot box (the
        questionnaire is then locked, and its threshold and results setting may only tighten)."""
        return (
            select(Response.id)
            .where(Response.survey_id == self.id)
            .union_all(select(SealedBallot.id).where(SealedBallot.survey_id == self.id))
            .limit(1)
        )


class ScaleOption(Base):
    """One step of a survey's ordered rating scale."""

    __tablename__ = "scale_option"
    __table_args__ = (UniqueConstraint("survey_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(100))
    #: Score of this option; the mean score of a branch is the mean of these weights.
    weight: Mapped[float] = mapped_column(Float)
    #: Counts towards the favourable (satisfaction) rate, e.g. 好 and 比較好.
    is_favourable: Mapped[bool] = mapped_column(Boolean)
    #: 0 is the first (best) option as printed on the form.
    position: Mapped[int] = mapped_column(Integer)

    survey: Mapped[Survey] = relationship(back_populates="options")


class RespondentCategory(Base):
    """A kind of respondent, such as members or the public."""

    __tablename__ = "respondent_category"
    __table_args__ = (UniqueConstraint("survey_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(100))
    #: Share of this category in the post-stratified composite (e.g. 0.4); None = unweighted.
    weight: Mapped[float | None] = mapped_column(Float)
    position: Mapped[int] = mapped_column(Integer)

    survey: Mapped[Survey] = relationship(back_populates="categories")


class Item(Base):
    """One rated aspect of the questionnaire.

    Stages of a campaign are compared item by item: by ``key`` unless the office paired an item
    with an earlier stage's explicitly (``compares_with_id``), for example after renumbering.
    """

    __tablename__ = "item"
    __table_args__ = (UniqueConstraint("survey_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(String(500))
    position: Mapped[int] = mapped_column(Integer)
    #: The earlier stage's item this one is compared with (overrides pairing by key).
    compares_with_id: Mapped[int | None] = mapped_column(ForeignKey("item.id", ondelete="SET NULL"))

    survey: Mapped[Survey] = relationship(back_populates="items")
    compares_with: Mapped[Item | None] = relationship(remote_side=[id])
