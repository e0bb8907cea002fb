"""The declarative base and the column helpers every table uses."""

from __future__ import annotations

import enum
import secrets
import uuid

from sqlalchemy import Enum
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Declarative base of every Ceping table."""


def random_id() -> uuid.UUID:
    """A random 128-bit id: reveals neither insertion order nor anything else."""
    return uuid.UUID(bytes=secrets.token_bytes(16))


def enum_column(cls: type[enum.Enum], name: str) -> Enum:
    """Store an enum by its value, checked by the database on every backend."""
    return Enum(
        cls,
        name=name,
        values_callable=lambda members: [m.value for m in members],
        native_enum=False,
        create_constraint=True,
        length=24,
    )
