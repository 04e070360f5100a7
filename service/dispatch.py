"""The dispatcher: claim due texts, check them once more, send each exactly once, record it.

The outbox row is the state machine:

    planned --claim--> sending --send ok--> sent / delivered (simulator)
                          |---- transient error --> planned (later, with back-off) or failed
                          |---- permanent error --> failed (number opted out / invalid)
                          |---- outcome unknown --> unknown --lookup--> sent, or planned again
                          '---- final check ------> skipped / cancelled / expired, or planned
                                                    (deferred past quiet hours)

Claims are atomic and leased: one statement picks the oldest due rows and marks them with
this dispatcher's token (PostgreSQL: ``FOR UPDATE SKIP LOCKED`` inside the ``UPDATE``, so
concurrent dispatchers take disjoint rows; SQLite: the same statement runs under SQLite's
single writer lock). A claimed text whose dispatcher died is found again when its lease
ends, as ``unknown``: it may have left, so it is looked up at the provider, never resent
blindly.

Sending happens inside a transaction that first takes a share lock on the appointment and
the number's consent row, then the row lock of the text itself: a cancellation or an
opt-out that commits before the send is seen by the final check, and one that comes during
the send waits for it. SQLite has no row locks, so there the send holds SQLite's single
write lock instead: sends take turns, and a web write waits while one is in flight (each is
bounded by the gateway's timeout), which suits the small practices SQLite is for.
"""

from __future__ import annotations

import logging
import random
import threading
import time as clock_time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from service.alerts import raise_alert
from service.config import Settings
from service.db import Database, utcnow
from service.delivery import apply_permanent_error, apply_status
from service.domain import sending
from service.models import Alert, Appointment, Client, Contact, OutboundMessage, PhoneNumber
from service.phones import mask
from service.sms.gateway import Gateway, SendError

log = logging.getLogger(__name__)
UNKNOWN_RETRY = timedelta(minutes=1)
LOOKUP_MARGIN = timedelta(minutes=2)


class RateLimiter:
    """At most ``per_second`` sends per second from this process (none when None)."""

    def __init__(self, per_second: float | None) -> None:
        self.interval = 1.0 / per_second if per_second else 0.0
        self.next_at = 0.0
        self.lock = threading.Lock()

    def wait(self) -> None:
        """Block until the next send is allowed."""
        if not self.interval:
            return
        with self.lock:
            now = clock_time.monotonic()
            start = max(now, self.next_at)
            self.next_at = start + self.interval
        if start > now:
            clock_time.sleep(start - now)


