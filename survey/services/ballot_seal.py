"""Sealing ballots: what the ballot box stores instead of answers.

A ballot (item id → option id, and the comment) is serialised, padded with zeros to one size
per survey (every item answered and the longest comment allowed, in UTF-8), and encrypted with
AES-256-GCM under a key derived from ``SECRET_KEY`` by HKDF-SHA256. The nonce is random and the
group (survey, branch, category, source) is the associated data, so a ballot cannot be moved to
another group. Neither content nor length is readable in the stored data; whoever also holds
``SECRET_KEY`` can read the ballots still waiting (see the README's anonymity section). Paper
ballot drafts are sealed with the same key (:func:`seal_bytes`).
"""

from __future__ import annotations

import functools
import secrets
import struct
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

from survey.models import Source, Survey

#: Format version of a sealed ballot (first byte of the stored value).
VERSION = 1
#: AES-GCM nonce length in bytes.
NONCE_BYTES = 12
#: Bytes of the serialised ballot before the comment: version, answer count.
_HEAD = struct.Struct(">BH")
#: One answer: item id, option id.
_ANSWER = struct.Struct(">II")
#: The comment's length in bytes.
_LENGTH = struct.Struct(">I")
#: Longest UTF-8 encoding of one character.
_UTF8_MAX = 4


class BoxUnreadable(Exception):
    """A sealed ballot that this server's key cannot open.

    ``SECRET_KEY`` differs from the one the ballot was sealed with (servers configured apart,
    or the key changed while ballots were waiting). The ballot is left in the box untouched.
    """


@dataclass(frozen=True, slots=True)
class Group:
    """Where a sealed ballot waits and with which others it is mixed."""

    survey_id: int
    branch_id: int
    category_id: int
    source: Source

    @property
    def associated_data(self) -> bytes:
        """The group as bound to the ciphertext, so a ballot cannot change group unnoticed."""
        return f"{self.survey_id}/{self.branch_id}/{self.category_id}/{self.source}".encode()


@dataclass(frozen=True, slots=True)
class Ballot:
    """An opened ballot: item id → option id (unanswered items absent) and the comment."""

    answers: Mapping[int, int]
    comment: str | None


@functools.cache
def _cipher(secret: str) -> AESGCM:
    """The ballot box's AES-GCM key, derived from ``SECRET_KEY`` (HKDF-SHA256, RFC 5869)."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"ceping", info=b"ballot box v1").derive(
        secret.encode("utf-8")
    )
    return AESGCM(key)


def cipher() -> AESGCM:
    """The current app's ballot box cipher."""
    return _cipher(current_app.config["SECRET_KEY"])


def padded_size(survey: Survey) -> int:
    """Bytes every serialised ballot of ``survey`` is padded to: the largest one possible."""
    comment = _UTF8_MAX * survey.comment_max_length if survey.allows_comments else 0
    return _HEAD.size + _ANSWER.size * len(survey.items) + _LENGTH.size + comment


def _serialise(survey: Survey, ballot: Ballot) -> bytes:
    comment = (ballot.comment or "").encode("utf-8")
    parts = [_HEAD.pack(VERSION, len(ballot.answers))]
    parts += [_ANSWER.pack(item, option) for item, option in sorted(ballot.answers.items())]
    parts += [_LENGTH.pack(len(comment)), comment]
    plain = b"".join(parts)
    size = padded_size(survey)
    if len(plain) > size:
        # Checked input never gets here (items and comment length are validated first).
        raise ValueError("a ballot is larger than its survey allows")
    return plain + bytes(size - len(plain))


def _deserialise(plain: bytes) -> Ballot:
    version, count = _HEAD.unpack_from(plain, 0)
    if version != VERSION:
        raise BoxUnreadable(f"unknown ballot format {version}")
    offset = _HEAD.size
    answers = {}
    for _ in range(count):
        item, option = _ANSWER.unpack_from(plain, offset)
        answers[item] = option
        offset += _ANSWER.size
    (length,) = _LENGTH.unpack_from(plain, offset)
    offset += _LENGTH.size
    comment = plain[offset : offset + length].decode("utf-8")
    return Ballot(answers, comment or None)


def seal(survey: Survey, group: Group, ballot: Ballot) -> bytes:
    """The stored form of ``ballot``: version, nonce and the AES-GCM ciphertext of its padding."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = cipher().encrypt(nonce, _serialise(survey, ballot), group.associated_data)
    return bytes([VERSION]) + nonce + sealed


def unseal(group: Group, stored: bytes) -> Ballot:
    """Open a sealed ballot of ``group``; raise :class:`BoxUnreadable` if the key does not fit."""
    if not stored or stored[0] != VERSION:
        raise BoxUnreadable("unknown sealed ballot format")
    nonce = stored[1 : 1 + NONCE_BYTES]
    try:
        plain = cipher().decrypt(nonce, stored[1 + NONCE_BYTES :], group.associated_data)
    except InvalidTag:
        raise BoxUnreadable("a sealed ballot does not open with this SECRET_KEY") from None
    return _deserialise(plain)


def seal_bytes(data: bytes, purpose: bytes) -> bytes:
    """Seal other data kept until it is counted (paper drafts) with the ballot box's key."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    return bytes([VERSION]) + nonce + cipher().encrypt(nonce, data, purpose)


def unseal_bytes(stored: bytes, purpose: bytes) -> bytes:
    """Open data sealed by :func:`seal_bytes` for the same ``purpose``."""
    if not stored or stored[0] != VERSION:
        raise BoxUnreadable("unknown sealed data format")
    try:
        return cipher().decrypt(stored[1 : 1 + NONCE_BYTES], stored[1 + NONCE_BYTES :], purpose)
    except InvalidTag:
        raise BoxUnreadable("sealed data does not open with this SECRET_KEY") from None
