"""Shared fixtures: an app with a fresh database per test, on SQLite and on PostgreSQL.

Every test that uses ``app`` runs once per backend. The PostgreSQL run needs
``TEST_DATABASE_URL`` (``postgresql+psycopg://…``); without it those runs are skipped, except in
CI (``CI=true``), where a missing server is a failure.
"""

from __future__ import annotations

import contextvars
import os
import re
from collections import Counter
from collections.abc import Callable, Iterator

import pytest
from flask import Flask, has_app_context
from flask.testing import FlaskClient
from sqlalchemy import create_engine, select, text

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
    Role,
    ScaleOption,
    Survey,
    SurveyKind,
    SurveyState,
    User,
)
from survey.services.codes import mint_batch
from tests.helpers.web import sign_in_as

IN_CI = os.environ.get("CI", "").lower() == "true"
PG_URL = os.environ.get("TEST_DATABASE_URL", "")
# Tests read the English source strings unless they ask for a language (Accept-Language, the
# switcher or force_locale): with compiled catalogs the product default, zh_Hant, would translate
# every page. Set before any app is built; gunicorn servers started by tests inherit it.
os.environ.setdefault("CEPING_DEFAULT_LOCALE", "en")

#: The four-level evaluation scale (好 / 比較好 / 一般 / 差): key, label, weight, favourable.
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


def worker_schema() -> str:
    """A schema name unique to this test process, so parallel runs never share tables."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID", str(os.getpid()))[:10]
    return "test_" + re.sub(r"\W", "_", f"{run}_{worker}")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a schema of this test worker, created once."""
    base = require_postgres()
    schema = worker_schema()
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
            # Messages without a request (the CLI) come in English, which the assertions use;
            # tests of the Chinese interface ask for it with Accept-Language.
            "BABEL_DEFAULT_LOCALE": "en",
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
        # Test data: every campaign measures every branch made for the test.
        for campaign in db.session.scalars(select(Campaign)):
            campaign.branches.append(branch)
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
            owner = Campaign(
                slug=campaign,
                title="保持共產黨員先進性教育活動",
                branches=list(db.session.scalars(select(Branch))),
            )
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


#: Password of every account made by ``make_user`` unless the test chooses another.
TEST_PASSWORD = "correct horse battery staple"


@pytest.fixture
def make_user(app: Flask) -> Callable[..., User]:
    """Create an office account: ``make_user("viewer", Role.BRANCH_VIEWER, branch=b01)``."""
    from survey.identity.passwords import hash_password

    def factory(
        username: str = "admin",
        role: Role = Role.ADMIN,
        *,
        branch: Branch | None = None,
        password: str = TEST_PASSWORD,
    ) -> User:
        user = User(
            username=username,
            password_hash=hash_password(password),
            role=role,
            branch_id=branch.id if branch is not None else None,
        )
        db.session.add(user)
        db.session.commit()
        return user

    return factory


def sign_in(client, username: str, password: str = TEST_PASSWORD, next: str | None = None):
    """Sign ``client`` in through the login form (with its CSRF token); returns the response."""
    page = client.get("/login")
    match = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page.data)
    assert match, "the login page carries no CSRF token"
    data = {"csrf_token": match.group(1).decode(), "username": username, "password": password}
    if next is not None:
        data["next"] = next
    return client.post("/login", data=data)


class IsolatedClient(FlaskClient):
    """A test client whose every request gets its own app context, ``g`` and session, as in
    production.

    The plain ``client`` runs requests inside the test's pushed app context, so ``g`` (the CSRF
    token, the database session) is shared by every request and client of a test. Before each
    request the test's own transaction is committed (on SQLite an open read would hold the write
    lock); afterwards the test's objects are expired, so it reads what the request stored.
    """

    def open(self, *args, **kwargs):
        """Run one request in a fresh context."""
        if has_app_context():
            db.session.commit()
        response = contextvars.Context().run(super().open, *args, **kwargs)
        if has_app_context():
            db.session.expire_all()
        return response


def isolated_client(app: Flask) -> IsolatedClient:
    """A new :class:`IsolatedClient` for ``app`` (a separate browser, with its own cookies)."""
    return IsolatedClient(app, app.response_class, use_cookies=True)


@pytest.fixture
def web(app: Flask) -> IsolatedClient:
    """A browser-like client: each request in its own app context (see :class:`IsolatedClient`)."""
    return isolated_client(app)


#: Username of the administrator the ``admin`` fixture signs in (audit entries name it).
ADMIN_USERNAME = "office"


@pytest.fixture
def admin(web: IsolatedClient, make_user) -> IsolatedClient:
    """The ``web`` client reading English pages, signed in as the administrator "office" (without
    the login form: :func:`tests.helpers.web.sign_in_as`)."""
    web.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    sign_in_as(web, make_user(ADMIN_USERNAME, Role.ADMIN))
    return web


@pytest.fixture
def signed_in(app: Flask, make_user) -> Callable[..., IsolatedClient]:
    """New browsers, each signed in: ``signed_in(Role.SUPERVISOR)``, ``signed_in(Role.BRANCH_VIEWER,
    branch=b01, username="viewer")``. Each call creates the account (named after the role unless
    ``username`` is given; a second one of a role gets ``-2`` and so on) and returns a new
    :class:`IsolatedClient` with its own cookies, reading English pages."""
    taken: Counter[str] = Counter()

    def factory(
        role: Role, branch: Branch | None = None, username: str | None = None
    ) -> IsolatedClient:
        if username is None:
            taken[role.value] += 1
            number = taken[role.value]
            username = role.value if number == 1 else f"{role.value}-{number}"
        client = isolated_client(app)
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        sign_in_as(client, make_user(username, role, branch=branch))
        return client

    return factory


def add_responses(
    survey: Survey,
    branch: Branch,
    answers: dict[str, int],
    category: str = "member",
    per_item: dict[str, dict[str, int]] | None = None,
    comments: list[str] | None = None,
) -> None:
    """Store responses through ``record_response`` and commit: ``answers`` maps an option key to
    how many respondents chose it on every item; ``per_item`` overrides it for some items (each
    item's counts must then add up to the same number of respondents)."""
    from tests.helpers.results import record_response

    items = {item.key: item for item in survey.items}
    plans: dict[str, list[str]] = {}
    for key in items:
        counts = (per_item or {}).get(key, answers)
        plans[key] = [option for option, n in counts.items() for _ in range(n)]
    size = len(next(iter(plans.values())))
    assert all(len(plan) == size for plan in plans.values()), "every item needs as many answers"
    texts = list(comments or [])
    with db.transaction():
        for index in range(size):
            chosen = {items[k].id: survey.option(plans[k][index]).id for k in items}
            text = texts.pop() if texts else None
            record_response(survey, branch.id, survey.category(category).id, chosen, text)