class Dispatcher:
    """Sends what is due, safely alongside any number of other dispatchers."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        gateway: Gateway,
        *,
        now: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
        batch_size: int = 50,
        lease: timedelta = timedelta(minutes=5),
        stop: threading.Event | None = None,
    ) -> None:
        self.db, self.settings, self.gateway = db, settings, gateway
        self.now, self.rng = now, rng or random.Random()
        self.batch_size, self.lease = batch_size, lease
        self.stop = stop or threading.Event()
        self.limiter = RateLimiter(settings.sms_max_per_second)

    def run(self) -> Counter[str]:
        """Claim and handle batches until nothing is due or a stop is asked; return counts."""
        counts: Counter[str] = Counter()
        with ThreadPoolExecutor(self.settings.sms_send_concurrency) as pool:
            while not self.stop.is_set():
                token = uuid.uuid4().hex
                claimed = self.claim(token)
                if not claimed:
                    break
                counts["claimed"] += len(claimed)
                ids, statuses = zip(*claimed, strict=True)
                outcomes = pool.map(self.handle, ids, statuses, [token] * len(claimed))
                counts.update(outcomes)
        return counts

    def claim(self, token: str) -> list[tuple[int, str]]:
        """Atomically take up to a batch of due texts, oldest first; (id, status) pairs."""
        now = self.now()
        m = OutboundMessage
        due = or_(
            and_(m.status == "planned", m.send_at <= now),
            and_(m.status.in_(("sending", "unknown")), m.lease_until <= now),
        )
        with self.db.session() as session:
            picked = select(m.id).where(due).order_by(m.send_at, m.id).limit(self.batch_size)
            if self.db.dialect == "postgresql":
                picked = picked.with_for_update(skip_locked=True)
            statement = (
                update(m)
                .where(m.id.in_(picked.scalar_subquery()), due)
                .values(
                    # A stale "sending" row's dispatcher died mid-send: it may have left.
                    status=case((m.status == "planned", "sending"), else_="unknown"),
                    attempts=case((m.status == "planned", m.attempts + 1), else_=m.attempts),
                    claim_token=token,
                    # Keep the first claim's time: the lookup of an unknown outcome searches
                    # the provider from there.
                    claimed_at=case((m.status == "planned", now), else_=m.claimed_at),
                    lease_until=now + self.lease,
                    updated_at=now,
                )
                .returning(m.id, m.status, m.send_at)
                .execution_options(synchronize_session=False)
            )
            rows = sorted(session.execute(statement), key=lambda r: (r[2], r[0]))
            session.commit()
        return [(int(r[0]), str(r[1])) for r in rows]

    def handle(self, message_id: int, status: str, token: str) -> str:
        """Handle one claimed text; return what became of it."""
        if self.stop.is_set():
            return self.release(message_id, token)
        try:
            if status == "unknown":
                return self.settle(message_id, token)
            return self.send(message_id, token)
        except Exception:  # one bad row must not stop the batch; its lease brings it back
            log.exception("dispatch of message %s failed; it will be retried", message_id)
            return "error"

    def release(self, message_id: int, token: str) -> str:
        """Give a claimed, untouched text back (on shutdown)."""
        with self.db.session() as session:
            session.execute(
                update(OutboundMessage)
                .where(
                    OutboundMessage.id == message_id,
                    OutboundMessage.claim_token == token,
                    OutboundMessage.status == "sending",
                )
                .values(status="planned", claim_token=None, lease_until=None)
            )
            session.commit()
        return "released"

    def _prepare(self, message_id: int, token: str) -> bool:
        """Before locking: is the claim still ours? Then make sure the number has a row.

        Both in short transactions of their own, so a send never holds two connections
        (the pool stays within reach at any concurrency) and SQLite's write lock is only
        taken once the final check begins.
        """
        with self.db.session() as session:
            peek = session.get(OutboundMessage, message_id)
            if peek is None or peek.claim_token != token:
                return False
            phone = peek.to_phone
        insert = (postgresql if self.db.dialect == "postgresql" else sqlite).insert
        with self.db.session() as session:
            session.execute(
                insert(PhoneNumber)
                .values(phone=phone, updated_at=self.now())
                .on_conflict_do_nothing(index_elements=["phone"])
            )
            session.commit()
        return True

    def _lock(self, session: Session, message_id: int, token: str) -> OutboundMessage | None:
        """Lock appointment, number, then the text (this order everywhere avoids deadlocks)."""
        peek = session.get(OutboundMessage, message_id)
        if peek is None or peek.claim_token != token:
            return None
        if self.db.dialect == "sqlite":
            # SQLite has no row locks: a write takes its one write lock, held until the
            # outcome is recorded, so no cancellation or opt-out can commit in between.
            session.execute(
                update(OutboundMessage)
                .where(OutboundMessage.id == message_id)
                .values(updated_at=self.now())
                .execution_options(synchronize_session=False)
            )
        if peek.appointment_id is not None:
            session.execute(
                select(Appointment.id)
                .where(Appointment.id == peek.appointment_id)
                .with_for_update(read=True)
            )
        session.execute(
            select(PhoneNumber.phone)
            .where(PhoneNumber.phone == peek.to_phone)
            .with_for_update(read=True)
        )
        message = session.scalars(
            select(OutboundMessage)
            .where(OutboundMessage.id == message_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one()
        return message if message.claim_token == token else None

    def _facts(self, session: Session, message: OutboundMessage) -> sending.SendFacts:
        number = session.get(PhoneNumber, message.to_phone, populate_existing=True)
        appointment = (
            session.get(Appointment, message.appointment_id, populate_existing=True)
            if message.appointment_id is not None
            else None
        )
        client = session.get(Client, message.client_id) if message.client_id else None
        planned_kind = message.kind in ("reminder", "checkin")
        contact = (
            session.get(Contact, message.contact_id, populate_existing=True)
            if message.contact_id is not None
            else None
        )
        # The contact may have been removed, given another number, or told to stop getting
        # this kind of text since the text was planned.
        contact_gone = planned_kind and (
            contact is None
            or contact.phone != message.to_phone
            or not (contact.reminders if message.kind == "reminder" else contact.checkins)
        )
        return sending.SendFacts(
            kind=message.kind,
            send_at=message.send_at,
            timezone=client.timezone if client else self.settings.practice_timezone,
            opted_out=bool(number and number.opted_out),
            invalid=bool(number and number.invalid_at),
            appointment_status=appointment.status if appointment else None,
            appointment_start=appointment.starts_at if appointment else None,
            planned_start=sending.planned_start(message.idempotency_key) if planned_kind else None,
            contact_gone=contact_gone,
            paused=message.kind in sending.PAUSABLE
            and message.client_id is not None
            and session.scalar(
                select(Alert.id)
                .where(
                    Alert.client_id == message.client_id,
                    Alert.kind == "not_answering",
                    Alert.handled_at.is_(None),
                )
                .limit(1)
            )
            is not None,
        )

    def send(self, message_id: int, token: str) -> str:
        """Check a claimed text once more and send it, holding its locks until recorded."""
        if not self._prepare(message_id, token):
            return "lost_claim"
        self.limiter.wait()  # before any lock is taken: waiting must not block others
        with self.db.session() as session:
            message = self._lock(session, message_id, token)
            if message is None or message.status != "sending":
                session.rollback()
                return "lost_claim"
            now = self.now()
            decision = sending.decide(self._facts(session, message), now, self.settings.quiet_hours)
            if decision.action != "send":
                self._settle_unsent(message, decision, now)
                session.commit()
                return decision.action
            try:
                sid = self.gateway.send(message.to_phone, message.body)
            except SendError as exc:
                outcome = self._failed(session, message, exc, self.now())
            else:
                self._record_sent(message, sid, self.now())
                outcome = "sent"
            session.commit()
        log.info("message %s to %s: %s", message_id, mask(message.to_phone), outcome)
        return outcome

    def _settle_unsent(
        self, message: OutboundMessage, decision: sending.Decision, now: datetime
    ) -> None:
        if decision.action == "defer" and decision.until is not None:
            message.status, message.send_at = "planned", decision.until
            message.attempts -= 1  # nothing was attempted: waiting is not a try
        else:
            message.status = decision.action
        message.error_message = decision.reason
        self._unclaim(message, now)

    def _record_sent(self, message: OutboundMessage, sid: str, now: datetime) -> None:
        message.status = "delivered" if self.gateway.simulated else "sent"
        message.provider_sid, message.sent_at = sid, now
        message.error_code, message.error_message = None, None
        self._unclaim(message, now)

    @staticmethod
    def _unclaim(message: OutboundMessage, now: datetime) -> None:
        message.claim_token, message.lease_until, message.updated_at = None, None, now

    def _failed(
        self, session: Session, message: OutboundMessage, exc: SendError, now: datetime
    ) -> str:
        message.error_code, message.error_message = exc.code, str(exc)[:500]
        if exc.unknown_outcome:
            # It may have left: never resend blindly, look it up after a short wait.
            message.status, message.lease_until = "unknown", now + UNKNOWN_RETRY
            message.updated_at = now
            return "unknown"
        self._unclaim(message, now)
        if exc.permanent:
            message.status = "failed"
            apply_permanent_error(session, message, exc.code, now)
            return "failed"
        if message.attempts >= self.settings.sms_max_attempts:
            message.status = "failed"
            raise_alert(
                session,
                "delivery_failed",
                now,
                client_id=message.client_id,
                phone=message.to_phone,
                outbound_id=message.id,
                detail=f"gave up after {message.attempts} attempts: {exc}",
            )
            return "failed"
        message.status = "planned"
        message.send_at = now + sending.backoff(message.attempts, self.rng)
        return "retry"

    def settle(self, message_id: int, token: str) -> str:
        """Find out whether a text of unknown outcome left; resend only if it did not."""
        if not self._prepare(message_id, token):
            return "lost_claim"
        with self.db.session() as session:
            message = self._lock(session, message_id, token)
            if message is None or message.status != "unknown":
                session.rollback()
                return "lost_claim"
            now = self.now()
            since = (message.claimed_at or message.send_at) - LOOKUP_MARGIN
            try:
                records = self.gateway.find_sent(message.to_phone, since)
            except SendError as exc:
                message.lease_until = now + sending.backoff(message.attempts, self.rng)
                message.error_message = f"lookup failed: {exc}"[:500]
                session.commit()
                return "unknown"
            known = set(
                session.scalars(
                    select(OutboundMessage.provider_sid).where(
                        OutboundMessage.provider_sid.in_([r.sid for r in records])
                    )
                )
            )
            match = next(
                (r for r in records if r.body == message.body and r.sid not in known), None
            )
            if match is not None:
                self._record_sent(message, match.sid, now)
                session.flush()
                # Callbacks for it may have come while we did not know its sid: take the
                # status Twilio reports now instead.
                apply_status(session, match.sid, match.status, None, now)
                outcome = "settled_sent"
            else:
                message.status, message.send_at = "planned", now
                self._unclaim(message, now)
                outcome = "settled_resend"
            session.commit()
        return outcome


def dispatch_once(
    db: Database, settings: Settings, gateway: Gateway, **kwargs: Any
) -> Counter[str]:
    """Send everything due now, then return the counts."""
    return Dispatcher(db, settings, gateway, **kwargs).run()
