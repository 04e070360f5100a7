"""One row of a client import checked and, for a client the practice already has, applied.

``client_import`` reads the file and runs the import in batches; here each row is checked
against what the import read once up front (``Job``: the accounts, every own phone, every
contact's number) and, when it names an existing client, that client's fields, caregivers
and weekly rhythm are brought to the row through the one write path (``roster``,
``bookings``). A row that cannot be imported raises ``Refusal`` with the reason.

A row's weekly rhythm for a client that already has one running changes that series (from
now on: past sessions stay as they were, only untouched future ones follow, as when the
series is edited on its page, which sends no notice); a client with several running series
is refused, since the row cannot say which one it means.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from service import bookings, roster
from service.config import Settings
from service.domain import client_csv, series_words
from service.models import AppointmentSeries, Client, User
from service.phones import InvalidPhone, normalize
from service.values import is_time_zone

RHYTHM_CHANGED = "weekly rhythm changed"


class Refusal(Exception):
    """A row that cannot be imported; the message says why."""


@dataclass
class Job:
    """What the rows are checked against, read once, and what the import did so far."""

    session: Session
    settings: Settings
    actor: User
    now: datetime
    via: str
    therapists: dict[str, int]  # active accounts' ids by email (lower case)
    by_phone: dict[str, list[tuple[int, str]]]  # an own phone: its clients' ids and names
    book: roster.PhoneBook  # every contact's number: the clients it hears about
    seen: dict[tuple[str, str], int] = field(default_factory=dict)  # (phone, name): row


@dataclass(frozen=True)
class Checked:
    """A row that passed the checks: its own phone, therapist and caregivers' values."""

    row: client_csv.ClientRow
    phone: str
    therapist_id: int | None
    caregivers: list[dict[str, Any]]

    @property
    def phones(self) -> set[str]:
        """Every number the row gives."""
        return {self.phone, *(c["phone"] for c in self.caregivers)}


def _phone(raw: str, region: str, label: str) -> str:
    try:
        return normalize(raw, region)
    except InvalidPhone as exc:
        raise Refusal(f"{label}: invalid phone number: {exc}") from None


def check(job: Job, row: client_csv.ClientRow) -> Checked:
    """The row after the checks only the database and the settings can make; ``Refusal``
    when one fails."""
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
    return Checked(row, phone, therapist_id, _caregivers(job, row))


def _caregivers(job: Job, row: client_csv.ClientRow) -> list[dict[str, Any]]:
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


def existing_id(job: Job, checked: Checked) -> int | None:
    """The id of the client whose own phone and name (case apart) are the row's, or None."""
    for client_id, known in job.by_phone.get(checked.phone, []):
        if known.casefold() == checked.row.name.casefold():
            return client_id
    return None


def check_new(job: Job, checked: Checked) -> roster.NewClient:
    """The client a row for a new client creates, after the checks of its numbers against
    the clients already written; ``Refusal`` when one fails."""
    row = checked.row
    try:
        roster.check_shared(job.session, job.actor, Client(), checked.phone, job.book)
    except roster.SharedPhone as shared:
        raise Refusal(f"Phone: {shared.warning} Add this client on its own page.") from None
    for n, values in enumerate(checked.caregivers, start=1):
        if values["phone"] == checked.phone:
            raise Refusal(f"Caregiver {n} Phone is the client's own phone")
    return roster.NewClient(
        name=row.name,
        phone=checked.phone,
        timezone=row.timezone or job.settings.practice_timezone,
        language=row.language or job.settings.default_language,
        notes=row.notes or "",
        therapist_id=checked.therapist_id,
    )


def update(
    job: Job, client: Client, checked: Checked, series: list[AppointmentSeries]
) -> str | None:
    """Bring an existing (locked) client with these ``series`` to the row: its fields,
    caregivers and rhythm. None when nothing changed, else what to say of it ("" when
    nothing in particular)."""
    changed = _fields(job, client, checked.row, checked.therapist_id)
    changed = contacts(job, client, checked.caregivers) or changed
    rhythm = _rhythm(job, client, series, checked.row.rhythm)
    if rhythm is not None:
        return rhythm
    return "" if changed else None


def _fields(job: Job, client: Client, row: client_csv.ClientRow, therapist: int | None) -> bool:
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


def contacts(job: Job, client: Client, caregivers: list[dict[str, Any]]) -> bool:
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
                add_caregivers(job, [(client, values)])
            except roster.PhoneTaken as taken:
                raise Refusal(f"Caregiver {n} Phone: {taken}") from None
            changed = True
        elif any(getattr(contact, k) != v for k, v in values.items()):
            roster.update_contact(s.session, s.settings, s.actor, contact, values, s.now, via=s.via)
            changed = True
    return changed


def add_caregivers(job: Job, adding: list[tuple[Client, dict[str, Any]]]) -> None:
    """Add these caregivers to their (locked) clients, written together; a caregiver's
    number may be another client's too."""
    s = job
    roster.add_contacts(
        s.session, s.settings, s.actor, adding, s.now, via=s.via, confirm_shared=True, book=s.book
    )


def _running(series: AppointmentSeries, now: datetime) -> bool:
    return series.ends_at is None or series.ends_at > now


def _same(series: AppointmentSeries, rhythm: client_csv.Rhythm) -> bool:
    """True when a series already is this rhythm (a first date given must match)."""
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
    job: Job, client: Client, series: list[AppointmentSeries], rhythm: client_csv.Rhythm | None
) -> str | None:
    """Bring an existing client's weekly series to the row's rhythm: nothing when one
    running series already is it, change the one running series, start one when none
    runs; ``Refusal`` when several run. What to say of it, or None when nothing changed."""
    if rhythm is None:
        return None
    running = [s for s in series if _running(s, job.now)]
    if any(_same(one, rhythm) for one in running):
        return None
    if not running:
        start_rhythms(job, [(client, rhythm)])
        return ""
    if len(running) > 1:
        raise Refusal(
            f"the client has {len(running)} weekly series running, and the row cannot say"
            " which to change: change it on the client's page, or end the others there first"
        )
    first, rule = _first_and_rule(job, client, rhythm)
    changes = {"starts_local": first, "rrule": rule, "duration_minutes": rhythm.minutes}
    s = job
    bookings.change_series(s.session, s.settings, s.actor, running[0], changes, s.now, via=s.via)
    return RHYTHM_CHANGED


def _first_and_rule(job: Job, client: Client, rhythm: client_csv.Rhythm) -> tuple[datetime, str]:
    """The first start (local) and rule of a series of this rhythm: from its first date, or
    without one from today in the client's zone."""
    first = rhythm.first or job.now.astimezone(ZoneInfo(client.timezone)).date()
    return datetime.combine(first, rhythm.at), series_words.build_rule(
        rhythm.pickers, first.weekday()
    )


def start_rhythms(job: Job, rhythms: list[tuple[Client, client_csv.Rhythm]]) -> None:
    """Start each rhythm's series for its (locked) client, written together. Only the
    sessions after now are booked, so no text is ever planned for a time already past."""
    starts = []
    for client, rhythm in rhythms:
        first, rule = _first_and_rule(job, client, rhythm)
        starts.append(bookings.SeriesStart(client, first, rule, rhythm.minutes, None))
    bookings.start_many(job.session, job.settings, job.actor, starts, now=job.now, via=job.via)
