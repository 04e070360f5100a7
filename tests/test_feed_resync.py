"""Calendar feeds read again after the edits that used to cancel and rebook sessions: an
instance moved beyond the planning horizon or into the past, a Google series split under
a new UID, a feed removed (sessions kept) and added again, a linked ambiguous title, a
renamed instance, and a feed with too many instances. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from service import accounts, calendar_feeds
from service.config import settings_of
from service.db import get_db, lock
from service.feed_models import CalendarFeed, FeedTitle
from service.models import Appointment, Client
from tests import factories
from tests.feed_server import FeedServer
from tests.test_feed_sync import NOW, UID, C, S, arrange, feed, key, notices, run, sessions, z

SPLIT = (Path(__file__).parent / "calendar_files" / "google_split.ics").read_text()
TICK = timedelta(minutes=10)


@pytest.fixture
def app(feeds_app: Flask) -> Flask:
    return feeds_app


def override(original: str, start: str, summary: str = "Massage - Maria G.") -> str:
    """A RECURRENCE-ID override of the series' instance at ``original`` (New York)."""
    end = start[:9] + f"{int(start[9:11]) + 1:02d}" + start[11:]
    return (
        f"BEGIN:VEVENT\r\nUID:{UID}\r\nRECURRENCE-ID:{original}\r\nDTSTART:{start}\r\n"
        f"DTEND:{end}\r\nSUMMARY:{summary}\r\nEND:VEVENT\r\n"
    )


def kinds_and_times(app: Flask) -> list[tuple[str, object]]:
    with get_db(app).session() as session:
        return notices(session)


def client_of(app: Flask, k: tuple[str, str]) -> str:
    with get_db(app).session() as session:
        row = session.scalar(
            select(Appointment).where(
                Appointment.feed_uid == k[0],
                Appointment.feed_instance == k[1],
                Appointment.feed_id.is_not(None),
            )
        )
        assert row is not None
        return row.client.name


def test_an_instance_moved_beyond_the_horizon_is_moved_not_cancelled(
    app: Flask, server: FeedServer
) -> None:
    arrange(app, server.serve("/p.ics", feed()))
    run(app, NOW)
    booked = sessions(app)
    # 9 March to 8 June (10:00 EDT), 4 March to 26 February (gone by): one move; the
    # other is left as it was (a session is never moved into the past).
    changes = override("20270309T100000", "20270608T100000")
    changes += override("20270304T100000", "20270226T100000")
    server.serve("/p.ics", feed(changes=changes))
    [moved] = run(app, NOW + TICK)
    assert moved.counts is not None
    assert (moved.counts.moved, moved.counts.cancelled, moved.counts.booked) == (1, 0, 0)
    assert moved.counts.refused == 1
    assert sessions(app) == {**booked, key(9): (z(6, 8, 14), S)}
    assert [kind for kind, _ in kinds_and_times(app)] == ["move_notice"]
    server.serve("/p.ics", feed())  # moved back: a move again, nothing cancelled
    [back] = run(app, NOW + 2 * TICK)
    assert back.counts is not None and back.counts.cancelled == 0
    assert sessions(app) == booked


def test_an_override_brings_an_instance_into_the_horizon_and_back_as_one_session(
    app: Flask, server: FeedServer
) -> None:
    arrange(app, server.serve("/p.ics", feed()))
    run(app, NOW)
    later = (UID, z(3, 16, 14).isoformat())  # 16 March 10:00 EDT: beyond the horizon
    assert later not in sessions(app)
    server.serve("/p.ics", feed(changes=override("20270316T100000", "20270312T100000")))
    [inside] = run(app, NOW + TICK)
    assert inside.counts is not None and inside.counts.booked == 1
    assert sessions(app)[later] == (z(3, 12, 15), S)  # booked under its own key
    server.serve("/p.ics", feed())
    [outside] = run(app, NOW + 2 * TICK)
    assert outside.counts is not None
    assert (outside.counts.moved, outside.counts.cancelled) == (1, 0)
    assert sessions(app)[later] == (z(3, 16, 14), S)  # followed beyond the horizon


@pytest.mark.parametrize(("hour", "moves"), [("11", 2), ("10", 0)])
def test_a_google_series_split_rekeys_the_sessions_instead_of_cancelling_them(
    app: Flask, server: FeedServer, hour: str, moves: int
) -> None:
    arrange(app, server.serve("/p.ics", feed()))
    run(app, NOW)
    booked = sessions(app)
    split = SPLIT.replace("20270309T110000", f"20270309T{hour}0000")
    split = split.replace("20270309T120000", f"20270309T{int(hour) + 1}0000")
    server.serve("/p.ics", split)
    [result] = run(app, NOW + TICK)
    assert result.counts is not None
    assert (result.counts.rekeyed, result.counts.moved) == (2, moves)
    assert (result.counts.cancelled, result.counts.booked) == (0, 0)
    new = "series-1_R20270309T150000@google.com"
    at = 15 + (hour == "11")
    assert sessions(app) == {
        key(2): booked[key(2)],
        key(4): booked[key(4)],
        (new, z(3, 9, at).isoformat()): (z(3, 9, at), S),
        (new, z(3, 11, at).isoformat()): (z(3, 11, at), S),
        ("single-1@google.com", ""): booked[("single-1@google.com", "")],
    }
    assert (
        kinds_and_times(app)
        == [("move_notice", z(3, 9, 16)), ("move_notice", z(3, 11, 16))][:moves]
    )


