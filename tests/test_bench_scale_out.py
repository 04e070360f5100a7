"""The scale-out bench's own checks (bench/scale_out.py): what counts as every text sent
exactly once, the rate as the server saw it, and the fake's process reporting what it
accepted and when. The bench itself runs with ``python -m bench.run scale-out``."""

from __future__ import annotations

import time

from bench.common import fake_twilio
from bench.dispatch import Text, bare_client, bare_send
from bench.scale_out import exactly_once, span_rate

NUMBERS = ["+16172000000", "+16172000001", "+16172000002"]
SENT = [(n, f"SM{i}") for i, n in enumerate(NUMBERS)]
ROWS: list[tuple[str, str | None]] = [("sent", f"SM{i}") for i in range(3)]


def test_each_number_texted_once_and_recorded_as_sent_is_exactly_once() -> None:
    check = exactly_once(NUMBERS, SENT, ROWS)
    assert check["exactly_once"] is True
    assert check["outbox_sent"] == check["server_accepted"] == 3


def test_a_delivered_text_counts_as_sent() -> None:
    rows = [("delivered", "SM0"), *ROWS[1:]]
    assert exactly_once(NUMBERS, SENT, rows)["exactly_once"] is True


def test_a_number_texted_twice_is_not_exactly_once() -> None:
    sent = [*SENT[:2], (NUMBERS[1], "SM9")]
    rows = [*ROWS[:2], ("sent", "SM9")]
    check = exactly_once(NUMBERS, sent, rows)
    assert check["exactly_once"] is False
    assert (check["numbers_sent_twice"], check["numbers_never_sent"]) == (1, 1)


def test_a_text_the_server_never_got_is_not_exactly_once() -> None:
    check = exactly_once(NUMBERS, SENT[:2], [*ROWS[:2], ("planned", None)])
    assert check["exactly_once"] is False
    assert check["numbers_never_sent"] == 1
    assert check["outbox_statuses"] == {"planned": 1, "sent": 2}


def test_a_text_sent_but_not_recorded_is_not_exactly_once() -> None:
    rows: list[tuple[str, str | None]] = [*ROWS[:2], ("unknown", None)]
    check = exactly_once(NUMBERS, SENT, rows)
    assert check["exactly_once"] is False
    assert check["sids_match"] is False


def test_the_rate_counts_from_the_first_arrival_to_the_last() -> None:
    assert span_rate([10.0, 12.0, 11.0, 14.0]) == (4.0, 1.0)
    assert span_rate([10.0]) == (0.0, 0.0)


def test_the_fake_process_reports_each_accepted_text_and_its_arrival() -> None:
    texts = [Text(n, "Hi, a reminder of your session tomorrow.") for n in NUMBERS]
    with fake_twilio(latency=0.01) as fake:
        before = time.time()
        sids = bare_send(bare_client(fake), texts, 3)
        sent, arrivals = fake.sent(), fake.sent_at()
        fake.reset()
        assert fake.sent() == []
    assert sorted(sent) == sorted(zip(NUMBERS, sids, strict=True))
    assert len(arrivals) == 3
    assert all(before <= t <= time.time() for t in arrivals)
