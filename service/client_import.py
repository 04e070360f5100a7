"""Bringing a practice's clients in from a CSV file, all or nothing.

Each row of the file (read by ``domain.client_csv``) is checked against the database and
planned: **created** (a new client), **updated** (a client with the same phone and name
already exists: the fields the row gives replace its own, caregivers are added or changed by
phone, a rhythm is started unless an identical series runs), **unchanged** (it exists and
the row changes nothing: no write, no audit entry) or **refused** with the reason (a bad
phone, an unknown therapist or time zone, a weekday it cannot read...). Everything is
written through the one write path (``roster``, ``bookings``), so an imported series is
planned as any other: its occurrences from now on, its texts planned at once, never a text
for a time already past.

Nothing here commits: the caller commits when ``Result.write`` says so and rolls back
otherwise (any refused row, or a dry run). One entry in the audit log records the import
(who, how many rows of each outcome) beside the entries of the writes themselves.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import audit, bookings, planner, roster
from service.config import Settings
from service.db import lock
from service.domain import client_csv, series_words
from service.models import SELF, AppointmentSeries, Client, Contact, User
from service.phones import InvalidPhone, normalize
from service.values import is_time_zone

OUTCOMES = ("created", "updated", "unchanged", "refused")
# A file of 5,000 rows with caregivers and rhythms fits well within this.
MAX_BYTES = 2 * 1024 * 1024


class Refusal(Exception):
    """A row that cannot be imported; the message says why."""


@dataclass(frozen=True)
class Outcome:
    """What the import does (or did) with one row of the file."""

    row: int
    outcome: str
    reason: str | None = None
    client_id: int | None = None

    def as_json(self) -> dict[str, Any]:
        """The outcome as the API and the page show it (no reason unless refused)."""
        out: dict[str, Any] = {"row": self.row, "outcome": self.outcome}
        if self.reason is not None:
            out["reason"] = self.reason
        if self.client_id is not None:
            out["client_id"] = self.client_id
        return out


@dataclass(frozen=True)
class Result:
    """Every row's outcome; ``write`` when the caller should commit."""

    outcomes: list[Outcome]
    dry_run: bool

    @property
    def totals(self) -> dict[str, int]:
        """How many rows of each outcome."""
        counts = Counter(o.outcome for o in self.outcomes)
        return {name: counts[name] for name in OUTCOMES}

    @property
    def refused(self) -> list[Outcome]:
        """The refused rows."""
        return [o for o in self.outcomes if o.outcome == "refused"]

    @property
    def write(self) -> bool:
        """True when the import is to be committed: no row refused, and not a dry run."""
        return not self.dry_run and not self.refused


@dataclass
class _Import:
    """What the rows are checked against, read once, and what the import did so far."""

    session: Session
    settings: Settings
    actor: User
    now: datetime
    via: str
    therapists: dict[str, int]  # active accounts' ids by email (lower case)
    by_phone: dict[str, list[tuple[int, str]]]  # an own phone: its clients' ids and names
    seen: dict[tuple[str, str], int] = field(default_factory=dict)  # (phone, name): row


def import_clients(
    session: Session,
    settings: Settings,
    actor: User,
    text: str,
    now: datetime,
    *,
    dry_run: bool,
    via: str,
) -> Result:
    """Plan (and write, in ``session``) every row of the CSV ``text``: ``Unreadable`` when
    the file cannot be read as clients at all."""
    rows = client_csv.read(text)
    job = _Import(session, settings, actor, now, via, _therapists(session), _own_phones(session))
    outcomes = []
    later: set[int] = set()
    session.info[planner.REPLAN_LATER] = later  # every client re-planned once, at the end
    try:
        for row in rows:
            try:
                outcomes.append(_one(job, row))
            except Refusal as refusal:
                outcomes.append(Outcome(row.row, "refused", str(refusal)))
            _forget_row(session, actor)
    finally:
        del session.info[planner.REPLAN_LATER]
    result = Result(outcomes, dry_run)
    if result.write:  # what is rolled back needs no texts
        planner.replan_clients(session, settings, later, now)
    else:  # nor does it keep the ids of the clients it created
        result = Result([_unsaved(o) for o in outcomes], dry_run)
    totals = result.totals
    audit.record(
        session,
        actor,
        "import",
        "client",
        "*",
        rows=len(outcomes),
        **{name: totals[name] for name in ("created", "updated", "unchanged")},
        dry_run=dry_run,
        via=via,
    )
    return result


