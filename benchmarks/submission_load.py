"""Submission load: 64 respondents at once through the whole respondent path, against a floor.

The app is served by gunicorn exactly as the README's production setup does
(``gunicorn --workers W wsgi:app``, W = 2 × cores) on a seeded database with real minted codes.
This process drives it with asyncio + aiohttp; every respondent does what a phone does:

1. ``GET /``: the start page, its session cookie and CSRF token;
2. ``POST /start`` with the code: the questionnaire (its item names and options are parsed);
3. ``POST /submit`` with an answer to every item: must be ``303`` to ``/thanks``;
4. ``GET /thanks``: must be ``200``.

The floor is ``benchmarks/floor_app.py``: one bare Flask request that inserts one row, served by
gunicorn with the same workers on the same database. The ratio compares **submissions per second**
(each one is the 4 requests above, and the submit is one transaction of about 20 statements) with
**floor inserts per second** (one request, one INSERT). Afterwards the database is checked:
responses = acknowledged submissions = used codes, per branch and category, and the turnout
tallies agree with the responses.

The seeding and respondent helpers here are reused by ``duplicate_storm.py`` and by the
live-server tests (``tests/survey/concurrency/test_storm.py``, ``test_crash.py``).
"""

from __future__ import annotations

import asyncio
import html
import random
import re
import resource
import secrets
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
from sqlalchemy import create_engine, func, select

from benchmarks import floor_app
from benchmarks.common import postgres_schema
from benchmarks.server import GunicornServer, default_workers

#: Respondents answering at the same moment (phones in the hall pressing "send" together).
CONCURRENCY = 64
#: Submissions in a full run (a hall of 300, twice over, for stable percentiles).
SUBMISSIONS = 600
#: The 64 at a human pace: seconds a respondent pauses before typing the code and before
#: sending the answers (drawn uniformly; far quicker than people read six questions), and how
#: many respondents each of the 64 phones serves one after the other.
PAUSES = (1.0, 3.0)
PACED_ROUNDS = 4
#: Floor requests in a full run.
FLOOR_REQUESTS = 2000
#: Floor requests sent before the clock starts, so every worker has connected and compiled.
FLOOR_WARM_UP = 16
#: The throughput run alternates floor and Ceping this many times (each a share of the load).
ROUNDS = 3
#: The hall: 300 respondents arriving at random over 60 s (the sitting at twice its real pace:
#: a real sitting spreads them over two minutes).
HALL = 300
HALL_SECONDS = 60.0
#: Targets on 2 cores (see benchmarks/README.md).
TARGET_RATIO = 0.5
TARGET_P99_SECONDS = 0.250
#: Every request a respondent's phone would send, in English so refusal pages can be recognised.
HEADERS = {"Accept-Language": "en", "User-Agent": "ceping-bench"}
#: The sentence of the page refusing a code that was already used.
ALREADY_USED_TEXT = "already been used"

#: The public satisfaction test (the demo's), as seeded for every load run.
SATISFACTION_ITEMS = (
    "整改措施是否落實",
    "整改成效是否明顯",
    "機關作風是否轉變",
    "服務基層和羣眾是否改善",
    "領導班子是否帶頭",
    "是否接受羣眾監督",
)
SATISFACTION_SCALE = (
    ("satisfied", "滿意", 100.0, True),
    ("basically_satisfied", "基本滿意", 60.0, True),
    ("dissatisfied", "不滿意", 0.0, False),
)
CATEGORIES = (("member", "黨員", 0.4), ("public", "羣眾", 0.6))


# -- seeding --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MintedCode:
    """A plain code with the branch and category it was minted for."""

    branch: str
    category: str
    code: str


def sqlite_url(directory: Path, name: str = "ceping.sqlite3") -> str:
    """A SQLite URL for a file in ``directory``."""
    return f"sqlite:///{directory / name}"


