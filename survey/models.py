"""The data model.

Anonymity is a property of this schema, not of the code that uses it:

* **Who may answer** lives in ``access_code`` (a hash and a used flag, nothing else about its use).
* **What was answered** lives in ``response``, ``answer`` and ``comment``. None of them has a
  column in common with ``access_code`` or a foreign key to it, their ids are random 128-bit
  values, their only date is the day, and on SQLite they are ``WITHOUT ROWID`` tables, so not even
  storage order tells which response came after which code was used.
* ``sealed_ballot`` is the ballot box between the two: the transaction that uses a code drops
  the ballot there encrypted and padded, and a later *mix* moves ballots into ``response``,
  ``answer``, ``comment`` and the tallies in shuffled batches of at least the survey's
  threshold (:mod:`survey.services.ballot_box`), so that not even the storage engine's own
  records (a WAL commit, a PostgreSQL ``xmin``, page order) pair a code with its answers.
* ``answer_tally``, ``total_tally`` and ``respondent_tally`` are counts kept by each mix, so
  reports cost branches × items, not responses. On SQLite they too are ``WITHOUT ROWID``: a
  rowid would say which tally row the first respondent of a cell created.

``tests/survey/test_anonymity.py`` reads this schema and proves the separation;
``tests/survey/test_storage_anonymity.py`` attacks what the storage engine keeps below it.
"""

from __future__ import annotations

import enum
import secrets
import uuid
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    select,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    """Declarative base of every Ceping table."""


def random_id() -> uuid.UUID:
    """A random 128-bit id: reveals neither insertion order nor anything else."""
    return uuid.UUID(bytes=secrets.token_bytes(16))


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    """Store an enum by its value, checked by the database on every backend."""
    return Enum(
        cls,
        name=name,
        values_callable=lambda members: [m.value for m in members],
        native_enum=False,
        create_constraint=True,
        length=24,
    )


class SurveyKind(enum.StrEnum):
    EVALUATION = "evaluation"
    SATISFACTION = "satisfaction"
    OTHER = "other"


