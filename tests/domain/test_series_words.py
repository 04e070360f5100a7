"""Series rules in words: pickers to RRULE and back, typed words, and the summary (EN, ES)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from service.domain.series_words import (
    Pickers,
    build_rule,
    read_rule,
    read_words,
    rule_words,
    summary,
    until_day,
)

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
            "Monthly on the 4th at 9:00 AM, 60 min",
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
            "Cada día a las 08:00, 60 min",
        ),
    ],
)
def test_the_summary_reads_like_the_practice_speaks(
    rule: str, first: datetime, minutes: int, last_day: date | None, language: str, words: str
) -> None:
    assert summary(rule, first, minutes, last_day=last_day, language=language) == words


MONDAY_10 = datetime(2027, 1, 4, 10, 0)  # a Monday, the 4th
NEW_YORK = "America/New_York"  # UTC-5 in winter: 10:00 local is 15:00Z


@pytest.mark.parametrize(
    ("rule", "last_day", "english", "spanish"),
    [
        # Weekly, with the end or the count wherever and however the rule holds it.
        (
            "FREQ=WEEKLY;BYDAY=MO,TH;UNTIL=20270301",
            None,
            "Every Mon and Thu at 10:00 AM, 60 min, until Mar 1",
            "Cada lun y jue a las 10:00, 60 min, hasta el 1 mar",
        ),
        (
            "RRULE:until=20270301T150000Z;byday=mo;freq=weekly",
            None,
            "Every Mon at 10:00 AM, 60 min, until Mar 1",
            "Cada lun a las 10:00, 60 min, hasta el 1 mar",
        ),
        (
            "FREQ=WEEKLY;UNTIL=20270301T145959Z",
            None,
            "Every Mon at 10:00 AM, 60 min, until Feb 28",
            "Cada lun a las 10:00, 60 min, hasta el 28 feb",
        ),
        (
            "FREQ=WEEKLY;UNTIL=20270301T093000",
            None,
            "Every Mon at 10:00 AM, 60 min, until Feb 28",
            "Cada lun a las 10:00, 60 min, hasta el 28 feb",
        ),
        (
            "FREQ=WEEKLY;UNTIL=20270301",
            date(2027, 2, 14),
            "Every Mon at 10:00 AM, 60 min, until Feb 14",
            "Cada lun a las 10:00, 60 min, hasta el 14 feb",
        ),
        (
            "FREQ=WEEKLY;UNTIL=99991231T235959Z",
            None,
            "Every Mon at 10:00 AM, 60 min",
            "Cada lun a las 10:00, 60 min",
        ),
        (
            "COUNT=12;BYDAY=TH,MO;FREQ=WEEKLY",
            None,
            "Every Mon and Thu at 10:00 AM, 60 min, 12 sessions",
            "Cada lun y jue a las 10:00, 60 min, 12 sesiones",
        ),
        (
            "FREQ=WEEKLY;WKST=SU;BYDAY=MO,TH",
            None,
            "Every Mon and Thu at 10:00 AM, 60 min",
            "Cada lun y jue a las 10:00, 60 min",
        ),
        # Every N weeks.
        (
            "FREQ=WEEKLY;INTERVAL=2;UNTIL=20270301",
            None,
            "Every other Mon at 10:00 AM, 60 min, until Mar 1",
            "Cada dos semanas, lun a las 10:00, 60 min, hasta el 1 mar",
        ),
        (
            "FREQ=WEEKLY;INTERVAL=3;BYDAY=MO,FR",
            None,
            "Every 3 weeks on Mon and Fri at 10:00 AM, 60 min",
            "Cada 3 semanas, lun y vie a las 10:00, 60 min",
        ),
        # Daily.
        ("FREQ=DAILY", None, "Every day at 10:00 AM, 60 min", "Cada día a las 10:00, 60 min"),
        (
            "FREQ=DAILY;INTERVAL=2;COUNT=10",
            None,
            "Every 2 days at 10:00 AM, 60 min, 10 sessions",
            "Cada dos días a las 10:00, 60 min, 10 sesiones",
        ),
        (
            "FREQ=DAILY;INTERVAL=3",
            None,
            "Every 3 days at 10:00 AM, 60 min",
            "Cada 3 días a las 10:00, 60 min",
        ),
        (
            "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR",
            None,
            "Every Mon, Tue, Wed, Thu and Fri at 10:00 AM, 60 min",
            "Cada lun, mar, mié, jue y vie a las 10:00, 60 min",
        ),
        # Monthly on a day of the month.
        (
            "FREQ=MONTHLY;BYMONTHDAY=15",
            None,
            "Monthly on the 15th at 10:00 AM, 60 min",
            "Cada mes el día 15 a las 10:00, 60 min",
        ),
        (
            "FREQ=MONTHLY",
            None,
            "Monthly on the 4th at 10:00 AM, 60 min",
            "Cada mes el día 4 a las 10:00, 60 min",
        ),
        (
            "FREQ=MONTHLY;BYMONTHDAY=21,1;UNTIL=20270601",
            None,
            "Monthly on the 1st and 21st at 10:00 AM, 60 min, until Jun 1",
            "Cada mes los días 1 y 21 a las 10:00, 60 min, hasta el 1 jun",
        ),
        (
            "FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=-1",
            None,
            "Every 2 months on the last day at 10:00 AM, 60 min",
            "Cada dos meses el último día a las 10:00, 60 min",
        ),
        # Monthly on a weekday of the month.
        (
            "FREQ=MONTHLY;BYDAY=1MO",
            None,
            "Monthly on the first Mon at 10:00 AM, 60 min",
            "Cada mes el primer lun a las 10:00, 60 min",
        ),
        (
            "FREQ=MONTHLY;BYDAY=-1FR;COUNT=6",
            None,
            "Monthly on the last Fri at 10:00 AM, 60 min, 6 sessions",
            "Cada mes el último vie a las 10:00, 60 min, 6 sesiones",
        ),
        (
            "FREQ=MONTHLY;BYDAY=TH;BYSETPOS=3",
            None,
            "Monthly on the third Thu at 10:00 AM, 60 min",
            "Cada mes el tercer jue a las 10:00, 60 min",
        ),
        # Anything else: no raw rule, just when.
        (
            "FREQ=YEARLY",
            None,
            "Custom schedule at 10:00 AM, 60 min",
            "Horario personalizado a las 10:00, 60 min",
        ),
        (
            "FREQ=MONTHLY;BYDAY=1MO,3MO",
            None,
            "Custom schedule at 10:00 AM, 60 min",
            "Horario personalizado a las 10:00, 60 min",
        ),
        (
            "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
            None,
            "Custom schedule at 10:00 AM, 60 min",
            "Horario personalizado a las 10:00, 60 min",
        ),
        (
            "FREQ=MONTHLY;BYMONTH=1,7;BYMONTHDAY=4;COUNT=4",
            None,
            "Custom schedule at 10:00 AM, 60 min, 4 sessions",
            "Horario personalizado a las 10:00, 60 min, 4 sesiones",
        ),
        (
            "FREQ=DAILY;INTERVAL=2;BYDAY=MO",
            None,
            "Custom schedule at 10:00 AM, 60 min",
            "Horario personalizado a las 10:00, 60 min",
        ),
        (
            "FREQ=WEEKLY;INTERVAL=2;WKST=SU;BYDAY=MO,SU",
            None,
            "Custom schedule at 10:00 AM, 60 min",
            "Horario personalizado a las 10:00, 60 min",
        ),
        (
            "every monday",
            None,
            "Custom schedule at 10:00 AM, 60 min",
            "Horario personalizado a las 10:00, 60 min",
        ),
    ],
)
def test_common_rules_read_in_words_and_others_never_show_the_raw_rule(
    rule: str, last_day: date | None, english: str, spanish: str
) -> None:
    words = {
        language: summary(
            rule, MONDAY_10, 60, last_day=last_day, timezone=NEW_YORK, language=language
        )
        for language in ("en", "es")
    }
    assert words == {"en": english, "es": spanish}
    assert "FREQ" not in english + spanish


def test_an_ended_series_reads_without_its_end_but_keeps_its_count() -> None:
    rule = "FREQ=WEEKLY;COUNT=8;UNTIL=20270301"
    words = summary(rule, MONDAY_10, 60, last_day=date(2027, 2, 1), show_until=False)
    assert words == "Every Mon at 10:00 AM, 60 min, 8 sessions"


@pytest.mark.parametrize(
    ("until", "zone", "day"),
    [
        ("20270301", NEW_YORK, date(2027, 3, 1)),  # the whole local day
        ("20270301T100000", NEW_YORK, date(2027, 3, 1)),  # inclusive
        ("20270301T095959", NEW_YORK, date(2027, 2, 28)),
        ("20270301T150000Z", NEW_YORK, date(2027, 3, 1)),
        ("20270302T020000Z", NEW_YORK, date(2027, 3, 1)),  # 9 PM the day before, locally
        ("20270301T150000Z", "Asia/Tokyo", date(2027, 3, 1)),  # midnight the 2nd in Tokyo
        ("20270301T000000Z", "Asia/Tokyo", date(2027, 2, 28)),  # 9 AM in Tokyo: too early
        ("90000101", NEW_YORK, None),
        ("2027-03-01", NEW_YORK, None),
        ("20270231", NEW_YORK, None),
    ],
)
def test_an_until_in_the_rule_is_the_last_local_day_a_session_can_fall_on(
    until: str, zone: str, day: date | None
) -> None:
    assert until_day(until, MONDAY_10, zone) == day


@pytest.mark.parametrize(
    ("rule", "english", "spanish"),
    [
        ("FREQ=WEEKLY;BYDAY=MO,TH;COUNT=8", "Every Mon and Thu", "Cada lun y jue"),
        ("FREQ=MONTHLY", "Monthly on the 4th", "Cada mes el día 4"),
        ("FREQ=YEARLY;UNTIL=20300101", "Custom schedule", "Horario personalizado"),
    ],
)
def test_the_days_a_rule_falls_on_read_without_time_or_end(
    rule: str, english: str, spanish: str
) -> None:
    assert (rule_words(rule, MONDAY_10), rule_words(rule, MONDAY_10, "es")) == (english, spanish)
