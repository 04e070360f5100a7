"""Fuzzing: the reply understanding with any text at all, and both webhooks with odd forms
(fields missing, given twice, huge, with NUL, with bytes that are not UTF-8).

Signed forms are answered 200 and stored exactly as posted (NUL kept visible as U+2400),
or refused with a clear 4xx and nothing stored; never a 500. Unsigned ones store nothing.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Literal
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from service.domain.understanding import INTENTS, understand
from service.models import InboundMessage, OutboundMessage
from tests.webhooks.conftest import AUTH_TOKEN, PRACTICE_NUMBER, PUBLIC

FUZZ = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_examples = itertools.count()
SURROGATES: tuple[Literal["Cs"]] = ("Cs",)  # a str may hold them; UTF-8 may not

# Any code point at all (lone surrogates included: a Python str may hold them).
anything = st.text(st.characters(), max_size=200)
storable_text = st.text(st.characters(codec="utf-8", exclude_categories=SURROGATES), max_size=200)
huge = st.builds(
    lambda part, times: (part * times)[:60_000],
    st.text(st.characters(codec="utf-8", exclude_categories=SURROGATES), min_size=1, max_size=12),
    st.integers(500, 8000),
)
with_nul = st.builds(lambda a, b: a + "\x00" + b, storable_text, storable_text)
odd_value = st.one_of(storable_text, with_nul, st.just(""), st.just(" \t\n"), huge)


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app(
        TWILIO_ACCOUNT_SID="AC" + "1" * 32,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_FROM_NUMBER=PRACTICE_NUMBER,
        PUBLIC_BASE_URL=PUBLIC,
    )


# -- the reply understanding ----------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    body=st.one_of(anything, huge, with_nul, st.just(""), st.text(" \t\r\n\u3000\u200b")),
    expecting=st.sampled_from([None, "checkin", "reminder"]),
    opted_out=st.booleans(),
)
def test_understanding_never_raises_and_keeps_its_own_rules(
    body: str, expecting: str | None, opted_out: bool
) -> None:
    result = understand(body, expecting=expecting, opted_out=opted_out)  # type: ignore[arg-type]
    assert result.intent in INTENTS
    assert result.pain is None or 0 <= result.pain <= 10
    if not body.strip():
        assert result.intent == "other" and result.note is None
    assert result.note is None or result.note.strip()


@pytest.mark.parametrize(
    "body",
    [
        "1" * 60_000,
        "7 " * 30_000,
        "10/10 " * 10_000,
        "stop " * 12_000,
        "a-" * 30_000,
        "\u202e" * 60_000,
        "🔟" * 30_000,
        "pain " + "9" * 59_000,
    ],
    ids=lambda b: f"{b[:6]!r}x{len(b)}",
)
def test_understanding_reads_pathological_bodies(body: str) -> None:
    for expecting in (None, "checkin", "reminder"):
        result = understand(body, expecting=expecting)
        assert result.intent in INTENTS


# -- the webhooks ---------------------------------------------------------------------------


def signed_post(
    http: FlaskClient, path: str, pairs: list[tuple[str, str]], *, signature: str | None = None
) -> tuple[int, str]:
    """Post ``pairs`` as Twilio would (duplicates kept, in order), signed over the public URL."""
    form = MultiDict(pairs)
    if signature is None:
        signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC + path, form)
    response = http.post(
        path,
        data=urlencode(pairs).encode(),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature},
    )
    return response.status_code, response.get_data(as_text=True)


def count(session: Session, model: type[InboundMessage] | type[OutboundMessage]) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def visible(value: str) -> str:
    return value.replace("\x00", "\u2400")


@st.composite
def inbound_forms(draw: st.DrawFn) -> list[tuple[str, str]]:
    """An inbound form: usual fields sometimes missing, doubled, huge or odd, plus extras."""
    sid = f"SMfuzz{next(_examples)}" + draw(st.sampled_from(["", "x", "\x00", " ", "é"]))
    pairs: list[tuple[str, str]] = []
    if draw(st.integers(0, 9)):  # now and then no MessageSid at all
        pairs.append(("MessageSid", sid))
    for name in ("From", "To", "Body", "NumMedia", "AccountSid"):
        times = draw(st.sampled_from([0, 1, 1, 1, 2]))
        for _ in range(times):
            value = draw(st.one_of(st.just("+16175559999"), odd_value))
            pairs.append((name, value))
    extras = draw(st.lists(st.tuples(st.one_of(storable_text, with_nul), odd_value), max_size=3))
    pairs += [(k, v) for k, v in extras if k]
    if draw(st.booleans()):  # given twice: the same value, or another (fresh) one
        other = f"SMfuzz{next(_examples)}" + draw(storable_text)
        pairs.append(("MessageSid", draw(st.sampled_from([sid, other]))))
    draw(st.randoms()).shuffle(pairs)
    return pairs


@FUZZ
@given(pairs=inbound_forms())
def test_a_signed_inbound_form_is_stored_as_posted_or_refused_with_a_4xx(
    app: Flask, session: Session, pairs: list[tuple[str, str]]
) -> None:
    before = count(session, InboundMessage)
    status, body = signed_post(app.test_client(), "/sms/inbound", pairs)
    assert status in (200, 400, 413), body[:300]
    if status != 200:
        assert count(session, InboundMessage) == before
        return
    form = MultiDict(pairs)
    sid = visible(form["MessageSid"].strip())
    session.expire_all()
    rows = session.scalars(select(InboundMessage).where(InboundMessage.provider_sid == sid)).all()
    assert len(rows) == 1
    row = rows[0]
    assert row.body == visible(form.get("Body", ""))
    assert row.from_phone == visible(form["From"].strip())[:64]
    assert count(session, InboundMessage) in (before, before + 1)


@FUZZ
@given(pairs=inbound_forms(), signature=st.text(st.characters(min_codepoint=32, max_codepoint=126)))
def test_an_unsigned_or_forged_form_stores_nothing(
    app: Flask, session: Session, pairs: list[tuple[str, str]], signature: str
) -> None:
    before = count(session, InboundMessage)
    status, body = signed_post(app.test_client(), "/sms/inbound", pairs, signature=signature)
    assert status in (400, 403, 413), body[:300]
    assert count(session, InboundMessage) == before


@FUZZ
@given(
    raw=st.one_of(
        st.binary(max_size=300),
        st.builds(lambda b: b"MessageSid=SMraw&From=%2B16175559999&Body=" + b, st.binary()),
    )
)
def test_bytes_that_are_not_a_form_never_get_a_500(
    app: Flask, session: Session, raw: bytes
) -> None:
    before = count(session, InboundMessage)
    for path in ("/sms/inbound", "/sms/status"):
        response = app.test_client().post(
            path,
            data=raw,
            content_type="application/x-www-form-urlencoded",
            headers={"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"},
        )
        assert response.status_code in (400, 403, 413)
    assert count(session, InboundMessage) == before


@st.composite
def status_forms(draw: st.DrawFn) -> list[tuple[str, str]]:
    """A status callback with odd sids, states, codes and numbers."""
    pairs: list[tuple[str, str]] = []
    for name, usual in (
        ("MessageSid", "SMnotours"),
        ("MessageStatus", "delivered"),
        ("ErrorCode", "30006"),
        ("To", "+16175559999"),
    ):
        for _ in range(draw(st.sampled_from([0, 1, 1, 2]))):
            pairs.append((name, draw(st.one_of(st.just(usual), odd_value))))
    return pairs


@FUZZ
@given(pairs=status_forms())
def test_a_signed_status_callback_never_gets_a_500(
    app: Flask, session: Session, pairs: list[tuple[str, str]]
) -> None:
    status, body = signed_post(app.test_client(), "/sms/status", pairs)
    assert status in (204, 400, 413), body[:300]
    assert count(session, OutboundMessage) == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [("MessageSid", "SM\x00"), ("MessageSid", "\x00"), ("To", "+1617\x00"), ("To", "\x00")],
)
def test_a_status_callback_with_nul_in_its_sid_or_number_is_answered_not_a_500(
    app: Flask, field: str, value: str
) -> None:
    # Found by the fuzzer on PostgreSQL: its text cannot hold NUL, not even to compare.
    form = {"MessageSid": "SMnotours", "MessageStatus": "delivered", "To": "+16175550123"}
    form[field] = value
    assert signed_post(app.test_client(), "/sms/status", list(form.items()))[0] == 204


def test_odd_texts_are_stored_exactly_as_sent(app: Flask, session: Session) -> None:
    odd = ["", "\x00", "😀" * 500, "\u202eevil", "<b>x</b>", "é" * 3000, "\x07\x1b[31m"]
    for n, text in enumerate(odd):
        pairs = [("MessageSid", f"SModd{n}"), ("From", "+16175559999"), ("Body", text)]
        assert signed_post(app.test_client(), "/sms/inbound", pairs)[0] == 200
    stored = {r.provider_sid: r.body for r in session.scalars(select(InboundMessage))}
    assert stored == {f"SModd{n}": visible(text) for n, text in enumerate(odd)}