class SurveyState(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class Access(enum.StrEnum):
    CODES = "codes"
    LINK = "link"


class ResultsVisibility(enum.StrEnum):
    AFTER_CLOSE = "after_close"
    LIVE = "live"


class Source(enum.StrEnum):
    WEB = "web"
    PAPER = "paper"


class Role(enum.StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    BRANCH_VIEWER = "branch_viewer"


class InvalidTransition(Exception):
    """A survey state change that the lifecycle does not allow."""

    def __init__(self, survey: Survey, target: SurveyState):
        super().__init__(f"survey {survey.slug!r} cannot go from {survey.state} to {target}")
        self.survey = survey
        self.target = target


class Campaign(Base):
    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    created_on: Mapped[date] = mapped_column(Date, default=date.today)

    surveys: Mapped[list[Survey]] = relationship(
        back_populates="campaign", order_by="Survey.id", cascade="all, delete-orphan"
    )


class Survey(Base):
    """One measured stage of a campaign, with its questionnaire."""

    __tablename__ = "survey"
    __table_args__ = (CheckConstraint("threshold >= 3", name="threshold_at_least_three"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[SurveyKind] = mapped_column(_enum(SurveyKind, "survey_kind"))
    state: Mapped[SurveyState] = mapped_column(
        _enum(SurveyState, "survey_state"), default=SurveyState.DRAFT
    )
    access: Mapped[Access] = mapped_column(_enum(Access, "survey_access"), default=Access.CODES)
    #: Groups with fewer respondents than this are hidden from every result.
    threshold: Mapped[int] = mapped_column(Integer, default=5)
    results_visibility: Mapped[ResultsVisibility] = mapped_column(
        _enum(ResultsVisibility, "results_visibility"), default=ResultsVisibility.AFTER_CLOSE
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

    _transitions = {
        SurveyState.DRAFT: {SurveyState.OPEN},
        SurveyState.OPEN: {SurveyState.CLOSED},
        SurveyState.CLOSED: {SurveyState.OPEN},
    }

    def _move(self, target: SurveyState) -> None:
        if target not in self._transitions[self.state]:
            raise InvalidTransition(self, target)
        self.state = target

    def open(self) -> None:
        """Start (or, from closed, resume) accepting responses."""
        self._move(SurveyState.OPEN)
        self.opened_on = date.today()
        self.closed_on = None

    def close(self) -> None:
        """Stop accepting responses."""
        self._move(SurveyState.CLOSED)
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
    """One rated aspect of the questionnaire."""

    __tablename__ = "item"
    __table_args__ = (UniqueConstraint("survey_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(String(500))
    position: Mapped[int] = mapped_column(Integer)

    survey: Mapped[Survey] = relationship(back_populates="items")


class Branch(Base):
    """An organisational unit whose results are reported (支部 / 處室 / 單位)."""

    __tablename__ = "branch"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("branch.id"))
    #: Inactive branches get no new codes; a branch with responses is never deleted.
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    parent: Mapped[Branch | None] = relationship(remote_side=[id])


class CodeBatch(Base):
    """A batch of access codes minted together for one branch and category."""

    __tablename__ = "code_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"))
    category_id: Mapped[int] = mapped_column(ForeignKey("respondent_category.id"))
    size: Mapped[int] = mapped_column(Integer)
    created_on: Mapped[date] = mapped_column(Date, default=date.today)
    #: A voided batch's unused codes no longer open the questionnaire.
    is_void: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Minted while the survey was in test mode; voided when the survey goes live.
    is_test: Mapped[bool] = mapped_column(Boolean, default=False)

    branch: Mapped[Branch] = relationship()
    category: Mapped[RespondentCategory] = relationship()


class BranchMembers(Base):
    """How many people of one respondent category a branch has (its members, its public).

    Entered with the branch list. Minting more codes for a cell than it has members is the
    ballot box's one classic attack (flooding a mix with ballots the office controls), so it
    needs a stated reason and shows on the supervisors' oversight page.
    """

    __tablename__ = "branch_members"

    branch_id: Mapped[int] = mapped_column(
        ForeignKey("branch.id", ondelete="CASCADE"), primary_key=True
    )
    #: The key of a respondent category, as surveys name it (``member``, ``public``).
    category_key: Mapped[str] = mapped_column(String(40), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


class AccessCode(Base):
    """A one-time code: who may answer. It records that it was used and nothing else."""

    __tablename__ = "access_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("code_batch.id", ondelete="CASCADE"))
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"))
    category_id: Mapped[int] = mapped_column(ForeignKey("respondent_category.id"))
    #: SHA-256 of the normalised code; the code itself is only ever on the printed slip.
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    is_used: Mapped[bool] = mapped_column(Boolean, default=False)


class SealedBallot(Base):
    """A ballot in the box: encrypted, padded to one size per survey, waiting to be mixed.

    Written in the transaction that uses the code, so it carries the same WAL commit or
    ``xmin`` as the code's row; that is why nothing here is readable without the key, which
    lives outside the database. Only the *group* it will be mixed in is in the clear (branch,
    category and source: the code's own scope). Deleted by the mix that counts it.
    """

    __tablename__ = "sealed_ballot"
    __table_args__ = (
        Index("ix_sealed_ballot_group", "survey_id", "branch_id", "category_id", "source"),
        {"sqlite_with_rowid": False},
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=random_id)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"))
    category_id: Mapped[int] = mapped_column(ForeignKey("respondent_category.id"))
    source: Mapped[Source] = mapped_column(_enum(Source, "sealed_source"))
    #: Version byte, nonce and AES-GCM ciphertext of the padded ballot.
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class Response(Base):
    """What one respondent answered. No column links it to a code, a person or a moment."""

    __tablename__ = "response"
    __table_args__ = {"sqlite_with_rowid": False}

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=random_id)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"), index=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"))
    category_id: Mapped[int] = mapped_column(ForeignKey("respondent_category.id"))
    #: The day of the mix that counted it, the same for its whole batch: even the day it was
    #: sent would pick it out of a batch that spans midnight.
    submitted_on: Mapped[date] = mapped_column(Date)
    source: Mapped[Source] = mapped_column(_enum(Source, "response_source"))
    #: Received while the survey was in test mode; wiped when it goes live.
    is_test: Mapped[bool] = mapped_column(Boolean, default=False)

    answers: Mapped[list[Answer]] = relationship(cascade="all, delete-orphan")


class Answer(Base):
    """One rating within a response. An unanswered item has no row."""

    __tablename__ = "answer"
    __table_args__ = {"sqlite_with_rowid": False}

    response_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("response.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), primary_key=True)
    option_id: Mapped[int] = mapped_column(ForeignKey("scale_option.id"))


class Comment(Base):
    """A free-text opinion, kept apart from the ratings with no shared id, so that writing style
    cannot identify a respondent's ratings."""

    __tablename__ = "comment"
    __table_args__ = {"sqlite_with_rowid": False}

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=random_id)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"), index=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"))
    text: Mapped[str] = mapped_column(Text)
    is_test: Mapped[bool] = mapped_column(Boolean, default=False)


