"""Who may answer (codes), the ballot box, what was answered, and the tallies.

See the package's docstring for how these tables keep answers apart from codes.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.models.base import Base, enum_column, random_id

if TYPE_CHECKING:
    from survey.models.branches import Branch
    from survey.models.surveys import RespondentCategory


class Source(enum.StrEnum):
    WEB = "web"
    PAPER = "paper"


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
    source: Mapped[Source] = mapped_column(enum_column(Source, "sealed_source"))
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
    source: Mapped[Source] = mapped_column(enum_column(Source, "response_source"))
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
    source: Mapped[Source] = mapped_column(enum_column(Source, "tally_source"), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class BallotDraft(Base):
    """Paper ballots keyed (or uploaded) but not yet committed to the ballot box.

    Holds the first keying and, once done, the blind second keying, so that disagreements are
    resolved before anything is counted. Stored sealed with the ballot box's key: a draft lists
    ballots in the order they were keyed, which no copy of the database may keep readable.
    Deleted in the transaction that commits its ballots.
    """

    __tablename__ = "ballot_draft"
    __table_args__ = (
        UniqueConstraint("survey_id", "number", name="uq_ballot_draft_survey_id_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"), index=True)
    #: The batch number written on the bundle of paper forms, unique within the survey.
    number: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    #: Sealed JSON: {"origin": "grid" | "upload", "first": [rows], "second": [rows] | null}.
    sealed_payload: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class PaperHandout(Base):
    """How many paper forms were handed out to one branch and category.

    Turnout of paper ballots is returned (counted and sealed ballots of source paper) against
    handed out, as it is returned codes against minted ones for the web.
    """

    __tablename__ = "paper_handout"

    survey_id: Mapped[int] = mapped_column(
        ForeignKey("survey.id", ondelete="CASCADE"), primary_key=True
    )
    branch_id: Mapped[int] = mapped_column(
        ForeignKey("branch.id", ondelete="CASCADE"), primary_key=True
    )
    category_id: Mapped[int] = mapped_column(
        ForeignKey("respondent_category.id", ondelete="CASCADE"), primary_key=True
    )
    count: Mapped[int] = mapped_column(Integer)
