"""Real-browser tests: Playwright drives Debian's Chromium against Ceping served by gunicorn.

How the pieces fit:

- **Server** (:func:`live_server`, one per pytest worker): a fresh SQLite database in a temporary
  folder, seeded in this process through the same CLI commands an operator types (``init-db``,
  ``load-demo``, ``load-survey``, ``open-survey``, ``import-responses``, ``close-survey``,
  ``mint-codes``, ``create-user``), then ``gunicorn wsgi:app`` through the live-server helper
  (tests/helpers/live_server.py), which opens the listening socket on a free 127.0.0.1 port and
  hands it to gunicorn (``--bind fd://N``), so two pytest workers never race for a port.
- **Browser** (:func:`browser`, one per worker): Debian's ``/usr/bin/chromium``, headless;
  Playwright downloads nothing. Each test gets fresh contexts from :func:`open_context`.
- **Waiting**: tests wait for conditions (``expect(...)``, ``wait_for_url``, an awaited event),
  never for a fixed time; the timeouts (:data:`ACTION_TIMEOUT_MS` and the others) are long enough
  for a loaded CI machine.
- **Watching**: every page of every context is watched. A console error (Chromium reports CSP
  violations as console errors; an init script also reports ``securitypolicyviolation`` events),
  an uncaught exception or a 5xx response fails the test, unless the test allowed that message.
- **Evidence**: :func:`screenshot` writes ``tests/browser/screenshots/<name>.png`` (git-ignored).
- **Accessibility**: :func:`run_axe` injects axe-core's ``axe.min.js`` from
  ``tests/browser/vendor/node_modules`` (installed by ``.ci/run`` with npm) into a page of a
  context opened with ``bypass_csp=True`` (the CSP rightly blocks the inline script that the
  injection creates), and returns the serious and critical violations.

Skipping: without ``/usr/bin/chromium`` or the ``playwright`` package the tests are skipped with
the reason; with ``CI=true`` that is a failure. A missing axe-core skips the accessibility checks
locally (install it with ``npm install --prefix tests/browser/vendor axe-core@4.10.3``) and fails
them in CI.
"""

from __future__ import annotations

import csv
import os
import random
import re
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest

from survey import ROOT, create_app

IN_CI = os.environ.get("CI", "").lower() == "true"
HERE = Path(__file__).resolve().parent
CHROMIUM = Path("/usr/bin/chromium")
AXE_JS = HERE / "vendor" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = HERE / "screenshots"

#: Chromium flags: no sandbox (containers), and nothing that reaches for the network on its own.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

#: Office accounts created on every test server.
ADMIN = "admin"
SUPERVISOR = "supervisor"
PASSWORD = "browser tests only, never in production"

#: The demo campaign and its surveys (see survey/demo/__init__.py).
CAMPAIGN = "xjx-2005"
EVALUATION = "pingyi-2005"
SATISFACTION = "manyidu-2005"
#: A closed copy of the satisfaction test with paper ballots, so two stages have results.
CLOSED_SATISFACTION = "manyidu-closed"
#: Unused codes minted for the open satisfaction test (branch b01, the public).
SLIP_COUNT = 12

#: Init script of every context: each CSP violation becomes a console error "CSP violation: …",
#: in addition to Chromium's own "Refused to … Content Security Policy" message.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", function (event) {
  console.error("CSP violation: " + event.violatedDirective + " blocked " + event.blockedURI);
});
"""

SERIOUS = ("serious", "critical")

#: Playwright's waits, in milliseconds, sized for a loaded CI machine: at load average 8 on two
#: cores a page load took over the 10 s these once were. A wait ends as soon as its condition
#: holds, so only a test that is failing anyway pays for the length. Actions (click, fill, the
#: auto-wait for an element) and navigations (goto, expect_navigation, wait_for_url) of every
#: context:
ACTION_TIMEOUT_MS = 60_000
NAVIGATION_TIMEOUT_MS = 60_000
#: How long ``expect(...)`` assertions retry (Playwright's default is 5 s), e.g. until plotly has
#: drawn a chart.
EXPECT_TIMEOUT_MS = 60_000
#: Starting Chromium (Playwright's default is 30 s).
LAUNCH_TIMEOUT_MS = 120_000


def unavailable(reason: str) -> NoReturn:
    """Skip with ``reason``; in CI (CI=true) a missing browser piece is a failure instead."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: browser tests must run)")
    pytest.skip(reason)


# --------------------------------------------------------------------------- the server


