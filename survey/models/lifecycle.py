"""A survey's lifecycle: its states and the actions that move it, each defined once.

A survey is a draft until it opens, then open, then closed; a closed survey can be reopened.
Test mode is a flag beside the state (see :mod:`survey.services.surveys`). Every page, command
and refusal reads the states' labels, the actions' labels, their confirmation texts and the
allowed moves from here, so the office's page, the command line and the audit trail agree.
"""

from __future__ import annotations

import enum

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from survey.refusals import Conflict


class SurveyState(enum.StrEnum):
    """Where a survey stands; the value is what the database stores."""

    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        """The state in the interface language."""
        return str(_STATE_LABELS[self])


_STATE_LABELS = {
    SurveyState.DRAFT: _l("Draft"),
    SurveyState.OPEN: _l("Open"),
    SurveyState.CLOSED: _l("Closed"),
}


class Action(enum.StrEnum):
    """What the office can do to a survey's state; the value names it in forms and the audit."""

    OPEN = "open"
    CLOSE = "close"
    REOPEN = "reopen"
    START_TEST = "start_test"
    GO_LIVE = "go_live"

    @property
    def source(self) -> SurveyState:
        """The state the action starts from."""
        return _MOVES[self][0]

    @property
    def target(self) -> SurveyState:
        """The state the action ends in."""
        return _MOVES[self][1]

    @property
    def label(self) -> str:
        """The action's button label."""
        return str(_ACTION_TEXTS[self][0])

    @property
    def confirmation(self) -> str | None:
        """What the action does, shown for a confirmation first; None: it needs none."""
        text = _ACTION_TEXTS[self][1]
        return None if text is None else str(text)

    @property
    def done(self) -> str:
        """The message once the action has been carried out."""
        return str(_ACTION_TEXTS[self][2])

    def allowed(self, state: SurveyState, is_test_mode: bool) -> bool:
        """Whether the action can be taken in ``state`` (going live only from test mode)."""
        return state is self.source and (self is not Action.GO_LIVE or is_test_mode)

    @classmethod
    def available(cls, state: SurveyState, is_test_mode: bool) -> list[Action]:
        """The actions that make sense in ``state``, in the order the page offers them."""
        return [action for action in cls if action.allowed(state, is_test_mode)]

    @classmethod
    def for_opening(cls, state: SurveyState) -> Action:
        """The action that opens a survey in ``state``: reopen a closed one, else open."""
        return cls.REOPEN if state is SurveyState.CLOSED else cls.OPEN


#: Each action's start and end state: the only moves a survey makes.
_MOVES = {
    Action.OPEN: (SurveyState.DRAFT, SurveyState.OPEN),
    Action.CLOSE: (SurveyState.OPEN, SurveyState.CLOSED),
    Action.REOPEN: (SurveyState.CLOSED, SurveyState.OPEN),
    Action.START_TEST: (SurveyState.DRAFT, SurveyState.OPEN),
    Action.GO_LIVE: (SurveyState.OPEN, SurveyState.OPEN),
}

#: Label, confirmation text (None: no confirmation) and done message of each action.
_ACTION_TEXTS = {
    Action.OPEN: (_l("Open the survey"), None, _l("The survey is open.")),
    Action.CLOSE: (
        _l("Close the survey"),
        _l(
            "No more answers are accepted. Unused codes stop working until the survey is "
            "reopened. Results sealed until closing become visible to supervisors."
        ),
        _l("The survey is closed."),
    ),
    Action.REOPEN: (
        _l("Reopen the survey"),
        _l(
            "The survey accepts answers again, and unused codes work again. Results that "
            "supervisors could read while it was closed are sealed again until it closes."
        ),
        _l("The survey is open again."),
    ),
    Action.START_TEST: (
        _l("Start a test run"),
        None,
        _l("The survey is open in test mode."),
    ),
    Action.GO_LIVE: (
        _l("Go live"),
        _l(
            "Every test answer and test comment is deleted, every test batch is voided (testers "
            "saw those codes), and codes of ordinary batches used during the test work again. "
            "From now on answers count."
        ),
        _l("The survey is live: test answers were deleted and test codes voided."),
    ),
}


class InvalidTransition(Conflict):
    """A lifecycle action that the survey's current state does not allow."""

    def __init__(self, slug: str, state: SurveyState, action: Action):
        super().__init__(
            _(
                'The survey is %(state)s, so "%(action)s" is not possible now.',
                state=state.label.lower(),
                action=action.label,
            )
        )
        self.slug = slug
        self.state = state
        self.action = action
