"""What changes which client a feed's title names is placed at the clock's next tick, even
when the feed answers 304: a client's calendar name, name or therapist edited, a client
added (once per therapist per batch, however many clients). On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import Update, event, select
from sqlalchemy.orm import ORMExecuteState, Session

from service import accounts, roster
from service.config import Settings, settings_of
from service.db import get_db, lock
from service.feed_runs import FETCH_EVERY
from service.models import Appointment, Client
from tests import factories
from tests.feed_server import FeedServer
from tests.test_feed_sync import NOW, arrange, feed, run

LATER = NOW + FETCH_EVERY + timedelta(minutes=1)


def _rename_tom(session: Session, settings: Settings, ana: int) -> None:
    tom = lock(session, Client, session.scalar(select(Client.id).where(Client.name == "Tom Brown")))
    assert tom is not None
    roster.update_client(session, settings, None, tom, {"name": "Team"}, LATER, via="t")


def _name_tom(session: Session, settings: Settings, ana: int) -> None:
    tom = lock(session, Client, session.scalar(select(Client.id).where(Client.name == "Tom Brown")))
    assert tom is not None
    changes = {"calendar_name": "Team meeting"}
    roster.update_client(session, settings, None, tom, changes, LATER, via="t")


def _ben_client(session: Session, settings: Settings) -> Client:
    """Ben's client "Team" (whose default calendar name is "Team")."""
    ben = accounts.create_user(session, settings, "ben@practice.test", "Ben", "long-enough-pw")
    client, _ = factories.client_with_phone(session, "Team", "+16175550129", therapist_id=ben.id)
    return client


def _hand_over(session: Session, settings: Settings, ana: int) -> None:
    team = lock(session, Client, _ben_client(session, settings).id)
    assert team is not None
    roster.update_client(session, settings, None, team, {"therapist_id": ana}, LATER, via="t")


def _assign(session: Session, settings: Settings, ana: int) -> None:
    team = lock(session, Client, _ben_client(session, settings).id)
    assert team is not None
    roster.assign_therapist(session, None, team, ana, via="t")


def _create(session: Session, settings: Settings, ana: int) -> None:
    new = roster.NewClient(
        name="Team", timezone="America/New_York", language="en", therapist_id=ana
    )
    roster.create_clients(session, None, [new], via="t")


@pytest.mark.parametrize(
    ("change", "whose"),
    [
        (_name_tom, "Tom Brown"),  # a calendar name saved
        (_rename_tom, "Team"),  # a new name: a new default calendar name ("Team")
        (_hand_over, "Team"),  # another therapist's client given to Ana
        (_assign, "Team"),  # the same through assign_therapist
        (_create, "Team"),  # a client added
    ],
)
def test_a_change_of_who_a_title_names_is_placed_at_the_next_tick_after_a_304(
    feeds_app: Flask,
    server: FeedServer,
    change: Callable[[Session, Settings, int], None],
    whose: str,
) -> None:
    app = feeds_app
    settings = settings_of(app)
    arrange(app, server.serve("/practice.ics", feed()))
    [first] = run(app, NOW)
    [unchanged] = run(app, NOW + FETCH_EVERY)  # the server answers 304
    assert first.counts is not None and unchanged.unchanged
    with get_db(app).session() as session:
        ana = accounts.find_user(session, "ana@practice.test")
        assert ana is not None
        change(session, settings, ana.id)
        session.commit()
    # A minute later, not ten: the feed is due again and read in full, not a 304.
    [placed] = run(app, LATER + timedelta(minutes=1))
    assert placed.counts is not None and placed.counts.booked == 1
    with get_db(app).session() as session:
        booked = session.scalar(
            select(Appointment).where(Appointment.feed_uid == "meeting-1@google.com")
        )
        assert booked is not None and booked.client.name == whose


def test_an_import_batch_has_each_therapists_feeds_read_again_once(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app()
    with get_db(app).session() as session:
        settings = settings_of(app)
        ana = accounts.create_user(session, settings, "ana@practice.test", "Ana", "long-enough-pw")
        ben = accounts.create_user(session, settings, "ben@practice.test", "Ben", "long-enough-pw")
        session.commit()
        statements: list[str] = []

        def seen(state: ORMExecuteState) -> None:
            if isinstance(state.statement, Update):
                statements.append(str(state.statement.table))

        event.listen(session, "do_orm_execute", seen)
        batch = [
            roster.NewClient(
                name=f"Client {n}",
                timezone="America/New_York",
                language="en",
                therapist_id=(ana.id, ben.id, None)[n % 3],
                calendar_name=f"C{n}" if n % 2 else None,
            )
            for n in range(30)
        ]
        made = roster.create_clients(session, None, batch, via="import")
        session.commit()
        assert statements == ["calendar_feeds"]  # one statement for the batch
        assert [c.calendar_name for c in made[:4]] == [None, "C1", None, "C3"]
