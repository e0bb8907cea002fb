"""The ballot box: sealing, when groups are counted, what is held back, and the office's limits.

The storage-level attacks are in ``test_storage_anonymity.py`` and the differencing property in
``test_differencing.py``; here are the rules one at a time, as the office and respondents meet
them: sealed ballots are unreadable and all of one size, a key that does not fit loses nothing,
closing counts or holds back by the published rule, the threshold and results setting only
tighten once answers exist (the same from the web and the command line), and the SQLite files,
logs and exports keep nothing they should not.
"""

from __future__ import annotations

import html
import io
import logging
import os
import re
import stat
from pathlib import Path

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from survey.db import db
from survey.models import (
    AccessCode,
    AuditEntry,
    BallotDraft,
    Comment,
    Response,
    ResultsVisibility,
    Role,
    SealedBallot,
    Source,
    Survey,
    SurveyState,
    Throttle,
)
from survey.services import ballot_box, ballot_seal, throttle
from survey.services.ballot_box import BoxUnreadable, Group
from survey.services.codes import code_hash
from survey.services.lifecycle import change_state
from survey.services.responses import submit_with_code
from tests.conftest import csrf_token
from tests.helpers.results import received, report_dict, sealed_ballots
from tests.helpers.web import sign_in_as, token

K = 3


@pytest.fixture
def box_survey(make_survey, make_branch, mint):
    """An open survey with k = 3, branch b01 and 12 member and 12 public codes."""
    survey = make_survey("box", items=3, threshold=K)
    branch = make_branch("b01", "第一支部")
    codes = {c: mint(survey, branch, 12, category=c) for c in ("member", "public")}
    return survey, branch, codes


def answer(survey, code: str, comment: str | None = None) -> None:
    """Send every item's first option with ``code``."""
    submit_with_code(code, {item.id: survey.options[0].id for item in survey.items}, comment)


# --------------------------------------------------------------------------- sealing


def test_sealed_ballots_are_unreadable_and_all_of_one_size(app, box_survey):
    survey, _branch, codes = box_survey
    answer(survey, codes["member"][0], None)
    answer(survey, codes["member"][1], "意" * survey.comment_max_length)  # the longest allowed
    answer(survey, codes["member"][2], "short")
    rows = db.session.scalars(select(SealedBallot)).all()
    assert len(rows) == 3
    assert len({len(row.sealed) for row in rows}) == 1, "a ballot's length would show its content"
    expected = 1 + ballot_seal.NONCE_BYTES + ballot_seal.padded_size(survey) + 16
    assert len(rows[0].sealed) == expected
    for row in rows:
        assert b"short" not in row.sealed and ("意" * 3).encode() not in row.sealed
    assert sorted(b.comment or "" for _g, b in sealed_ballots()) == sorted(
        ["", "short", "意" * survey.comment_max_length]
    )


def test_a_ballot_cannot_be_moved_to_another_group(app, box_survey):
    survey, branch, codes = box_survey
    answer(survey, codes["member"][0])
    row = db.session.scalars(select(SealedBallot)).one()
    member = Group(survey.id, branch.id, row.category_id, Source.WEB)
    assert ballot_seal.unseal(member, row.sealed).answers
    public = Group(survey.id, branch.id, survey.category("public").id, Source.WEB)
    with pytest.raises(BoxUnreadable):
        ballot_seal.unseal(public, row.sealed)
    paper = Group(survey.id, branch.id, row.category_id, Source.PAPER)
    with pytest.raises(BoxUnreadable):
        ballot_seal.unseal(paper, row.sealed)


