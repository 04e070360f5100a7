"""The dispatcher: claim due messages, check each once more, send it exactly once, record it.

The outbox (``service.outbox``) owns the state machine and every change of status; this
module is the loop that drives it:

    planned --claim--> sending --send ok--> sent / delivered (simulator)
                          |---- transient error --> planned (later, with back-off) or failed
                          |---- permanent error --> failed (number opted out / invalid)
                          |---- outcome unknown --> unknown --lookup--> sent, or planned again
                          '---- final check ------> skipped / cancelled / expired, or planned
                                                    (deferred past quiet hours)

Claims are atomic and leased (see ``outbox.claim``). A claimed message whose dispatcher
died is found again when its lease ends, as ``unknown``: it may have left, so it is looked
up at the provider, never resent blindly.

Sending happens inside a transaction that first takes a share lock on the appointment and
the number's consent row, then the row lock of the message itself: a cancellation or an
opt-out that commits before the send is seen by the final check (``domain.sending``), and
one that comes during the send waits for it. SQLite has no row locks, so there the send
holds SQLite's single write lock instead: sends take turns, and a web write waits while
one is in flight (each is bounded by the gateway's timeout), which suits the small
practices SQLite is for. Each message goes out through the gateway of its channel.
"""

from __future__ import annotations

import logging
import random
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import consent, outbox, practice_settings, send_rate
from service.alerts import raise_alert
from service.config import Settings
from service.db import Database, utcnow
from service.delivery import apply_permanent_error, apply_status
from service.domain import sending
from service.domain.vocabulary import (
    NOTICES,
    PAUSABLE,
    PLANNED_KINDS,
    AlertKind,
    Channel,
    MessageStatus,
)
from service.models import Alert, Appointment, Client, Contact, OutboundMessage, PhoneNumber
from service.phones import mask
from service.sms.gateway import Gateway, SendError

log = logging.getLogger(__name__)
UNKNOWN_RETRY = timedelta(minutes=1)
LOOKUP_MARGIN = timedelta(minutes=2)


def load_facts(session: Session, message: OutboundMessage, settings: Settings) -> sending.SendFacts:
    """What is true now about a locked message, read fresh, with the practice's ``settings``
    in force; ``sending.decide`` judges it."""
    number = session.get(PhoneNumber, message.to_phone, populate_existing=True)
    appointment = (
        session.get(Appointment, message.appointment_id, populate_existing=True)
        if message.appointment_id is not None
        else None
    )
    client = session.get(Client, message.client_id) if message.client_id else None
    contact = (
        session.get(Contact, message.contact_id, populate_existing=True)
        if message.contact_id is not None
        and (message.kind in PLANNED_KINDS or message.kind in NOTICES)
        else None
    )
    open_item = (
        session.scalar(
            select(Alert.id)
            .where(
                Alert.client_id == message.client_id,
                Alert.kind == AlertKind.NOT_ANSWERING,
                Alert.handled_at.is_(None),
            )
            .limit(1)
        )
        # Only the pause rule reads it: no query for the kinds it never holds back.
        if message.client_id is not None and message.kind in PAUSABLE
        else None
    )
    return sending.SendFacts(
        kind=message.kind,
        send_at=message.send_at,
        timezone=client.timezone if client else settings.practice_timezone,
        opted_out=bool(number and number.opted_out),
        invalid=bool(number and number.invalid_at),
        to_phone=message.to_phone,
        appointment_status=appointment.status if appointment else None,
        appointment_start=appointment.starts_at if appointment else None,
        planned_start=message.planned_start,
        contact=sending.ContactFacts(contact.phone, contact.reminders, contact.checkins)
        if contact is not None
        else None,
        not_answering=open_item is not None,
        rebooking_texts=settings.rebooking_texts,
    )


