"""Hostile input on every POST route: never a 5xx, never a half-written change.

Every rule of the URL map that accepts POST is attacked with the test client (CSRF protection
on, as in production), its URL filled with real ids from a seeded world
(``tests/helpers/routes.py``). Requests are sent as a stranger, an admin and a branch viewer,
without a CSRF token, with a forged one, and with a valid one so that the input reaches the
forms' validation. Bodies:

* the route's own form (read from the page that shows it) with some fields replaced by hostile
  values: random text, 1 MB strings, NUL, RTL marks, lone surrogates (sent as the bytes
  ``'surrogatepass'`` makes, i.e. invalid UTF-8), emoji, formulas, numbers out of range, lists;
* multipart bodies with hostile files (CSV cells with formulas, GB18030 and Big5 bytes, random
  bytes, a broken XLSX), and malformed multipart: truncated, wrong boundary, no boundary;
* raw bytes under a wrong or lying content type.

After each request: the status is below 500, and a refused request (4xx) changed nothing: the
row count of every table and a few state counts (used codes, active branches and users, open
surveys, voided batches, revoked tokens, tallies) are as before. The only writes a refusal may
make are the back-off counters (``throttle``) and the audit of a failed sign-in. A request without
a valid CSRF token may not write anything at all. Requests that legitimately succeed are counted
and reported (``-rA`` shows them).

Each request runs in its own application context, as under gunicorn, so a view's unfinished
session is closed (rolled back) when its request ends and the counts see only committed data.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from urllib.parse import quote_from_bytes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from benchmarks.submission_load import Form, form_posting_to, parse_forms
from survey import rectify
from survey.db import db
from survey.models import Base
from tests.helpers.routes import World, rules, seed_world, urls_for
from tests.helpers.web import sign_in_as

#: Hypothesis examples per POST route and backend (``CEPING_FUZZ_EXAMPLES`` for a deeper run).
EXAMPLES = int(os.environ.get("CEPING_FUZZ_EXAMPLES", "5"))
MEGABYTE = "x" * (1024 * 1024)
CSRF_PAGE_TEXT = "was not sent from this site"
#: Actions that change the world for the routes after them; they are attacked last.
LAST = ("logout", "delete", "deactivate", "activate", "revoke", "discard", "commit", "void",
        "remove", "move", "change_state", "reset_password")  # fmt: skip

EDGE_STRINGS = [
    "", " ", "\x00", "a\x00b", "\u200f\u202eevil\u202c", "\ud800", "x\udfffy", "😀", "👩🏽‍💻",
    "\ufeff", "=HYPERLINK(\"http://x\")", "+1", "-1", "@SUM(A1)", "\t=1", "0", "-0",
    "2147483648", "99999999999999999999999", "1e309", "NaN", "-inf", "true", "null", "[]",
    "{\"a\": 1}", "<script>alert(1)</script>", "' OR '1'='1", "../../../etc/passwd", "%s%n",
    "{{ 7*7 }}", "\r\n\r\n", "𠜎𠜱", "ＡＢＣ", "İı", "ß", "\u3000", "　好　", "a" * 5000,
]  # fmt: skip

CONTENT_TYPES = [
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=gb18030",
    "multipart/form-data",
    "multipart/form-data; boundary=",
    "multipart/form-data; boundary=nothing-here",
    "application/json",
    "text/plain",
    "application/octet-stream",
    "text/html; charset=utf-7",
    "",
]
FILE_HEADERS = ["code,name,parent", "code,name", "branch,category,q1,q2,q3,comment", "a;b;c", ""]
#: Well-formed branch and ballot files with a NUL in one cell (PostgreSQL cannot store it).
NUL_FILES = [
    b"code,name,parent\nb90,a\x00b,\n",
    b"branch,category,q1,q2,q3,comment\nb01,member,good,good,good,a\x00b\n",
    b"branch,category,q1,q2,q3\nb01,member,go\x00od,good,good\n",
]
FILENAMES = ["branches.csv", "ballots.csv", "名單.xlsx", "../../etc/passwd", "a\x00.csv", "", "x"]


# -- strategies -----------------------------------------------------------------------------


def hostile_values(plausible: list[str]) -> st.SearchStrategy[str]:
    """A value for one field: edge cases, random text (surrogates too), or a plausible value."""
    return st.one_of(
        st.sampled_from(EDGE_STRINGS),
        st.text(max_size=40),
        st.text(st.characters(categories=["Cs", "Cf", "Zs", "So", "Lo"]), max_size=20),
        st.sampled_from(plausible or ["1"]),
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
        st.just(MEGABYTE),
    )


def encode(value: str) -> bytes:
    """A string as a browser would send it, lone surrogates included (invalid UTF-8)."""
    return value.encode("utf-8", "surrogatepass")


def urlencoded(fields: list[tuple[str, str]]) -> bytes:
    """An application/x-www-form-urlencoded body, percent-encoding the raw bytes."""
    return b"&".join(
        quote_from_bytes(encode(k)).encode() + b"=" + quote_from_bytes(encode(v)).encode()
        for k, v in fields
    )


def multipart(
    fields: list[tuple[str, str]], files: list[tuple[str, str, bytes]], boundary: str
) -> bytes:
    """A multipart/form-data body with ``fields`` and ``files`` (name, filename, content)."""
    parts = []
    for name, value in fields:
        parts.append(
            b"--" + boundary.encode() + b"\r\n"
            b'Content-Disposition: form-data; name="' + encode(name) + b'"\r\n\r\n'
            + encode(value) + b"\r\n"
        )  # fmt: skip
    for name, filename, content in files:
        parts.append(
            b"--" + boundary.encode() + b"\r\n"
            b'Content-Disposition: form-data; name="' + encode(name) + b'"; filename="'
            + encode(filename) + b'"\r\nContent-Type: text/csv\r\n\r\n' + content + b"\r\n"
        )  # fmt: skip
    return b"".join(parts) + b"--" + boundary.encode() + b"--\r\n"


@st.composite
def csv_files(draw, plausible: list[str]) -> bytes:
    """A spreadsheet upload: a header and rows of hostile cells, in some encoding, or junk."""
    kind = draw(st.sampled_from(["csv", "csv", "bytes", "xlsx"]))
    if kind == "bytes":
        return draw(st.binary(max_size=300))
    if kind == "xlsx":
        return b"PK\x03\x04" + draw(st.binary(max_size=200))
    header = draw(st.sampled_from(FILE_HEADERS))
    cell = st.one_of(st.sampled_from(EDGE_STRINGS[:36]), st.sampled_from(plausible or ["b01"]))
    rows = draw(st.lists(st.lists(cell, min_size=1, max_size=6), max_size=5))
    body = "\n".join([header] + [",".join(row) for row in rows])
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "big5", "utf-16"]))
    if encoding.startswith("utf-8"):
        return body.encode(encoding, "surrogatepass")
    return body.encode(encoding, "replace")


@dataclass
class Attack:
    """One hostile request: who sends it, with which token, and what body."""

    role: str | None
    csrf: str  # "valid", "none" or "forged"
    body: bytes
    content_type: str
    label: str


@st.composite
def attacks(draw, form: Form | None, plausible: list[str]) -> Attack:
    """A hostile request for a route whose page form (if any) is ``form``."""
    role = draw(st.sampled_from(["admin", "admin", "admin", None, "viewer"]))
    csrf = draw(st.sampled_from(["valid", "valid", "valid", "none", "forged"]))
    names = form.names if form else []
    base = dict(form.values) if form else {}
    for name, options in form.radios.items() if form else []:
        base[name] = draw(st.sampled_from(options))
    for name, options in form.selects.items() if form else []:
        if options:
            base[name] = draw(st.sampled_from(options))
    base.pop("csrf_token", None)
    extra_names = st.one_of(st.sampled_from(names or ["x"]), st.text(max_size=10))
    changed = draw(st.lists(st.tuples(extra_names, hostile_values(plausible)), max_size=4))
    dropped = draw(st.sets(st.sampled_from(names or ["x"]), max_size=2))
    fields = [(k, v) for k, v in base.items() if k not in dropped]
    for name, value in changed:
        fields = [(k, v) for k, v in fields if k != name] + [(name, value)]
    if draw(st.booleans()) and fields:  # the same name twice: a list where a value is expected
        fields.append(fields[0])
    kind = draw(st.sampled_from(["form", "form", "multipart", "broken multipart", "raw"]))
    token_field = [("csrf_token", "")]  # replaced when the request is sent
    if kind == "form":
        return Attack(role, csrf, urlencoded(token_field + fields), CONTENT_TYPES[0], kind)
    if kind == "raw":
        content_type = draw(st.sampled_from(CONTENT_TYPES))
        return Attack(role, csrf, draw(st.binary(max_size=400)), content_type, kind)
    boundary = draw(st.sampled_from(["b0undary", "x" * 70, "-", "日本"]))
    file_names = (form.files if form else []) or ["file"]
    files = [
        (
            draw(st.sampled_from(file_names)),
            draw(st.sampled_from(FILENAMES)),
            draw(csv_files(plausible)),
        )
        for _ in range(draw(st.integers(0, 2)))
    ]
    body = multipart(token_field + fields, files, "b0undary")
    content_type = f"multipart/form-data; boundary={boundary}"
    if kind == "broken multipart":
        body = body[: draw(st.integers(0, max(0, len(body) - 1)))]
        content_type = draw(st.sampled_from([content_type, *CONTENT_TYPES[2:5]]))
    elif boundary != "b0undary":
        content_type = "multipart/form-data; boundary=b0undary"
    return Attack(role, csrf, body, content_type, kind)


# -- the harness ----------------------------------------------------------------------------


def _fingerprint_sql() -> str:
    """One SELECT counting every table and the state flags a refused request must not touch."""
    counts = [
        f'(SELECT count(*) FROM "{t.name}") AS "{t.name}"' for t in Base.metadata.tables.values()
    ]
    states = {
        "audit_other_than_login": "SELECT count(*) FROM audit_entry WHERE action NOT LIKE 'login%'",
        "used_codes": "SELECT count(*) FROM access_code WHERE is_used",
        "active_branches": "SELECT count(*) FROM branch WHERE is_active",
        "active_users": 'SELECT count(*) FROM "user" WHERE is_active',
        "open_surveys": "SELECT count(*) FROM survey WHERE state = 'open'",
        "void_batches": "SELECT count(*) FROM code_batch WHERE is_void",
        "revoked_tokens": "SELECT count(*) FROM api_token WHERE revoked_on IS NOT NULL",
        "tallied": "SELECT coalesce(sum(count), 0) FROM respondent_tally",
        "password_hashes": 'SELECT count(DISTINCT password_hash) FROM "user"',
    }
    counts += [f"({query}) AS {name}" for name, query in states.items()]
    return "SELECT " + ", ".join(counts)


#: POST routes for people who are not signed in, besides the respondent path: signing in and
#: out, and feedback on the public page of plans (the rectify area names its own).
PUBLIC_ENDPOINTS = {"auth.login", "auth.logout"} | rectify.PUBLIC_ENDPOINTS
#: What a refused request may still write.
REFUSAL_MAY_CHANGE = {"throttle", "audit_entry"}


@dataclass
class Harness:
    """Sends attacks with the test client and checks every answer against the database."""

    app: object
    client: object
    world: World
    sql: str = field(default_factory=_fingerprint_sql)
    outcomes: Counter = field(default_factory=Counter)
    reached: set = field(default_factory=set)
    failures: list = field(default_factory=list)

    def fingerprint(self) -> dict:
        db.session.rollback()
        row = dict(db.session.execute(text(self.sql)).mappings().one())
        db.session.commit()  # never keep SQLite's lock while a request writes
        return row

    def token(self) -> str:
        """A valid CSRF token of the client's session (fetched again once the session lost it)."""
        with self.client.session_transaction() as session:
            if "csrf_token" not in session:
                self._token = None
        if getattr(self, "_token", None) is None:
            with self.app.app_context():
                page = self.client.get("/")
            self._token = form_posting_to(page.get_data(as_text=True), "/start").value("csrf_token")
        return self._token

    def send(self, url: str, attack: Attack, public: bool = False) -> None:
        """Send one attack to ``url`` and check the answer and the database (see module doc).

        ``public``: the route serves people who are not signed in (respondents, sign-in);
        on any other route a stranger may change nothing at all, whatever the status.
        """
        user = self.world.users.get(attack.role) if attack.role else None
        sign_in_as(self.client, user, keep=("csrf_token",))
        token = {"valid": self.token(), "forged": "IjEyMyI.forged.token", "none": ""}[attack.csrf]
        body = attack.body.replace(b"csrf_token=", b"csrf_token=" + token.encode(), 1)
        body = body.replace(
            b'name="csrf_token"\r\n\r\n', b'name="csrf_token"\r\n\r\n' + token.encode(), 1
        )
        headers = {"Accept-Language": "en"}
        if attack.csrf != "none":
            headers["X-CSRFToken"] = token
        before = self.fingerprint()
        with self.app.app_context():  # a context per request, as under gunicorn
            response = self.client.post(
                url, data=body, content_type=attack.content_type, headers=headers
            )
            status = response.status_code
            page = response.get_data(as_text=True)
            response.close()
        after = self.fingerprint()
        changed = {k for k in before if before[k] != after[k]}
        where = f"POST {url} ({attack.label}, csrf={attack.csrf}, role={attack.role})"
        self.outcomes[(url, status)] += 1
        if attack.csrf == "valid" and CSRF_PAGE_TEXT not in page:
            self.reached.add(url)
        if status >= 500:
            self.failures.append(f"{where} → {status}")
        elif attack.role is None and not public and changed:
            self.failures.append(f"{where} → {status}: a stranger changed {sorted(changed)}")
        elif attack.csrf != "valid" and (status < 400 or changed):
            self.failures.append(
                f"{where} → {status} without a valid CSRF token, changed {changed}"
            )
        elif status >= 400 and changed - REFUSAL_MAY_CHANGE:
            self.failures.append(f"{where} → {status} but changed {sorted(changed)}")
        else:
            return
        if attack.label in ("form", "multipart", "broken multipart", "raw"):
            raise AssertionError(self.failures.pop())  # hypothesis shrinks it, then we record it


