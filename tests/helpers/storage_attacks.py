"""What a hostile insider can read from a copy of Ceping's storage, written as attacks.

The insider is assumed to know every code, who received it and when it was used (the office
prints the slips); the attacks try to pair a code with the comment (and so the answers) sent with
it. Each attack turns what the storage engine keeps into *candidate sets*: the comments that a
code's answer may be. A comment's *anonymity set* is then the set of codes whose candidates
contain it; the promise is that it never has fewer than min(k, people in the comment's group)
codes.

* :func:`wal_states` replays a SQLite write-ahead log commit by commit onto its database file;
  :func:`trail_candidates` follows each used code through the commits: the comment written in
  the same commit (the naive design), or, when the commit only left an unreadable row behind, the
  comments written by the commit that deleted that row (the ballot box's mix).
* :func:`postgres_candidates` does the same with PostgreSQL's ``xmin``/``xmax`` system columns,
  reading dead tuples with ``pageinspect`` so that nothing vacuum has not yet reclaimed is missed.
* :func:`cell_order` and :func:`postgres_heap_order` read the physical order of rows: the byte
  offset of each cell in a SQLite page (new cells are carved from the top of the free area), and
  PostgreSQL's ``ctid``.
* :func:`hidden_splits` enumerates the ways a group of hidden branches could have answered that
  agree with everything a report publishes.
"""

from __future__ import annotations

import itertools
import sqlite3
import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

# --------------------------------------------------------------------------- SQLite files


def wal_states(database: bytes, wal: bytes) -> list[bytes]:
    """The database file after each commit of ``wal``, replayed frame by frame onto ``database``.

    Frames belong to the log's current generation while their salts match the header's (a log
    that was reset keeps stale frames of the previous generation after the new ones).
    """
    if len(wal) < 32:
        return []
    _magic, _version, page_size, _seq, salt1, salt2, _c1, _c2 = struct.unpack(">8I", wal[:32])
    image = bytearray(database)
    pending: dict[int, bytes] = {}
    states = []
    offset = 32
    while offset + 24 + page_size <= len(wal):
        page, commit_size, s1, s2, _ck1, _ck2 = struct.unpack(">6I", wal[offset : offset + 24])
        if (s1, s2) != (salt1, salt2):
            break
        pending[page] = wal[offset + 24 : offset + 24 + page_size]
        if commit_size:
            size = commit_size * page_size
            if len(image) < size:
                image.extend(bytes(size - len(image)))
            del image[size:]
            for number, data in pending.items():
                image[(number - 1) * page_size : number * page_size] = data
            pending = {}
            states.append(bytes(image))
        offset += 24 + page_size
    return states


def open_image(image: bytes) -> sqlite3.Connection:
    """An in-memory connection on a copy of a database file (its WAL flag cleared)."""
    data = bytearray(image)
    data[18:20] = b"\x01\x01"  # read and write as a rollback-journal database
    connection = sqlite3.connect(":memory:")
    connection.deserialize(bytes(data))
    return connection


@dataclass(frozen=True)
class State:
    """What one copy of the database says about codes, sealed ballots and comments."""

    used: frozenset[str]
    sealed: frozenset[bytes]
    comments: frozenset[str]


def read_state(image: bytes) -> State:
    """Used code hashes, sealed-ballot keys and comment texts of a database image."""
    connection = open_image(image)
    try:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        used = frozenset(
            row[0] for row in connection.execute("SELECT code_hash FROM access_code WHERE is_used")
        )
        sealed = frozenset()
        if "sealed_ballot" in tables:
            sealed = frozenset(
                bytes(str(row[0]), "ascii")
                for row in connection.execute("SELECT id FROM sealed_ballot")
            )
        comments = frozenset(row[0] for row in connection.execute("SELECT text FROM comment"))
    finally:
        connection.close()
    return State(used, sealed, comments)


