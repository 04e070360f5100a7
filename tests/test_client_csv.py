"""Reading a CSV file of clients: each dialect, the header's aliases, caregivers, rhythms."""

from __future__ import annotations

from datetime import date, time

import pytest

from service.domain import client_csv
from service.domain.client_csv import Unreadable, read

PLAIN = "Name,Phone\nAna Ruiz,617-555-0101\nBen Cole,617-555-0102\n"


@pytest.mark.parametrize(
    "text",
    [
        PLAIN,
        "\ufeff" + PLAIN,  # Excel's "CSV UTF-8"
        PLAIN.replace("\n", "\r\n"),  # Windows line ends
        PLAIN.replace(",", ";"),  # Excel in Spanish locales
        '"Name","Phone"\r\n"Ana Ruiz","617-555-0101"\r\n"Ben Cole","617-555-0102"',
        "Name,Phone\n\nAna Ruiz,617-555-0101\n,\nBen Cole,617-555-0102\n",  # blank rows
    ],
    ids=["plain", "bom", "crlf", "semicolon", "quoted", "blank-rows"],
)
def test_each_dialect_reads_the_same_clients(text: str) -> None:
    rows = read(text)
    assert [(r.name, r.phone, r.problems) for r in rows] == [
        ("Ana Ruiz", "617-555-0101", ()),
        ("Ben Cole", "617-555-0102", ()),
    ]


def test_rows_are_numbered_as_a_spreadsheet_shows_them() -> None:
    text = 'Name,Phone,Notes\nAna,1,"line one\r\nline two"\n\nBen,2,\n'
    rows = read(text)
    assert [r.row for r in rows] == [2, 4]
    assert rows[0].notes == "line one\r\nline two"


def test_quoted_fields_keep_separators_and_quotes() -> None:
    text = 'Name;Phone;Notes\n"Ruiz; Ana";617 555 0101;"says ""hi"", often"\n'
    [row] = read(text)
    assert (row.name, row.notes) == ("Ruiz; Ana", 'says "hi", often')


def test_a_semicolon_file_with_commas_in_a_quoted_header_is_still_semicolon() -> None:
    [row] = read('"Name, full";"Phone"\nAna;1\n'.replace('"Name, full"', "Name"))
    assert row.name == "Ana"


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Full Name", "name"),
        ("CLIENT NAME", "name"),
        ("Mobile Phone", "phone"),
        ("mobile", "phone"),
        ("Cell", "phone"),
        ("Cell-Phone", "phone"),
        ("Phone Number", "phone"),
        ("Time Zone", "timezone"),
        ("timezone", "timezone"),
        ("Language", "language"),
        ("Therapist Email", "therapist"),
        ("Practitioner Email", "therapist"),
        ("Provider", "therapist"),
        ("Notes", "notes"),
        ("Caregiver 1 Check-ins", "caregiver1_checkins"),
        ("caregiver_2_reminders", "caregiver2_reminders"),
        ("Start Date", "first_date"),
        ("Minutes", "minutes"),
        ("Length", "minutes"),
        ("Días", "days"),  # accents do not count: "dias" is no alias, so this is ignored
    ],
)
def test_header_aliases(header: str, field: str) -> None:
    others = [h for h, f in (("Name", "name"), ("Phone", "phone")) if f != field]
    found = client_csv.columns([*others, header])
    if header == "Días":
        assert "days" not in found
    else:
        assert field in found


def test_first_and_last_name_are_joined() -> None:
    [row] = read("First Name,Last Name,Mobile Phone\n Ana , Ruiz ,617-555-0101\n")
    assert row.name == "Ana Ruiz"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("\ufeff\n", "empty"),
        ("Phone\n1\n", "no name column"),
        ("Name\nAna\n", "no phone column"),
        ("Name,Mobile,Cell\nAna,1,2\n", "two columns"),
    ],
)
def test_unreadable_files(text: str, message: str) -> None:
    with pytest.raises(Unreadable, match=message):
        read(text)


def test_more_than_the_limit_of_rows_is_unreadable() -> None:
    text = "Name,Phone\n" + "Ana,1\n" * (client_csv.MAX_ROWS + 1)
    with pytest.raises(Unreadable, match="more than 5000 rows"):
        read(text)
    assert len(read("Name,Phone\n" + "Ana,1\n" * client_csv.MAX_ROWS)) == client_csv.MAX_ROWS


