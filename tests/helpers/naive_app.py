"""A deliberately naive write path, served only by the storage-anonymity tests.

It counts every ballot in the transaction that uses its code, as Ceping did before the ballot
box (and as the small QR-slip tools do): the code's row, the response, its answers and its comment
then share one SQLite WAL commit and one PostgreSQL ``xmin``. Each attack of
``tests/survey/properties/test_storage_anonymity.py`` is first run against this app to prove that
it catches such a design, then against the real one. Start it with gunicorn as
``tests.helpers.naive_app:app``.
"""

from __future__ import annotations

from survey import create_app
from survey.services import ballot_box


def _count_at_once(survey, group, ballot) -> bool:
    """Write the ballot straight into the results, inside the transaction that used the code."""
    ballot_box.count_batch(survey, group.branch_id, group.category_id, group.source, [ballot])
    return False


ballot_box.drop = _count_at_once
app = create_app()
