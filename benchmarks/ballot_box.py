"""What the ballot box costs per ballot, measured side by side with what it replaced.

Three ways of storing the same ballot (six items and a comment, on a survey that takes comments
of up to 2,000 characters), each in its own transaction as a submission does, in one process on
one database, interleaved round by round so that the machine's load touches them alike:

* **direct**: the ballot written straight into the results, responses, answers, comment and
  the three tallies, with the box's own writer (what a submission did before the ballot box,
  in the fewest statements the writer knows);
* **seal**: the ballot sealed (padded, AES-GCM) and put into the box, which is all a submission
  now writes;
* **mix**: the ballots of a group counted, k at a time once 2k wait, in their own transaction
  (reported per ballot counted, with the threshold of the benchmark's survey, k = 5).

The mix's cost per ballot plus the seal's is what a ballot costs in all; the submission itself
pays only the seal.

    python -m benchmarks.ballot_box [--scale S] [--database-url URL]
"""

from __future__ import annotations

import statistics
import time

from benchmarks.common import database, figure, make_app, make_branches

#: Ballots per way and round, and rounds (a full run).
BALLOTS = 200
ROUNDS = 5


def _survey():
    """An open survey of six items, comments allowed, k = 5, two categories."""
    from survey.db import db
    from survey.models import (
        Campaign,
        Item,
        RespondentCategory,
        ScaleOption,
        Survey,
        SurveyKind,
        SurveyState,
    )

    with db.transaction() as session:
        survey = Survey(
            campaign=Campaign(slug="bench-box", title="保持共產黨員先進性教育活動"),
            slug="bench-box",
            title="羣眾滿意度測評",
            kind=SurveyKind.SATISFACTION,
            state=SurveyState.OPEN,
            threshold=5,
            allows_comments=True,
            comment_max_length=2000,
        )
        survey.options = [
            ScaleOption(key=k, label=k, weight=w, is_favourable=f, position=i)
            for i, (k, w, f) in enumerate(
                (("satisfied", 100, True), ("basic", 60, True), ("no", 0, False))
            )
        ]
        survey.categories = [
            RespondentCategory(key=k, label=k, position=i) for i, k in enumerate(("m", "p"))
        ]
        survey.items = [Item(key=f"q{i}", text=f"第{i}題", position=i) for i in range(1, 7)]
        session.add(survey)
    return survey


def measure(database_url: str, ballots: int, rounds: int) -> dict[str, list[float]]:
    """Seconds per ballot of each way, one value per round."""
    from survey.db import db
    from survey.models import Source
    from survey.services import ballot_box
    from survey.services.questionnaires import load_questionnaire

    app = make_app(database_url)
    seconds: dict[str, list[float]] = {"direct": [], "seal": [], "mix": []}
    with app.app_context():
        make_branches(2 * rounds)
        survey = load_questionnaire(_survey().id)
        db.session.commit()
        answers = {item.id: survey.options[n % 3].id for n, item in enumerate(survey.items)}
        ballot = ballot_box.Ballot(answers, "整改措施要抓落實，希望定期公佈進展。")
        for round_ in range(rounds):
            sealed = ballot_box.Group(
                survey.id, 2 * round_ + 1, survey.categories[0].id, Source.WEB
            )
            direct = ballot_box.Group(
                survey.id, 2 * round_ + 2, survey.categories[1].id, Source.WEB
            )
            started = time.perf_counter()
            for _ in range(ballots):
                with db.transaction():
                    ballot_box.count_batch(
                        survey, direct.branch_id, direct.category_id, Source.WEB, [ballot]
                    )
            seconds["direct"].append((time.perf_counter() - started) / ballots)
            started = time.perf_counter()
            for _ in range(ballots):
                with db.transaction():
                    ballot_box.drop(survey, sealed, ballot)
            seconds["seal"].append((time.perf_counter() - started) / ballots)
            # Mixed as submissions trigger it: each time the group reaches 2k, k are counted.
            mixed = ballot_box.Group(survey.id, 2 * round_ + 2, survey.categories[0].id, Source.WEB)
            counted, spent = 0, 0.0
            for _ in range(ballots):
                with db.transaction():
                    waiting = ballot_box.drop(survey, mixed, ballot)
                if ballot_box.ready_to_mix(survey, waiting):
                    started = time.perf_counter()
                    counted += ballot_box.mix_group(survey, mixed)
                    spent += time.perf_counter() - started
            seconds["mix"].append(spent / max(1, counted))
        db.engine.dispose()
    return seconds


def run(scale: float = 1.0, database_url: str | None = None) -> list[dict]:
    """The ballot box benchmark on SQLite (``database_url`` None) or on that PostgreSQL."""
    backend = "SQLite" if database_url is None else "PostgreSQL"
    ballots = max(40, int(BALLOTS * scale))
    rounds = max(3, int(ROUNDS * min(1.0, scale * 4)))
    with database(database_url, "box") as url:
        seconds = measure(url, ballots, rounds)
    ms = {way: statistics.median(values) * 1000 for way, values in seconds.items()}
    label = f"{backend}, ballot box, {ballots} ballots × {rounds} rounds"
    return [
        figure(
            f"{label}: written straight into the results (no box), per ballot",
            round(ms["direct"], 2),
            "ms",
            "",
            None,
        ),  # fmt: skip
        figure(
            f"{label}: seal and drop into the box (a submission now), per ballot",
            round(ms["seal"], 2),
            "ms",
            "",
            None,
        ),  # fmt: skip
        figure(
            f"{label}: mix (k = 5 of 2k), per ballot counted", round(ms["mix"], 2), "ms", "", None
        ),  # fmt: skip
        figure(
            f"{label}: seal + mix ÷ direct",
            round((ms["seal"] + ms["mix"]) / ms["direct"], 2),
            "ratio",
            "",
            None,
        ),  # fmt: skip
    ]


def _main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    for row in run(args.scale, args.database_url):
        print(row)


if __name__ == "__main__":
    _main()