def _unsaved(outcome: Outcome) -> Outcome:
    """The outcome without the id of a client created in what is rolled back."""
    return replace(outcome, client_id=None) if outcome.outcome == "created" else outcome


def _forget_row(session: Session, actor: User) -> None:
    """Write what a row did and let go of its rows (all but the actor's account), so that
    each re-plan of the next rows looks at a session of one row, not of thousands: the
    import stays linear in the length of the file. The transaction (and its locks) goes on."""
    session.flush()
    for held in list(session.identity_map.values()):
        if held is not actor and held in session:  # a client takes its contacts along
            session.expunge(held)


def decode(data: bytes) -> str:
    """A file's bytes as text: UTF-8, with or without a byte-order mark; ``Unreadable``
    when it is not, or is empty."""
    if not data.strip():
        raise client_csv.Unreadable("the file is empty: the first line must be the header row")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise client_csv.Unreadable("the file is not UTF-8 text: save it as 'CSV UTF-8'") from None
    if "\x00" in text:
        raise client_csv.Unreadable("the file holds a NUL character: it is not a CSV file")
    return text


def _therapists(session: Session) -> dict[str, int]:
    """The active accounts' ids by email (lower case)."""
    users = session.execute(select(User.email, User.id).where(User.active.is_(True)))
    return {email.lower(): user_id for email, user_id in users}


def _own_phones(session: Session) -> dict[str, list[tuple[int, str]]]:
    """Every client's own phone and the clients (id, name) it is the own phone of."""
    found: dict[str, list[tuple[int, str]]] = {}
    query = (
        select(Contact.phone, Client.id, Client.name)
        .join(Client, Client.id == Contact.client_id)
        .where(Contact.relation == SELF)
    )
    for phone, client_id, name in session.execute(query.order_by(Client.id)):
        found.setdefault(phone, []).append((client_id, name))
    return found


def _phone(raw: str, region: str, label: str) -> str:
    try:
        return normalize(raw, region)
    except InvalidPhone as exc:
        raise Refusal(f"{label}: invalid phone number: {exc}") from None


def _checked(job: _Import, row: client_csv.ClientRow) -> tuple[str, int | None]:
    """The row's own phone (E.164) and therapist id after the checks only the database and
    the settings can make; ``Refusal`` when one fails."""
    if row.problems:
        raise Refusal("; ".join(row.problems))
    phone = _phone(row.phone, job.settings.default_region, "Phone")
    if row.timezone is not None and not is_time_zone(row.timezone):
        raise Refusal(f"Time Zone {row.timezone!r} is not a known time zone")
    therapist_id = None
    if row.therapist is not None:
        therapist_id = job.therapists.get(row.therapist)
        if therapist_id is None:
            raise Refusal(f"Therapist {row.therapist!r}: no active account has that email")
    key = (phone, row.name.casefold())
    if key in job.seen:
        raise Refusal(f"the same client (name and phone) as row {job.seen[key]}")
    job.seen[key] = row.row
    return phone, therapist_id


def _caregivers(job: _Import, row: client_csv.ClientRow) -> list[dict[str, Any]]:
    """The row's caregivers as contact values, their phones checked."""
    region = job.settings.default_region
    found = [
        {
            "name": c.name,
            "relation": c.relation,
            "phone": _phone(c.phone, region, f"Caregiver {n} Phone"),
            "reminders": c.reminders,
            "checkins": c.checkins,
        }
        for n, c in enumerate(row.caregivers, start=1)
    ]
    if len({c["phone"] for c in found}) < len(found):
        raise Refusal("Caregiver 1 Phone and Caregiver 2 Phone are the same number")
    return found


def _existing(job: _Import, phone: str, name: str) -> Client | None:
    """The client whose own phone is ``phone`` and whose name is ``name`` (case apart),
    locked; None when there is none."""
    for client_id, known in job.by_phone.get(phone, []):
        if known.casefold() == name.casefold():
            return lock(job.session, Client, client_id)
    return None


