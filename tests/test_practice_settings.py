"""The practice's saved settings: read as start-up reads them, refused whole, audited, and
applied to every unsent text at once."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service import accounts, planner, practice_settings
from service.config import DEFAULTS, ConfigError, Settings, load_settings, settings_of
from service.domain.quiet import in_quiet_hours
from service.models import AuditEntry, OutboundMessage, PracticeSetting, User
from tests import factories

NOW = datetime(2027, 3, 3, 16, 0, tzinfo=UTC)  # Wednesday 11:00 in New York
NY = ZoneInfo("America/New_York")


@pytest.fixture
def admin(app: Flask, session: Session) -> User:
    user = accounts.create_user(
        session, settings_of(app), "boss@practice.test", "Bo Boss", "long-enough-pw", admin=True
    )
    session.commit()
    return user


def save(app: Flask, session: Session, user: User | None, **values: str) -> Any:
    saved = practice_settings.save(session, settings_of(app), user, values, NOW, via="test")
    session.commit()
    return saved


Snapshot = dict[str, tuple[Any, ...]]


def outbox(session: Session) -> Snapshot:
    """Every text by key: what a re-plan may change, and what it must not."""
    session.expire_all()
    return {
        m.idempotency_key: (m.status, m.send_at, m.body, m.to_phone, m.sent_at, m.provider_sid)
        for m in session.scalars(select(OutboundMessage))
    }


def changed(before: Snapshot, after: Snapshot) -> int:
    """How many texts are new or different."""
    return sum(1 for key, row in after.items() if before.get(key) != row)


@pytest.fixture
def planned(app: Flask, session: Session) -> dict[str, OutboundMessage]:
    """A client with a past session (its reminder sent, its first check-in being sent, its
    second still to go) and a session on Saturday, planned with the environment's settings."""
    client, _ = factories.client_with_phone(session)
    past = factories.appointment(session, client, NOW - timedelta(hours=26), status="completed")
    factories.appointment(session, client, NOW + timedelta(days=3))
    session.commit()
    planner.replan_client(session, settings_of(app), client.id, NOW - timedelta(days=3))
    session.commit()
    rows = {
        m.kind + ("" if m.appointment_id != past.id else "@past") + f"{m.send_at:%d%H}": m
        for m in session.scalars(select(OutboundMessage).order_by(OutboundMessage.send_at))
    }
    reminder = next(
        m for m in rows.values() if m.appointment_id == past.id and m.kind == "reminder"
    )
    first = min(
        (m for m in rows.values() if m.appointment_id == past.id and m.kind == "checkin"),
        key=lambda m: m.send_at,
    )
    reminder.status, reminder.sent_at, reminder.provider_sid = "delivered", reminder.send_at, "SM1"
    first.status, first.claim_token = "sending", "dispatcher-1"  # in flight
    session.commit()
    return {"sent": reminder, "in_flight": first}


# (field, value): refused with start-up's own message for that variable.
BAD = [
    ("practice_timezone", "Mars/Olympus_Mons"),
    ("practice_timezone", "   "),
    ("reminder_offsets", "-2h"),
    ("reminder_offsets", "24x"),
    ("reminder_offsets", "31d"),
    ("reminder_offsets", ","),
    ("checkin_offsets", "0h"),
    ("quiet_hours", "25:00-08:00"),
    ("quiet_hours", "21:00"),
    ("pain_alert_threshold", "11"),
    ("pain_alert_threshold", "-1"),
    ("pain_alert_threshold", "eight"),
    ("practice_phone", "555"),
    ("practice_phone", "not a phone"),
    ("rebooking_texts", "maybe"),
    ("default_language", "fr"),
    ("names_in_texts", "fancy"),
]


