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

Texts are checked, sent and recorded a batch at a time, in one transaction per batch that
holds the locks of everything the final check reads (``service.dispatch_batch`` states the
protocol and the exactly-once guarantee it gives). Each message goes out through the
gateway of its channel.
"""

from __future__ import annotations

import logging
import random
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import consent, outbox, practice_settings, send_rate
from service.alerts import raise_alert
from service.config import Settings
from service.db import Database, utcnow
from service.delivery import alert_permanent_error, apply_call_status, apply_status
from service.dispatch_batch import Batch
from service.domain import sending
from service.domain.vocabulary import AlertKind, Channel, MessageStatus
from service.models import Appointment, OutboundMessage, PhoneNumber
from service.outbox import Claimed
from service.sms import MATCHERS
from service.sms.gateway import Gateway, SendError

log = logging.getLogger(__name__)
UNKNOWN_RETRY = timedelta(minutes=1)
LOOKUP_MARGIN = timedelta(minutes=2)


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
        # One send rate a channel: calls (VOICE_MAX_PER_SECOND) never wait behind texts'
        # slots, nor texts behind calls' (``service.send_rate``).
        self.limits: dict[str, send_rate.SendRate] = {
            Channel.SMS: send_rate.SendRate(db, settings.sms_max_per_second, Channel.SMS.value),
            Channel.VOICE: send_rate.SendRate(
                db, settings.voice_max_per_second, Channel.VOICE.value
            ),
        }

    def run(self) -> Counter[str]:
        """Claim and handle batches until nothing is due or a stop is asked; return counts.

        Each run takes the practice's settings in force (quiet hours above all) as they are
        when it starts, so a saved change applies from the next tick on.
        """
        with self.db.session() as session:
            self.settings = practice_settings.effective(session, self.base)
        with ThreadPoolExecutor(self.settings.sms_send_concurrency) as pool:
            if self.lanes == 1:
                return self.lane(pool)
            with ThreadPoolExecutor(self.lanes) as lanes:
                return sum(lanes.map(self.lane, [pool] * self.lanes), Counter())

    @property
    def lanes(self) -> int:
        """How many batches are under way at once, their sends sharing one pool: on
        PostgreSQL two, so one batch's sends go on while the other takes its locks or
        records; SQLite's single write lock lets only one batch work at a time. With a send
        rate set, one: the rate is the bound, and two batches' sends queued behind each
        other in the pool would leave their slots late and then together."""
        if self.db.dialect != "postgresql" or self.settings.sms_max_per_second:
            return 1
        return 2

    def lane(self, pool: Executor) -> Counter[str]:
        """Claim and dispatch batch after batch until nothing is due or a stop is asked."""
        counts: Counter[str] = Counter()
        while not self.stop.is_set():
            token = uuid.uuid4().hex
            claims = self.claim_batch(token)
            if not claims:
                break
            counts["claimed"] += len(claims)
            counts.update(self.dispatch(token, claims, pool))
            if counts["lock_failed"]:
                break  # it released its texts: do not take them straight back
        return counts

    def batch_limit(self) -> int:
        """How many texts a claim takes: a batch, or with a send rate set, about one
        second's worth of sends (a batch holds its locks while its texts go out)."""
        rate = self.settings.sms_max_per_second
        return max(1, min(self.batch_size, int(rate))) if rate else self.batch_size

    def call_limit(self) -> int:
        """How many calls a claim takes besides its texts: about one second's worth of calls
        (VOICE_MAX_PER_SECOND, one by default), so a batch holding calls keeps its locks for
        about a second, not for as long as a backlog of calls takes to place."""
        return max(1, min(self.batch_size, int(self.settings.voice_max_per_second)))

    def claim_batch(self, token: str) -> list[Claimed]:
        """Atomically take up to a batch of due texts and ``call_limit`` calls, oldest first."""
        limit, calls = self.batch_limit(), self.call_limit()
        with self.db.session() as session:
            claims = outbox.claim_rows(session, token, self.now(), self.lease, limit, calls)
            session.commit()
        return claims

    def claim(self, token: str) -> list[tuple[int, MessageStatus]]:
        """``claim_batch`` as (id, status) pairs."""
        return [(c.id, c.status) for c in self.claim_batch(token)]

    def dispatch(self, token: str, claims: Sequence[Claimed], pool: Executor) -> Counter[str]:
        """Check, send and record one claimed batch (``service.dispatch_batch``)."""
        try:
            return Batch(self, token, claims).run(pool)
        except Exception:  # whatever was not recorded stays claimed: its lease brings it back
            log.exception("dispatch of a batch of %d texts failed; it will be retried", len(claims))
            return Counter({"error": len(claims)})

    def handle(self, message_id: int, status: str, token: str) -> str:
        """Handle one claimed message as a batch of one; return what became of it."""
        with self.db.session() as session:
            claims = outbox.claimed_rows(session, [message_id], token)
        if not claims or claims[0].status != status:
            return "lost_claim"
        with ThreadPoolExecutor(1) as pool:
            counts = self.dispatch(token, claims, pool)
        return "lock_failed" if counts["lock_failed"] else next(iter(counts))

    def settle_one(self, message_id: int, token: str) -> str:
        """Look up one message of unknown outcome; what became of it."""
        try:
            return self.settle(message_id, token)
        except Exception:  # one bad row must not stop the batch; its lease brings it back
            log.exception("look-up of message %s failed; it will be retried", message_id)
            return "error"

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
        deadlocks); None when the claim was lost.

        A look-up takes its number's lock exclusively: it waits for any batch sending to
        the number to record what it sent, and holds back any batch that would start a send
        to it, so no text or call still to be recorded is taken for this one (two texts of
        the same words, a batch's sid taken by the look-up, would roll the batch back).
        """
        peek = outbox.claimed(session, message_id, token)
        if peek is None:
            return None
        if self.db.dialect == "sqlite":
            outbox.hold_writes(session, [message_id], self.now())
        if peek.appointment_id is not None:
            session.execute(
                select(Appointment.id)
                .where(Appointment.id == peek.appointment_id)
                .with_for_update(read=True)
            )
        session.execute(
            select(PhoneNumber.phone).where(PhoneNumber.phone == peek.to_phone).with_for_update()
        )
        return outbox.lock(session, message_id, token)

    def record_failure(
        self, session: Session, message: OutboundMessage, exc: SendError, now: datetime
    ) -> str:
        """Record a send's error through the outbox; what became of the message."""
        error = str(exc)
        if exc.unknown_outcome:
            # It may have left: never resend blindly, look it up after a short wait.
            outbox.mark_unknown(session, message, exc.code, error, now, now + UNKNOWN_RETRY)
            return "unknown"
        if exc.permanent:
            # What the error says of the number is for the caller to record once its
            # batch has committed (``Batch.record_numbers``): a batch holds its numbers'
            # share locks, and two batches updating one number would deadlock.
            outbox.fail(session, message, exc.code, error, now)
            alert_permanent_error(session, message, exc.code, now)
            return "failed"
        if message.attempts >= self.settings.sms_max_attempts:
            outbox.fail(session, message, exc.code, error, now)
            _gave_up(session, message, f"gave up after {message.attempts} attempts: {exc}", now)
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
        if Channel(message.channel) == Channel.VOICE and _call_in_flight(session, message):
            # Its dispatcher stopped mid-send: once its lease ends it is looked up too.
            wait = "another call to the number is in flight"
            outbox.postpone_lookup(session, message, wait, now, now + UNKNOWN_RETRY)
            return "unknown"
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
        # A text is known by its words, a call by being any call not yet recorded
        # (``service.sms.MATCHERS``); a record already carrying a message's sid is not ours.
        ours = MATCHERS[Channel(message.channel)]
        match = next((r for r in records if r.sid not in known and ours(r, message.body)), None)
        if match is None and message.attempts >= self.settings.sms_max_attempts:
            # Never sent, and out of tries (each unknown outcome was one): as a failed send.
            why = f"not sent after {message.attempts} attempts of unknown outcome"
            outbox.give_up(session, message, why, now)
            _gave_up(session, message, f"gave up: {why}", now)
            return "failed"
        if match is None:
            outbox.resend(session, message, now)
            return "settled_resend"
        outbox.mark_sent(session, message, match.sid, now, delivered=gateway.simulated)
        # Reports for it may have come while we did not know its sid: take the status the
        # provider reports now instead (a call's by the calls' rules: how it ended, and the
        # call the retry rules allow after a busy line, no answer or a machine).
        if Channel(message.channel) == Channel.VOICE:
            quiet = self.settings.quiet_hours
            answered_by = match.answered_by or ""
            apply_call_status(session, match.sid, match.status, answered_by, None, now, quiet)
        else:
            apply_status(session, match.sid, match.status, None, now)
        return "settled_sent"


def _gave_up(session: Session, message: OutboundMessage, detail: str, now: datetime) -> None:
    """Tell the practice a message will not be sent: it had its tries."""
    raise_alert(
        session,
        AlertKind.DELIVERY_FAILED,
        now,
        client_id=message.client_id,
        phone=message.to_phone,
        outbound_id=message.id,
        detail=detail,
    )


def _call_in_flight(session: Session, message: OutboundMessage) -> bool:
    """Whether another call to the message's number was claimed and not yet recorded: it
    may have been placed, and would pass for this message's own call."""
    others = select(OutboundMessage.id).where(
        OutboundMessage.to_phone == message.to_phone,
        OutboundMessage.channel == Channel.VOICE,
        OutboundMessage.status == MessageStatus.SENDING,
        OutboundMessage.id != message.id,
    )
    return session.scalar(others.limit(1)) is not None
