"""The inbox: open alerts newest first; marking one handled records who and when."""

from __future__ import annotations

import html
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import Alert, AuditEntry, InboundMessage
from tests import factories
from tests.dashboard.conftest import Staff, Web, now, text_of


def _alert(session: Session, kind: str, client_id: int | None, ago: timedelta, **kw: str) -> Alert:
    alert = Alert(kind=kind, client_id=client_id, created_at=now() - ago, **kw)
    session.add(alert)
    session.flush()
    return alert


def test_it_lists_open_alerts_newest_first(as_ana: Web, ana: Staff, session: Session) -> None:
    client, contact = factories.client_with_phone(session, "Sam Lee", therapist_id=ana.id)
    reply = InboundMessage(
        provider_sid="SM1", from_phone=contact.phone, body="9", client_id=client.id, pain_score=9
    )
    session.add(reply)
    session.flush()
    _alert(session, "reschedule", client.id, timedelta(hours=3), detail="can we do Friday")
    _alert(session, "pain", client.id, timedelta(hours=1), detail="pain 9/10", inbound_id=reply.id)
    session.commit()
    page = text_of(as_ana.get("/"))
    assert "2 things need a look" in page
    assert page.index("Pain alert") < page.index("Reschedule request")
    assert "“9”" in page
    assert "can we do Friday" in page
    assert f'href="/clients/{client.id}"' in as_ana.get("/").get_data(as_text=True)


def test_marking_handled_removes_it_and_records_who_and_when(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client, _ = factories.client_with_phone(session, "Sam Lee", therapist_id=ana.id)
    alert = _alert(session, "pain", client.id, timedelta(minutes=5), detail="pain 9/10")
    session.commit()
    before = now()
    response = as_ana.post(f"/alerts/{alert.id}/handled")
    assert response.status_code == 302
    session.refresh(alert)
    assert alert.handled_by_id == ana.id
    assert alert.handled_at is not None and before <= alert.handled_at <= now()
    assert "Nothing needs a look" in text_of(as_ana.get("/"))
    [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "handle"))
    assert (entry.user_id, entry.entity, entry.entity_id) == (ana.id, "alert", str(alert.id))
    # It stays in the client's history, with who handled it.
    history = text_of(as_ana.get(f"/clients/{client.id}"))
    assert "Handled by Ana Ruiz" in history


def test_handling_twice_keeps_the_first(
    as_ana: Web, as_boss: Web, ana: Staff, session: Session
) -> None:
    client, _ = factories.client_with_phone(session, therapist_id=ana.id)
    alert = _alert(session, "opt_out", client.id, timedelta(minutes=5))
    session.commit()
    as_ana.post(f"/alerts/{alert.id}/handled")
    as_boss.post(f"/alerts/{alert.id}/handled")
    session.refresh(alert)
    assert alert.handled_by_id == ana.id
    handled = session.scalars(select(AuditEntry).where(AuditEntry.action == "handle")).all()
    assert len(handled) == 1


def test_unknown_senders_reach_admins_only_with_the_full_number(
    as_ana: Web, as_boss: Web, ana: Staff, session: Session
) -> None:
    alert = _alert(session, "unknown_sender", None, timedelta(minutes=2), phone="+16175550199")
    session.commit()
    assert "(617) 555-0199" in text_of(as_boss.get("/"))  # DEFAULT_REGION's national format
    assert "Unknown sender" not in text_of(as_ana.get("/"))
    assert as_ana.post(f"/alerts/{alert.id}/handled").status_code == 404
    assert as_boss.post(f"/alerts/{alert.id}/handled").status_code == 302


def test_another_therapists_alerts_are_not_shown(as_ana: Web, ben: Staff, session: Session) -> None:
    client, _ = factories.client_with_phone(session, "Bea Bell", therapist_id=ben.id)
    _alert(session, "pain", client.id, timedelta(minutes=2))
    session.commit()
    page = text_of(as_ana.get("/"))
    assert "Bea Bell" not in page
    assert "Nothing needs a look" in page


def test_a_reply_left_to_a_person_shows_the_guess_and_why(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client, contact = factories.client_with_phone(session, "Sam Lee", therapist_id=ana.id)
    reply = InboundMessage(
        provider_sid="SM2",
        from_phone=contact.phone,
        body="see you at 3?",
        client_id=client.id,
        intent="other",
        guess="confirm",
        reason='confirm: "see you"',
    )
    session.add(reply)
    session.flush()
    _alert(
        session,
        "not_understood",
        client.id,
        timedelta(minutes=1),
        detail="maybe: confirm",
        inbound_id=reply.id,
    )
    session.commit()
    page = html.unescape(text_of(as_ana.get("/")))
    assert "maybe: confirm" in page
    assert 'Read as confirm: "see you"' in page
    thread = html.unescape(text_of(as_ana.get(f"/clients/{client.id}")))
    assert "maybe: confirm, for a person" in thread and 'Read as confirm: "see you"' in thread