def test_a_key_that_does_not_fit_loses_nothing(app, runner, box_survey):
    """Two servers configured with different SECRET_KEYs: each opens only its own ballots; the
    others stay sealed, block nothing, and the command line says what is wrong."""
    survey, _branch, codes = box_survey
    right = app.config["SECRET_KEY"]
    for code in codes["member"][: 2 * K]:
        answer(survey, code)  # the 2k-th answer's mix counts k of them
    assert counted_rows() == K and received() == 2 * K
    app.config["SECRET_KEY"] = "another-key-entirely"
    answer(survey, codes["member"][2 * K])  # sealed with the other key; its mix opens 1 ballot
    assert counted_rows() == K and received() == 2 * K + 1
    result = runner.invoke(args=["mix-ballots", "box"])
    assert result.exit_code == 1
    assert "box: 0 counted, 4 still sealed." in result.output
    assert "3 sealed ballots do not open with this SECRET_KEY" in result.output

    app.config["SECRET_KEY"] = right
    result = runner.invoke(args=["mix-ballots", "box"])
    assert result.exit_code == 1
    assert "1 sealed ballot does not open with this SECRET_KEY" in result.output
    change_state(None, survey, "close")  # never published: all it can open is counted
    assert counted_rows() == 2 * K and received() == 2 * K + 1

    app.config["SECRET_KEY"] = "another-key-entirely"
    result = runner.invoke(args=["mix-ballots", "box"])
    assert result.exit_code == 0, result.output
    assert "box: 0 counted, 1 still sealed." in result.output  # held back: fewer than k


def counted_rows() -> int:
    """Responses counted in the results."""
    db.session.expire_all()
    return len(db.session.scalars(select(Response.id)).all())


# --------------------------------------------------------------------------- when it counts


@pytest.mark.parametrize(
    ("waiting", "final", "published", "counted_now"),
    [
        (5, False, False, 0),  # below 2k: wait
        (6, False, False, 3),  # 2k: k of them, drawn at random
        (8, False, True, 3),
        (9, False, False, 6),  # always leaves at least k waiting
        (2, True, False, 2),  # closing, never published: everything, however few
        (2, True, True, 0),  # closing after results were shown: fewer than k stay sealed
        (3, True, True, 3),
        (7, True, True, 7),
        (0, True, False, 0),
    ],
)
def test_how_many_a_mix_counts(waiting, final, published, counted_now):
    assert ballot_box._how_many(waiting, K, final=final, published=published) == counted_now


def test_results_move_in_batches_and_say_what_waits(app, make_survey, make_branch, mint):
    survey = make_survey("live", items=2, threshold=K, results=ResultsVisibility.LIVE)
    survey.state = SurveyState.DRAFT
    db.session.commit()
    change_state(None, survey, "open")  # live results are published from the start
    branch = make_branch("b01")
    codes = mint(survey, branch, 7)
    seen = []
    for code in codes:
        answer(survey, code)
        report = report_dict(survey)
        seen.append((report["respondents"], report["ballot_box"]["waiting"]))
        db.session.commit()
    assert seen == [(0, 1), (0, 2), (0, 3), (0, 4), (0, 5), (3, 3), (3, 4)]
    change_state(None, survey, "close")
    report = report_dict(survey)
    assert (report["respondents"], report["ballot_box"]) == (7, {"waiting": 0, "held_back": 0})


def test_a_small_group_after_publication_is_held_back_until_reopened(app, box_survey, signed_in):
    survey, _branch, codes = box_survey
    for code in codes["member"][:4]:
        answer(survey, code)
    change_state(None, survey, "close")  # first close: results never shown, all 4 counted
    assert report_dict(survey)["respondents"] == 4
    change_state(None, survey, "reopen")
    answer(survey, codes["member"][4])  # one person answers after the results were read
    detail = change_state(None, survey, "close").detail
    assert detail.endswith("counted=0 held_back=1")
    report = report_dict(survey)
    assert report["respondents"] == 4  # the difference would be that one person's answers
    assert report["ballot_box"] == {"waiting": 0, "held_back": 1}
    supervisor = signed_in(Role.SUPERVISOR, username="supervisor")
    page = html.unescape(supervisor.get("/results/surveys/box").get_data(as_text=True))
    assert "1 answer is held back, sealed and uncounted" in page
    db.session.commit()

    change_state(None, survey, "reopen")
    for code in codes["member"][5:7]:
        answer(survey, code)  # with two more, the group holds k new answers
    change_state(None, survey, "close")
    report = report_dict(survey)
    assert report["respondents"] == 7 and report["ballot_box"]["held_back"] == 0


def test_going_live_discards_the_test_ballots_in_the_box(app, box_survey):
    survey, _branch, codes = box_survey
    with db.transaction():
        survey.state = SurveyState.DRAFT
    change_state(None, survey, "start_test")
    answer(survey, codes["member"][0], "測試")
    assert received() == 1
    detail = change_state(None, survey, "go_live").detail
    assert "test_responses_deleted=1" in detail
    assert received() == 0