def seed(
    database_url: str,
    secret_key: str,
    *,
    branches: int = 6,
    codes_per_group: int = 50,
    migrate: bool = True,
    slug: str = "bench-satisfaction",
) -> list[MintedCode]:
    """Create the schema (as ``flask init-db`` does) and an open satisfaction test with codes.

    ``codes_per_group`` codes are minted for every branch × category, through the code service
    the CLI's ``mint-codes`` uses. Returns the plain codes in random order.
    """
    from survey import create_app, migrations
    from survey.db import db
    from survey.models import (
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

    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": secret_key})
    minted: list[MintedCode] = []
    with app.app_context():
        if migrate:
            migrations.upgrade(db.engine)
        session = db.session
        campaign = Campaign(slug=f"{slug}-campaign", title="保持共產黨員先進性教育活動")
        survey = Survey(
            campaign=campaign,
            slug=slug,
            title="羣眾滿意度測評",
            kind=SurveyKind.SATISFACTION,
            state=SurveyState.OPEN,
            threshold=5,
            results_visibility=ResultsVisibility.AFTER_CLOSE,
            allows_comments=True,
        )
        survey.options = [
            ScaleOption(key=k, label=label, weight=w, is_favourable=f, position=i)
            for i, (k, label, w, f) in enumerate(SATISFACTION_SCALE)
        ]
        survey.categories = [
            RespondentCategory(key=k, label=label, weight=w, position=i)
            for i, (k, label, w) in enumerate(CATEGORIES)
        ]
        survey.items = [
            Item(key=f"q{i + 1}", text=t, position=i) for i, t in enumerate(SATISFACTION_ITEMS)
        ]
        session.add(survey)
        rows = [Branch(code=f"b{n:02d}", name=f"第{n}支部") for n in range(1, branches + 1)]
        session.add_all(rows)
        session.flush()
        for branch in rows:
            for category in survey.categories:
                _batch, codes = mint_batch(survey, branch, category, codes_per_group)
                minted += [MintedCode(branch.code, category.key, c) for c in codes]
        session.commit()
        session.close()
        db.engine.dispose()
    random.Random(7).shuffle(minted)
    return minted


@dataclass
class StoredCounts:
    """What the database holds after a run, per branch and category.

    A web answer is either counted (a response row, in the tallies) or still sealed in the
    ballot box; every used code has exactly one of the two.
    """

    counted: Counter = field(default_factory=Counter)
    sealed: Counter = field(default_factory=Counter)
    used_codes: Counter = field(default_factory=Counter)
    tallied: Counter = field(default_factory=Counter)
    answers: int = 0

    @property
    def responses(self) -> Counter:
        """Web answers received per group: counted and sealed."""
        return self.counted + self.sealed

    @property
    def total_responses(self) -> int:
        return sum(self.responses.values())

    @property
    def total_sealed(self) -> int:
        return sum(self.sealed.values())

    @property
    def total_used(self) -> int:
        return sum(self.used_codes.values())

    def mismatches(self) -> list[str]:
        """Groups where used codes ≠ answers received, or the turnout tally ≠ answers counted."""
        groups = set(self.responses) | set(self.used_codes) | set(self.tallied)
        return [
            f"{branch}/{category}: used={self.used_codes[(branch, category)]} "
            f"counted={self.counted[(branch, category)]} "
            f"sealed={self.sealed[(branch, category)]} "
            f"tallied={self.tallied[(branch, category)]}"
            for branch, category in sorted(groups)
            if not (
                self.used_codes[(branch, category)] == self.responses[(branch, category)]
                and self.counted[(branch, category)] == self.tallied[(branch, category)]
            )
        ]


def stored_counts(database_url: str) -> StoredCounts:
    """Count web answers (counted and sealed), used codes and tallied respondents per branch and
    category.

    Uses its own short-lived engine: on SQLite every transaction takes the write lock, so no
    session may stay open while a server runs.
    """
    from survey.models import (
        AccessCode,
        Answer,
        Branch,
        RespondentCategory,
        RespondentTally,
        Response,
        SealedBallot,
        Source,
    )

    engine = create_engine(database_url)
    counts = StoredCounts()
    group = (Branch.code, RespondentCategory.key)
    with engine.connect() as connection:
        for model, target in (
            (Response, counts.counted),
            (SealedBallot, counts.sealed),
            (AccessCode, counts.used_codes),
        ):
            query = (
                select(*group, func.count())
                .select_from(model)
                .join(Branch, Branch.id == model.branch_id)
                .join(RespondentCategory, RespondentCategory.id == model.category_id)
                .group_by(*group)
            )
            if model is AccessCode:
                query = query.where(AccessCode.is_used.is_(True))
            else:
                query = query.where(model.source == Source.WEB)
            for branch, category, count in connection.execute(query):
                target[(branch, category)] = count
        tallies = (
            select(*group, func.sum(RespondentTally.count))
            .join(Branch, Branch.id == RespondentTally.branch_id)
            .join(RespondentCategory, RespondentCategory.id == RespondentTally.category_id)
            .where(RespondentTally.source == Source.WEB)
            .group_by(*group)
        )
        for branch, category, count in connection.execute(tallies):
            counts.tallied[(branch, category)] = int(count)
        counts.answers = connection.execute(select(func.count()).select_from(Answer)).scalar_one()
    engine.dispose()
    return counts


def used_code_hashes(database_url: str) -> set[str]:
    """Hashes of the codes marked used (to check acknowledged codes one by one)."""
    from survey.models import AccessCode

    engine = create_engine(database_url)
    with engine.connect() as connection:
        hashes = set(
            connection.execute(
                select(AccessCode.code_hash).where(AccessCode.is_used.is_(True))
            ).scalars()
        )
    engine.dispose()
    return hashes


# -- reading pages --------------------------------------------------------------------------


@dataclass
class Form:
    """A form as a browser sees it: where it posts and what it would send."""

    action: str
    method: str
    #: Hidden and text inputs with their values, in page order.
    values: list[tuple[str, str]] = field(default_factory=list)
    #: Radio groups: name → option values.
    radios: dict[str, list[str]] = field(default_factory=dict)
    textareas: list[str] = field(default_factory=list)
    selects: dict[str, list[str]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    checkboxes: list[tuple[str, str]] = field(default_factory=list)

    def value(self, name: str) -> str | None:
        """The value of the first input called ``name``."""
        return next((v for n, v in self.values if n == name), None)

    @property
    def names(self) -> list[str]:
        """Every field name the form can send."""
        names = [n for n, _v in self.values] + list(self.radios) + self.textareas
        names += list(self.selects) + self.files + [n for n, _v in self.checkboxes]
        return list(dict.fromkeys(names))


_FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S | re.I)
_FIELD = re.compile(r"<(input|textarea|select|option)\b([^>]*)>", re.I)
_ATTRIBUTE = re.compile(r"""([^\s=/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""")


def _attributes(text: str) -> dict[str, str]:
    """The attributes of a tag, unescaped (``<input name="q1" value="a&amp;b">``)."""
    return {
        m.group(1).lower(): html.unescape(m.group(2) or m.group(3) or m.group(4) or "")
        for m in _ATTRIBUTE.finditer(text)
    }


def parse_forms(page: str, page_url: str = "/") -> list[Form]:
    """Every form of an HTML page, read with regular expressions.

    Ceping's pages are generated by Jinja and WTForms, so their markup is regular; an HTML
    parser costs ~6 ms per questionnaire, which on 2 cores would be taken from the server.
    """
    forms = []
    for match in _FORM.finditer(page):
        attrs = _attributes(match.group(1))
        form = Form(
            action=attrs.get("action") or urlsplit(page_url).path,
            method=(attrs.get("method") or "get").lower(),
        )
        select_name = None
        for field_match in _FIELD.finditer(match.group(2)):
            tag = field_match.group(1).lower()
            a = _attributes(field_match.group(2))
            name = a.get("name")
            if tag == "option":
                if select_name is not None:
                    form.selects[select_name].append(a.get("value", ""))
                continue
            if not name:
                continue
            if tag == "textarea":
                form.textareas.append(name)
            elif tag == "select":
                select_name = name
                form.selects[name] = []
            else:
                kind = a.get("type", "text").lower()
                if kind == "radio":
                    form.radios.setdefault(name, []).append(a.get("value", "on"))
                elif kind == "checkbox":
                    form.checkboxes.append((name, a.get("value", "y")))
                elif kind == "file":
                    form.files.append(name)
                elif kind not in ("submit", "button", "reset", "image"):
                    form.values.append((name, a.get("value", "")))
        forms.append(form)
    return forms


def form_posting_to(html: str, path: str) -> Form | None:
    """The form of a page that posts to ``path``, if any."""
    return next(
        (f for f in parse_forms(html) if f.method == "post" and urlsplit(f.action).path == path),
        None,
    )


def answer_form(form: Form, rng: random.Random, comment: str | None = None) -> dict[str, str]:
    """What a respondent sends: every hidden value, one option per radio group, a comment."""
    data = dict(form.values)
    for name, options in form.radios.items():
        data[name] = rng.choice(options)
    for name in form.textareas:
        data[name] = comment or ""
    return data


# -- respondents ----------------------------------------------------------------------------


@dataclass
class Outcome:
    """How one respondent's path ended, and how long its parts took (seconds)."""

    code: str
    #: "thanks" (acknowledged and thanked), "used" (409 already-used page), or what went wrong.
    result: str
    #: The submit was answered with 303 to /thanks: the respondent was told it is stored.
    acknowledged: bool = False
    #: The form fields sent with the submit (item key → option key, comment).
    sent: dict[str, str] = field(default_factory=dict)
    submit_seconds: float | None = None
    #: Wall time of the whole path, pauses included.
    path_seconds: float | None = None
    #: Time spent waiting for the server over the whole path (its requests only, no pauses).
    waited_seconds: float | None = None
    statuses: list[int] = field(default_factory=list)


#: What a failed request raises: the connection refused or dropped, or the time-out reached.
CLIENT_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError)