@pytest.mark.parametrize(("field", "value"), BAD)
def test_a_bad_value_is_refused_with_start_ups_message_and_nothing_happens(
    app: Flask,
    session: Session,
    admin: User,
    planned: dict[str, OutboundMessage],
    field: str,
    value: str,
) -> None:
    before = outbox(session)
    with pytest.raises(practice_settings.InvalidSettings) as refused:
        # a good value beside it is not saved either
        save(app, session, admin, **{"reminder_offsets": "48h,2h", field: value})
    name = field.upper()
    if value.strip():
        with pytest.raises(ConfigError) as start_up:
            load_settings({name: value}, "")
        assert (
            str(start_up.value.code)
            == f"configuration error: {name}: " + (refused.value.errors[field])
        )
    else:
        assert refused.value.errors == {field: "required"}
    assert list(refused.value.errors) == [field]
    session.rollback()
    assert outbox(session) == before
    assert session.scalar(select(func.count(PracticeSetting.name))) == 0
    assert session.scalar(select(func.count(AuditEntry.id))) == 0


def test_every_refusal_is_given_at_once_and_nothing_is_half_saved(
    app: Flask, session: Session, admin: User
) -> None:
    with pytest.raises(practice_settings.InvalidSettings) as refused:
        save(
            app,
            session,
            admin,
            practice_name="Calm Hands",
            quiet_hours="25:00-08:00",
            reminder_offsets="24x",
            colour="blue",
        )
    assert refused.value.errors == {
        "quiet_hours": "'25:00-08:00' is not a window like 21:00-08:00",
        "reminder_offsets": "'24x' is not a duration like 24h, 90m or 2d",
        "colour": "not a setting the practice can edit",
    }
    session.rollback()
    assert session.scalar(select(func.count(PracticeSetting.name))) == 0


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "required"),
        ("x" * 61, "longer than 60 characters"),
        ("Calm\nHands", "'Calm\\nHands' has a line break or a control character"),
        # The name goes into most texts: a diagnosis or condition is refused in it, in
        # either language and any spelling.
        (
            "Cerebral Palsy Center",
            '"Cerebral Palsy" is a clinical word: a text is seen by whoever holds the phone',
        ),
        (
            "Autismo Ayuda",
            '"Autismo" is a clinical word: a text is seen by whoever holds the phone',
        ),
        (
            "Parkinson's & Stroke Care",
            '"Parkinson\'s" is a clinical word: a text is seen by whoever holds the phone; '
            '"Stroke" is a clinical word: a text is seen by whoever holds the phone',
        ),
    ],
)
def test_the_practice_name_is_one_line_of_at_most_sixty_characters(
    app: Flask, session: Session, admin: User, value: str, message: str
) -> None:
    with pytest.raises(practice_settings.InvalidSettings) as refused:
        save(app, session, admin, practice_name=value)
    assert refused.value.errors == {"practice_name": message}


@pytest.mark.parametrize(
    "value", ["Bright Path Massage", "Centro de Fisioterapia Sol", "Calm Hands Therapy & Rehab"]
)
def test_a_practice_may_be_named_after_its_trade(
    app: Flask, session: Session, admin: User, value: str
) -> None:
    # A treatment is refused in every text's own words, but not in the name the practice
    # goes by (texts still never say what the client has).
    save(app, session, admin, practice_name=value)
    assert practice_settings.effective(session, settings_of(app)).practice_name == value


@pytest.mark.parametrize("field", practice_settings.FIELDS)
def test_every_value_in_force_is_shown_as_its_variable_reads_it(app: Flask, field: str) -> None:
    for settings in (settings_of(app), load_settings(DEFAULTS, "")):
        value = getattr(settings, field)
        shown = practice_settings.shown(field, value)
        assert practice_settings.parse(field, shown, "US") == value