@dataclass
class Slip:
    """One printed slip: the plain code and the address its QR code holds."""

    code: str
    url: str


@dataclass
class Ceping:
    """A running Ceping on a fresh database, and what was seeded into it."""

    base_url: str
    app: Any
    server: Any
    slips: list[Slip] = field(default_factory=list)

    def url(self, path: str) -> str:
        """The absolute address of ``path`` on this server."""
        return self.base_url + path

    def take_slip(self) -> Slip:
        """An unused code of the open satisfaction test; each test takes its own."""
        if not self.slips:
            raise AssertionError("the test server has no unused slips left; raise SLIP_COUNT")
        return self.slips.pop(0)

    def cli(self, *args: str, input: str | None = None) -> str:
        """Run a ``flask --app wsgi`` command against this server's database; return its output."""
        with self.app.app_context():
            result = self.app.test_cli_runner().invoke(args=list(args), input=input)
        assert result.exit_code == 0, (
            f"flask {' '.join(args)} failed ({result.exit_code}):\n{result.output}"
            + (f"\n{result.exception!r}" if result.exception else "")
        )
        return result.output

    def translate(self, message: str, language: str, **params: Any) -> str:
        """``message`` as the server's catalog for ``language`` (zh_Hant, zh_Hans, en) has it."""
        from flask_babel import force_locale, gettext

        with self.app.test_request_context("/"), force_locale(language):
            return gettext(message, **params)

    def answer_counts(self, slug: str) -> Counter[tuple[str, str]]:
        """How often each (item key, option key) was answered in the survey, from the database:
        counted answers, and those still sealed in the ballot box (this process has the key)."""
        from sqlalchemy import select

        from survey.db import db
        from survey.models import Answer, Item, Response, ScaleOption, Survey
        from tests.helpers.results import sealed_ballots

        with self.app.app_context():
            rows = db.session.execute(
                select(Item.key, ScaleOption.key)
                .select_from(Answer)
                .join(Response, Response.id == Answer.response_id)
                .join(Survey, Survey.id == Response.survey_id)
                .join(Item, Item.id == Answer.item_id)
                .join(ScaleOption, ScaleOption.id == Answer.option_id)
                .where(Survey.slug == slug)
            ).all()
            counts = Counter((item, option) for item, option in rows)
            survey = db.session.scalar(select(Survey).where(Survey.slug == slug))
            items = {i.id: i.key for i in survey.items}
            options = {o.id: o.key for o in survey.options}
            for _group, ballot in sealed_ballots(survey.id):
                counts.update((items[i], options[o]) for i, o in ballot.answers.items())
            db.session.commit()
            return counts

    def comment_texts(self, slug: str) -> list[str]:
        """The comments stored for the survey, counted or still sealed."""
        from sqlalchemy import select

        from survey.db import db
        from survey.models import Comment, Survey
        from tests.helpers.results import sealed_ballots

        with self.app.app_context():
            survey = db.session.scalar(select(Survey).where(Survey.slug == slug))
            texts = list(
                db.session.scalars(select(Comment.text).where(Comment.survey_id == survey.id))
            )
            texts += [b.comment for _g, b in sealed_ballots(survey.id) if b.comment]
            db.session.commit()
            return texts

    def log(self) -> str:
        """The end of gunicorn's log (errors and tracebacks), for assertion messages."""
        return self.server.log_tail()


def _closed_satisfaction_yaml() -> str:
    """The demo satisfaction definition under another slug: a second stage with results."""
    text = (ROOT / "survey" / "demo" / "satisfaction.yaml").read_text(encoding="utf-8")
    text, count = re.subn(r"(?m)^slug: manyidu-2005$", f"slug: {CLOSED_SATISFACTION}", text)
    assert count == 1, "survey/demo/satisfaction.yaml no longer has 'slug: manyidu-2005'"
    return re.sub(r"(?m)^title: .*$", "title: 羣眾滿意度測評表（已結束）", text, count=1)


def _ballots_csv() -> str:
    """Paper ballots for every demo branch: 12 each, seeded, mostly favourable."""
    rng = random.Random(20051)
    keys = ("good", "fairly_good", "average", "poor")
    lines = ["branch,category,q1,q2,q3,q4,q5,q6"]
    for number in range(1, 22):
        for _n in range(12):
            category = "member" if rng.random() < 0.4 else "public"
            answers = rng.choices(keys, weights=(55, 35, 8, 2), k=6)
            lines.append(f"b{number:02d},{category}," + ",".join(answers))
    return "\n".join(lines) + "\n"