@dataclass(frozen=True, slots=True)
class Page:
    """One answer of the server, read whole."""

    status_code: int
    text: str
    headers: Mapping[str, str]


class Browser:
    """A respondent's phone: its own cookie jar, redirects not followed, every request on a
    connection of its own (gunicorn's sync workers close each one).

    Built on aiohttp because the load generator shares the machine's cores with the server: it
    spends about 1 ms of CPU per request where httpx spent 4, which on 2 cores would otherwise
    be taken from the server being measured.
    """

    def __init__(self, base_url: str, timeout: float = 60.0):
        #: Seconds spent waiting for answers so far.
        self.waited = 0.0
        self._session = aiohttp.ClientSession(
            base_url,
            headers=HEADERS,
            # Accept the cookies of a server addressed by IP (127.0.0.1), as a browser does.
            cookie_jar=aiohttp.CookieJar(unsafe=True),
            connector=aiohttp.TCPConnector(force_close=True, limit=0),
            timeout=aiohttp.ClientTimeout(total=timeout),
        )

    async def __aenter__(self) -> Browser:
        return self

    async def __aexit__(self, *_exc) -> None:
        await self._session.close()

    async def get(self, path: str) -> Page:
        return await self.request("GET", path)

    async def post(self, path: str, data: Mapping[str, str] | None = None) -> Page:
        return await self.request("POST", path, data)

    async def request(self, method: str, path: str, data: Mapping[str, str] | None = None) -> Page:
        began = time.perf_counter()
        try:
            async with self._session.request(
                method, path, data=data, allow_redirects=False
            ) as response:
                text = await response.text(errors="replace")
                return Page(response.status, text, response.headers)
        finally:
            self.waited += time.perf_counter() - began