def test_caregiver_columns() -> None:
    header = (
        "Name,Phone,Caregiver 1 Name,Caregiver 1 Relation,Caregiver 1 Phone,"
        "Caregiver 1 Reminders,Caregiver 1 Check-ins,Caregiver 2 Name,Caregiver 2 Phone,"
        "Caregiver 2 Reminders,Caregiver 2 Check-ins"
    )
    [row] = read(f"{header}\nAna,1,Rosa,daughter,2,no,Yes,,3,y,1\n")
    assert [(c.name, c.relation, c.phone, c.reminders, c.checkins) for c in row.caregivers] == [
        ("Rosa", "daughter", "2", False, True),
        ("Caregiver 2", "caregiver", "3", True, True),
    ]


@pytest.mark.parametrize(
    ("cells", "problem"),
    [
        ("Rosa,2,maybe,", "Caregiver 1 Reminders: write yes or no"),
        ("Rosa,,,", "Caregiver 1 has no phone"),
    ],
)
def test_caregiver_problems(cells: str, problem: str) -> None:
    text = "Name,Phone,Caregiver 1 Name,Caregiver 1 Phone,Caregiver 1 Reminders,x\n"
    [row] = read(text + "Ana,1," + cells + "\n")
    assert problem in row.problems


@pytest.mark.parametrize(
    ("days", "codes", "every"),
    [
        ("Mon,Thu", ("MO", "TH"), 1),
        ("Monday; Thursday", ("MO", "TH"), 1),
        ("lunes y jueves", ("MO", "TH"), 1),
        ("miércoles", ("WE",), 1),
        ("every other Tue", ("TU",), 2),
    ],
)
def test_rhythm_days(days: str, codes: tuple[str, ...], every: int) -> None:
    text = f'Name,Phone,Days,Time,Length,First Date\nAna,1,"{days}",10am,45,2027-03-01\n'
    [row] = read(text)
    assert row.rhythm is not None, row.problems
    assert (row.rhythm.pickers.days, row.rhythm.pickers.every) == (codes, every)
    assert (row.rhythm.at, row.rhythm.minutes, row.rhythm.first) == (
        time(10),
        45,
        date(2027, 3, 1),
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10:00", time(10)),
        ("9:30", time(9, 30)),
        ("14.15", time(14, 15)),
        ("10am", time(10)),
        ("2:30 PM", time(14, 30)),
        ("12am", time(0)),
        ("12 p.m.", time(12)),
        ("25:00", None),
        ("13pm", None),
        ("noon", None),
    ],
)
def test_clock(value: str, expected: time | None) -> None:
    assert client_csv.clock(value) == expected


@pytest.mark.parametrize(
    ("cells", "problem"),
    [
        ("Mon,10:00,60,2027-02-30", "First Date '2027-02-30'"),
        ("Mon,10:00,60,03/04/2027", "First Date '03/04/2027'"),
        ("Mon,,60,", "Time '' is not a time of day"),
        ("Funday,10:00,60,", "Days 'Funday': a weekday it cannot read"),
        ("Mon,10:00,2,", "Length must be 5 to 720 minutes"),
        ("Mon,10:00,²,", "Length must be 5 to 720 minutes"),  # a digit to isdigit, not to int
        ("Mon,10:00,6²,", "Length must be 5 to 720 minutes"),
        (",10:00,60,", "Days is missing"),
    ],
)
def test_rhythm_problems(cells: str, problem: str) -> None:
    [row] = read("Name,Phone,Days,Time,Minutes,Start Date\nAna,1," + cells + "\n")
    assert row.rhythm is None
    assert any(p.startswith(problem) for p in row.problems), row.problems


def test_a_rhythm_without_length_or_date_takes_an_hour_from_today() -> None:
    [row] = read("Name,Phone,Days,Time\nAna,1,Fri,16:00\n")
    assert row.rhythm is not None
    assert (row.rhythm.minutes, row.rhythm.first) == (60, None)


@pytest.mark.parametrize(
    ("cells", "problem"),
    [
        (",1,", "the name is missing"),
        ("Ana,,", "the phone is missing"),
        ("Ana,1,Klingon", "Language 'Klingon'"),
    ],
)
def test_row_problems(cells: str, problem: str) -> None:
    [row] = read("Name,Phone,Language\n" + cells + "\n")
    assert any(p.startswith(problem) for p in row.problems), row.problems


def test_values_read_forgivingly() -> None:
    [row] = read(
        "Name,Phone,Language,Therapist,Time Zone\nAna,1,Español,Ana@X.test,Europe/Madrid\n"
    )
    assert (row.language, row.therapist, row.timezone) == ("es", "ana@x.test", "Europe/Madrid")


def test_control_characters_are_a_problem_but_line_breaks_in_notes_are_not() -> None:
    [ok, bad, worse] = read('Name,Phone,Notes\nAna,1,"a\r\n\tb"\nBen\x01,2,\nCy,3,"x\x07"\n')
    assert ok.problems == ()
    assert bad.problems == ("a cell holds a control character",)
    assert worse.problems == ("Notes hold a control character",)
