"""Anonymity: nothing connects a code, a person or a moment to what was answered.

(a) the schema has no path from codes to responses except the shared dimensions; (b) SQLite keeps
no insertion-ordered rowid for answers; (c) after a real submission no request metadata is
anywhere in the database (with a control that the search finds what was submitted); (d) only the
day is stored, under random ids; (e) no code ever appears in a URL.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections import deque
from datetime import date, datetime

import pytest
from sqlalchemy import Date, DateTime, Uuid, select, text
from sqlalchemy.exc import OperationalError

from survey.db import db
from survey.models import Base, Response, Throttle
from survey.services.codes import normalise
from survey.services.lifecycle import change_state
from tests.conftest import csrf_token

#: What a respondent's answers are stored in.
ANSWER_TABLES = ("response", "answer", "comment")
#: Tables whose rows a respondent's answers create or change: no rowid may keep their order.
ORDERLESS_TABLES = (
    *ANSWER_TABLES,
    "sealed_ballot",
    "answer_tally",
    "total_tally",
    "respondent_tally",
)
#: What records who may answer.
CODE_TABLES = ("access_code", "code_batch")
#: Dimensions that codes and responses legitimately share: which survey, branch and category.
SHARED_DIMENSIONS = {"survey", "branch", "respondent_category"}


@pytest.fixture
def english(client):
    """Ask for English pages, so tests can read the messages."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def answer_everything(client, code: str, survey, comment: str | None = None):
    """Enter ``code`` and submit the questionnaire; returns (questionnaire page, final response)."""
    token = csrf_token(client)
    page = client.post("/start", data={"csrf_token": token, "code": code})
    assert page.status_code == 200
    data = {"csrf_token": token, "code": code, **{item.key: "good" for item in survey.items}}
    if comment is not None:
        data["comment"] = comment
    return page, client.post("/submit", data=data)


# ---------------------------------------------------------------------------- (a) schema


def test_no_foreign_key_between_codes_and_answers():
    tables = Base.metadata.tables
    for name in ANSWER_TABLES:
        referred = {fk.column.table.name for fk in tables[name].foreign_keys}
        assert not referred & set(CODE_TABLES), name
    for name in CODE_TABLES:
        referred = {fk.column.table.name for fk in tables[name].foreign_keys}
        assert not referred & set(ANSWER_TABLES), name


def test_answer_tables_have_no_code_like_or_request_columns():
    words = {"code", "token", "batch", "hash", "ip", "address", "addr", "agent", "referer",
             "referrer", "user", "session", "time", "at", "seq", "order"}  # fmt: skip
    fragments = ("code", "token", "hash", "agent", "refer", "addr", "time")
    for name in ANSWER_TABLES:
        for column in Base.metadata.tables[name].columns:
            assert not set(column.name.lower().split("_")) & words, f"{name}.{column.name}"
            assert not any(f in column.name.lower() for f in fragments), f"{name}.{column.name}"
            assert not isinstance(column.type, DateTime), f"{name}.{column.name}"


def test_codes_and_responses_share_no_column_but_the_dimensions():
    code_columns = {c.name: c for c in Base.metadata.tables["access_code"].columns}
    response_columns = {c.name: c for c in Base.metadata.tables["response"].columns}
    shared = set(code_columns) & set(response_columns)
    assert shared <= {"id", "survey_id", "branch_id", "category_id"}
    # Both tables have an "id", but of different kinds: a code's integer can never equal a
    # response's random UUID, so the two cannot be joined on it.
    assert isinstance(response_columns["id"].type, Uuid)
    assert not isinstance(code_columns["id"].type, Uuid)


def test_no_path_from_codes_to_responses_outside_the_shared_dimensions():
    graph: dict[str, set[str]] = {name: set() for name in Base.metadata.tables}
    for table in Base.metadata.tables.values():
        for fk in table.foreign_keys:
            graph[table.name].add(fk.column.table.name)
            graph[fk.column.table.name].add(table.name)
    # With the dimensions removed, walk every foreign key in either direction from the codes.
    seen = set(CODE_TABLES)
    queue = deque(CODE_TABLES)
    while queue:
        for neighbour in graph[queue.popleft()] - SHARED_DIMENSIONS - seen:
            seen.add(neighbour)
            queue.append(neighbour)
    assert not seen & set(ANSWER_TABLES), sorted(seen)
    # Control: through the dimensions there is such a path, so the walk does find connections.
    seen = {"access_code"}
    queue = deque(["access_code"])
    while queue:
        for neighbour in graph[queue.popleft()] - seen:
            seen.add(neighbour)
            queue.append(neighbour)
    assert set(ANSWER_TABLES) <= seen


# ------------------------------------------------------------------------- (b) no rowid


@pytest.mark.parametrize("backend", ["sqlite"])  # rowid is SQLite's; PostgreSQL has none
def test_sqlite_answer_tables_are_without_rowid(app, backend):
    db.session.commit()
    with db.engine.connect() as connection:
        for name in ORDERLESS_TABLES:
            sql = connection.execute(
                text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :name"),
                {"name": name},
            ).scalar_one()
            assert "WITHOUT ROWID" in sql.upper(), name
            with pytest.raises(OperationalError, match="rowid"):
                connection.execute(text(f'SELECT rowid FROM "{name}"'))
            connection.rollback()
        # Control: an ordinary table does have one.
        connection.execute(text('SELECT rowid FROM "access_code"'))


