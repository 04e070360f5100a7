"""Bringing a practice's clients in from a CSV file, all or nothing.

Each row of the file (read by ``domain.client_csv``) is checked against the database and
planned: **created** (a new client), **updated** (a client with the same phone and name
already exists: the fields the row gives replace its own, caregivers are added or changed by
phone, its weekly rhythm is started, or changes the one series running when that differs:
"weekly rhythm changed"), **unchanged** (it exists and the row changes nothing: no write,
no audit entry) or **refused** with the reason (a bad phone, an unknown therapist or time
zone, a weekday it cannot read, a rhythm for a client with several series running...); the
rows themselves are ``import_rows``'. Everything is written through the one write path
(``roster``, ``bookings``), so an imported series is planned as any other: its occurrences
from now on, never a text for a time already past.

A file of thousands of rows is imported in one transaction, linearly: what the rows are
checked against (accounts, own phones, every contact's number) is read once; rows are taken
``BATCH`` at a time, their existing clients (and series) read and locked in one query each,
their new clients written together; texts are planned once per client at the end
(``planner.REPLAN_LATER``) and only when the import is to be committed.

Nothing here commits: the caller commits when ``Result.write`` says so and rolls back
otherwise (any refused row, or a dry run). One entry in the audit log records the import
(who, how many rows of each outcome) beside the entries of the writes themselves.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import audit, planner, roster
from service.config import Settings
from service.db import lock_all
from service.domain import client_csv
from service.import_rows import (
    Checked,
    Job,
    Refusal,
    add_caregivers,
    check,
    check_new,
    existing_id,
    start_rhythms,
)
from service.import_rows import update as update_existing
from service.models import SELF, AppointmentSeries, Client, Contact, User

OUTCOMES = ("created", "updated", "unchanged", "refused")
# A file of 5,000 rows with caregivers and rhythms fits well within this.
MAX_BYTES = 2 * 1024 * 1024
BATCH = 200  # rows written and let go of together


@dataclass(frozen=True)
class Outcome:
    """What the import does (or did) with one row of the file."""

    row: int
    outcome: str
    reason: str | None = None  # why refused; for an update, what to know of it (or None)
    client_id: int | None = None

    def as_json(self) -> dict[str, Any]:
        """The outcome as the API and the page show it (a reason only when there is one)."""
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
    book = roster.PhoneBook(session)
    job = Job(session, settings, actor, now, via, _therapists(session), _own_phones(session), book)
    outcomes: list[Outcome] = []
    later: set[int] = set()
    session.info[planner.REPLAN_LATER] = later  # every client re-planned once, at the end
    try:
        for first in range(0, len(rows), BATCH):
            outcomes += _batch(job, rows[first : first + BATCH])
            _forget_rows(session, actor)
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


@dataclass
class _Batch:
    """Rows read together: their existing clients and series (locked), the new clients
    waiting to be written together, and each row's outcome so far (None: to be created)."""

    clients: dict[int, Client]
    series: dict[int, list[AppointmentSeries]]
    new: list[tuple[int, Checked, roster.NewClient]]
    outcomes: list[Outcome | None]


def _batch(job: Job, rows: Sequence[client_csv.ClientRow]) -> list[Outcome]:
    """Check and write these rows; their outcomes, in order."""
    checked: list[Checked | Refusal] = []
    for row in rows:
        try:
            checked.append(check(job, row))
        except Refusal as refusal:
            checked.append(refusal)
    ids = {i for c in checked if isinstance(c, Checked) and (i := existing_id(job, c))}
    batch = _Batch(*_lock_existing(job.session, ids), new=[], outcomes=[])
    for row, one in zip(rows, checked, strict=True):
        try:
            if isinstance(one, Refusal):
                raise one
            batch.outcomes.append(_row(job, batch, one))
        except Refusal as refusal:
            batch.outcomes.append(Outcome(row.row, "refused", str(refusal)))
    _write_new(job, batch)
    return [o for o in batch.outcomes if o is not None]


def _row(job: Job, batch: _Batch, checked: Checked) -> Outcome | None:
    """One checked row: an existing client brought to it, or a new client noted for
    ``_write_new`` (None). The new clients waiting are written first when the row gives one
    of their numbers, so that the row's checks see them."""
    if any(checked.phones & one.phones for _, one, _ in batch.new):
        _write_new(job, batch)
    client_id = existing_id(job, checked)
    if client_id is None or client_id not in batch.clients:
        if client_id is not None:  # gone since the import began
            raise Refusal("the client with this phone and name was just removed: try again")
        batch.new.append((len(batch.outcomes), checked, check_new(job, checked)))
        return None
    client = batch.clients[client_id]
    said = update_existing(job, client, checked, batch.series.get(client_id, []))
    row = checked.row.row
    if said is None:
        return Outcome(row, "unchanged", client_id=client_id)
    return Outcome(row, "updated", said or None, client_id=client_id)


def _write_new(job: Job, batch: _Batch) -> None:
    """Write the new clients waiting, together, then their caregivers and rhythms; their
    rows' outcomes."""
    if not batch.new:
        return
    s = job
    values = [new for _, _, new in batch.new]
    made = roster.create_clients(s.session, s.actor, values, via=s.via, book=s.book)
    pairs = list(zip(batch.new, made, strict=True))
    add_caregivers(job, [(client, c) for (_, one, _), client in pairs for c in one.caregivers])
    rhythms = [(client, one.row.rhythm) for (_, one, _), client in pairs if one.row.rhythm]
    start_rhythms(job, rhythms)
    for (at, checked, _), client in zip(batch.new, made, strict=True):
        batch.outcomes[at] = Outcome(checked.row.row, "created", client_id=client.id)
    batch.new.clear()


def _lock_existing(
    session: Session, ids: set[int]
) -> tuple[dict[int, Client], dict[int, list[AppointmentSeries]]]:
    """These clients and their series, locked (clients first, as every writer), by id."""
    if not ids:
        return {}, {}
    clients = {c.id: c for c in lock_all(session, Client, sorted(ids))}
    series_ids = session.scalars(
        select(AppointmentSeries.id).where(AppointmentSeries.client_id.in_(sorted(clients)))
    ).all()
    series: dict[int, list[AppointmentSeries]] = {}
    for one in lock_all(session, AppointmentSeries, sorted(series_ids)):
        series.setdefault(one.client_id, []).append(one)
    return clients, series


def _unsaved(outcome: Outcome) -> Outcome:
    """The outcome without the id of a client created in what is rolled back."""
    return replace(outcome, client_id=None) if outcome.outcome == "created" else outcome


def _forget_rows(session: Session, actor: User) -> None:
    """Write what the last ``BATCH`` rows did and let go of their rows (all but the actor's
    account), so that the session never holds thousands of rows: each flush looks at a
    batch, and the import stays linear in the length of the file. The transaction (and its
    locks) goes on."""
    session.flush()
    for held in list(session.identity_map.values()):
        if held is not actor and held in session:  # a client takes its contacts along
            session.expunge(held)


def decode(data: bytes) -> str:
    """A file's bytes as text: UTF-8, with or without a byte-order mark, line breaks as
    "\n" wherever they stand (a note's "\r\n" too: the text box sends the same file back
    that way, and it must import alike); ``Unreadable`` when it is not, or is empty."""
    if not data.strip():
        raise client_csv.Unreadable("the file is empty: the first line must be the header row")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise client_csv.Unreadable("the file is not UTF-8 text: save it as 'CSV UTF-8'") from None
    if "\x00" in text:
        raise client_csv.Unreadable("the file holds a NUL character: it is not a CSV file")
    return text.replace("\r\n", "\n")


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