class AnswerTally(Base):
    """Answers per survey × branch × category × item × option, kept with each response.

    ``is_complete`` separates respondents who answered every item, which Cronbach's alpha needs.
    """

    __tablename__ = "answer_tally"
    __table_args__ = {"sqlite_with_rowid": False}

    survey_id: Mapped[int] = mapped_column(
        ForeignKey("survey.id", ondelete="CASCADE"), primary_key=True
    )
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"), primary_key=True)
    category_id: Mapped[int] = mapped_column(
        ForeignKey("respondent_category.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[int] = mapped_column(
        ForeignKey("item.id", ondelete="CASCADE"), primary_key=True
    )
    option_id: Mapped[int] = mapped_column(
        ForeignKey("scale_option.id", ondelete="CASCADE"), primary_key=True
    )
    is_complete: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class TotalTally(Base):
    """Complete responses per survey × branch × category × total score (for Cronbach's alpha)."""

    __tablename__ = "total_tally"
    __table_args__ = {"sqlite_with_rowid": False}

    survey_id: Mapped[int] = mapped_column(
        ForeignKey("survey.id", ondelete="CASCADE"), primary_key=True
    )
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"), primary_key=True)
    category_id: Mapped[int] = mapped_column(
        ForeignKey("respondent_category.id", ondelete="CASCADE"), primary_key=True
    )
    #: Sum of the option weights over all items, rounded to 6 decimals.
    total: Mapped[float] = mapped_column(Float, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class RespondentTally(Base):
    """Responses per survey × branch × category × source: turnout and group sizes."""

    __tablename__ = "respondent_tally"
    __table_args__ = {"sqlite_with_rowid": False}

    survey_id: Mapped[int] = mapped_column(
        ForeignKey("survey.id", ondelete="CASCADE"), primary_key=True
    )
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"), primary_key=True)
    category_id: Mapped[int] = mapped_column(
        ForeignKey("respondent_category.id", ondelete="CASCADE"), primary_key=True
    )
    source: Mapped[Source] = mapped_column(_enum(Source, "tally_source"), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class User(Base):
    """A member of the campaign office or the supervision group. Never a respondent."""

    __tablename__ = "user"
    __table_args__ = (
        CheckConstraint(
            "role <> 'branch_viewer' OR branch_id IS NOT NULL", name="branch_viewer_has_branch"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    #: argon2id hash.
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(_enum(Role, "user_role"))
    #: The one branch a branch viewer may read.
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branch.id"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_on: Mapped[date] = mapped_column(Date, default=date.today)

    branch: Mapped[Branch | None] = relationship()


class ApiToken(Base):
    """A revocable token for ``/api/v1``; only its hash is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_on: Mapped[date] = mapped_column(Date, default=date.today)
    revoked_on: Mapped[date | None] = mapped_column(Date)

    user: Mapped[User] = relationship()


class UserSession(Base):
    """A signed-in session, so that signing out (or a password reset) ends it on the server.

    The cookie holds the random token; only its hash is stored.
    """

    __tablename__ = "user_session"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Throttle(Base):
    """Failure counts for back-off on logins and code entry, shared by every app server.

    Keys are keyed hashes (of a username, or of a client address for code guessing) and rows
    expire with their window; nothing here concerns a successful respondent. Times are kept to
    the minute only.
    """

    __tablename__ = "throttle"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(DateTime)
    blocked_until: Mapped[datetime | None] = mapped_column(DateTime)


class AuditEntry(Base):
    """Who did what in the office, and when. Never anything about respondents."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    #: Kept as text so the entry survives the user's deletion.
    username: Mapped[str | None] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(60))
    detail: Mapped[str] = mapped_column(Text, default="")
    #: Shown on the supervisors' oversight page: an office action that could be used against
    #: anonymity (codes beyond a cell's members or during an open survey, a reopened survey).
    is_flagged: Mapped[bool] = mapped_column(Boolean, default=False)


class BallotDraft(Base):
    """Paper ballots keyed (or uploaded) but not yet committed to the ballot box.

    Holds the first keying and, once done, the blind second keying, so that disagreements are
    resolved before anything is counted. Stored sealed with the ballot box's key: a draft lists
    ballots in the order they were keyed, which no copy of the database may keep readable.
    Deleted in the transaction that commits its ballots.
    """

    __tablename__ = "ballot_draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"), index=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    #: Sealed JSON: {"origin": "grid" | "upload", "first": [rows], "second": [rows] | null}.
    sealed_payload: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime)