def _seed(server: Ceping, folder: Path) -> None:
    """Fill the fresh database the way an operator would, with the CLI."""
    server.cli("init-db")
    server.cli("load-demo")
    definition = folder / "closed.yaml"
    definition.write_text(_closed_satisfaction_yaml(), encoding="utf-8")
    ballots = folder / "ballots.csv"
    ballots.write_text(_ballots_csv(), encoding="utf-8")
    server.cli("load-survey", str(definition))
    server.cli("open-survey", CLOSED_SATISFACTION)
    server.cli("import-responses", CLOSED_SATISFACTION, str(ballots))
    server.cli("close-survey", CLOSED_SATISFACTION)
    for username, role in ((ADMIN, "admin"), (SUPERVISOR, "supervisor")):
        server.cli("create-user", username, "--role", role, "--password-stdin", input=PASSWORD)
    codes = folder / "codes.csv"
    server.cli(
        "mint-codes", SATISFACTION, "--branch", "b01", "--category", "public",
        "--count", str(SLIP_COUNT), "-o", str(codes), "--reason", "slips for the browser tests",
    )  # fmt: skip
    with codes.open(encoding="utf-8-sig", newline="") as handle:
        server.slips = [Slip(row["code"], row["url"]) for row in csv.DictReader(handle)]
    assert len(server.slips) == SLIP_COUNT


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[Ceping]:
    """Ceping under gunicorn on a free port with a fresh, seeded SQLite database (per worker)."""
    from tests.helpers.live_server import LiveServer

    folder = tmp_path_factory.mktemp("live")
    database_url = f"sqlite:///{folder / 'ceping.sqlite3'}"
    secret = "browser-tests-secret-" + os.urandom(8).hex()
    # --preload: the app is imported once and forked into the workers, which halves start-up.
    server = LiveServer(database_url, secret, workers=2, extra_args=["--preload"], log_dir=folder)
    # Slips and minted-code files carry the start page's address: this server's.
    server.env["CEPING_BASE_URL"] = server.url
    app = create_app(
        {"DATABASE_URL": database_url, "SECRET_KEY": secret, "CEPING_BASE_URL": server.url}
    )
    ceping = Ceping(server.url, app, server)
    # gunicorn imports the app while this process seeds the database (create_app does not touch
    # the database; the readiness probe reads the start page, which does not either).
    starting = ThreadPoolExecutor(max_workers=1)
    started = starting.submit(server.start)  # waits up to live_server.START_TIMEOUT
    try:
        _seed(ceping, folder)
        started.result()
        yield ceping
    finally:
        starting.shutdown(wait=True)
        server.close()
        with app.app_context():
            from survey.db import db

            db.engine.dispose()


