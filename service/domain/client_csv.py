"""A CSV file of clients read into rows of plain values, each with the problems found in it.

The file is what a spreadsheet or a practice system's client export writes: UTF-8 with or
without a byte-order mark, commas or semicolons (Excel in Spanish locales; the header line
tells which), quoted fields (which may hold the separator or a line break), CRLF or LF. The
header row is matched by name forgivingly: case, spaces, accents and punctuation do not
count, and the column names of common exports are aliases ("First Name" + "Last Name",
"Mobile Phone", "Cell", "Practitioner Email"...). Unknown columns are ignored.

Rows are numbered as a spreadsheet shows them: the header is row 1, the first client row 2
(a quoted line break does not start a new row). Only what needs no database is judged here;
phone numbers, therapists and time zones are the importer's to check.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, time

from service.domain import folding, series_words

MAX_ROWS = 5000
MAX_MINUTES = 12 * 60
MIN_MINUTES = 5
DEFAULT_MINUTES = 60
CAREGIVERS = (1, 2)
TEXT_MAX = 200
NOTES_MAX = 5000

# Each field and the header names (reduced by ``_key``) that stand for it.
ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("name", "fullname", "clientname", "patientname"),
    "first_name": ("firstname", "givenname", "first"),
    "last_name": ("lastname", "surname", "familyname", "last"),
    "phone": (
        "phone",
        "phonenumber",
        "mobile",
        "mobilephone",
        "mobilenumber",
        "cell",
        "cellphone",
        "cellnumber",
    ),
    "timezone": ("timezone", "tz", "zone"),
    "language": ("language", "lang", "preferredlanguage"),
    "therapist": (
        "therapist",
        "therapistemail",
        "practitioner",
        "practitioneremail",
        "provider",
        "provideremail",
    ),
    "notes": ("notes", "note", "comments"),
    "days": ("days", "weekdays", "sessiondays"),
    "time": ("time", "sessiontime", "starttime"),
    "minutes": ("length", "minutes", "duration", "lengthminutes", "durationminutes"),
    "first_date": ("firstdate", "startdate", "firstsession"),
}
CAREGIVER_PARTS = ("name", "relation", "phone", "reminders", "checkins")
for _n in CAREGIVERS:
    ALIASES |= {f"caregiver{_n}_{part}": (f"caregiver{_n}{part}",) for part in CAREGIVER_PARTS}
_FIELD_OF = {alias: field for field, aliases in ALIASES.items() for alias in aliases}
_YES = {"yes", "y", "true", "1", "si", "x"}
_NO = {"no", "n", "false", "0"}
_LANGUAGES = {
    "en": "en",
    "english": "en",
    "ingles": "en",
    "es": "es",
    "spanish": "es",
    "espanol": "es",
    "castellano": "es",
}
_TIME = re.compile(r"(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ISO_DATE = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})")


class Unreadable(ValueError):
    """A file that cannot be read as clients at all; the message says why."""


@dataclass(frozen=True)
class Caregiver:
    """A caregiver's phone as the file gives it (the number not yet checked)."""

    name: str
    relation: str
    phone: str
    reminders: bool
    checkins: bool


@dataclass(frozen=True)
class Rhythm:
    """A weekly rhythm: weekdays (``series_words.DAYS`` codes), every how many weeks, the
    local time, the length, and the first day it may fall on (None: from today)."""

    pickers: series_words.Pickers
    at: time
    minutes: int
    first: date | None


@dataclass(frozen=True)
class ClientRow:
    """One row of the file: its values (None: not given) and what is wrong with it."""

    row: int
    name: str
    phone: str
    timezone: str | None = None
    language: str | None = None
    therapist: str | None = None
    notes: str | None = None
    caregivers: tuple[Caregiver, ...] = ()
    rhythm: Rhythm | None = None
    problems: tuple[str, ...] = ()


def _key(header: str) -> str:
    """A header name reduced to what counts: letters and digits, lower case, no accents."""
    return "".join(c for c in folding.fold(header)[0] if c.isalnum())


def _plain(value: str) -> str:
    """A value as compared: case, accents and extra spaces aside ("Sí" -> "si")."""
    return folding.fold(value)[0].strip()


def separator(first_line: str) -> str:
    """The separator the header line uses: a semicolon when it has more of them than
    commas outside quotes, else a comma."""
    outside = re.sub(r'"[^"]*"', "", first_line)
    return ";" if outside.count(";") > outside.count(",") else ","


def columns(header: list[str]) -> dict[str, int]:
    """Each known field and the index of its column; ``Unreadable`` when the header names
    no client, no phone, or one field twice."""
    found: dict[str, int] = {}
    for index, name in enumerate(header):
        field = _FIELD_OF.get(_key(name))
        if field is None:
            continue
        if field in found:
            raise Unreadable(
                f"two columns mean the same thing: {header[found[field]]!r} and {name!r}"
            )
        found[field] = index
    if "name" not in found and "first_name" not in found and "last_name" not in found:
        raise Unreadable("the header row has no name column (Name, or First Name and Last Name)")
    if "phone" not in found:
        raise Unreadable("the header row has no phone column (Phone, Mobile Phone, Cell...)")
    return found


def yes_no(value: str, default: bool) -> bool | None:
    """A yes or no cell (yes/no, y/n, true/false, 1/0; empty: ``default``); None when it is
    neither."""
    plain = _plain(value)
    if not plain:
        return default
    return True if plain in _YES else False if plain in _NO else None