# ------------------------------------------------------------------ (c) nothing from request

PROBE_AGENT = "CepingProbeAgent/9.9 (unique-7f3a9c)"
PROBE_REFERER = "https://referrer.example/unique-path-4b2c81"
PROBE_FORWARDED = "203.0.113.77"
PROBE_ADDRESS = "198.51.100.201"
PROBE_COMMENT = "Distinctive comment 5e1d77: the rectification list was on time."


def every_text_value() -> str:
    """Every value of every row of every table, as text, one per line."""
    db.session.commit()
    values = []
    for table in Base.metadata.sorted_tables:
        for row in db.session.execute(select(table)):
            values.extend(str(value) for value in row)
    return "\n".join(values)


def test_nothing_from_the_request_is_stored(app, english, make_survey, make_branch, mint):
    survey = make_survey(items=3)
    code = mint(survey, make_branch("b01"))[0]
    english.environ_base.update(
        REMOTE_ADDR=PROBE_ADDRESS,
        HTTP_USER_AGENT=PROBE_AGENT,
        HTTP_REFERER=PROBE_REFERER,
        HTTP_X_FORWARDED_FOR=PROBE_FORWARDED,
    )
    # A failed entry first, so that the throttle table holds a row for this client too.
    token = csrf_token(english)
    assert english.post("/start", data={"csrf_token": token, "code": "nope"}).status_code == 404
    _page, done = answer_everything(english, code, survey, comment=PROBE_COMMENT)
    assert done.status_code == 303

    # Until it is counted, the answer waits sealed: not even its comment is readable.
    waiting = every_text_value()
    assert PROBE_COMMENT not in waiting
    assert PROBE_COMMENT.encode() not in waiting.encode("utf-8", "backslashreplace")
    change_state(None, survey, "close")
    dump = every_text_value()
    assert PROBE_COMMENT in dump  # control: the dump does contain what was submitted
    assert db.session.scalar(select(Throttle.key)).startswith("code:")  # and the throttle row
    dump += "\n" + waiting
    unkeyed = [hashlib.sha256(p.encode()).hexdigest() for p in (PROBE_ADDRESS, PROBE_FORWARDED)]
    for secret in (
        PROBE_AGENT,
        "unique-7f3a9c",
        PROBE_REFERER,
        "unique-path-4b2c81",
        PROBE_FORWARDED,
        PROBE_ADDRESS,
        code,
        normalise(code),
        *unkeyed,
        *(digest[:32] for digest in unkeyed),
    ):
        assert secret not in dump, secret


# ---------------------------------------------------------------- (d) day only, random ids


def test_only_the_day_is_stored_under_random_ids(english, make_survey, make_branch, mint):
    survey = make_survey(items=2)
    codes = mint(survey, make_branch("b01"), 3)
    for code in codes:
        _page, done = answer_everything(english, code, survey)
        assert done.status_code == 303
    for name in ANSWER_TABLES:
        for column in Base.metadata.tables[name].columns:
            assert not isinstance(column.type, DateTime), f"{name}.{column.name}"
    assert isinstance(Response.__table__.c.submitted_on.type, Date)
    change_state(None, survey, "close")  # counts the three waiting ballots
    db.session.expire_all()
    rows = db.session.scalars(select(Response)).all()
    assert len(rows) == 3
    for row in rows:
        assert type(row.submitted_on) is date and not isinstance(row.submitted_on, datetime)
        assert row.submitted_on == date.today()
        assert isinstance(row.id, uuid.UUID)
    ids = [row.id.int for row in rows]
    assert len(set(ids)) == 3
    # Not a counter: random 128-bit values are nowhere near each other.
    assert all(abs(a - b) > 2**64 for i, a in enumerate(ids) for b in ids[i + 1 :])


# -------------------------------------------------------------------------- (e) no URLs


def test_the_code_never_appears_in_a_url(english, make_survey, make_branch, mint):
    survey = make_survey(items=2)
    code = mint(survey, make_branch("b01"))[0]
    page, done = answer_everything(english, code, survey)
    html = page.get_data(as_text=True)
    assert re.search(r'<form method="post" action="/submit">', html)
    urls = re.findall(r'(?:href|src|action)="([^"]*)"', html)
    assert urls, "the page has no links at all"
    forms = {code, normalise(code), code.lower(), normalise(code).lower()}
    for url in urls:
        assert not any(form in url.upper() for form in {f.upper() for f in forms}), url
    assert done.status_code == 303
    location = done.headers["Location"]
    assert location == "/thanks"
    assert english.get(location).status_code == 200
    # The code is in the page only as the hidden field that carries it to the POST.
    assert html.count(normalise(code)) == 1
    assert f'name="code" type="hidden" value="{normalise(code)}"' in html
