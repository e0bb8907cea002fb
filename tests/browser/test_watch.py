"""The page watcher itself: it must see what the other browser tests rely on it to see.

Without this, a watcher that heard nothing (a renamed event, a Chromium that logs CSP
violations differently) would let every browser test pass with broken pages.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_watch_reports_csp_violations_and_script_errors(open_context, live_server):
    """An inline script refused by the CSP and an uncaught exception are both reported."""
    session = open_context()
    page = session.new_page()
    page.goto("/")
    session.watch.check()  # the start page itself is clean
    with pytest.raises(Exception, match="Content Security Policy|script-src"):
        page.add_script_tag(content="window.injected = true;")
    assert page.evaluate("window.injected === undefined")
    # Wait for the uncaught error itself rather than a fixed time: the watcher heard it too by
    # then (it listens from the page's creation), and the CSP reports came before it.
    with page.expect_event("pageerror", lambda error: "deliberate failure" in str(error)):
        page.evaluate("setTimeout(() => { throw new Error('deliberate failure'); }, 0)")

    problems = "\n".join(session.watch.unexpected())
    assert "Content Security Policy" in problems or "CSP violation" in problems, problems
    assert "deliberate failure" in problems, problems
    # These were provoked on purpose: do not fail the test for them at teardown.
    session.watch.allow(r"Content Security Policy|CSP violation|deliberate failure")
    session.watch.check()