def new_client(base_url: str, timeout: float = 60.0) -> Browser:
    """A respondent's browser (see :class:`Browser`)."""
    return Browser(base_url, timeout)


#: A respondent's pause before the next page, in seconds (None: no pause at all).
Pause = Callable[[], float] | None


async def _pause(pause: Pause) -> None:
    if pause is not None:
        await asyncio.sleep(pause())


async def open_questionnaire(
    client: Browser, code: str, outcome: Outcome, pause: Pause = None
) -> Form | None:
    """Start page, then the code: return the questionnaire form, or None (outcome says why)."""
    start = await client.get("/")
    outcome.statuses.append(start.status_code)
    if start.status_code != 200:
        outcome.result = f"start page {start.status_code}"
        return None
    form = form_posting_to(start.text, "/start")
    token = form.value("csrf_token") if form else None
    if not token:
        outcome.result = "start page without a CSRF token"
        return None
    await _pause(pause)  # typing the code
    entered = await client.post("/start", data={"csrf_token": token, "code": code})
    outcome.statuses.append(entered.status_code)
    if entered.status_code == 409 and ALREADY_USED_TEXT in entered.text:
        outcome.result = "used"
        return None
    if entered.status_code != 200:
        outcome.result = f"code entry {entered.status_code}"
        return None
    questionnaire = form_posting_to(entered.text, "/submit")
    if questionnaire is None or not questionnaire.radios:
        outcome.result = "questionnaire without items"
        return None
    return questionnaire


