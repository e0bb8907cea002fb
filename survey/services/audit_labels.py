"""The audit log as a person reads it: each action's name in the reader's language, the time in
the configured time zone, and the detail's ``key=value`` pairs as labelled values.

:func:`survey.services.audit.record` stores an action key (``report.export``) and a detail of
``key=value`` pairs (``survey=pingyi format=xlsx``, ``threshold=5->7``), which stay stable for
tools that read the table. This module is the one place that names them for people: a key that
has no label yet is shown as stored, so no entry is ever hidden.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

from survey.models import AuditEntry
from survey.models.lifecycle import Action

#: Each audit action's name, as the reader's language says it. The survey's state moves
#: (``survey.open`` …) are named by :class:`~survey.models.lifecycle.Action`'s own labels.
ACTION_LABELS = {
    "auth.login": _l("Signed in"),
    "auth.logout": _l("Signed out"),
    "auth.login_failed": _l("Failed sign-in"),
    "auth.login_blocked": _l("Sign-in paused after failures"),
    "auth.password_change": _l("Changed own password"),
    "token.create": _l("Created an API token"),
    "token.revoke": _l("Revoked an API token"),
    "user.create": _l("Created an account"),
    "user.update": _l("Changed an account"),
    "user.activate": _l("Activated an account"),
    "user.deactivate": _l("Deactivated an account"),
    "user.reset_password": _l("Reset an account's password"),
    "campaign.create": _l("Created a campaign"),
    "campaign.update": _l("Changed a campaign"),
    "campaign.delete": _l("Deleted a campaign"),
    "campaign.branches": _l("Chose a campaign's branches"),
    "campaign.archive": _l("Archived a campaign"),
    "campaign.unarchive": _l("Restored an archived campaign"),
    "survey.create": _l("Created a survey"),
    "survey.update": _l("Changed a survey's questionnaire or settings"),
    "survey.texts": _l("Changed a survey's texts, target or schedule"),
    "survey.copy": _l("Copied a survey"),
    "survey.delete": _l("Deleted a survey"),
    "survey.archive": _l("Archived a survey"),
    "survey.unarchive": _l("Restored an archived survey"),
    **{f"survey.{action.value}": action.label for action in Action},
    "branch.create": _l("Added a branch"),
    "branch.update": _l("Changed a branch"),
    "branch.delete": _l("Deleted a branch"),
    "branch.activate": _l("Activated a branch"),
    "branch.deactivate": _l("Deactivated a branch"),
    "branches.import": _l("Imported branches"),
    "codes.mint": _l("Minted codes"),
    "codes.void": _l("Voided a batch of codes"),
    "ballots.draft": _l("Keyed a batch of paper ballots"),
    "ballots.verify": _l("Keyed a batch of paper ballots a second time"),
    "ballots.commit": _l("Counted a batch of paper ballots"),
    "ballots.discard": _l("Discarded a batch of keyed paper ballots"),
    "paper.handout": _l("Recorded the paper ballots handed out"),
    "report.export": _l("Exported results"),
    "item.pair": _l("Paired items across stages"),
    "demo.load": _l("Loaded the demo campaign"),
    "opinion.add": _l("Added an opinion"),
    "opinion.merge": _l("Merged opinions"),
    "opinion.import": _l("Imported opinions"),
    "opinion.tag": _l("Tagged an opinion"),
    "opinion.pull": _l("Took opinions from survey comments"),
    "opinion.feedback": _l("Took in feedback from the public page"),
    "plan.create": _l("Created a rectification plan"),
    "plan.file": _l("Filed a rectification plan"),
    "plan.discuss": _l("Recorded the meeting that discussed a plan"),
    "plan.return": _l("Returned a rectification plan to draft"),
    "plans.public": _l("Changed whether plans are public"),
    "measure.add": _l("Added a measure"),
    "measure.update": _l("Changed a measure"),
    "measure.delete": _l("Deleted a measure"),
    "measure.progress": _l("Recorded a measure's progress"),
    "rectification.export": _l("Exported the rectification summary or effect"),
}

#: What the keys of an entry's detail mean, as the reader's language says it.
DETAIL_LABELS = {
    "survey": _l("survey"),
    "campaign": _l("campaign"),
    "branch": _l("branch"),
    "category": _l("category"),
    "user": _l("account"),
    "username": _l("username"),
    "role": _l("role"),
    "token": _l("token"),
    "name": _l("name"),
    "title": _l("title"),
    "batch": _l("batch"),
    "count": _l("count"),
    "unused": _l("unused codes"),
    "format": _l("format"),
    "compare": _l("compared with"),
    "from": _l("copied from"),
    "reason": _l("reason"),
    "threshold": _l("threshold"),
    "target": _l("target"),
    "welcome_text": _l("welcome text"),
    "thanks_text": _l("thank-you text"),
    "opens_at": _l("opens at"),
    "closes_at": _l("closes at"),
    "items": _l("items"),
    "scale": _l("scale"),
    "categories": _l("categories"),
    "ballots": _l("ballots"),
    "added": _l("added"),
    "removed": _l("removed"),
    "surveys": _l("surveys"),
    "public": _l("public"),
    "tokens_revoked": _l("tokens revoked"),
    "updated": _l("updated"),
    "origin": _l("keyed from"),
    "state": _l("state"),
    "status": _l("status"),
    "changed": _l("changed"),
    "plan": _l("plan"),
    "measure": _l("measure"),
    "opinion": _l("opinion"),
    "opinions": _l("opinions"),
    "meeting": _l("meeting"),
    "campaign_title": _l("campaign title"),
}

#: One value of a detail: quoted when it holds spaces (``'…'`` or ``"…"``), else plain.
_ONE = r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|(?:(?!->)[^\s'"])+"""
#: One ``key=value`` pair of a detail, or ``key=before->after`` (see :func:`audit.change`).
_PAIR = re.compile(rf"([A-Za-z_][\w.]*)=({_ONE})?(?:->({_ONE})?)?")
#: A change ``before -> after`` in the text between pairs.
_CHANGE = re.compile(r"\s*->\s*")