def test_a_feed_removed_with_its_sessions_kept_and_added_again_books_nothing_twice(
    app: Flask, server: FeedServer
) -> None:
    url = server.serve("/p.ics", feed())
    feed_id = arrange(app, url)
    run(app, NOW)
    settings = settings_of(app)
    with get_db(app).session() as session:
        before = sorted(session.scalars(select(Appointment.id)))
        ana = accounts.find_user(session, "ana@practice.test")
        assert ana is not None
        old = session.get_one(CalendarFeed, feed_id)
        calendar_feeds.remove_feed(session, settings, ana, old, NOW, cancel=False, via="t")
        again = calendar_feeds.add_feed(session, settings, ana, url, None, NOW, via="t")
        session.commit()
        again_id = again.id
    server.serve("/p.ics", feed(changes=override("20270304T100000", "20270305T120000")))
    [result] = run(app, NOW + TICK)
    assert result.counts is not None
    assert (result.counts.booked, result.counts.moved, result.counts.cancelled) == (0, 1, 0)
    with get_db(app).session() as session:
        rows = session.scalars(select(Appointment).order_by(Appointment.id)).all()
        assert [a.id for a in rows] == before
        assert {a.feed_id for a in rows} == {again_id}
    assert kinds_and_times(app) == [("move_notice", z(3, 5, 17))]  # the move, nothing else


def test_a_linked_title_places_an_ambiguous_name_without_a_new_ambiguity(
    app: Flask, server: FeedServer
) -> None:
    url = server.serve("/p.ics", feed())
    arrange(app, url)
    with get_db(app).session() as session:
        ana = accounts.find_user(session, "ana@practice.test")
        assert ana is not None
        factories.client_with_phone(session, "Maria Gomez", "+16175550125", therapist_id=ana.id)
        session.commit()
    [first] = run(app, NOW)
    assert first.counts is not None
    assert first.counts.ambiguous == {"Massage - Maria G."} and first.counts.booked == 1
    with get_db(app).session() as session:
        ana = accounts.find_user(session, "ana@practice.test")
        garcia = session.scalar(select(Client.id).where(Client.name == "Maria Garcia"))
        assert ana is not None and garcia is not None
        locked = lock(session, Client, garcia)
        assert locked is not None
        title = "Massage - Maria G."
        calendar_feeds.link_title(session, settings_of(app), ana, locked, title, NOW, via="t")
        session.commit()
        # Saved as her calendar name, every "Maria G." would be hers alone: it is not.
        assert locked.calendar_name is None
        link = session.execute(select(FeedTitle.state, FeedTitle.client_id)).one()
        assert tuple(link) == ("linked", garcia)
    server.serve("/p.ics", feed() + "\r\n")  # read in full again
    [second] = run(app, NOW + TICK)
    assert second.counts is not None
    assert second.counts.booked == 4 and second.counts.ambiguous == set()
    assert {client_of(app, key(d)) for d in (2, 4, 9, 11)} == {"Maria Garcia"}
    with get_db(app).session() as session:
        ana = accounts.find_user(session, "ana@practice.test")
        assert ana is not None
        calendar_feeds.ignore_title(session, ana, ana.id, "massage - maria g")
        session.commit()
        link = session.execute(select(FeedTitle.state, FeedTitle.client_id)).one()
        assert tuple(link) == ("ignored", None)  # ignored from then on: linked to no one


def test_a_booked_instance_is_followed_whatever_its_title_unless_it_names_another_client(
    app: Flask, server: FeedServer
) -> None:
    arrange(app, server.serve("/p.ics", feed()))
    run(app, NOW)
    booked = sessions(app)
    changes = override("20270309T100000", "20270309T100000", "M. Garcia ??")  # no one
    changes += override("20270311T100000", "20270311T100000", "Tom B.")  # another client
    server.serve("/p.ics", feed(changes=changes))
    [result] = run(app, NOW + TICK)
    assert result.counts is not None
    assert (result.counts.cancelled, result.counts.booked, result.counts.moved) == (1, 1, 0)
    assert sessions(app) == booked  # the same keys and times ...
    assert client_of(app, key(9)) == "Maria Garcia"
    assert client_of(app, key(11)) == "Tom Brown"  # ... but Tom's now
    assert kinds_and_times(app) == [("cancel_notice", z(3, 11, 15))]  # Maria told
    with get_db(app).session() as session:
        statuses = session.scalars(
            select(Appointment.status).where(Appointment.feed_id.is_(None))
        ).all()
        assert statuses == [C]  # Maria's, cancelled, no longer the feed's


def test_a_feed_with_too_many_instances_fails_clearly_and_keeps_its_sessions(
    app: Flask, server: FeedServer
) -> None:
    arrange(app, server.serve("/p.ics", feed()))
    run(app, NOW)
    booked = sessions(app)
    server.serve("/p.ics", feed().replace("FREQ=WEEKLY;BYDAY=TU,TH", "FREQ=MINUTELY"))
    [failed] = run(app, NOW + TICK)
    assert failed.error is not None and "too many events" in failed.error
    assert sessions(app) == booked