async def send_answers(
    client: Browser,
    questionnaire: Form,
    rng: random.Random,
    outcome: Outcome,
    pause: Pause = None,
) -> None:
    """Submit the questionnaire and follow the redirect to the thank-you page."""
    data = answer_form(questionnaire, rng, comment="很好" if rng.random() < 0.2 else "")
    outcome.sent = data
    await _pause(pause)  # answering the questions
    began = time.perf_counter()
    submitted = await client.post("/submit", data=data)
    outcome.submit_seconds = time.perf_counter() - began
    outcome.statuses.append(submitted.status_code)
    if submitted.status_code == 409 and ALREADY_USED_TEXT in submitted.text:
        outcome.result = "used"
        return
    location = submitted.headers.get("location", "")
    if submitted.status_code != 303 or urlsplit(location).path != "/thanks":
        outcome.result = f"submit {submitted.status_code}"
        return
    # The answer is stored: the respondent is acknowledged once the 303 to /thanks arrives.
    outcome.acknowledged = True
    outcome.result = "thanks"
    thanks = await client.get(location)
    outcome.statuses.append(thanks.status_code)
    if thanks.status_code != 200:
        outcome.result = f"thanks page {thanks.status_code}"


async def respond(base_url: str, code: str, rng: random.Random, pause: Pause = None) -> Outcome:
    """One respondent's whole path with one code, pausing before typing and before sending."""
    outcome = Outcome(code=code, result="not started")
    began = time.perf_counter()
    client = new_client(base_url)
    try:
        async with client:
            questionnaire = await open_questionnaire(client, code, outcome, pause)
            if questionnaire is not None:
                await send_answers(client, questionnaire, rng, outcome, pause)
    except CLIENT_ERRORS as error:
        prefix = "thanks page " if outcome.acknowledged else ""
        outcome.result = f"{prefix}{type(error).__name__}"
    outcome.path_seconds = time.perf_counter() - began
    outcome.waited_seconds = client.waited
    return outcome