@pytest.mark.parametrize(
    ("field", "raw", "stored"),
    [
        ("reminder_offsets", " 48h, 2h ", "2h,48h"),
        ("checkin_offsets", "1d,90m", "1h30m,24h"),
        ("quiet_hours", "7:00 - 9:30", "07:00-09:30"),
        ("practice_phone", "(617) 555-0199", "+16175550199"),
        ("practice_phone", "", ""),
        ("rebooking_texts", "Yes", "on"),
        ("names_in_texts", "plain letters", "plain_letters"),
        ("default_language", "ES", "es"),
        ("pain_alert_threshold", "07", "7"),
    ],
)
def test_a_value_is_kept_in_its_usual_writing(
    app: Flask, session: Session, admin: User, field: str, raw: str, stored: str
) -> None:
    save(app, session, admin, **{field: raw})
    assert practice_settings.saved_values(session) == {field: stored}
    settings = practice_settings.effective(session, settings_of(app))
    assert practice_settings.written(settings)[field] == stored


def test_a_saved_value_wins_over_the_environment(app: Flask, session: Session, admin: User) -> None:
    base = settings_of(app)
    save(app, session, admin, practice_name="Calm Hands", quiet_hours="20:00-09:00")
    settings = practice_settings.effective(session, base)
    assert settings.practice_name == "Calm Hands"
    assert settings.quiet_hours == (time(20), time(9))
    assert settings.reminder_offsets == base.reminder_offsets  # not saved: the environment's
    assert settings_of(app) is base  # the environment's own stay as they were read


def test_a_saved_value_that_no_longer_reads_is_passed_over_with_a_warning(
    app: Flask, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    session.add_all(
        [
            PracticeSetting(name="quiet_hours", value="25:00-08:00", updated_at=NOW),
            PracticeSetting(name="practice_name", value="Calm Hands", updated_at=NOW),
            PracticeSetting(name="retired_setting", value="x", updated_at=NOW),
        ]
    )
    session.commit()
    with caplog.at_level(logging.WARNING, logger="service.practice_settings"):
        settings = practice_settings.effective(session, settings_of(app))
    assert settings.quiet_hours == settings_of(app).quiet_hours
    assert settings.practice_name == "Calm Hands"
    assert "QUIET_HOURS is not used: '25:00-08:00' is not a window" in caplog.text
    assert "RETIRED_SETTING is not used" in caplog.text


def test_each_change_is_audited_with_who_the_old_and_the_new_value(
    app: Flask, session: Session, admin: User
) -> None:
    saved = save(app, session, admin, practice_name="Calm Hands", rebooking_texts="on")
    assert saved.changes == {
        "practice_name": ("Bright Path", "Calm Hands"),
        "rebooking_texts": ("off", "on"),
    }
    save(app, session, admin, practice_name="Calm Hands Studio", rebooking_texts="on")
    entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.user_id, e.action, e.entity, e.entity_id) for e in entries] == [
        (admin.id, "change", "setting", "practice_name"),
        (admin.id, "change", "setting", "rebooking_texts"),
        (admin.id, "change", "setting", "practice_name"),
    ]
    assert [(e.detail["old"], e.detail["new"], e.detail["via"]) for e in entries] == [
        ("Bright Path", "Calm Hands", "test"),
        ("off", "on", "test"),
        ("Calm Hands", "Calm Hands Studio", "test"),
    ]
    assert all(e.at is not None for e in entries)
    row = session.get(PracticeSetting, "practice_name")
    assert row is not None and (row.updated_by_id, row.updated_at) == (admin.id, NOW)


def test_saving_the_values_in_force_changes_nothing(
    app: Flask, session: Session, admin: User, planned: dict[str, OutboundMessage]
) -> None:
    before = outbox(session)
    saved = save(app, session, admin, reminder_offsets="24h", quiet_hours="21:00-08:00")
    assert (saved.changes, saved.replanned) == ({}, 0)
    assert outbox(session) == before
    assert session.scalar(select(func.count(AuditEntry.id))) == 0


def _untouched(before: Snapshot, after: Snapshot, planned: dict[str, OutboundMessage]) -> None:
    for row in planned.values():
        assert after[row.idempotency_key] == before[row.idempotency_key]
    assert after[planned["in_flight"].idempotency_key][0] == "sending"