def _page_forms(harness: Harness) -> dict[str, Form]:
    """Every form the admin's pages, the start page and a questionnaire post to, by action."""
    forms: dict[str, Form] = {}
    app, client, world = harness.app, harness.client, harness.world
    sign_in_as(client, world.admin)
    for rule in rules(app, "GET"):
        if rule.endpoint in ("static", "plotly_js") or "export" in rule.rule:
            continue
        for url in urls_for(rule, world):
            with app.app_context():
                response = client.get(url, headers={"Accept-Language": "en"})
                page = response.get_data(as_text=True) if response.mimetype == "text/html" else ""
                response.close()  # a download's temporary file is closed with its response
            for form in parse_forms(page, url):
                forms.setdefault(form.action.split("?")[0], form)
    sign_in_as(client, None)
    with app.app_context():
        questionnaire = client.post(
            "/start", data={"csrf_token": harness.token(), "code": world.codes[-1]}
        )
        form = form_posting_to(questionnaire.get_data(as_text=True), "/submit")
    if form is not None:
        forms["/submit"] = form
    return forms


def _plausible(world: World) -> list[str]:
    """Values that pass some validation: codes, keys, ids, slugs."""
    survey = world.survey
    return [
        *world.codes,
        *(o.key for o in survey.options),
        *(c.key for c in survey.categories),
        *(i.key for i in survey.items),
        world.branch.code,
        world.other_branch.code,
        survey.slug,
        str(world.branch.id),
        str(survey.id),
        "admin",
        "open",
        "closed",
        "satisfaction",
        "correct horse battery staple",
    ]


