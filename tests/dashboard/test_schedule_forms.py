"""The series form in the practice's words: weekday pickers, the advanced rule that is never
ignored, editing from the stored rule, and ending a series with a confirmation and an undo."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import schedule_reads
from service.models import Appointment, AppointmentSeries, AuditEntry, Client, OutboundMessage
from tests import factories
from tests.dashboard.conftest import Staff, Web, now, text_of

NY = ZoneInfo("America/New_York")


def _next_monday() -> date:
    today = now().astimezone(NY).date()
    return today + timedelta(days=7 - today.weekday())


def _client(session: Session, ana: Staff) -> Client:
    client, _ = factories.client_with_phone(session, therapist_id=ana.id)
    session.commit()
    return client


def _form(**fields: str) -> dict[str, str]:
    starts = f"{_next_monday().isoformat()}T10:00"
    return {"starts": starts, "duration": "60", "every": "1", "ends": "never", **fields}


def _series(session: Session) -> AppointmentSeries:
    session.expire_all()
    series = session.scalar(select(AppointmentSeries))
    assert series is not None
    return series


def test_ticking_monday_and_thursday_makes_one_series_on_both_days(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client = _client(session, ana)
    response = as_ana.post(f"/clients/{client.id}/series/new", _form(day_MO="on", day_TH="on"))
    assert response.status_code == 302, text_of(response)
    assert _series(session).rrule == "FREQ=WEEKLY;BYDAY=MO,TH"
    starts = session.scalars(select(Appointment.starts_at)).all()
    assert {s.astimezone(NY).strftime("%a %H:%M") for s in starts} == {"Mon 10:00", "Thu 10:00"}
    assert "Every Mon and Thu at 10:00 AM, 60 min" in text_of(as_ana.get(f"/clients/{client.id}"))


def test_a_rule_the_pickers_cannot_say_reads_in_words_on_the_client_page(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client = _client(session, ana)
    form = _form(rrule="FREQ=MONTHLY;BYDAY=1MO")
    assert as_ana.post(f"/clients/{client.id}/series/new", form).status_code == 302
    page = text_of(as_ana.get(f"/clients/{client.id}"))
    assert "Monthly on the first Mon at 10:00 AM, 60 min" in page and "FREQ=" not in page
    yearly = _form(rrule="FREQ=YEARLY")
    series_id = _series(session).id
    assert as_ana.post(f"/series/{series_id}/edit", yearly).status_code == 302
    page = text_of(as_ana.get(f"/clients/{client.id}"))
    assert "Custom schedule at 10:00 AM, 60 min" in page and "FREQ=" not in page
    assert "FREQ=YEARLY" in as_ana.get(f"/series/{series_id}/edit").get_data(as_text=True)


def test_an_advanced_rule_with_the_pickers_left_alone_is_the_rule(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client = _client(session, ana)
    form = _form(rrule="FREQ=WEEKLY;BYDAY=MO,TH", repeat="weekly")
    assert as_ana.post(f"/clients/{client.id}/series/new", form).status_code == 302
    assert _series(session).rrule == "FREQ=WEEKLY;BYDAY=MO,TH"


def test_a_rule_typed_in_words_is_understood(as_ana: Web, ana: Staff, session: Session) -> None:
    client = _client(session, ana)
    form = _form(rrule="every monday and thursday", ends="count", count="6")
    response = as_ana.post(f"/clients/{client.id}/series/new", form)
    assert response.status_code == 302, text_of(response)
    assert _series(session).rrule == "FREQ=WEEKLY;BYDAY=MO,TH;COUNT=6"


def test_words_that_are_not_a_schedule_are_refused_with_what_to_write(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client = _client(session, ana)
    response = as_ana.post(
        f"/clients/{client.id}/series/new", _form(rrule="every monday except holidays")
    )
    assert response.status_code == 422
    assert "Not a rule we can read" in text_of(response)
    assert "NAME=VALUE" not in text_of(response)
    assert session.scalar(select(AppointmentSeries)) is None


def test_pickers_and_an_advanced_rule_that_disagree_save_nothing(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client = _client(session, ana)
    form = _form(day_MO="on", rrule="FREQ=WEEKLY;BYDAY=MO,TH")
    response = as_ana.post(f"/clients/{client.id}/series/new", form)
    assert response.status_code == 422
    monthly = as_ana.post(
        f"/clients/{client.id}/series/new", _form(day_MO="on", rrule="FREQ=MONTHLY")
    )
    assert monthly.status_code == 422 and "this rule says “Monthly on the " in text_of(monthly)
    yearly = as_ana.post(
        f"/clients/{client.id}/series/new", _form(day_MO="on", rrule="FREQ=YEARLY")
    )
    assert yearly.status_code == 422 and "this rule says “Custom schedule”" in text_of(yearly)
    html = response.get_data(as_text=True)
    assert 'id="f-rrule-error"' in html and '<details class="advanced" open>' in html
    assert "“Every Mon” but this rule says “Every Mon and Thu”" in text_of(response)
    assert session.scalar(select(AppointmentSeries)) is None
    agreeing = _form(day_MO="on", day_TH="on", rrule="FREQ=WEEKLY;BYDAY=TH,MO;COUNT=8")
    assert as_ana.post(f"/clients/{client.id}/series/new", agreeing).status_code == 302
    assert _series(session).rrule == "FREQ=WEEKLY;BYDAY=TH,MO;COUNT=8"


def test_the_end_choice_must_match_what_is_filled_in(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client = _client(session, ana)
    never = as_ana.post(f"/clients/{client.id}/series/new", _form(count="4"))
    assert never.status_code == 422 and "“Never” is chosen" in text_of(never)
    after = as_ana.post(f"/clients/{client.id}/series/new", _form(ends="count"))
    assert after.status_code == 422 and "after how many sessions" in text_of(after)
    counted = _form(ends="count", rrule="FREQ=WEEKLY;COUNT=5")
    assert as_ana.post(f"/clients/{client.id}/series/new", counted).status_code == 302
    assert _series(session).rrule == "FREQ=WEEKLY;COUNT=5"


def test_editing_fills_the_pickers_from_the_stored_rule(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client = _client(session, ana)
    form = _form(day_MO="on", day_TH="on", every="2", ends="count", count="6")
    as_ana.post(f"/clients/{client.id}/series/new", form)
    series = _series(session)
    html = as_ana.get(f"/series/{series.id}/edit").get_data(as_text=True)
    for day, ticked in (("MO", True), ("TU", False), ("TH", True)):
        assert (f'name="day_{day}" type="checkbox" value="on" checked' in html) is ticked
    assert 'name="every" type="number" value="2"' in html
    assert 'name="count" type="number" value="6"' in html
    assert 'id="f-ends-count" name="ends" type="radio" value="count" checked' in html
    assert 'name="rrule" type="text" value=""' in html
    assert '<details class="advanced">' in html


def test_editing_a_rule_the_pickers_cannot_say_shows_it_under_advanced(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client = _client(session, ana)
    as_ana.post(f"/clients/{client.id}/series/new", _form(rrule="FREQ=MONTHLY"))
    series = _series(session)
    html = as_ana.get(f"/series/{series.id}/edit").get_data(as_text=True)
    assert 'value="FREQ=MONTHLY"' in html and '<details class="advanced" open>' in html
    assert "checked" not in html.split('id="f-days"')[1].split("</fieldset>")[0]
    saved = as_ana.post(f"/series/{series.id}/edit", _form(rrule="FREQ=MONTHLY", duration="45"))
    assert saved.status_code == 302
    assert (_series(session).rrule, _series(session).duration_minutes) == ("FREQ=MONTHLY", 45)


def _future(session: Session) -> list[datetime]:
    session.expire_all()
    return list(
        session.scalars(
            select(Appointment.starts_at)
            .where(Appointment.starts_at > now())
            .order_by(Appointment.starts_at)
        )
    )


def test_ending_asks_first_and_says_how_many_sessions_go(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client = _client(session, ana)
    as_ana.post(f"/clients/{client.id}/series/new", _form(day_MO="on", day_TH="on"))
    series, coming = _series(session), len(_future(session))
    assert coming >= 2  # the horizon's Mondays and Thursdays
    page = text_of(as_ana.get(f"/series/{series.id}/end"))
    assert f"{coming} upcoming sessions will be removed" in page
    assert "Every Mon and Thu at 10:00 AM, 60 min" in page
    assert _series(session).ends_at is None and len(_future(session)) == coming  # only asked
    assert as_ana.post(f"/series/{series.id}/end").status_code == 302
    assert _future(session) == []


def test_an_ended_series_is_restored_with_its_sessions_and_texts(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client = _client(session, ana)
    as_ana.post(f"/clients/{client.id}/series/new", _form(day_MO="on", day_TH="on"))
    series, before = _series(session), _future(session)
    reminders = select(OutboundMessage.planned_start).where(
        OutboundMessage.kind == "reminder", OutboundMessage.status == "planned"
    )
    planned = sorted(session.scalars(reminders))
    as_ana.post(f"/series/{series.id}/end")
    assert session.scalars(reminders).all() == []
    assert "Restore" in text_of(as_ana.get(f"/clients/{client.id}"))
    assert as_ana.post(f"/series/{series.id}/restore").status_code == 302
    assert _future(session) == before
    assert sorted(session.scalars(reminders)) == planned
    assert _series(session).ends_at is None
    page = text_of(as_ana.get(f"/clients/{client.id}"))
    assert "Series restored" in page and "End series" in page and "Restore" not in page
    actions = select(AuditEntry.action).where(AuditEntry.entity == "series")
    assert session.scalars(actions.order_by(AuditEntry.id)).all() == ["create", "end", "restore"]


def test_a_series_is_restorable_only_until_its_next_session_would_have_passed(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client = _client(session, ana)
    as_ana.post(f"/clients/{client.id}/series/new", _form(day_MO="on"))
    series = _series(session)
    first_removed = _future(session)[0]
    as_ana.post(f"/series/{series.id}/end")
    series = _series(session)
    assert schedule_reads.restorable(series, first_removed - timedelta(minutes=1))
    assert not schedule_reads.restorable(series, first_removed)
    never_ended = AppointmentSeries(ended_at=None)
    assert not schedule_reads.restorable(never_ended, now())