def _replanned_once(app: Flask, session: Session, settings: Settings) -> None:
    """The plan is final: planning again with the same settings changes nothing."""
    counts = planner.plan_horizon(session, settings, NOW, everyone=True)
    assert (counts.planned, counts.updated, counts.cancelled) == (0, 0, 0)


def test_new_reminder_offsets_replan_every_unsent_text_once(
    app: Flask, session: Session, admin: User, planned: dict[str, OutboundMessage]
) -> None:
    before = outbox(session)
    saved = save(app, session, admin, reminder_offsets="48h,2h")
    after = outbox(session)
    assert saved.replanned == changed(before, after) > 0
    _untouched(before, after, planned)
    upcoming = session.scalars(
        select(OutboundMessage).where(
            OutboundMessage.kind == "reminder",
            OutboundMessage.status == "planned",
        )
    ).all()
    start = NOW + timedelta(days=3)
    assert sorted(m.send_at for m in upcoming) == [
        start - timedelta(hours=48),
        start - timedelta(hours=2),
    ]
    old = [k for k, row in after.items() if k.startswith("reminder:") and ":86400:" in k]
    assert [after[k][0] for k in old if after[k][0] != "delivered"] == ["cancelled"]
    _replanned_once(app, session, saved.settings)


def test_new_quiet_hours_move_every_planned_text_out_of_them(
    app: Flask, session: Session, admin: User, planned: dict[str, OutboundMessage]
) -> None:
    before = outbox(session)
    saved = save(app, session, admin, quiet_hours="10:00-13:00")
    after = outbox(session)
    assert saved.replanned == changed(before, after) > 0
    _untouched(before, after, planned)
    waiting = session.scalars(select(OutboundMessage).where(OutboundMessage.status == "planned"))
    for message in waiting:
        assert not in_quiet_hours(message.send_at, NY, time(10), time(13)), message.send_at
    _replanned_once(app, session, saved.settings)


def test_fewer_check_ins_cancel_those_the_old_offsets_planned_for_earlier_sessions(
    app: Flask, session: Session, admin: User
) -> None:
    # A session that ended 70 h ago: its 72 h check-in is still to go. Once only 24 h
    # check-ins are asked, the re-plan no longer looks back that far, and must still find it.
    client, _ = factories.client_with_phone(session)
    factories.appointment(session, client, NOW - timedelta(hours=71), status="completed")
    session.commit()
    planner.replan_client(session, settings_of(app), client.id, NOW - timedelta(hours=69))
    for message in session.scalars(select(OutboundMessage)):
        if message.send_at < NOW:
            message.status, message.sent_at = "delivered", NOW
            message.provider_sid = f"SM{message.id}"
    session.commit()
    [waiting] = session.scalars(select(OutboundMessage).where(OutboundMessage.status == "planned"))
    assert ":259200:" in waiting.idempotency_key  # the 72 h one
    saved = save(app, session, admin, checkin_offsets="24h")
    assert saved.replanned == 1
    session.refresh(waiting)
    assert waiting.status == "cancelled"
    _replanned_once(app, session, saved.settings)


def test_a_new_practice_name_is_in_every_planned_text_and_not_in_those_sent(
    app: Flask, session: Session, admin: User, planned: dict[str, OutboundMessage]
) -> None:
    before = outbox(session)
    saved = save(app, session, admin, practice_name="Calm Hands")
    after = outbox(session)
    assert saved.replanned == changed(before, after) > 0
    _untouched(before, after, planned)
    bodies = session.scalars(
        select(OutboundMessage.body).where(OutboundMessage.status == "planned")
    ).all()
    assert bodies and all("Calm Hands" in b for b in bodies)


def test_a_value_the_plan_does_not_read_replans_nothing(
    app: Flask, session: Session, admin: User, planned: dict[str, OutboundMessage]
) -> None:
    before = outbox(session)
    saved = save(app, session, admin, pain_alert_threshold="6", rebooking_texts="on")
    assert saved.replanned == 0 and outbox(session) == before
    assert saved.settings.pain_alert_threshold == 6 and saved.settings.rebooking_texts
