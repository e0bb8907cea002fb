"""Shared fixtures: an app with a fresh database per test, on SQLite and on PostgreSQL.

Every test that uses ``app`` runs once per backend. The PostgreSQL run needs
``TEST_DATABASE_URL`` (``postgresql+psycopg://…``); without it those runs are skipped, except in
CI (``CI=true``), where a missing server is a failure.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from sqlalchemy import create_engine, text

from survey import create_app
from survey.db import db
from survey.models import (
    Access,
    Base,
    Branch,
    Campaign,
    Item,
    RespondentCategory,
    ResultsVisibility,
    ScaleOption,
    Survey,
    SurveyKind,
    SurveyState,
)
from survey.services.codes import mint_batch

IN_CI = os.environ.get("CI", "").lower() == "true"
PG_URL = os.environ.get("TEST_DATABASE_URL", "")

#: The four-level evaluation scale of the domain brief: key, label, weight, favourable.
FOUR_LEVEL = (
    ("good", "好", 100, True),
    ("fairly_good", "比較好", 80, True),
    ("average", "一般", 60, False),
    ("poor", "差", 0, False),
)


def require_postgres() -> str:
    """The PostgreSQL URL for tests, skipping (or failing in CI) when there is none."""
    if not PG_URL:
        if IN_CI:
            pytest.fail("TEST_DATABASE_URL is not set in CI: PostgreSQL tests must run there")
        pytest.skip("no PostgreSQL server configured (set TEST_DATABASE_URL)")
    return PG_URL


def _worker_schema() -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return "test_" + re.sub(r"\W", "_", worker)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a schema of this test worker, created once."""
    base = require_postgres()
    schema = _worker_schema()
    engine = create_engine(base)
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    separator = "&" if "?" in base else "?"
    url = f"{base}{separator}options=-csearch_path%3D{schema}"
    schema_engine = create_engine(url)
    Base.metadata.create_all(schema_engine)
    schema_engine.dispose()
    yield url
    engine = create_engine(base)
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    engine.dispose()


def _truncate_all(url: str) -> None:
    engine = create_engine(url)
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request) -> str:
    """The database backend of this test run."""
    return request.param


@pytest.fixture
def database_url(backend: str, tmp_path, request) -> Iterator[str]:
    """A fresh, empty database with the current schema."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.sqlite3'}"
        engine = create_engine(url)
        Base.metadata.create_all(engine)
        engine.dispose()
        yield url
    else:
        url = request.getfixturevalue("postgres_url")
        _truncate_all(url)
        yield url


@pytest.fixture
def app(database_url: str, tmp_path) -> Iterator[Flask]:
    """The app on a fresh database, with its context pushed for the test's own queries."""
    application = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key-not-for-production",
            "DATABASE_URL": database_url,
            "CEPING_BASE_URL": "http://ceping.test",
        }
    )
    application.instance_path = str(tmp_path / "instance")
    with application.app_context():
        yield application
        db.session.close()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask):
    """A test client for ``app`` (CSRF on, as in production)."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    """A CLI runner for ``app``."""
    return app.test_cli_runner()


@pytest.fixture
def make_branch(app: Flask) -> Callable[..., Branch]:
    """Create a branch: ``make_branch("b01", "第一支部")``."""

    def factory(code: str, name: str | None = None, **fields) -> Branch:
        branch = Branch(code=code, name=name or f"Branch {code}", **fields)
        db.session.add(branch)
        db.session.commit()
        return branch

    return factory


@pytest.fixture
def make_survey(app: Flask) -> Callable[..., Survey]:
    """Create a survey with the four-level scale, two categories and ``items`` items."""

    def factory(
        slug: str = "pingyi",
        *,
        items: int = 3,
        state: SurveyState = SurveyState.OPEN,
        access: Access = Access.CODES,
        threshold: int = 5,
        results: ResultsVisibility = ResultsVisibility.AFTER_CLOSE,
        comments: bool = True,
        kind: SurveyKind = SurveyKind.EVALUATION,
        campaign: str = "xjx",
    ) -> Survey:
        owner = db.session.query(Campaign).filter_by(slug=campaign).one_or_none()
        if owner is None:
            owner = Campaign(slug=campaign, title="保持共產黨員先進性教育活動")
        survey = Survey(
            campaign=owner,
            slug=slug,
            title=f"測評 {slug}",
            kind=kind,
            state=state,
            access=access,
            threshold=threshold,
            results_visibility=results,
            allows_comments=comments,
        )
        survey.options = [
            ScaleOption(key=k, label=label, weight=w, is_favourable=f, position=i)
            for i, (k, label, w, f) in enumerate(FOUR_LEVEL)
        ]
        survey.categories = [
            RespondentCategory(key="member", label="黨員", position=0),
            RespondentCategory(key="public", label="羣眾", position=1),
        ]
        survey.items = [
            Item(key=f"q{i + 1}", text=f"第{i + 1}題", position=i) for i in range(items)
        ]
        db.session.add(survey)
        db.session.commit()
        return survey

    return factory


@pytest.fixture
def mint(app: Flask) -> Callable[..., list[str]]:
    """Mint ``count`` codes for a survey, branch and category key; returns the plain codes."""

    def factory(survey: Survey, branch: Branch, count: int = 1, category: str = "member"):
        _batch, codes = mint_batch(survey, branch, survey.category(category), count)
        db.session.commit()
        return codes

    return factory


def csrf_token(client) -> str:
    """A valid CSRF token for ``client``'s session (fetched the way a browser gets one)."""
    response = client.get("/")
    match = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', response.data)
    if match is None:
        match = re.search(rb'name="csrf_token" value="([^"]+)"', response.data)
    assert match, "the start page carries no CSRF token"
    return match.group(1).decode()