def _fixed_attacks(form: Form | None) -> list[Attack]:
    """The hostile cases that every route gets, whatever hypothesis draws.

    The base is the form as its page shows it (first choice of every radio group and select),
    so that one hostile field at a time reaches the code behind the validation.
    """
    base = [(k, v) for k, v in (form.values if form else []) if k != "csrf_token"]
    for name, options in form.radios.items() if form else []:
        base.append((name, options[0]))
    for name, options in form.selects.items() if form else []:
        if options:
            base.append((name, options[0]))
    names = [n for n in ((form.names if form else []) or ["x"]) if n != "csrf_token"]
    typed = [n for n, _v in (form.values if form else []) if n not in ("csrf_token", "code")]
    typed += form.textareas if form else []
    token = [("csrf_token", "")]
    form_type = CONTENT_TYPES[0]

    def replaced(name: str, value: str) -> list[tuple[str, str]]:
        return token + [(k, v) for k, v in base if k != name] + [(name, value)]

    fixed = [
        Attack("admin", "none", urlencoded(base), form_type, "no CSRF token"),
        Attack("admin", "forged", urlencoded(token + base), form_type, "forged token"),
        Attack(None, "valid", urlencoded(token + base), form_type, "stranger"),
    ]
    for label, value in (("1 MB fields", MEGABYTE), ("lone surrogates", "\ud800x\udfff")):
        fields = token + base + [(n, value) for n in names]
        fixed.append(Attack("admin", "valid", urlencoded(fields), form_type, label))
    for name in typed:  # PostgreSQL refuses NUL in text: each field must be checked for it
        value = "a\x00b\u200f\u202e👩🏽‍💻"
        fixed.append(
            Attack("admin", "valid", urlencoded(replaced(name, value)), form_type, f"NUL in {name}")
        )
    whole = multipart(token + base, [(n, "a.csv", b"code,name\n=1+1,x\n") for n in names], "bb")
    nameless_part = b"--bb\r\nContent-Disposition: form-data\r\n\r\nv\r\n--bb--"
    nameless = multipart(token + base, [], "bb").replace(b"--bb--", nameless_part)
    # A name holding a line break reaches Flask as a None key (it once crashed the CSRF check).
    unreadable_part = b'--bb\r\nContent-Disposition: form-data; name="\n"\r\n\r\nv\r\n--bb--'
    unreadable = multipart(token + base, [], "bb").replace(b"--bb--", unreadable_part)
    multipart_type = "multipart/form-data; boundary=bb"
    fixed += [
        Attack("admin", "valid", whole, multipart_type, "a file in every field"),
        Attack("admin", "valid", nameless, multipart_type, "a multipart part without a name"),
        Attack("admin", "none", unreadable, multipart_type, "an unreadable part name, no token"),
        Attack("admin", "valid", whole[: len(whole) // 2], multipart_type, "truncated multipart"),
        Attack("admin", "valid", whole, "multipart/form-data; boundary=other", "wrong boundary"),
        Attack("admin", "valid", whole, "multipart/form-data", "no boundary"),
        Attack("admin", "valid", b'{"csrf_token": 1}', "application/json", "JSON"),
    ]
    for name in form.files if form else []:  # NUL inside an upload, in a well-formed file
        for content in NUL_FILES:
            body = multipart(token + base, [(name, "upload.csv", content)], "bb")
            fixed.append(Attack("admin", "valid", body, multipart_type, f"NUL in a file ({name})"))
    return fixed


def _order(rule) -> tuple:
    """Routes that change the world for later ones go last."""
    return (any(word in rule.endpoint for word in LAST), rule.rule)


def _fuzz_route(
    harness: Harness, url: str, form: Form | None, plausible: list[str], public: bool
) -> None:
    """Hypothesis attacks on one URL."""

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(attack=attacks(form, plausible))
    def fuzz(attack: Attack) -> None:
        harness.send(url, attack, public)

    try:
        fuzz()
    except AssertionError as failure:  # keep going: one report with every route's failures
        harness.failures.append(f"{failure} (hypothesis: {getattr(failure, '__notes__', '')})")


@pytest.fixture
def world(app, make_branch, make_survey, mint, make_user):
    return seed_world(make_branch, make_survey, mint, make_user)


# Werkzeug's multipart parser drops (without closing) the spooled file of a part that a truncated
# body cuts off; the garbage collector closes it. Not Ceping's to fix, and harmless.
@pytest.mark.filterwarnings(
    "ignore:Exception ignored in. <function SpooledTemporaryFile.__del__"
    ":pytest.PytestUnraisableExceptionWarning"
)
def test_every_post_route_survives_hostile_input(app, client, world):
    harness = Harness(app, client, world)
    forms = _page_forms(harness)
    plausible = _plausible(world)
    post_rules = sorted(rules(app, "POST"), key=_order)
    assert post_rules, "the app has no POST routes?"
    for rule in post_rules:
        public = rule.endpoint.startswith("respond.") or rule.endpoint in PUBLIC_ENDPOINTS
        for url in urls_for(rule, world):
            form = forms.get(url)
            for attack in _fixed_attacks(form):
                harness.send(url, attack, public)

            _fuzz_route(harness, url, form, plausible, public)
    assert not harness.failures, "\n".join(harness.failures)
    unreached = [
        url for rule in post_rules for url in urls_for(rule, world) if url not in harness.reached
    ]
    assert not unreached, f"no valid-token request got past the CSRF check: {unreached}"
    succeeded = Counter()
    for (url, status), n in harness.outcomes.items():
        if status < 400:
            succeeded[url] += n
    print("\nlegitimate successes per route:", dict(succeeded))
    by_status = defaultdict(int)
    for (_url, status), n in harness.outcomes.items():
        by_status[status] += n
    print("statuses:", dict(sorted(by_status.items())))
