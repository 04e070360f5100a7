"""An ordinary reply is stored in a commit of its own, then understood and acted on in a
few statements: the number of statements is pinned here, so a query added to the path (a
lazy load, a re-read of the settings) fails a test rather than only slowing the bench."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session

from service import outbox, replies
from service.db import get_db
from service.models import InboundMessage
from tests.webhooks.conftest import Twilio, reply_text
from tests.webhooks.test_replies import NOW, PHONE, after_checkin, last_reply

COMMIT = "COMMIT"


@contextmanager
def recorded(app: Flask) -> Iterator[list[str]]:
    """Every SQL statement the app's engine runs, and each commit, in order."""
    engine, seen = get_db(app).engine, []

    def statement(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        seen.append(" ".join(sql.split()))

    def commit(_conn: Any) -> None:
        seen.append(COMMIT)

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)


def earlier_score(session: Session, score: int) -> None:
    """The client already answered a check-in before this one, with ``score``."""
    client, _, _ = after_checkin(session)
    earlier = NOW - timedelta(days=7)
    session.add(
        InboundMessage(
            provider_sid="SM-earlier",
            from_phone=PHONE,
            to_phone="+16175550100",
            body=str(score),
            num_media=0,
            fields={},
            received_at=earlier,
            processed_at=earlier,
            client_id=client.id,
            intent="pain",
            pain_score=score,
        )
    )
    session.commit()


@pytest.mark.parametrize(
    ("setup", "body", "answer", "most"),
    [
        # a client answering a check-in with a score: the ordinary pain reply (the
        # raw text's INSERT; the facts with the settings and wording; the row's UPDATE; the
        # acknowledgement's INSERT)
        (after_checkin, "4", "noted", 4),
        # the same after an earlier score not far below it: still no alert to write
        (lambda s: earlier_score(s, 3), "4", "noted", 4),
        # a rise of 3 or more: the alert is the one more statement
        (lambda s: earlier_score(s, 1), "4", "noted", 5),
    ],
)
def test_an_ordinary_reply_is_stored_first_then_acted_on_in_few_statements(
    app: Flask, twilio: Twilio, session: Session, setup: Any, body: str, answer: str, most: int
) -> None:
    setup(session)
    with recorded(app) as seen:
        text = reply_text(twilio.text(PHONE, body)) or ""
    assert answer in text.lower()
    statements = [s for s in seen if s != COMMIT]
    assert seen[0].startswith("INSERT INTO inbound_messages") and seen[1] == COMMIT
    assert seen.count(COMMIT) == 2 and seen[-1] == COMMIT
    assert len(statements) <= most, "\n".join(statements)
    assert last_reply(session).processed_at is not None


def test_processing_that_fails_after_writing_leaves_the_stored_text_unprocessed(
    twilio: Twilio, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The raw text is stored in a commit of its own (in autocommit on PostgreSQL); the
    # processing after it is one transaction again, so a failure undoes the row's UPDATE.
    after_checkin(session)

    def fail(*_: Any) -> None:
        raise RuntimeError("the acknowledgement could not be recorded")

    monkeypatch.setattr(outbox, "record_answered", fail)
    assert reply_text(twilio.text(PHONE, "4")) is None
    row = last_reply(session)
    assert (row.body, row.processed_at, row.pain_score) == ("4", None, None)
    # kept in a commit that waits for the disk (the store's own did not), and says why
    assert row.reason == "processing failed; it is tried again"


def test_a_write_the_database_refuses_at_the_commit_undoes_the_processing(
    twilio: Twilio, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The row's UPDATE and the acknowledgement's INSERT go to PostgreSQL with the COMMIT, so
    # the database's refusal (here a session that does not exist) is only heard then: the
    # whole processing is undone, the raw text stays stored, and the next text is served.
    after_checkin(session)
    answer = replies._answer

    def to_a_missing_session(*args: Any) -> outbox.Draft | None:
        draft = answer(*args)
        return replace(draft, appointment_id=10**9) if draft is not None else None

    monkeypatch.setattr(replies, "_answer", to_a_missing_session)
    assert reply_text(twilio.text(PHONE, "4")) is None
    row = last_reply(session)
    assert (row.body, row.processed_at, row.pain_score) == ("4", None, None)
    monkeypatch.setattr(replies, "_answer", answer)
    assert "noted" in (reply_text(twilio.text(PHONE, "5")) or "").lower()
    session.expire_all()
    assert last_reply(session).pain_score == 5
