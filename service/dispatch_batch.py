"""One batch of claimed texts: checked, sent and recorded in one transaction.

The guarantee, for every text: a cancellation, move, opt-out, pause or edit that commits
before a text's send starts prevents it; one that commits after finds the text sent or in
flight and records that. No text is ever sent twice, and none is lost. A call is a text
here, and its number's consent is the consent to calls (``domain.call_permission``): a
withdrawal or a stop (``call_consent``, which locks the number) is such an opt-out.

The protocol that gives it:

1. Claim. ``outbox.claim_rows`` takes up to a batch of due texts, and besides them about a
   second's worth of calls (``Dispatcher.call_limit``), in one short transaction
   (``sending``, with a claim token and a lease); on PostgreSQL ``FOR UPDATE SKIP LOCKED``
   lets dispatchers take disjoint rows. What the check and the send need of a text (its
   number, body, kind, appointment, contact) comes back with the claim: none of it
   changes while the claim holds.
2. Numbers exist. One ``INSERT ... ON CONFLICT DO NOTHING`` makes sure every number of the
   batch has a consent row to lock (own short transaction).
3. Rate. The batch's send slots are reserved, each text's from the texts' rate and each
   call's from the calls' (``send_rate.reserve_each``), and the dispatcher waits for the
   first one before it takes any lock: waiting blocks no one.
4. Lock, check, send, record: one transaction.
   - PostgreSQL: share locks (``FOR SHARE``), each set in one statement ordered by key, in
     the global order clients -> appointments -> numbers -> contacts, then the batch's
     messages ``FOR UPDATE`` (only those still ``sending`` under this claim: a text lost
     to another claim drops out). Web paths lock clients before appointments, and the
     pause (a "not answering" item, ``service.signals``) takes its client's row lock
     before it is raised, so nothing waits in a circle. A change of any of these rows
     that commits before the lock is seen by the check; one that comes later waits for
     the batch's commit, when every text of the batch is recorded sent (or failed).
   - SQLite has no row locks: a no-op update of the batch's messages takes the database's
     single write lock first, and every writer (web, webhook, planner, other dispatchers)
     waits until the batch commits.
   - The facts are read by those same statements (plus one query for open "not
     answering" items when the batch holds pausable texts), fresh, under the locks, and
     ``domain.sending.decide`` judges each text. Texts held back (skipped, cancelled,
     expired, deferred) are recorded at once, one statement per decision.
   - The rest go out through a thread pool (only the sending threads call the gateway;
     only this thread touches the session, and hands each send over at its slot, so a
     call waiting for its slot holds no sending thread), while the
     transaction keeps its locks. Sends accepted are recorded in one statement; errors
     go through the outbox's per-message transitions. Then one commit. What a permanent
     error says of its number (opted out, invalid) is recorded after it, a number at a
     time: two batches updating one number while each holds its share lock would deadlock.
5. Failures. If taking the locks fails (a deadlock detected, a lock timeout), nothing was
   sent: the transaction rolls back and the batch's claims are released. Once sends have
   begun, an unexpected failure rolls back and leaves the texts ``sending``: when their
   lease ends they come back as ``unknown`` and are looked up at the provider, never
   resent blindly. Texts claimed as ``unknown`` take that per-message look-up path.
6. A lease that ends mid-batch: on PostgreSQL another dispatcher's claim skips the rows
   the batch has locked (``SKIP LOCKED``); on SQLite it waits for the write lock, then
   finds them sent. A text whose claim was lost before the batch locked it drops out; a
   record whose claim was lost changes nothing, and the text is looked up, never resent.
"""

from __future__ import annotations

import logging
import threading
import time as clock_time
from collections import Counter, defaultdict
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from service import consent, outbox, send_rate
from service.delivery import apply_to_number, tells_of_number
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
from service.outbox import Claimed
from service.phones import mask
from service.sms.gateway import Gateway, SendError

if TYPE_CHECKING:
    from service.dispatch import Dispatcher

log = logging.getLogger(__name__)
CLIENTS: Table = Client.__table__  # type: ignore[assignment]
APPOINTMENTS: Table = Appointment.__table__  # type: ignore[assignment]
NUMBERS: Table = PhoneNumber.__table__  # type: ignore[assignment]
CONTACTS: Table = Contact.__table__  # type: ignore[assignment]
ALERTS: Table = Alert.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class NumberFacts:
    """What the final check reads of a number: consent for texts, for calls, reachability."""

    opted_out: bool = False
    invalid: bool = False
    invalid_reason: str | None = None
    voice_consent_at: datetime | None = None
    voice_opted_out_at: datetime | None = None