class Dispatcher:
    """Sends what is due, safely alongside any number of other dispatchers."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        gateways: Mapping[Channel, Gateway],
        *,
        now: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
        batch_size: int = 50,
        lease: timedelta = timedelta(minutes=5),
        stop: threading.Event | None = None,
    ) -> None:
        # The environment's settings; each run reads the practice's saved ones over them.
        self.base, self.settings, self.gateways = settings, settings, dict(gateways)
        self.db = db
        self.now, self.rng = now, rng or random.Random()
        self.batch_size, self.lease = batch_size, lease
        self.stop = stop or threading.Event()
        self.limiter = send_rate.SendRate(db, settings.sms_max_per_second)

    def run(self) -> Counter[str]:
        """Claim and handle batches until nothing is due or a stop is asked; return counts.

        Each run takes the practice's settings in force (quiet hours above all) as they are
        when it starts, so a saved change applies from the next tick on.
        """
        with self.db.session() as session:
            self.settings = practice_settings.effective(session, self.base)
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

    def claim(self, token: str) -> list[tuple[int, MessageStatus]]:
        """Atomically take up to a batch of due messages, oldest first; (id, status) pairs."""
        with self.db.session() as session:
            claimed = outbox.claim(session, token, self.now(), self.lease, self.batch_size)
            session.commit()
        return claimed

    def handle(self, message_id: int, status: str, token: str) -> str:
        """Handle one claimed message; return what became of it."""
        if self.stop.is_set():
            return self.release(message_id, token)
        try:
            if status == MessageStatus.UNKNOWN:
                return self.settle(message_id, token)
            return self.send(message_id, token)
        except Exception:  # one bad row must not stop the batch; its lease brings it back
            log.exception("dispatch of message %s failed; it will be retried", message_id)
            return "error"

    def release(self, message_id: int, token: str) -> str:
        """Give a claimed, untouched message back (on shutdown)."""
        with self.db.session() as session:
            message = outbox.claimed(session, message_id, token)
            if message is not None:
                outbox.release(session, message, self.now())
            session.commit()
        return "released"

    def _prepare(self, message_id: int, token: str) -> bool:
        """Before locking: is the claim still ours? Then make sure the number has a row.

        Both in short transactions of their own, so a send never holds two connections
        (the pool stays within reach at any concurrency) and SQLite's write lock is only
        taken once the final check begins.
        """
        with self.db.session() as session:
            peek = outbox.claimed(session, message_id, token)
            if peek is None:
                return False
            phone = peek.to_phone
        with self.db.session() as session:
            consent.ensure_number(session, phone, self.now())
            session.commit()
        return True

    def _lock(self, session: Session, message_id: int, token: str) -> OutboundMessage | None:
        """Lock appointment, number, then the message (this order everywhere avoids
        deadlocks); None when the claim was lost."""
        peek = outbox.claimed(session, message_id, token)
        if peek is None:
            return None
        if self.db.dialect == "sqlite":
            outbox.hold_writes(session, message_id, self.now())
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
        return outbox.lock(session, message_id, token)

    def send(self, message_id: int, token: str) -> str:
        """Check a claimed message once more and send it, holding its locks until recorded."""
        if not self._prepare(message_id, token):
            return "lost_claim"
        self.limiter.wait()  # before any lock is taken: waiting must not block others
        with self.db.session() as session:
            message = self._lock(session, message_id, token)
            if message is None or message.status != MessageStatus.SENDING:
                session.rollback()
                return "lost_claim"
            now = self.now()
            facts = load_facts(session, message, self.settings)
            decision = sending.decide(facts, now, self.settings.quiet_hours)
            if decision.action != "send":
                outbox.hold_back(session, message, decision, now)
                session.commit()
                return decision.action
            gateway = self.gateways[Channel(message.channel)]
            try:
                sid = gateway.send(message.to_phone, message.body)
            except SendError as exc:
                outcome = self._failed(session, message, exc, self.now())
            else:
                outbox.mark_sent(session, message, sid, self.now(), delivered=gateway.simulated)
                outcome = "sent"
            session.commit()
        log.info("message %s to %s: %s", message_id, mask(message.to_phone), outcome)
        return outcome

    def _failed(
        self, session: Session, message: OutboundMessage, exc: SendError, now: datetime
    ) -> str:
        error = str(exc)
        if exc.unknown_outcome:
            # It may have left: never resend blindly, look it up after a short wait.
            outbox.mark_unknown(session, message, exc.code, error, now, now + UNKNOWN_RETRY)
            return "unknown"
        if exc.permanent:
            outbox.fail(session, message, exc.code, error, now)
            apply_permanent_error(session, message, exc.code, now)
            return "failed"
        if message.attempts >= self.settings.sms_max_attempts:
            outbox.fail(session, message, exc.code, error, now)
            raise_alert(
                session,
                AlertKind.DELIVERY_FAILED,
                now,
                client_id=message.client_id,
                phone=message.to_phone,
                outbound_id=message.id,
                detail=f"gave up after {message.attempts} attempts: {exc}",
            )
            return "failed"
        retry_at = now + sending.backoff(message.attempts, self.rng)
        outbox.retry(session, message, exc.code, error, now, retry_at)
        return "retry"

    def settle(self, message_id: int, token: str) -> str:
        """Find out whether a message of unknown outcome left; resend only if it did not."""
        if not self._prepare(message_id, token):
            return "lost_claim"
        with self.db.session() as session:
            message = self._lock(session, message_id, token)
            if message is None or message.status != MessageStatus.UNKNOWN:
                session.rollback()
                return "lost_claim"
            outcome = self._look_up(session, message, self.gateways[Channel(message.channel)])
            session.commit()
        return outcome

    def _look_up(self, session: Session, message: OutboundMessage, gateway: Gateway) -> str:
        """Match the message against what the provider holds for its number since its claim."""
        now = self.now()
        since = (message.claimed_at or message.send_at) - LOOKUP_MARGIN
        try:
            records = gateway.find_sent(message.to_phone, since)
        except SendError as exc:
            retry_at = now + sending.backoff(message.attempts, self.rng)
            outbox.postpone_lookup(session, message, str(exc), now, retry_at)
            return "unknown"
        known = set(
            session.scalars(
                select(OutboundMessage.provider_sid).where(
                    OutboundMessage.provider_sid.in_([r.sid for r in records])
                )
            )
        )
        match = next((r for r in records if r.body == message.body and r.sid not in known), None)
        if match is None:
            outbox.resend(session, message, now)
            return "settled_resend"
        outbox.mark_sent(session, message, match.sid, now, delivered=gateway.simulated)
        # Reports for it may have come while we did not know its sid: take the status the
        # provider reports now instead.
        apply_status(session, match.sid, match.status, None, now)
        return "settled_sent"
