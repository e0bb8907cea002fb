"""Identifiers a clerk never has to invent: short names (slugs) and item keys.

Slugs appear in addresses and file names, so they are lower-case ASCII. A Chinese title is
written in pinyin without tones (pypinyin, which reads Simplified and Traditional characters):
「2026年滿意度測評」 → ``2026-nian-man-yi-du-ce-ping``. A title with nothing that can be
written so falls back to the kind and month (``survey-2026-12``). Either way a taken slug gets
``-2``, ``-3`` … Item keys continue the questionnaire's numbering: ``q7`` after ``q6``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date

from pypinyin import Style, lazy_pinyin
from sqlalchemy import select

from survey.db import db
from survey.models import Campaign, Survey
from survey.services.definitions import RESERVED_ITEM_KEYS

#: Longest suggested slug before a "-N" suffix (slugs hold 64 characters).
SLUG_LENGTH = 48


def _ascii_words(title: str) -> list[str]:
    """The title as lower-case ASCII words: Chinese characters as pinyin syllables."""
    words: list[str] = []
    for part in lazy_pinyin(title, style=Style.NORMAL, errors="default"):
        text = unicodedata.normalize("NFKD", part).encode("ascii", "ignore").decode().lower()
        words += re.findall(r"[a-z0-9]+", text)
    return words


def slug_from_title(title: str, fallback: str, today: date | None = None) -> str:
    """A slug made from ``title``, or ``<fallback>-YYYY-MM`` when nothing in it can be written
    in ASCII; not checked for uniqueness (see :func:`suggest_slug`)."""
    slug = ""
    for word in _ascii_words(title):
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > SLUG_LENGTH:
            break
        slug = candidate
    if not slug:
        today = today or date.today()
        slug = f"{fallback}-{today:%Y-%m}"
    return slug


def suggest_slug(model: type[Campaign] | type[Survey], title: str) -> str:
    """A slug for a new campaign or survey called ``title`` that no other one uses."""
    fallback = "campaign" if model is Campaign else "survey"
    base = slug_from_title(title, fallback)
    taken = set(db.session.scalars(select(model.slug).where(model.slug.like(f"{base}%"))))
    slug, number = base, 1
    while slug in taken:
        number += 1
        slug = f"{base}-{number}"
    return slug


def next_item_key(keys: Iterable[str]) -> str:
    """The key of a new item: ``q<N+1>`` after the highest ``qN`` (or after the item count),
    skipping any key in use."""
    keys = list(keys)
    used = {k.casefold() for k in keys} | RESERVED_ITEM_KEYS
    numbers = [int(m.group(1)) for k in keys if (m := re.fullmatch(r"[qQ](\d+)", k))]
    number = max([*numbers, len(keys)]) + 1
    while f"q{number}" in used:
        number += 1
    return f"q{number}"