async def run_respondents(
    base_url: str,
    codes: Sequence[str],
    concurrency: int,
    seed_value: int = 1,
    pauses: tuple[float, float] | None = None,
) -> tuple[list[Outcome], float]:
    """Send every code through the path with ``concurrency`` respondents at a time.

    With ``pauses`` (low, high) each respondent waits a uniformly drawn number of seconds before
    typing the code and before sending the answers; without, the next request follows at once.
    Returns the outcomes and the wall-clock seconds from the first request to the last answer.
    """
    queue: asyncio.Queue[str] = asyncio.Queue()
    for code in codes:
        queue.put_nowait(code)
    outcomes: list[Outcome] = []
    rng = random.Random(seed_value)

    async def worker() -> None:
        while True:
            try:
                code = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            outcomes.append(await respond(base_url, code, rng, pause))

    pause = (lambda: rng.uniform(*pauses)) if pauses else None
    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return outcomes, time.perf_counter() - began


# -- the floor ------------------------------------------------------------------------------


async def run_floor(
    base_url: str, requests: int, concurrency: int
) -> tuple[list[float], int, float]:
    """POST /insert ``requests`` times, ``concurrency`` at once: latencies, errors, seconds."""
    latencies: list[float] = []
    errors = 0
    remaining = iter(range(requests))

    async def worker(client: Browser) -> None:
        nonlocal errors
        for _ in remaining:
            began = time.perf_counter()
            try:
                response = await client.post("/insert")
            except CLIENT_ERRORS:
                errors += 1
                continue
            latencies.append(time.perf_counter() - began)
            if response.status_code != 201:
                errors += 1

    async with Browser(base_url) as client:
        began = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        seconds = time.perf_counter() - began
    return latencies, errors, seconds


# -- statistics and the run -----------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0–100) by linear interpolation, as numpy's default."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def figure(name: str, value, unit: str, target: str, passed: bool | None) -> dict:
    """One row of the benchmark table."""
    return {"figure": name, "value": value, "unit": unit, "target": target, "passed": passed}


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _share(total: int, turn: int) -> int:
    """Turn ``turn``'s part of ``total`` split in ``ROUNDS`` (the parts add up to ``total``)."""
    return total // ROUNDS + (1 if turn < total % ROUNDS else 0)


def _warm_up(base_url: str, path: str, method: str = "GET", count: int = 16) -> None:
    """A few requests so every worker has imported and compiled what it serves."""

    async def go() -> None:
        async with Browser(base_url, timeout=30.0) as client:
            await asyncio.gather(*(client.request(method, path) for _ in range(count)))

    asyncio.run(go())


async def run_hall(
    base_url: str, codes: Sequence[str], seconds: float, seed_value: int = 2
) -> list[Outcome]:
    """Respondents arriving at random over ``seconds`` (a Poisson process), however many at once.

    This is the sitting itself: people scan their slips at their own moment, not in lockstep.
    """
    rng = random.Random(seed_value)
    arrivals = sorted(rng.uniform(0, seconds) for _ in codes)
    began = time.perf_counter()

    async def arrive(code: str, at: float) -> Outcome:
        await asyncio.sleep(max(0.0, at - (time.perf_counter() - began)))
        return await respond(base_url, code, rng)

    return list(await asyncio.gather(*(arrive(c, t) for c, t in zip(codes, arrivals, strict=True))))


def _latency_rows(label: str, outcomes: list[Outcome], target: bool) -> list[dict]:
    """p50/p95/p99 of the submit POST and of the whole path's waiting (its 4 requests, without
    the respondent's own pauses) of the acknowledged submissions."""
    acknowledged = [o for o in outcomes if o.acknowledged]
    submit_times = [o.submit_seconds for o in acknowledged if o.submit_seconds is not None]
    path_times = [o.waited_seconds for o in acknowledged if o.waited_seconds is not None]
    ms = 1000.0
    rows = []
    for name, values in (("submit POST", submit_times), ("full path, waiting", path_times)):
        for q in (50, 95, 99):
            value = percentile(values, q)
            checked = target and name == "submit POST" and q == 99
            rows.append(
                figure(
                    f"{label}: {name} p{q}",
                    round(value * ms),
                    "ms",
                    f"≤ {TARGET_P99_SECONDS * ms:.0f}" if checked else "",
                    value <= TARGET_P99_SECONDS if checked else None,
                )
            )
    return rows


