"""Series rules in words: pickers to RRULE and back, typed words, and the summary (EN, ES)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from service.domain.series_words import Pickers, build_rule, read_rule, read_words, summary

MON, TUE, THU = 0, 1, 3


@pytest.mark.parametrize(
    ("pickers", "first_weekday", "rule"),
    [
        (Pickers(), MON, "FREQ=WEEKLY"),
        (Pickers(("MO",)), MON, "FREQ=WEEKLY"),
        (Pickers(("MO",)), TUE, "FREQ=WEEKLY;BYDAY=MO"),
        (Pickers(("TH", "MO")), MON, "FREQ=WEEKLY;BYDAY=MO,TH"),
        (Pickers(("TU",), every=2), TUE, "FREQ=WEEKLY;INTERVAL=2"),
        (Pickers(("MO", "WE", "FR"), 3, 12), MON, "FREQ=WEEKLY;INTERVAL=3;BYDAY=MO,WE,FR;COUNT=12"),
    ],
)
def test_pickers_build_the_rule(pickers: Pickers, first_weekday: int, rule: str) -> None:
    assert build_rule(pickers, first_weekday) == rule


@pytest.mark.parametrize(
    ("rule", "first_weekday", "pickers"),
    [
        ("FREQ=WEEKLY", THU, Pickers(("TH",))),
        ("FREQ=WEEKLY;BYDAY=MO,TH", MON, Pickers(("MO", "TH"))),
        ("rrule:freq=weekly;byday=th,mo;interval=2", MON, Pickers(("MO", "TH"), 2)),
        ("FREQ=WEEKLY;INTERVAL=2;COUNT=3", TUE, Pickers(("TU",), 2, 3)),
        ("FREQ=WEEKLY;WKST=MO;BYDAY=FR", MON, Pickers(("FR",))),
        ("FREQ=MONTHLY", MON, None),
        ("FREQ=WEEKLY;BYDAY=1MO", MON, None),
        ("FREQ=WEEKLY;UNTIL=20270301", MON, None),
        ("FREQ=WEEKLY;WKST=SU;INTERVAL=2", MON, None),
        ("FREQ=WEEKLY;BYDAY=MO,MO", MON, None),
        ("FREQ=WEEKLY;COUNT=0", MON, None),
        ("FREQ=WEEKLY;FREQ=WEEKLY", MON, None),
        ("every monday", MON, None),
    ],
)
def test_a_stored_rule_reads_back_into_pickers_when_they_can_say_it(
    rule: str, first_weekday: int, pickers: Pickers | None
) -> None:
    assert read_rule(rule, first_weekday) == pickers


@pytest.mark.parametrize(
    "pickers", [Pickers(("MO", "TH")), Pickers(("TU",), 2, 12), Pickers(("SA", "SU"), 4)]
)
def test_pickers_survive_a_round_trip(pickers: Pickers) -> None:
    assert read_rule(build_rule(pickers, MON), MON) == pickers


@pytest.mark.parametrize(
    ("words", "pickers"),
    [
        ("every monday and thursday", Pickers(("MO", "TH"))),
        ("Every Mon & Thu", Pickers(("MO", "TH"))),
        ("every other Tuesday", Pickers(("TU",), 2)),
        ("mondays, wednesdays and fridays", Pickers(("MO", "WE", "FR"))),
        ("every 3 weeks on sat", Pickers(("SA",), 3)),
        ("cada lunes y jueves", Pickers(("MO", "TH"))),
        ("cada dos semanas, miércoles", Pickers(("WE",), 2)),
        ("every monday except holidays", None),
        ("every day", None),
        ("every 99 weeks on mon", None),
        ("", None),
    ],
)
def test_a_rule_typed_in_words_is_read(words: str, pickers: Pickers | None) -> None:
    assert read_words(words) == pickers


@pytest.mark.parametrize(
    ("rule", "first", "minutes", "last_day", "language", "words"),
    [
        (
            "FREQ=WEEKLY;BYDAY=MO,TH",
            datetime(2027, 1, 4, 10, 0),
            60,
            None,
            "en",
            "Every Mon and Thu at 10:00 AM, 60 min",
        ),
        (
            "FREQ=WEEKLY;INTERVAL=2",
            datetime(2027, 1, 5, 16, 30),
            45,
            date(2027, 3, 1),
            "en",
            "Every other Tue at 4:30 PM, 45 min, until Mar 1",
        ),
        (
            "FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=12",
            datetime(2027, 1, 4, 12, 5),
            30,
            None,
            "en",
            "Every Mon, Wed and Fri at 12:05 PM, 30 min, 12 sessions",
        ),
        (
            "FREQ=WEEKLY;INTERVAL=3;COUNT=1",
            datetime(2027, 12, 4, 0, 15),
            60,
            date(2028, 1, 9),
            "en",
            "Every 3 weeks on Sat at 12:15 AM, 60 min, 1 session, until Jan 9, 2028",
        ),
        (
            "FREQ=MONTHLY",
            datetime(2027, 1, 4, 9, 0),
            60,
            None,
            "en",
            "Custom rule FREQ=MONTHLY at 9:00 AM, 60 min",
        ),
        (
            "FREQ=WEEKLY;BYDAY=MO,TH",
            datetime(2027, 1, 4, 10, 0),
            60,
            None,
            "es",
            "Cada lun y jue a las 10:00, 60 min",
        ),
        (
            "FREQ=WEEKLY;INTERVAL=2;COUNT=12",
            datetime(2027, 1, 5, 16, 30),
            45,
            date(2027, 3, 1),
            "es",
            "Cada dos semanas, mar a las 16:30, 45 min, 12 sesiones, hasta el 1 mar",
        ),
        (
            "FREQ=WEEKLY;INTERVAL=4;BYDAY=WE,SA;COUNT=1",
            datetime(2027, 1, 6, 13, 0),
            50,
            date(2028, 2, 2),
            "es",
            "Cada 4 semanas, mié y sáb a las 13:00, 50 min, 1 sesión, hasta el 2 feb 2028",
        ),
        (
            "FREQ=DAILY",
            datetime(2027, 1, 4, 8, 0),
            60,
            None,
            "es",
            "Regla propia FREQ=DAILY a las 08:00, 60 min",
        ),
    ],
)
def test_the_summary_reads_like_the_practice_speaks(
    rule: str, first: datetime, minutes: int, last_day: date | None, language: str, words: str
) -> None:
    assert summary(rule, first, minutes, last_day=last_day, language=language) == words
