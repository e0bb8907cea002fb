"""The organisation's branches and how many people each category of them has."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.models.base import Base


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