def _error_row(label: str, outcomes: list[Outcome], extra_errors: int = 0) -> dict:
    errors = [o for o in outcomes if o.result != "thanks"]
    kinds = Counter(o.result for o in errors)
    note = ", ".join(f"{k}×{n}" for k, n in kinds.most_common(3))
    return figure(
        f"{label}: errors of {len(outcomes)} respondents" + (f" ({note})" if note else ""),
        len(errors) + extra_errors,
        "count",
        "0",
        not errors and not extra_errors,
    )


def measure(
    database_url: str,
    floor_url: str,
    *,
    label: str,
    workers: int,
    submissions: int,
    floor_requests: int,
    hall: int,
    hall_seconds: float,
    concurrency: int = CONCURRENCY,
) -> list[dict]:
    """Seed, serve, load and verify one backend; return its rows of the benchmark table.

    Three runs, in this order: the throughput run, where the floor and Ceping, both saturated by
    ``concurrency`` clients (respondents with no pause between pages), take turns in
    ``ROUNDS`` rounds; ``concurrency`` respondents at a human pace (latency); the hall (latency
    of the sitting itself).
    """
    secret = secrets.token_hex(32)
    groups = 6 * len(CATEGORIES)
    warm = 4 * workers
    paced = concurrency * PACED_ROUNDS
    needed = submissions + paced + hall + warm
    minted = [m.code for m in seed(database_url, secret, codes_per_group=-(-needed // groups))]
    codes, minted = minted[:submissions], minted[submissions:]
    paced_codes, minted = minted[:paced], minted[paced:]
    hall_codes, warm_codes = minted[:hall], minted[hall : hall + warm]
    floor_app.create_schema(floor_url)

    floor = GunicornServer(
        database_url,
        secret,
        workers=workers,
        app="benchmarks.floor_app:app",
        env={"FLOOR_DATABASE_URL": floor_url},
    )
    server = GunicornServer(database_url, secret, workers=workers)
    with floor, server:
        _warm_up(floor.url, "/insert", "POST", count=FLOOR_WARM_UP)
        # Every worker serves the whole path once before the clock starts (templates compiled).
        warm_outcomes, _seconds = asyncio.run(run_respondents(server.url, warm_codes, workers))
        # The floor and Ceping take turns, round by round, so that what else the machine does
        # meanwhile weighs on both alike; idle gunicorn workers cost nothing in between.
        floor_latencies: list[float] = []
        floor_errors, floor_seconds = 0, 0.0
        outcomes: list[Outcome] = []
        seconds = client_cpu = 0.0
        for turn in range(ROUNDS):
            latencies, errors, spent = asyncio.run(
                run_floor(floor.url, _share(floor_requests, turn), concurrency)
            )
            floor_latencies += latencies
            floor_errors += errors
            floor_seconds += spent
            chunk = codes[turn::ROUNDS]
            cpu_before = _cpu_seconds()
            done, spent = asyncio.run(run_respondents(server.url, chunk, concurrency))
            client_cpu += _cpu_seconds() - cpu_before
            outcomes += done
            seconds += spent
        paced_outcomes, _seconds = asyncio.run(
            run_respondents(server.url, paced_codes, concurrency, seed_value=3, pauses=PAUSES)
        )
        hall_outcomes = asyncio.run(run_hall(server.url, hall_codes, hall_seconds))
    floor_rows = floor_app.count_rows(floor_url)
    floor_rate = (floor_requests - floor_errors) / floor_seconds
    counts = stored_counts(database_url)

    everyone = outcomes + paced_outcomes + hall_outcomes + warm_outcomes
    acknowledged = sum(o.acknowledged for o in everyone)
    rate = sum(o.acknowledged for o in outcomes) / seconds
    request_rate = sum(len(o.statuses) for o in outcomes) / seconds
    ratio = request_rate / floor_rate if floor_rate else 0.0
    consistent = (
        counts.total_responses == acknowledged == counts.total_used
        and not counts.mismatches()
        and floor_rows == floor_requests - floor_errors + FLOOR_WARM_UP
    )
    ms = 1000.0
    at_once = f"{label}, {concurrency} at once, no pauses"
    paced_label = (
        f"{label}, {concurrency} at once, pausing {PAUSES[0]:g}–{PAUSES[1]:g} s between pages"
    )
    hall_label = f"{label}, hall: {hall} arriving over {hall_seconds:.0f} s"
    return [
        figure(f"{at_once}: submissions/s", round(rate, 1), "1/s", "", None),
        figure(
            f"{at_once}: requests/s (4 per submission)", round(request_rate, 1), "1/s", "", None
        ),
        figure(
            f"{at_once}: floor requests/s (1 insert each)", round(floor_rate, 1), "1/s", "", None
        ),
        figure(
            f"{at_once}: requests/s ÷ floor requests/s",
            round(ratio, 3),
            "ratio",
            f"≥ {TARGET_RATIO}",
            ratio >= TARGET_RATIO,
        ),
        figure(
            f"{at_once}: submissions/s ÷ floor requests/s",
            round(rate / floor_rate if floor_rate else 0.0, 3),
            "ratio",
            "",
            None,
        ),
        *_latency_rows(at_once, outcomes, target=False),
        figure(
            f"{at_once}: floor request p99",
            round(percentile(floor_latencies, 99) * ms),
            "ms",
            "",
            None,
        ),
        _error_row(at_once, outcomes + warm_outcomes, floor_errors),
        figure(
            f"{at_once}: load generator CPU per submission",
            round(client_cpu / max(1, len(outcomes)) * ms, 1),
            "ms",
            "",
            None,
        ),
        *_latency_rows(paced_label, paced_outcomes, target=True),
        _error_row(paced_label, paced_outcomes),
        *_latency_rows(hall_label, hall_outcomes, target=True),
        _error_row(hall_label, hall_outcomes),
        figure(
            f"{label}: stored = acknowledged = codes used, per branch and category "
            f"({counts.total_responses}/{acknowledged}/{counts.total_used})",
            "yes" if consistent else "NO",
            "",
            "yes",
            consistent,
        ),
    ]


def run(
    scale: float = 1.0, database_url: str | None = None, workers: int | None = None
) -> list[dict]:
    """The submission benchmark on SQLite (``database_url`` None) or on that PostgreSQL server."""
    workers = workers or default_workers()
    submissions = max(60, int(SUBMISSIONS * scale))
    floor_requests = max(300, int(FLOOR_REQUESTS * scale))
    hall = max(30, int(HALL * scale))
    hall_seconds = max(10.0, HALL_SECONDS * scale)
    if database_url is None:
        directory = Path(tempfile.mkdtemp(prefix="ceping-bench-"))
        try:
            return measure(
                sqlite_url(directory),
                sqlite_url(directory, "floor.sqlite3"),
                label=f"SQLite, {workers} workers",
                workers=workers,
                submissions=submissions,
                floor_requests=floor_requests,
                hall=hall,
                hall_seconds=hall_seconds,
            )
        finally:
            shutil.rmtree(directory, ignore_errors=True)
    with postgres_schema(database_url) as url:
        return measure(
            url,
            url,
            label=f"PostgreSQL, {workers} workers",
            workers=workers,
            submissions=submissions,
            floor_requests=floor_requests,
            hall=hall,
            hall_seconds=hall_seconds,
        )


def _main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    for row in run(args.scale, args.database_url, args.workers):
        print(row)


if __name__ == "__main__":
    _main()
