"""Reply understanding against corpora written fresh by people who never saw the code.

Each row of ``replies/*.jsonl`` is one SMS, what it answers (``after``: reminder, check-in,
another of our texts, or nothing), whether the number had opted out, and what a careful
receptionist would take it to mean (``intent``, ``pain``), with ``why``. The writers' rules:
a reply meaning "stop texting this number" is an opt-out in any context; a positive tapback
on a reminder confirms, any tapback on a check-in gives no score, a tapback on anything else
is a ``reaction`` that asks for nothing; scores as people say them (ranges: the higher end;
"yesterday X, today Y": today's); a time, a count, a decimal or two undecided numbers are no
score; a bare number after a reminder is ambiguous.

- ``tuning.jsonl`` (240 rows) was written to tune the rules on.
- ``seen_heldout_1.jsonl`` (160), ``seen_heldout_2.jsonl`` (200) and ``seen_heldout_3.jsonl``
  (200) were each written as a held-out set by a different writer and read once to measure
  before any rule was written from them. First looks: 95.0 % with 2 harmful errors, 91.5 %
  with 8, 91.0 % with 6. The kinds of error each showed were then fixed in general terms,
  and the set joined the table.
- ``heldout.jsonl`` (200) is the latest held-out set: its first look measured 92.5 % with 6
  harmful errors (a Spain-Spanish and a third-person opt-out, "don't take us off the list",
  "yesterday 4 today 8", a score said to be yesterday's), which were fixed the same way. It
  is kept apart, read only by the test below, so that the next rule written is not tuned on
  it; a fresh set from a new writer is the next honest measure.

So far every fresh set has measured 91-95 % with a few harmful errors on first look: the
rules generalize less well than these tests, passing, suggest. Everything not understood
goes to a person, so a missed reading is seen; a missed opt-out is seen as "not understood".

Accuracy counts a reply as right when the handling is the ideal one: acted on, for sure,
with the right intent and score (a ``reaction`` must be quiet), or left to a person when the
ideal was to leave it to a person (``other``). Harmful errors are counted apart and fail
the test on any part: a missed opt-out, a false opt-out, a score of 8 or more that reaches
nobody as a score (a guess of it shown to a person does reach them), a score acted on where
none was given, a confirmation or reschedule request acted on that nobody asked for.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from service.domain.understanding import Expecting, Understanding, understand

HERE = Path(__file__).parent / "replies"
TABLE = ("tuning.jsonl", "seen_heldout_1.jsonl", "seen_heldout_2.jsonl", "seen_heldout_3.jsonl")
HELD_OUT = "heldout.jsonl"
TARGET = 0.97
ACTIONS = ("confirm", "reschedule")


@dataclass(frozen=True)
class Row:
    """One reply and what it means."""

    body: str
    after: str | None
    opted_out: bool
    intent: str
    pain: int | None


def load(name: str) -> list[Row]:
    """The rows of one corpus file."""
    rows = []
    for line in (HERE / name).read_text(encoding="utf-8").splitlines():
        if line.strip():
            data: dict[str, Any] = json.loads(line)
            rows.append(
                Row(
                    data["body"],
                    data["after"],
                    bool(data.get("opted_out")),
                    data["intent"],
                    data.get("pain"),
                )
            )
    return rows


def read(row: Row) -> Understanding:
    """What understanding makes of the row, in the context it was written for."""
    expecting: Expecting = row.after if row.after in ("reminder", "checkin") else None  # type: ignore[assignment]
    return understand(row.body, expecting=expecting, opted_out=row.opted_out)


def harm(row: Row, got: Understanding) -> str | None:
    """The harmful error ``got`` is for ``row``, if any."""
    if row.intent == "opt_out" and got.intent != "opt_out":
        return "missed opt-out"
    if got.intent == "opt_out" and row.intent != "opt_out":
        return "false opt-out"
    if row.intent == "pain" and (row.pain or 0) >= 8 and (got.pain or 0) < 8:
        return "missed score of 8 or more"
    if got.sure and got.intent == "pain" and row.intent != "pain":
        return "a score nobody gave"
    if got.sure and got.intent in ACTIONS and row.intent != got.intent:
        return f"a {got.intent} nobody asked for"
    return None


def right(row: Row, got: Understanding) -> bool:
    """True when the reply is handled the ideal way."""
    if not got.sure:
        return row.intent == "other"
    meant = "reaction" if got.quiet else str(got.intent)
    return meant == row.intent and (row.intent != "pain" or got.pain == row.pain)


@dataclass
class Report:
    """Accuracy per intent, and the harmful errors apart."""

    name: str
    asked: Counter[str] = field(default_factory=Counter)
    answered: Counter[str] = field(default_factory=Counter)
    harmful: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        """The share of replies handled the ideal way."""
        return sum(self.answered.values()) / max(1, sum(self.asked.values()))

    def text(self) -> str:
        """The report as a reader wants it."""
        lines = [f"{self.name}: {self.accuracy:.1%} of {sum(self.asked.values())} replies"]
        lines += [f"  {i:11} {self.answered[i]}/{n}" for i, n in sorted(self.asked.items())]
        lines += [f"  HARMFUL {h}" for h in self.harmful] + [f"  wrong {w}" for w in self.wrong]
        return "\n".join(lines)


def evaluate(name: str) -> Report:
    """Read every row of a corpus and report."""
    report = Report(name)
    for row in load(name):
        got = read(row)
        report.asked[row.intent] += 1
        if right(row, got):
            report.answered[row.intent] += 1
        else:
            report.wrong.append(f"{row.body!r} after {row.after}: {got.reason}")
        if (kind := harm(row, got)) is not None:
            report.harmful.append(f"{kind}: {row.body!r} after {row.after} ({got.reason})")
    return report


@pytest.mark.parametrize("name", TABLE)
def test_the_table_is_read_right_with_no_harmful_error(name: str) -> None:
    report = evaluate(name)
    assert report.harmful == [], report.text()
    assert report.accuracy >= TARGET, report.text()


def test_the_held_out_part_makes_no_harmful_error_and_reports_its_accuracy(
    capsys: pytest.CaptureFixture[str],
) -> None:
    report = evaluate(HELD_OUT)
    with capsys.disabled():
        print(f"\n{report.text()}")
    assert report.harmful == [], report.text()
    assert report.accuracy >= TARGET, report.text()


def test_each_part_covers_every_class_the_issue_names() -> None:
    for name in (*TABLE, HELD_OUT):
        asked = Counter(row.intent for row in load(name))
        assert {"opt_out", "opt_in", "pain", "confirm", "reschedule", "reaction", "other"} <= set(
            asked
        ), name
        assert sum(1 for row in load(name) if row.intent == "pain" and (row.pain or 0) >= 8) >= 8