@dataclass(frozen=True, slots=True)
class AuditLine:
    """One audit entry as the page shows it."""

    #: When, in the configured time zone, ``2026-12-01 09:30:00``.
    at: str
    who: str | None
    #: The action's name in the reader's language (the stored key when it has no label).
    action: str
    #: The stored action key, for whoever needs to match it.
    key: str
    #: The detail as (label, value) pairs; a change reads ``before → after``; text that is no
    #: pair has an empty label.
    details: tuple[tuple[str, str], ...]
    is_flagged: bool


def action_label(key: str) -> str:
    """The name of the action ``key`` in the reader's language, or ``key`` itself."""
    label = ACTION_LABELS.get(key)
    return str(label) if label is not None else key


def _unquoted(text: str | None) -> str:
    if not text or text == "-":
        return "—"
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1].replace("\\" + text[0], text[0]) or "—"
    return text


def _free_text(text: str) -> str:
    return " → ".join(part or "—" for part in _CHANGE.split(text)) if "->" in text else text


def detail_pairs(detail: str) -> tuple[tuple[str, str], ...]:
    """The detail's ``key=value`` pairs with translated keys, a change as ``before → after``;
    text that is no pair is kept as it is (with its arrows)."""
    pairs: list[tuple[str, str]] = []
    detail = detail or ""
    position = 0
    for match in _PAIR.finditer(detail):
        between = detail[position : match.start()].strip()
        if between:
            pairs.append(("", _free_text(between)))
        key, before, after = match.groups()
        value = _unquoted(before)
        if "->" in match.group(0)[len(key) + 1 :]:
            value = f"{value} → {_unquoted(after)}"
        label = DETAIL_LABELS.get(key)
        pairs.append((str(label) if label is not None else key, value))
        position = match.end()
    rest = detail[position:].strip()
    if rest:
        pairs.append(("", _free_text(rest)))
    return tuple(pairs)


def local_time(at: datetime, zone: ZoneInfo) -> str:
    """A stored naive-UTC time as the wall-clock time of ``zone``."""
    return at.replace(tzinfo=UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def describe(entry: AuditEntry, zone: ZoneInfo) -> AuditLine:
    """``entry`` as a person reads it, in the request's language and ``zone``."""
    return AuditLine(
        at=local_time(entry.at, zone),
        who=entry.username,
        action=action_label(entry.action),
        key=entry.action,
        details=detail_pairs(entry.detail),
        is_flagged=entry.is_flagged,
    )