@dataclass
class Facts:
    """What is true now about a batch's texts, read under its locks."""

    mine: set[int]  # the messages still this claim's, locked
    zones: dict[int, str] = field(default_factory=dict)
    appointments: dict[int, tuple[str, datetime]] = field(default_factory=dict)
    numbers: dict[str, NumberFacts] = field(default_factory=dict)
    contacts: dict[int, sending.ContactFacts] = field(default_factory=dict)
    not_answering: set[int] = field(default_factory=set)


def _keys(values: Any) -> list[Any]:
    return sorted({v for v in values if v is not None})


def lock_and_read(session: Session, claims: Sequence[Claimed], token: str, now: datetime) -> Facts:
    """Take the batch's locks in the protocol's order and read its facts from them."""
    ids = [c.id for c in claims]
    if session.get_bind().dialect.name == "sqlite":
        outbox.hold_writes(session, ids, now)
    conn = session.connection()
    facts = Facts(mine=set())
    if clients := _keys(c.client_id for c in claims):
        facts.zones = dict(_shared(conn, CLIENTS, "id", clients, "timezone"))
    if appointments := _keys(c.appointment_id for c in claims):
        read = _shared(conn, APPOINTMENTS, "id", appointments, "status", "starts_at")
        facts.appointments = {r[0]: (r[1], r[2]) for r in read}
    read = _shared(conn, NUMBERS, "phone", _keys(c.to_phone for c in claims), *_NUMBER)
    facts.numbers = {r[0]: _consent(*r[1:]) for r in read}
    if contacts := _keys(c.contact_id for c in claims if _reads_contact(c.kind)):
        read = _shared(conn, CONTACTS, "id", contacts, "phone", "reminders", "checkins", "channel")
        facts.contacts = {r[0]: sending.ContactFacts(*r[1:]) for r in read}
    if pausable := _keys(c.client_id for c in claims if c.kind in PAUSABLE):
        facts.not_answering = set(
            conn.scalars(
                select(ALERTS.c.client_id).where(
                    ALERTS.c.client_id.in_(pausable),
                    ALERTS.c.kind == AlertKind.NOT_ANSWERING,
                    ALERTS.c.handled_at.is_(None),
                )
            )
        )
    facts.mine = outbox.lock_sending(session, ids, token)
    return facts


_NUMBER = (
    "opted_out_at",
    "opted_in_at",
    "invalid_at",
    "invalid_reason",
    "voice_consent_at",
    "voice_opted_out_at",
)


def _consent(
    opted_out_at: datetime | None,
    opted_in_at: datetime | None,
    invalid_at: datetime | None,
    invalid_reason: str | None,
    voice_consent_at: datetime | None,
    voice_opted_out_at: datetime | None,
) -> NumberFacts:
    # As ``PhoneNumber.opted_out``: the latest consent event is an opt-out.
    opted_out = opted_out_at is not None and (opted_in_at is None or opted_in_at < opted_out_at)
    return NumberFacts(
        opted_out, invalid_at is not None, invalid_reason, voice_consent_at, voice_opted_out_at
    )


def _reads_contact(kind: str) -> bool:
    return kind in PLANNED_KINDS or kind in NOTICES


def _shared(conn: Connection, table: Table, key: str, keys: list[Any], *columns: str) -> list[Any]:
    """These rows' columns, share-locked in key order (SQLite: a plain read)."""
    statement = (
        select(table.c[key], *(table.c[c] for c in columns))
        .where(table.c[key].in_(keys))
        .order_by(table.c[key])
        .with_for_update(read=True)
    )
    return list(conn.execute(statement))


