"""The data model.

Anonymity is a property of this schema, not of the code that uses it:

* **Who may answer** lives in ``access_code`` (a hash and a used flag, nothing else about its use).
* **What was answered** lives in ``response``, ``answer`` and ``comment``. None of them has a
  column in common with ``access_code`` or a foreign key to it, their ids are random 128-bit
  values, their only date is the day, and on SQLite they are ``WITHOUT ROWID`` tables, so not even
  storage order tells which response came after which code was used.
* ``sealed_ballot`` is the ballot box between the two: the transaction that uses a code drops
  the ballot there encrypted and padded, and a later *mix* moves ballots into ``response``,
  ``answer``, ``comment`` and the tallies in shuffled batches of at least the survey's
  threshold (:mod:`survey.services.ballot_box`), so that not even the storage engine's own
  records (a WAL commit, a PostgreSQL ``xmin``, page order) pair a code with its answers.
* ``answer_tally``, ``total_tally`` and ``respondent_tally`` are counts kept by each mix, so
  reports cost branches × items, not responses. On SQLite they too are ``WITHOUT ROWID``: a
  rowid would say which tally row the first respondent of a cell created.

``tests/survey/services/test_anonymity.py`` reads this schema and proves the separation;
``tests/survey/properties/test_storage_anonymity.py`` attacks what the storage engine keeps below
it.
"""

from survey.models.ballots import (
    AccessCode,
    Answer,
    AnswerTally,
    BallotDraft,
    CodeBatch,
    Comment,
    PaperHandout,
    RespondentTally,
    Response,
    SealedBallot,
    Source,
    TotalTally,
)
from survey.models.base import Base, random_id
from survey.models.branches import Branch, BranchMembers
from survey.models.lifecycle import Action, InvalidTransition, SurveyState
from survey.models.office import ApiToken, AuditEntry, Role, Throttle, User, UserSession
from survey.models.rectify import (
    Measure,
    MeasureStatus,
    Opinion,
    OpinionSource,
    Plan,
    PlanState,
    ProblemClass,
    PublicFeedback,
    Theme,
)
from survey.models.surveys import (
    Access,
    Campaign,
    Item,
    RespondentCategory,
    ResultsVisibility,
    ScaleOption,
    Survey,
    SurveyKind,
    campaign_branch,
)

__all__ = [
    "Access",
    "AccessCode",
    "Action",
    "Answer",
    "AnswerTally",
    "ApiToken",
    "AuditEntry",
    "BallotDraft",
    "Base",
    "Branch",
    "BranchMembers",
    "Campaign",
    "CodeBatch",
    "Comment",
    "InvalidTransition",
    "Item",
    "Measure",
    "MeasureStatus",
    "Opinion",
    "OpinionSource",
    "PaperHandout",
    "Plan",
    "PlanState",
    "ProblemClass",
    "PublicFeedback",
    "RespondentCategory",
    "RespondentTally",
    "Response",
    "ResultsVisibility",
    "Role",
    "ScaleOption",
    "SealedBallot",
    "Source",
    "Survey",
    "SurveyKind",
    "SurveyState",
    "Theme",
    "Throttle",
    "TotalTally",
    "User",
    "UserSession",
    "campaign_branch",
    "random_id",
]