def trail_candidates(states: Sequence[State]) -> dict[str, set[str] | None]:
    """For each code used during ``states``: the comments its answer may be (None: its trail
    ends in a row that was never deleted, so its answer was not counted by the last state)."""
    steps = [
        (now.used - before.used, now.comments - before.comments, now.sealed - before.sealed)
        for before, now in itertools.pairwise(states)
    ]
    gone_at: dict[bytes, int] = {}
    for index, (before, now) in enumerate(itertools.pairwise(states)):
        for key in before.sealed - now.sealed:
            gone_at.setdefault(key, index)
    found: dict[str, set[str] | None] = {}
    for used, comments, sealed in steps:
        for code in used:
            if comments:
                found[code] = set(comments)
                continue
            later = [gone_at.get(key) for key in sealed]
            if not later or any(index is None for index in later):
                found[code] = None
                continue
            found[code] = set().union(*(steps[index][1] for index in later))
    return found


def _varint(data: bytes, offset: int) -> tuple[int, int]:
    """An SQLite varint at ``offset``: (value, offset after it)."""
    value = 0
    for index in range(9):
        byte = data[offset + index]
        if index == 8:
            return (value << 8) | byte, offset + 9
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, offset + index + 1
    raise AssertionError("unreachable")


def cell_order(image: bytes, markers: Iterable[str]) -> dict[str, tuple[int, int]]:
    """(page, byte offset in the page) of the leaf cell holding each marker, read straight
    from the file's b-tree pages (no SQL: this is what a copy of the file shows)."""
    wanted = {marker.encode(): marker for marker in markers}
    page_size = struct.unpack(">H", image[16:18])[0]
    page_size = 65536 if page_size == 1 else page_size
    found: dict[str, tuple[int, int]] = {}
    for number in range(1, len(image) // page_size + 1):
        page = image[(number - 1) * page_size : number * page_size]
        header = 100 if number == 1 else 0
        kind = page[header]
        if kind not in (0x0A, 0x0D):  # leaf pages of indexes (WITHOUT ROWID) and tables
            continue
        cells = struct.unpack(">H", page[header + 3 : header + 5])[0]
        for index in range(cells):
            pointer = struct.unpack(">H", page[header + 8 + 2 * index : header + 10 + 2 * index])[0]
            if pointer >= page_size:
                continue
            length, start = _varint(page, pointer)
            if kind == 0x0D:
                _rowid, start = _varint(page, start)
            payload = page[start : start + length]
            for raw, marker in wanted.items():
                if raw in payload:
                    found[marker] = (number, pointer)
    return found


def offset_order(positions: dict[str, tuple[int, int]]) -> list[str]:
    """Markers in the order the cells were written: by page, highest byte offset first."""
    return sorted(positions, key=lambda marker: (positions[marker][0], -positions[marker][1]))


# --------------------------------------------------------------------------- PostgreSQL


def postgres_candidates(connection) -> dict[str, set[str] | None]:
    """For each used code: the comments its answer may be, by PostgreSQL transaction ids.

    A code's row carries the id of the transaction that used it (``xmin``). Comments written by
    that transaction are the naive design's answer; otherwise every tuple that transaction
    inserted into ``sealed_ballot``, live or dead (``pageinspect``), names the transaction that
    deleted it (``t_xmax``), and the comments that one wrote are the candidates.
    """
    from sqlalchemy import text

    codes = dict(
        connection.execute(
            text("SELECT code_hash, xmin::text FROM access_code WHERE is_used")
        ).all()
    )
    comments: dict[str, set[str]] = {}
    for body, xid in connection.execute(text("SELECT text, xmin::text FROM comment")):
        comments.setdefault(xid, set()).add(body)
    deleted_by: dict[str, set[str]] = {}
    for inserted, deleted in sealed_tuples(connection):
        deleted_by.setdefault(inserted, set()).add(deleted or "0")
    found: dict[str, set[str] | None] = {}
    for code, xid in codes.items():
        if xid in comments:
            found[code] = set(comments[xid])
            continue
        later = deleted_by.get(xid, set())
        if not later or "0" in later:
            found[code] = None
            continue
        found[code] = set().union(*(comments.get(x, set()) for x in later))
    return found


#: ``t_infomask`` bits: xmax is invalid (never deleted), or only locked the row (FOR UPDATE).
_XMAX_INVALID = 0x0800
_XMAX_LOCK_ONLY = 0x0080


def sealed_tuples(connection) -> list[tuple[str, str | None]]:
    """(t_xmin, t_xmax) of every tuple of ``sealed_ballot``, dead ones included; t_xmax is None
    for a tuple no transaction deleted (a row lock taken by a mixer is not a deletion)."""
    from sqlalchemy import text

    blocks = connection.execute(
        text("SELECT pg_relation_size('sealed_ballot') / current_setting('block_size')::int")
    ).scalar_one()
    rows = []
    for block in range(int(blocks)):
        rows += connection.execute(
            text(
                "SELECT t_xmin::text, t_xmax::text, t_infomask FROM "
                "public.heap_page_items(public.get_raw_page('sealed_ballot', :block)) "
                "WHERE t_xmin IS NOT NULL"
            ),
            {"block": block},
        ).all()
    return [
        (inserted, None if mask & (_XMAX_INVALID | _XMAX_LOCK_ONLY) else deleted)
        for inserted, deleted, mask in rows
    ]


def postgres_heap_order(connection) -> list[str]:
    """Comment texts in heap order (``ctid``): the order in which they were inserted."""
    from sqlalchemy import text

    return list(connection.execute(text("SELECT text FROM comment ORDER BY ctid")).scalars())


# --------------------------------------------------------------------------- what is learnt


def anonymity_sets(candidates: dict[str, set[str] | None]) -> dict[str, set[str]]:
    """Comment → the codes whose candidate comments include it."""
    sets: dict[str, set[str]] = {}
    for code, comments in candidates.items():
        for comment in comments or ():
            sets.setdefault(comment, set()).add(code)
    return sets


def within_batch_concordance(order: Sequence[str], batches: Sequence[Sequence[str]]) -> float:
    """The share of pairs of one batch whose storage order is their sending order.

    ``batches`` list the markers counted together, each in the order they were sent. 1.0 means
    the storage order gives away the order of sending; a shuffled batch gives about 0.5.
    """
    position = {marker: index for index, marker in enumerate(order)}
    agree = pairs = 0
    for batch in batches:
        for first, second in itertools.combinations(batch, 2):
            pairs += 1
            agree += position[first] < position[second]
    return agree / pairs if pairs else 0.0


def hidden_splits(
    total: Sequence[int], sizes: Sequence[int]
) -> Iterable[tuple[tuple[int, ...], ...]]:
    """Every way ``total`` (answers per option of the hidden group) splits into branches of
    ``sizes`` answers each."""
    if len(sizes) == 1:
        if sum(total) == sizes[0]:
            yield (tuple(total),)
        return
    first, *rest = sizes
    for row in _compositions(first, len(total)):
        remainder = [t - r for t, r in zip(total, row, strict=True)]
        if min(remainder) < 0:
            continue
        for tail in hidden_splits(remainder, rest):
            yield (tuple(row), *tail)


def _compositions(n: int, parts: int) -> Iterable[tuple[int, ...]]:
    if parts == 1:
        yield (n,)
        return
    for head in range(n + 1):
        for tail in _compositions(n - head, parts - 1):
            yield (head, *tail)


def consistent_splits(
    shown: np.ndarray,
    hidden_total: Sequence[int],
    hidden_sizes: Sequence[int],
    publish: Callable[[np.ndarray], object],
    published: object,
) -> list[tuple[tuple[int, ...], ...]]:
    """The splits of the hidden group under which ``publish`` (branches × options → figure)
    gives exactly what was ``published``."""
    return [
        split
        for split in hidden_splits(hidden_total, hidden_sizes)
        if publish(np.vstack([shown, np.asarray(split, dtype=np.int64)])) == published
    ]