def facts_of(claim: Claimed, facts: Facts, dispatcher: Dispatcher) -> sending.SendFacts:
    """The final check's facts for one text of the batch."""
    settings = dispatcher.settings
    appointment = facts.appointments.get(claim.appointment_id or 0)
    number = facts.numbers.get(claim.to_phone, NumberFacts())
    contact = facts.contacts.get(claim.contact_id or 0) if _reads_contact(claim.kind) else None
    return sending.SendFacts(
        kind=claim.kind,
        send_at=claim.send_at,
        timezone=facts.zones.get(claim.client_id or 0, settings.practice_timezone),
        opted_out=number.opted_out,
        invalid=number.invalid,
        to_phone=claim.to_phone,
        appointment_status=appointment[0] if appointment else None,
        appointment_start=appointment[1] if appointment else None,
        planned_start=claim.planned_start,
        contact=contact,
        not_answering=claim.client_id in facts.not_answering,
        rebooking_texts=settings.rebooking_texts,
        channel=claim.channel,
        invalid_reason=number.invalid_reason,
        voice_consent_at=number.voice_consent_at,
        voice_opted_out_at=number.voice_opted_out_at,
        key=claim.key,
    )


def _send(gateway: Gateway, claim: Claimed, stop: threading.Event) -> str | None:
    """Send the text (runs on a sending thread, handed it at its slot); None, without
    sending, once a stop is asked (SIGTERM: no send starts after it, even one queued)."""
    if stop.is_set():
        return None
    return gateway.send(claim.to_phone, claim.body, message_id=claim.id)