# --------------------------------------------------------------------------- P4


def _settings(admin, survey, **changes):
    data = {
        "title": survey.title,
        "kind": survey.kind.value,
        "access": survey.access.value,
        "threshold": str(survey.threshold),
        "results": survey.results_visibility.value,
        "comments": "y",
        "comment_max_length": str(survey.comment_max_length),
        "min_rank_respondents": str(survey.min_rank_respondents),
        **changes,
    }
    response = admin.post(
        f"/manage/surveys/{survey.id}/settings", data={"csrf_token": token(admin), **data}
    )
    return response, html.unescape(response.get_data(as_text=True))


def test_threshold_and_results_only_tighten_once_answers_exist(
    app, web, runner, make_user, box_survey, tmp_path
):
    survey, _branch, codes = box_survey
    survey.threshold = 5
    db.session.commit()
    sign_in_as(web, make_user("office"))
    web.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    # Before any answer, anything goes.
    response, _page = _settings(web, survey, threshold="4", results="live")
    assert response.status_code == 302
    response, _page = _settings(web, survey, results="after_close")
    assert response.status_code == 302
    answer(survey, codes["member"][0])  # sealed in the box: that counts as an answer

    response, page = _settings(web, survey, threshold="3")
    assert response.status_code == 422
    assert "already has answers, so its threshold can only be raised (it is 4)" in page
    response, page = _settings(web, survey, results="live")
    assert response.status_code == 422
    assert "results can no longer be switched to live" in page

    # The command line refuses the same, with the same words.
    definition = tmp_path / "box.yaml"
    text = runner.invoke(args=["export-survey", "box"]).output
    definition.write_text(text.replace("threshold: 4", "threshold: 3"), encoding="utf-8")
    result = runner.invoke(args=["load-survey", str(definition)])
    assert result.exit_code == 1
    assert "its threshold can only be raised (it is 4)" in result.stderr

    # Tightening is allowed, and audited with the old and new values, the same both ways.
    response, _page = _settings(web, survey, threshold="6")
    assert response.status_code == 302
    definition.write_text(text.replace("threshold: 4", "threshold: 7"), encoding="utf-8")
    assert runner.invoke(args=["load-survey", str(definition)]).exit_code == 0
    updates = db.session.execute(
        select(AuditEntry.username, AuditEntry.detail)
        .where(AuditEntry.action == "survey.update")
        .order_by(AuditEntry.id)
    ).all()
    assert updates[-2:] == [
        ("office", "survey=box threshold=4->6"),
        (None, "survey=box threshold=6->7"),
    ]
    assert updates[0].detail == "survey=box threshold=5->4 results=after_close->live"


def test_web_and_command_line_close_with_the_same_audit_entry(
    app, web, runner, make_user, make_survey
):
    sign_in_as(web, make_user("office"))
    for slug in ("by-web", "by-cli"):
        make_survey(slug, state=SurveyState.OPEN)
    first = db.session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1)) or 0
    response = web.post(
        f"/manage/surveys/{_id('by-web')}/state",
        data={"csrf_token": token(web), "action": "close", "confirmed": "yes"},
    )
    assert response.status_code == 302
    assert runner.invoke(args=["close-survey", "by-cli"]).exit_code == 0
    entries = db.session.execute(
        select(AuditEntry.action, AuditEntry.username, AuditEntry.detail)
        .where(AuditEntry.id > first)
        .order_by(AuditEntry.id)
    ).all()
    assert [(a, u, d.replace("by-web", "X").replace("by-cli", "X")) for a, u, d in entries] == [
        ("survey.close", "office", "survey=X state=open->closed counted=0 held_back=0"),
        ("survey.close", None, "survey=X state=open->closed counted=0 held_back=0"),
    ]


def _id(slug: str) -> int:
    return db.session.scalar(select(Survey.id).where(Survey.slug == slug))


# --------------------------------------------------------------------------- below the schema


