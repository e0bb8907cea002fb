"""One family of refusals: what Ceping turns away, said in the user's language, with a status.

Every rule that can refuse an operation raises a :class:`Refusal`, whichever entry point called
it. The web, the API and the command line each turn one into their own answer in one place
(:mod:`survey.errors` for pages and JSON, :func:`survey.cli.refused` for commands), so the same
refusal has the same message and the same HTTP status everywhere. A view that shows a form again
instead reads ``field`` (the form field at fault) and ``status`` off the refusal.

Messages are translated when the refusal is raised, so they follow the request's language (or
the configured default on the command line).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import timedelta


class Refusal(Exception):
    """An operation the rules turn away; nothing was changed.

    ``messages`` say why (at least one), ``field`` names the form field they concern (None: the
    whole form or request) and ``status`` is the HTTP status of the answer.
    """

    status: int = 409
    #: A short heading for the refusal's page; None: the status's usual title.
    title: str | None = None

    def __init__(
        self,
        messages: str | Iterable[str],
        *,
        field: str | None = None,
        status: int | None = None,
        title: str | None = None,
    ):
        self.messages = [messages] if isinstance(messages, str) else [str(m) for m in messages]
        self.field = field
        if status is not None:
            self.status = status
        if title is not None:
            self.title = title
        super().__init__(" ".join(self.messages))

    @property
    def message(self) -> str:
        """The messages as one text."""
        return " ".join(self.messages)

    def headers(self) -> dict[str, str]:
        """Extra HTTP headers of the answer (a wait, for instance)."""
        return {}


class BadRequest(Refusal):
    """A request that asks for something that cannot be chosen (400)."""

    status = 400


class Forbidden(Refusal):
    """Something this visitor may not do now (403)."""

    status = 403


class NotFound(Refusal):
    """Something that does not exist, or that this visitor may not know of (404)."""

    status = 404


class Conflict(Refusal):
    """Something the current state forbids: a used code, a sealed result, a locked survey (409)."""

    status = 409


class Invalid(Refusal):
    """Data that breaks a rule: a form field, a file's line (422)."""

    status = 422


class TooManyAttempts(Refusal):
    """Too many failures from this client or for this name: wait ``wait`` (429)."""

    status = 429

    def __init__(self, messages: str | Iterable[str], wait: timedelta, **kwargs):
        super().__init__(messages, **kwargs)
        #: How long to wait (a ``timedelta``).
        self.wait = wait

    def headers(self) -> dict[str, str]:
        """``Retry-After`` in whole seconds, never less than one."""
        return {"Retry-After": str(max(1, math.ceil(self.wait.total_seconds())))}
