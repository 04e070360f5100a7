"""The outbox: messages queued once by key, and every change of status a conditional one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from service import outbox
from service.alerts import raise_alert
from service.domain.sending import PAUSED, Decision
from service.domain.vocabulary import AlertKind, Channel, MessageKind, MessageStatus
from service.models import OutboundMessage
from tests import factories

NOW = datetime(2027, 3, 3, 16, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)
S = MessageStatus


def draft(key: str, phone: str = "+16175550123", **changes: object) -> outbox.Draft:
    values: dict[str, object] = {
        "idempotency_key": key,
        "kind": MessageKind.MANUAL,
        "to_phone": phone,
        "body": "Hello",
        "send_at": NOW,
    }
    return outbox.Draft(**{**values, **changes})  # type: ignore[arg-type]


def fresh(session: Session, message_id: int) -> OutboundMessage:
    session.expire_all()
    row = session.get(OutboundMessage, message_id)
    assert row is not None
    return row


def test_a_key_is_queued_once(session: Session) -> None:
    first = outbox.enqueue_one(session, draft("k1"), NOW)
    again = outbox.enqueue_one(session, draft("k1", body="Other"), NOW)
    assert first is not None and again is None
    row = fresh(session, first)
    assert (row.status, row.body, row.channel, row.attempts) == ("planned", "Hello", "sms", 0)


def test_enqueue_returns_only_the_messages_it_created(session: Session) -> None:
    [existing] = outbox.enqueue(session, [draft("a")], NOW)
    created = outbox.enqueue(session, [draft("a"), draft("b"), draft("c")], NOW)
    keys = {fresh(session, i).idempotency_key for i in created}
    assert existing not in created and keys == {"b", "c"}
    assert outbox.enqueue(session, [], NOW) == []


def test_an_answer_given_in_the_webhook_is_recorded_as_sent_once(session: Session) -> None:
    outbox.record_answered(session, draft("reply:SM1", kind=MessageKind.REPLY), NOW)
    outbox.record_answered(session, draft("reply:SM1", kind=MessageKind.REPLY), NOW)
    [row] = session.scalars(select(OutboundMessage)).all()
    assert (row.status, row.sent_at, row.attempts) == ("sent", NOW, 1)


def test_two_claims_take_disjoint_messages_oldest_first(session: Session) -> None:
    ids = outbox.enqueue(
        session, [draft(f"k{i}", send_at=NOW - timedelta(minutes=i)) for i in range(5)], NOW
    )
    later = outbox.enqueue_one(session, draft("later", send_at=NOW + timedelta(hours=1)), NOW)
    first = outbox.claim(session, "one", NOW, LEASE, 3)
    second = outbox.claim(session, "two", NOW, LEASE, 3)
    assert [i for i, _ in first] == list(reversed(ids))[:3]
    assert [i for i, _ in second] == list(reversed(ids))[3:]
    assert {status for _, status in first + second} == {S.SENDING}
    assert fresh(session, first[0][0]).claim_token == "one"
    assert fresh(session, later or 0).status == "planned"  # not due yet


def test_a_claim_picks_its_messages_once_whatever_the_plan(session: Session) -> None:
    """The pick (``LIMIT n FOR UPDATE SKIP LOCKED``) must run once: as a subquery joined
    to the table, a freshly filled outbox without statistics could be planned as a nested
    loop that runs it once per row, each time with its own limit, and one claim took every
    due text. On PostgreSQL the plan must show it as an init plan (evaluated once)."""
    outbox.enqueue(
        session, [draft(f"k{i}", send_at=NOW - timedelta(minutes=i)) for i in range(60)], NOW
    )
    session.commit()
    engine, seen = session.get_bind(), []

    def spy(_c: Any, _cursor: Any, statement: str, params: Any, _ctx: Any, _many: bool) -> None:
        if statement.startswith("UPDATE outbound_messages"):
            seen.append((statement, params))

    event.listen(engine, "before_cursor_execute", spy)
    try:
        assert len(outbox.claim(session, "one", NOW, LEASE, 4)) == 4
    finally:
        event.remove(engine, "before_cursor_execute", spy)
    if engine.dialect.name == "postgresql":
        statement, params = seen[0]
        cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.execute("EXPLAIN " + statement, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "InitPlan" in plan and "LockRows" in plan.split("InitPlan", 1)[1], plan


def test_a_claim_whose_lease_ran_out_comes_back_as_unknown(session: Session) -> None:
    message_id = outbox.enqueue_one(session, draft("k"), NOW)
    assert outbox.claim(session, "dead", NOW, LEASE, 10) == [(message_id, S.SENDING)]
    assert outbox.claim(session, "next", NOW + LEASE - timedelta(seconds=1), LEASE, 10) == []
    assert outbox.claim(session, "next", NOW + LEASE, LEASE, 10) == [(message_id, S.UNKNOWN)]
    row = fresh(session, message_id or 0)
    assert (row.attempts, row.claimed_at, row.claim_token) == (1, NOW, "next")


def claimed(session: Session, token: str = "t") -> OutboundMessage:
    message_id = outbox.enqueue_one(session, draft(f"k-{token}"), NOW)
    outbox.claim(session, token, NOW, LEASE, 10)
    message = outbox.claimed(session, message_id or 0, token)
    assert message is not None
    return message


@pytest.mark.parametrize(
    ("decision", "status", "send_at", "attempts"),
    [
        (Decision("defer", "quiet hours", NOW + timedelta(hours=9)), "planned", 9, 0),
        (Decision("skipped", "number opted out"), "skipped", 0, 1),
        (Decision("cancelled", "appointment moved"), "cancelled", 0, 1),
        (Decision("expired", "too late to send"), "expired", 0, 1),
    ],
)
def test_the_final_checks_no_is_recorded_with_its_reason(
    session: Session, decision: Decision, status: str, send_at: int, attempts: int
) -> None:
    message = claimed(session)
    assert outbox.hold_back(session, message, decision, NOW)
    row = fresh(session, message.id)
    assert (row.status, row.error_message, row.attempts) == (status, decision.reason, attempts)
    assert (row.send_at, row.claim_token) == (NOW + timedelta(hours=send_at), None)


def test_a_lost_claim_changes_nothing(session: Session) -> None:
    message = claimed(session, "mine")
    outbox.claim(session, "thief", NOW + LEASE, LEASE, 10)  # the lease ran out: taken again
    assert not outbox.mark_sent(session, message, "SM1", NOW, delivered=False)
    assert not outbox.fail(session, message, 21211, "refused", NOW)
    assert outbox.claimed(session, message.id, "mine") is None
    assert fresh(session, message.id).status == "unknown"


def test_the_send_outcomes(session: Session) -> None:
    sent, unknown, retried, failed = (claimed(session, t) for t in ("a", "b", "c", "d"))
    assert outbox.mark_sent(session, sent, "SMa", NOW, delivered=False)
    assert outbox.mark_unknown(session, unknown, None, "timed out", NOW, NOW + LEASE)
    assert outbox.retry(session, retried, 20429, "busy", NOW, NOW + timedelta(minutes=1))
    assert outbox.fail(session, failed, 21211, "invalid", NOW)
    rows = [fresh(session, m.id) for m in (sent, unknown, retried, failed)]
    assert [(r.status, r.claim_token, r.error_code) for r in rows] == [
        ("sent", None, None),
        ("unknown", "b", None),  # still claimed: it is looked up, never resent blindly
        ("planned", None, 20429),
        ("failed", None, 21211),
    ]
    assert rows[0].provider_sid == "SMa" and rows[2].send_at == NOW + timedelta(minutes=1)
    assert outbox.resend(session, rows[1], NOW) and fresh(session, unknown.id).status == "planned"


@pytest.mark.parametrize(
    ("ours", "reported", "became"),
    [
        ("sent", "delivered", "delivered"),
        ("sent", "undelivered", "undelivered"),
        ("unknown", "failed", "failed"),
        ("sent", "sent", None),  # no news
        ("sent", "queued", None),  # late
        ("delivered", "sent", None),  # never backwards
        ("delivered", "failed", None),  # already final
        ("unknown", "sent", None),
        ("sent", "whatever", None),
    ],
)
def test_a_providers_report_only_moves_a_message_forward(
    session: Session, ours: str, reported: str, became: str | None
) -> None:
    client, contact = factories.client_with_phone(session)
    row = factories.sent(session, client, contact, kind="reminder", sent_at=NOW)
    row.status = ours
    session.commit()
    message = outbox.by_sid(session, row.provider_sid or "")
    assert message is not None
    assert outbox.settle(session, message, reported, 30003, NOW) == became
    assert fresh(session, row.id).status == (became or ours)


def test_the_planner_never_overwrites_what_a_dispatcher_did_since(session: Session) -> None:
    message_id = outbox.enqueue_one(session, draft("k"), NOW) or 0
    read = fresh(session, message_id)  # the planner reads it planned...
    outbox.claim(session, "t", NOW, LEASE, 10)  # ...a dispatcher claims it meanwhile...
    read.status = "planned"  # ...and the planner still believes what it read
    assert not outbox.replan(session, read, NOW, status=S.CANCELLED)
    assert fresh(session, message_id).status == "sending"


def test_cancelling_and_skipping_touch_only_planned_messages(session: Session) -> None:
    client, contact = factories.client_with_phone(session)
    appointment = factories.appointment(session, client, NOW + timedelta(days=1))
    planned, sent = (
        factories.message(session, client, contact, send_at=NOW, key=k, appointment_id=a)
        for k, a in (("p", appointment.id), ("s", appointment.id))
    )
    sent.status = "sent"
    other = factories.message(session, client, contact, send_at=NOW, key="o", to="+16175550199")
    session.commit()
    assert outbox.cancel_planned(session, [appointment.id], "the series changed", NOW) == 1
    assert outbox.cancel_planned(session, [], "nothing", NOW) == 0
    assert [fresh(session, m.id).status for m in (planned, sent)] == ["cancelled", "sent"]
    assert outbox.skip_planned_to(session, "+16175550199", "number opted out", NOW) == 1
    assert (fresh(session, other.id).status, fresh(session, other.id).error_message) == (
        "skipped",
        "number opted out",
    )


def test_a_client_not_answering_is_paused_then_resumed(session: Session) -> None:
    client, contact = factories.client_with_phone(session)
    checkin = factories.message(session, client, contact, send_at=NOW, kind="checkin", key="c")
    reminder = factories.message(session, client, contact, send_at=NOW, kind="reminder", key="r")
    item = raise_alert(session, AlertKind.NOT_ANSWERING, NOW, client_id=client.id)
    session.commit()
    assert outbox.pause(session, NOW) == 1
    assert [fresh(session, m.id).status for m in (checkin, reminder)] == ["skipped", "planned"]
    assert fresh(session, checkin.id).error_message == PAUSED
    assert outbox.resume(session, NOW) == []  # the item is still open
    item = session.merge(item)
    item.handled_at = NOW
    session.commit()
    assert outbox.resume(session, NOW) == [client.id]
    row = fresh(session, checkin.id)
    assert (row.status, row.error_message) == ("skipped", None)  # the planner's to decide now


def test_the_demo_history_is_recorded_delivered_at_its_planned_time(session: Session) -> None:
    ids = outbox.enqueue(session, [draft("a", send_at=NOW - timedelta(days=3)), draft("b")], NOW)
    outbox.record_delivered(session, ids, NOW)
    rows = [fresh(session, i) for i in ids]
    assert [(r.status, r.sent_at, r.provider_sid) for r in rows] == [
        ("delivered", NOW - timedelta(days=3), f"SMdemo{ids[0]:026d}"),
        ("delivered", NOW, f"SMdemo{ids[1]:026d}"),
    ]


def test_every_message_goes_out_on_a_channel(session: Session) -> None:
    message_id = outbox.enqueue_one(session, draft("k", channel=Channel.SMS), NOW) or 0
    assert fresh(session, message_id).channel == Channel.SMS