# --------------------------------------------------------------------------- the browser


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, one per worker (skipped or failed when unavailable)."""
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError as error:
        unavailable(f"the playwright package cannot be imported: {error}")
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            timeout=LAUNCH_TIMEOUT_MS,
        )
        yield chromium
        chromium.close()


class Watch:
    """Problems seen on the pages of a test: console errors, CSP violations, crashes, 5xx."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.allowed: list[re.Pattern[str]] = []
        self.failed_loads: list[str] = []

    def attach(self, page: Any) -> None:
        """Listen to one page."""

        def on_console(message: Any) -> None:
            source = (message.location or {}).get("url") or "?"
            # Chromium asks for /favicon.ico once per browser, so whether its 404 shows up depends
            # on test order; test_icon_exists checks the icon deterministically instead.
            if message.type == "error" and not source.endswith("/favicon.ico"):
                self.problems.append(f"console error on {page.url} (from {source}): {message.text}")

        def on_response(response: Any) -> None:
            if response.status >= 500:
                self.problems.append(f"{response.status} from {response.url}")
            elif response.status >= 400:  # names the URL that the console message leaves out
                self.failed_loads.append(f"{response.status} from {response.url}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.problems.append(f"uncaught on {page.url}: {error}"))
        page.on("response", on_response)

    def allow(self, pattern: str) -> None:
        """Expect problems matching ``pattern`` (a regular expression) from now on."""
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        """Problems no allowance covers."""
        return [p for p in self.problems if not any(a.search(p) for a in self.allowed)]

    def check(self) -> None:
        """Fail with every unexpected problem seen so far."""
        unexpected = self.unexpected()
        assert not unexpected, self.describe(unexpected)

    def describe(self, problems: list[str]) -> str:
        """Assertion message: the problems, and every 4xx response of the pages."""
        loads = "\n".join(self.failed_loads) or "none"
        return "problems in the browser:\n" + "\n".join(problems) + f"\n4xx responses: {loads}"


@dataclass
class Session:
    """A browser context of one test, with its watcher."""

    context: Any
    watch: Watch

    def new_page(self) -> Any:
        """A new tab in this context."""
        return self.context.new_page()


@pytest.fixture
def open_context(browser, live_server, request) -> Iterator[Callable[..., Session]]:
    """Open fresh browser contexts (closed after the test); every page in them is watched."""
    sessions: list[Session] = []

    def factory(**options: Any) -> Session:
        options.setdefault("base_url", live_server.base_url)
        options.setdefault("locale", "en-GB")
        context = browser.new_context(**options)
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
        context.add_init_script(CSP_LISTENER)
        watch = Watch()
        context.on("page", watch.attach)
        session = Session(context, watch)
        sessions.append(session)
        return session

    yield factory
    messages = []
    for session in sessions:
        problems = session.watch.unexpected()
        if problems:
            messages.append(session.watch.describe(problems))
        session.context.close()
    body = getattr(request.node, "call_report", None)
    if messages and body is not None and body.passed:
        pytest.fail("\n".join(messages))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep the report of the test body, so teardown does not pile a second failure on it."""
    report = yield
    if report.when == "call":
        item.call_report = report
    return report


# --------------------------------------------------------------------------- helpers


def screenshot(page: Any, name: str, *, full_page: bool = True) -> Path:
    """Save evidence for a person: tests/browser/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def sign_in(page: Any, username: str, password: str = PASSWORD) -> None:
    """Sign in through the login form, as a person does."""
    page.goto("/login")
    page.locator('input[name="username"]').fill(username)
    page.locator('input[name="password"]').fill(password)
    with page.expect_navigation():
        page.locator('main form [type="submit"]').click()
    assert "/login" not in page.url, f"sign-in as {username} failed: {page.url}"


def require_axe() -> Path:
    """The axe-core script, or skip (fail in CI) with how to install it."""
    if not AXE_JS.exists():
        unavailable(
            f"{AXE_JS.relative_to(ROOT)} is missing: run "
            "npm install --prefix tests/browser/vendor axe-core@4.10.3"
        )
    return AXE_JS


def run_axe(page: Any) -> list[dict[str, Any]]:
    """The serious and critical axe-core violations of the page (its context must bypass CSP).

    The SVG inside a plotly chart is left out: the chart's container is ``role="img"`` with a
    label, so assistive technology never enters it, and the numbers are in a table below each
    chart. The container itself, plotly's toolbar and the tables are checked. (Walking plotly's
    thousands of SVG nodes also doubles the time axe takes on a results page.)
    """
    page.wait_for_load_state()  # a page still arriving has no <head> to take the script yet
    page.add_script_tag(path=str(require_axe()))
    result = page.evaluate(
        """async () => {
          const context = {exclude: [[".js-plotly-plot .main-svg"]]};
          const results = await axe.run(context, {resultTypes: ["violations"]});
          return results.violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary})),
          }));
        }"""
    )
    return [v for v in result if v["impact"] in SERIOUS]


def describe_violations(violations: list[dict[str, Any]], where: str) -> str:
    """Readable assertion message: every violation with the elements it concerns."""
    lines = [f"axe-core found {len(violations)} serious or critical violations on {where}:"]
    for violation in violations:
        lines.append(f"- [{violation['impact']}] {violation['id']}: {violation['help']}")
        for node in violation["nodes"][:8]:
            summary = " ".join((node["summary"] or "").split())
            lines.append(f"    {node['target']}: {summary}")
    return "\n".join(lines)


def no_horizontal_scroll(page: Any, width: int) -> None:
    """Assert the page fits ``width`` CSS pixels: nothing needs sideways scrolling."""
    scroll_width = page.evaluate("document.scrollingElement.scrollWidth")
    if scroll_width > width:
        culprits = page.evaluate(
            """(width) => [...document.querySelectorAll("body *")]
                 .filter(e => e.getBoundingClientRect().right > width + 0.5)
                 .slice(0, 8)
                 .map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
                      + (e.className && typeof e.className === "string"
                         ? "." + e.className.trim().split(/\\s+/).join(".") : "")
                      + " right=" + Math.round(e.getBoundingClientRect().right))""",
            width,
        )
        raise AssertionError(
            f"{page.url} is {scroll_width}px wide at a {width}px viewport; too wide: {culprits}"
        )