@pytest.mark.parametrize("backend", ["sqlite"])
def test_sqlite_files_are_readable_by_their_owner_only(app, database_url, box_survey):
    survey, _branch, codes = box_survey
    answer(survey, codes["member"][0])
    path = Path(database_url.removeprefix("sqlite:///"))
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        assert name.exists(), name
        assert stat.S_IMODE(os.stat(name).st_mode) == 0o600, name


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_pending_draft_is_sealed_and_a_committed_one_leaves_nothing(
    app, web, make_user, database_url, box_survey
):
    survey, _branch, _codes = box_survey
    sign_in_as(web, make_user("office"))
    web.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    marker = "distinctive-draft-comment-3c9e"
    text = f"branch,category,q1,q2,q3,comment\nb01,member,good,good,poor,{marker}\n"
    response = web.post(
        f"/manage/surveys/{survey.id}/ballots/upload",
        data={"csrf_token": token(web), "file": (io.BytesIO(text.encode()), "paper.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    path = Path(database_url.removeprefix("sqlite:///"))
    db.session.commit()

    def stored() -> bytes:
        return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())

    draft = db.session.scalars(select(BallotDraft)).one()
    assert marker.encode() not in draft.sealed_payload
    assert marker.encode() not in stored(), "a pending draft is readable in the files"
    response = web.post(
        f"/manage/surveys/{survey.id}/ballots/{draft.id}/commit",
        data={"csrf_token": token(web)},
    )
    assert response.status_code == 302
    db.session.commit()
    assert marker.encode() not in stored()
    assert [b.comment for _g, b in sealed_ballots()] == [marker]  # control: it was stored


def test_statement_parameters_stay_out_of_errors_and_logs(app, box_survey, caplog):
    survey, _branch, _codes = box_survey
    secret = "a comment that must not reach any log 81f3"
    caplog.set_level(logging.DEBUG)
    with pytest.raises(IntegrityError) as failure, db.transaction() as session:
        session.execute(
            insert(Comment).values(
                id=ballot_box.random_id(), survey_id=survey.id, branch_id=987654, text=secret
            )
        )
    assert secret not in str(failure.value)
    assert secret not in caplog.text


def test_throttle_rows_keep_a_short_key_and_the_minute(app, client, box_survey):
    token_ = csrf_token(client)
    client.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert client.post("/start", data={"csrf_token": token_, "code": "nope"}).status_code == 404
    row = db.session.scalars(select(Throttle)).one()
    assert re.fullmatch(r"code:[0-9a-f]{4}", row.key)
    assert row.window_started_at.second == 0 and row.window_started_at.microsecond == 0
    assert throttle.address_key("code", "198.51.100.7") == row.key


def test_exports_are_not_kept_in_caches(app, web, make_user, make_survey):
    survey = make_survey("closed", state=SurveyState.CLOSED)
    sign_in_as(web, make_user("office"))
    for fmt in ("xlsx", "csv"):
        response = web.get(f"/results/surveys/{survey.slug}/export.{fmt}")
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store"
        response.close()


@pytest.mark.parametrize("backend", ["postgresql"])  # SQLite serialises every writer anyway
def test_a_submission_waiting_on_a_close_is_refused_and_keeps_its_code(app, box_survey):
    """A close holds the survey's lock while it counts the box; a submission arriving meanwhile
    waits, then sees the survey closed and stores nothing (no ballot lands after the count)."""
    import threading

    from survey.services.responses import SurveyNotOpen

    survey, _branch, codes = box_survey
    code = codes["member"][0]
    closer = create_app_like(app)
    outcome: list[str] = []
    with closer.app_context():
        session = db.session
        db.lock_survey(survey.id, exclusive=True)
        session.execute(
            Survey.__table__.update()
            .where(Survey.__table__.c.id == survey.id)
            .values(state=SurveyState.CLOSED)
        )

        def submit() -> None:
            with app.app_context():
                try:
                    answer(survey, code)
                    outcome.append("stored")
                except SurveyNotOpen:
                    outcome.append("refused")

        worker = threading.Thread(target=submit)
        worker.start()
        worker.join(timeout=2)
        assert worker.is_alive(), "the submission should wait for the close"
        session.commit()
        db.engine.dispose()
    worker.join(timeout=30)
    assert outcome == ["refused"]
    db.session.expire_all()
    assert received() == 0
    used = select(AccessCode.is_used).where(AccessCode.code_hash == code_hash(code))
    assert db.session.scalar(used) is False


def create_app_like(app):
    """A second app on the same database: another worker, with its own connections."""
    from survey import create_app

    return create_app({key: app.config[key] for key in ("TESTING", "SECRET_KEY", "DATABASE_URL")})