def _one(job: _Import, row: client_csv.ClientRow) -> Outcome:
    """Plan and write one row; ``Refusal`` says why it cannot be."""
    phone, therapist_id = _checked(job, row)
    caregivers = _caregivers(job, row)
    client = _existing(job, phone, row.name)
    if client is None:
        client = _create(job, row, phone, therapist_id)
        _contacts(job, client, caregivers)
        _rhythm(job, client, row.rhythm, new=True)
        return Outcome(row.row, "created", client_id=client.id)
    changed = _update(job, client, row, therapist_id)
    changed = _contacts(job, client, caregivers) or changed
    changed = _rhythm(job, client, row.rhythm) or changed
    return Outcome(row.row, "updated" if changed else "unchanged", client_id=client.id)


def _create(job: _Import, row: client_csv.ClientRow, phone: str, therapist: int | None) -> Client:
    values = roster.NewClient(
        name=row.name,
        phone=phone,
        timezone=row.timezone or job.settings.practice_timezone,
        language=row.language or job.settings.default_language,
        notes=row.notes or "",
        therapist_id=therapist,
    )
    try:
        return roster.create_client(job.session, job.actor, values, via=job.via)
    except roster.SharedPhone as shared:
        raise Refusal(f"Phone: {shared.warning} Add this client on its own page.") from None


def _update(job: _Import, client: Client, row: client_csv.ClientRow, therapist: int | None) -> bool:
    """Give a client the fields the row has (an empty cell changes nothing); True when one
    changed."""
    given = {
        "name": row.name,
        "timezone": row.timezone,
        "language": row.language,
        "notes": row.notes,
        "therapist_id": therapist,
    }
    changes = {k: v for k, v in given.items() if v is not None and getattr(client, k) != v}
    if not changes:
        return False
    s = job
    roster.update_client(s.session, s.settings, s.actor, client, changes, s.now, via=s.via)
    return True


def _contacts(job: _Import, client: Client, caregivers: list[dict[str, Any]]) -> bool:
    """Add the caregivers the client lacks, change those it has (by phone); True when one
    was added or changed. A caregiver's number may be another client's too."""
    changed = False
    s = job
    for n, values in enumerate(caregivers, start=1):
        contact = next((c for c in client.contacts if c.phone == values["phone"]), None)
        if contact is not None and contact.is_own:
            raise Refusal(f"Caregiver {n} Phone is the client's own phone")
        if contact is None:
            try:
                roster.add_contact(
                    s.session,
                    s.settings,
                    s.actor,
                    client,
                    values,
                    s.now,
                    via=s.via,
                    confirm_shared=True,
                )
            except roster.PhoneTaken as taken:
                raise Refusal(f"Caregiver {n} Phone: {taken}") from None
            changed = True
        elif any(getattr(contact, k) != v for k, v in values.items()):
            roster.update_contact(s.session, s.settings, s.actor, contact, values, s.now, via=s.via)
            changed = True
    return changed


def _same(series: AppointmentSeries, rhythm: client_csv.Rhythm, now: datetime) -> bool:
    """True when a running series already is this rhythm (a first date given must match)."""
    if series.ends_at is not None and series.ends_at <= now:
        return False
    pickers = series_words.read_rule(series.rrule, series.starts_local.weekday())
    return (
        pickers is not None
        and pickers.count is None
        and set(pickers.days) == set(rhythm.pickers.days)
        and pickers.every == rhythm.pickers.every
        and series.starts_local.time() == rhythm.at
        and series.duration_minutes == rhythm.minutes
        and (rhythm.first is None or series.starts_local.date() == rhythm.first)
    )


def _rhythm(
    job: _Import, client: Client, rhythm: client_csv.Rhythm | None, *, new: bool = False
) -> bool:
    """Start the row's weekly rhythm unless the client (not ``new``) has it already; True
    when started.

    Without a first date it starts today (in the client's zone); either way only the
    sessions after now are booked, so no text is ever planned for a time already past."""
    if rhythm is None:
        return False
    if not new:  # a client just created has no series to look through
        running = job.session.scalars(
            select(AppointmentSeries).where(AppointmentSeries.client_id == client.id)
        )
        if any(_same(series, rhythm, job.now) for series in running):
            return False
    first = rhythm.first or job.now.astimezone(ZoneInfo(client.timezone)).date()
    bookings.start_series(
        job.session,
        job.settings,
        job.actor,
        client,
        starts_local=datetime.combine(first, rhythm.at),
        rrule=series_words.build_rule(rhythm.pickers, first.weekday()),
        duration=rhythm.minutes,
        ends_at=None,
        now=job.now,
        via=job.via,
    )
    return True