def clock(value: str) -> time | None:
    """A time of day such as ``10:00``, ``14.30``, ``10am`` or ``2:30 PM``, or None."""
    found = _TIME.fullmatch(_plain(value).replace(" ", ""))
    if found is None:
        return None
    hour, minute, half = int(found.group(1)), int(found.group(2) or 0), found.group(3)
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half.startswith("p") else 0)
    return time(hour, minute) if hour < 24 and minute < 60 else None


def day(value: str) -> date | None:
    """A date written year first (``2027-03-04`` or ``2027/3/4``), or None."""
    found = _ISO_DATE.fullmatch(value.strip())
    if found is None:
        return None
    try:
        return date(*(int(part) for part in found.groups()))
    except ValueError:
        return None


def language(value: str) -> str | None:
    """A language code (``en``/``es``) from a code or a name (English, Español), or None."""
    return _LANGUAGES.get(_plain(value))


def read(text: str) -> list[ClientRow]:
    """The file's client rows (blank rows skipped); ``Unreadable`` when it has no header
    row, a header that names no client or phone, or more than ``MAX_ROWS`` rows."""
    text = text.removeprefix("\ufeff")
    first_line = text.split("\n", 1)[0]
    if not first_line.strip():
        raise Unreadable("the file is empty: the first line must be the header row")
    records = csv.reader(io.StringIO(text, newline=""), delimiter=separator(first_line))
    try:
        header = next(records)
        found = columns(header)
        rows: list[ClientRow] = []
        for number, cells in enumerate(records, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) == MAX_ROWS:
                raise Unreadable(f"the file has more than {MAX_ROWS} rows: split it")
            rows.append(
                _row(number, {f: cells[i] if i < len(cells) else "" for f, i in found.items()})
            )
    except csv.Error as exc:
        raise Unreadable(f"the file is not readable as CSV: {exc}") from None
    return rows


def _row(number: int, cells: dict[str, str]) -> ClientRow:
    """One row read from its cells by field."""
    values = {field: value.strip() for field, value in cells.items()}
    problems: list[str] = []
    name = values.get("name") or " ".join(
        filter(None, (values.get("first_name"), values.get("last_name")))
    )
    if not name:
        problems.append("the name is missing")
    phone = values.get("phone", "")
    if not phone:
        problems.append("the phone is missing")
    for field, limit in (("name", TEXT_MAX), ("notes", NOTES_MAX)):
        if len(name if field == "name" else values.get(field, "")) > limit:
            problems.append(f"{field} is longer than {limit} characters")
    if any(_CONTROL.search(v) for f, v in values.items() if f != "notes"):
        problems.append("a cell holds a control character")
    if _CONTROL.search(re.sub(r"[\r\n\t]", "", values.get("notes", ""))):
        problems.append("Notes hold a control character")
    spoken = values.get("language") or None
    if spoken is not None and language(spoken) is None:
        problems.append(f"Language {spoken!r} is not English (en) or Spanish (es)")
    return ClientRow(
        row=number,
        name=" ".join(name.split()),
        phone=phone,
        timezone=values.get("timezone") or None,
        language=language(spoken) if spoken else None,
        therapist=(values.get("therapist") or "").lower() or None,
        notes=values.get("notes") or None,
        caregivers=tuple(_caregivers(values, problems)),
        rhythm=_rhythm(values, problems),
        problems=tuple(problems),
    )


def _caregivers(values: dict[str, str], problems: list[str]) -> list[Caregiver]:
    """The row's caregivers (a caregiver is given by a phone); problems noted."""
    found = []
    for n in CAREGIVERS:
        cell = {part: values.get(f"caregiver{n}_{part}", "") for part in CAREGIVER_PARTS}
        if not any(cell.values()):
            continue
        if not cell["phone"]:
            problems.append(f"Caregiver {n} has no phone")
            continue
        reminders, checkins = yes_no(cell["reminders"], True), yes_no(cell["checkins"], False)
        for label, answer in (("Reminders", reminders), ("Check-ins", checkins)):
            if answer is None:
                problems.append(f"Caregiver {n} {label}: write yes or no")
        found.append(
            Caregiver(
                name=cell["name"][:TEXT_MAX] or f"Caregiver {n}",
                relation=cell["relation"][:40] or "caregiver",
                phone=cell["phone"],
                reminders=bool(reminders),
                checkins=bool(checkins),
            )
        )
    return found


def _rhythm(values: dict[str, str], problems: list[str]) -> Rhythm | None:
    """The row's weekly rhythm, or None when it gives none (or a wrong one: problems noted)."""
    days, at = values.get("days", ""), values.get("time", "")
    length, first = values.get("minutes", ""), values.get("first_date", "")
    if not days:
        if at or length or first:
            problems.append("Days is missing: a rhythm needs its weekdays (e.g. Mon,Thu)")
        return None
    before = len(problems)
    pickers = series_words.read_words(days)
    if pickers is None:
        problems.append(f"Days {days!r}: a weekday it cannot read (write e.g. Mon,Thu)")
    starts = clock(at) if at else None
    if starts is None:
        problems.append(f"Time {at!r} is not a time of day (e.g. 10:00 or 2:30pm)")
    # ASCII digits only: "²".isdigit() is true, and int() refuses it.
    minutes = int(length) if length.isascii() and length.isdigit() and len(length) < 5 else None
    if length and (minutes is None or not MIN_MINUTES <= minutes <= MAX_MINUTES):
        problems.append(f"Length must be {MIN_MINUTES} to {MAX_MINUTES} minutes")
    first_day = day(first) if first else None
    if first and first_day is None:
        problems.append(f"First Date {first!r}: write the date as YYYY-MM-DD")
    if len(problems) > before or pickers is None or starts is None:
        return None
    return Rhythm(pickers, starts, minutes or DEFAULT_MINUTES, first_day)