class Batch:
    """One claimed batch of one dispatcher, through the protocol above."""

    def __init__(self, dispatcher: Dispatcher, token: str, claims: Sequence[Claimed]) -> None:
        self.dispatcher, self.token, self.claims = dispatcher, token, list(claims)
        self.counts: Counter[str] = Counter()

    def run(self, pool: Executor) -> Counter[str]:
        """Check, send and record the batch; what became of its texts."""
        d = self.dispatcher
        fresh = [c for c in self.claims if c.status == MessageStatus.SENDING]
        if d.stop.is_set():
            self.release(fresh)
            # Texts of unknown outcome stay claimed: their lease brings them back to be
            # looked up (never released untouched: they may have left).
            self.counts["lookup_later"] += len(self.claims) - len(fresh)
            return self.counts
        if fresh:
            self.send(fresh, pool)
        for claim in self.claims:
            if claim.status == MessageStatus.UNKNOWN:
                self.counts[d.settle_one(claim.id, self.token)] += 1
        return self.counts

    def release(self, claims: Sequence[Claimed]) -> None:
        """Give claimed texts back untouched, in one short transaction."""
        d = self.dispatcher
        if claims:
            with d.db.session() as session:
                outbox.release_all(session, [c.id for c in claims], self.token, d.now())
                session.commit()
        self.counts["released"] += len(claims)

    def send(self, claims: Sequence[Claimed], pool: Executor) -> None:
        """Steps 2 to 5 of the protocol for the batch's ``sending`` texts."""
        d = self.dispatcher
        with d.db.session() as session:
            consent.ensure_numbers(session, (c.to_phone for c in claims), d.now())
            session.commit()
        slots = send_rate.reserve_each(d.limits, (c.channel for c in claims))
        wait = min(s[0] for s in slots.values()) - clock_time.monotonic()
        if wait > 0:  # before any lock is taken: waiting must not block others
            clock_time.sleep(wait)
        with d.db.session() as session:
            try:
                to_send = self.check(session, claims)
            except Exception:  # nothing has been sent: give the claims back
                log.exception("could not lock a batch of %d texts; released", len(claims))
                session.rollback()
                self.release(claims)
                self.counts["lock_failed"] += 1  # the run ends here: the next tick tries again
                return
            in_time = self.slots_of(session, to_send, slots)
            sent, failed, unstarted = self.post(to_send, in_time, pool)
            self.record(session, sent, failed)
            self.release_in(session, unstarted)
            session.commit()
        self.record_numbers(failed)
        log.info("batch of %d texts: %s", len(claims), dict(self.counts))

    def in_time(self, slots: list[float], count: int) -> list[float]:
        """The batch's text slots, or fresh ones when taking the locks outlasted the first
        slot by more than one interval (``send_rate.in_time``)."""
        return send_rate.in_time(self.dispatcher.limits[Channel.SMS], slots, count)

    def slots_of(
        self, session: Session, claims: Sequence[Claimed], slots: dict[str, list[float]]
    ) -> list[float]:
        """The slot of each text to send, from its channel's (``send_rate.in_time_each``);
        on SQLite fresh ones are reserved under the write lock the batch holds."""
        within = session if session.get_bind().dialect.name == "sqlite" else None
        channels = [c.channel for c in claims]
        return send_rate.in_time_each(self.dispatcher.limits, channels, slots, within)

    def check(self, session: Session, claims: Sequence[Claimed]) -> list[Claimed]:
        """Lock, read and judge; record the texts held back; the texts to send."""
        d = self.dispatcher
        now = d.now()
        facts = lock_and_read(session, claims, self.token, now)
        quiet = d.settings.quiet_hours
        held: dict[sending.Decision, list[int]] = defaultdict(list)
        to_send = []
        for claim in claims:
            if claim.id not in facts.mine:
                self.counts["lost_claim"] += 1
                continue
            decision = sending.decide(facts_of(claim, facts, d), now, quiet)
            if decision.action == "send":
                to_send.append(claim)
            else:
                held[decision].append(claim.id)
                self.counts[decision.action] += 1
        for decision, ids in held.items():
            outbox.hold_back_all(session, ids, self.token, decision, now)
        return to_send

    def post(
        self, claims: Sequence[Claimed], slots: Sequence[float], pool: Executor
    ) -> tuple[dict[bool, dict[int, str]], list[tuple[Claimed, SendError]], list[Claimed]]:
        """Hand each send to the pool at its slot, in the order of the slots; the sids
        accepted (by whether the gateway delivers at once, i.e. is simulated), the errors,
        and the texts not started (SIGTERM: once a stop is asked no send starts)."""
        gateways, stop = self.dispatcher.gateways, self.dispatcher.stop
        futures = []
        unstarted: list[Claimed] = []
        for c, slot in sorted(zip(claims, slots, strict=True), key=lambda pair: pair[1]):
            if (wait := slot - clock_time.monotonic()) > 0:
                stop.wait(wait)
            if stop.is_set():
                unstarted.append(c)
                continue
            futures.append((c, pool.submit(_send, gateways[Channel(c.channel)], c, stop)))
        sent: dict[bool, dict[int, str]] = defaultdict(dict)
        failed: list[tuple[Claimed, SendError]] = []
        for claim, future in futures:
            try:
                sid = future.result()
            except SendError as exc:
                failed.append((claim, exc))
            except Exception:  # it may have left: leave it sending, its lease brings it back
                log.exception("send of message %s failed; it will be looked up", claim.id)
                self.counts["error"] += 1
            else:
                if sid is None:
                    unstarted.append(claim)
                else:
                    sent[gateways[Channel(claim.channel)].simulated][claim.id] = sid
        return sent, failed, unstarted

    def record_numbers(self, failed: Sequence[tuple[Claimed, SendError]]) -> None:
        """After the batch's commit, what its permanent errors say of their numbers (opted
        out, invalid), each number in a short transaction of its own: inside the batch,
        two batches told the same of one number would each wait for the other's share lock
        of it. Until it is recorded another send may reach the number and be refused too."""
        d = self.dispatcher
        news = {(c.to_phone, e.code) for c, e in failed if e.permanent and tells_of_number(e.code)}
        for phone, code in sorted(news, key=lambda n: (n[0], n[1] or 0)):
            try:
                with d.db.session() as session:
                    apply_to_number(session, phone, code, d.now())
                    session.commit()
            except Exception:  # the next refusal of the number records it
                log.exception("could not record what error %s says of %s", code, mask(phone))

    def release_in(self, session: Session, claims: Sequence[Claimed]) -> None:
        """Give back, in the batch's own transaction, the texts a stop kept from starting."""
        if claims:
            outbox.release_all(session, [c.id for c in claims], self.token, self.dispatcher.now())
            self.counts["released"] += len(claims)

    def record(
        self,
        session: Session,
        sent: dict[bool, dict[int, str]],
        failed: Sequence[tuple[Claimed, SendError]],
    ) -> None:
        """Record the outcomes: sends accepted in one statement, errors one by one."""
        d = self.dispatcher
        now = d.now()
        for delivered, sids in sent.items():
            outbox.mark_sent_all(session, self.token, sids, now, delivered)
            self.counts["sent"] += len(sids)
        for claim, exc in failed:
            message = session.get(OutboundMessage, claim.id, populate_existing=True)
            assert message is not None  # locked by this batch: it cannot be gone
            outcome = d.record_failure(session, message, exc, now)
            log.info("message %s to %s: %s", claim.id, mask(claim.to_phone), outcome)
            self.counts[outcome] += 1
