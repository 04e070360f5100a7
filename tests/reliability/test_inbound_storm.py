"""An inbound storm against a real threaded server: 2,000 signed replies at once, each
delivered twice with the same MessageSid (half of the pairs at the same moment, half as a
late retry). Every request is answered 200 and every reply is stored exactly once.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
import requests
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.models import Alert, InboundMessage, OutboundMessage
from tests import factories
from tests.reliability.conftest import served
from tests.webhooks.conftest import AUTH_TOKEN, PRACTICE_NUMBER, PUBLIC, sign

pytestmark = pytest.mark.slow
REPLIES = 2000
CLIENTS = 100
SENDERS = 40  # concurrent connections, as Twilio opens many at a burst
BODIES = ["7", "C", "3 a bit sore", "R", "🙂 thanks", "can't make it", "HELP", "10", "ok"]


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app(
        TWILIO_ACCOUNT_SID="AC" + "1" * 32,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_FROM_NUMBER=PRACTICE_NUMBER,
        PUBLIC_BASE_URL=PUBLIC,
    )


def known_senders(session: Session) -> list[str]:
    """Clients who were sent a check-in an hour ago, so a number is a pain score."""
    phones = []
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    for i in range(CLIENTS):
        phone = f"+1617556{i:04d}"
        client, contact = factories.client_with_phone(session, f"Storm {i}", phone)
        factories.sent(session, client, contact, kind="checkin", sent_at=an_hour_ago)
        phones.append(phone)
    session.commit()
    return phones


class Poster:
    """Posts signed forms from many threads, each with its own keep-alive connection."""

    def __init__(self, base: str) -> None:
        self.url = f"{base}/sms/inbound"
        self.local = threading.local()
        self.sessions: list[requests.Session] = []
        self.lock = threading.Lock()

    def post(self, form: dict[str, str], together: threading.Barrier | None = None) -> int:
        http = getattr(self.local, "http", None)
        if http is None:
            http = self.local.http = requests.Session()
            with self.lock:
                self.sessions.append(http)
        headers = {
            "X-Twilio-Signature": sign(PUBLIC + "/sms/inbound", form),
            "Content-Type": "application/x-www-form-urlencoded",
        }
        data = urlencode(form).encode()
        if together is not None:
            together.wait(timeout=30)  # both copies leave at the same moment
        return http.post(self.url, data=data, headers=headers, timeout=60).status_code

    def close(self) -> None:
        for http in self.sessions:
            http.close()


def test_a_storm_of_duplicated_replies_is_stored_exactly_once(app: Flask, session: Session) -> None:
    phones = known_senders(session)
    forms = [
        {
            "MessageSid": f"SMstorm{i:027d}",
            "AccountSid": "AC" + "1" * 32,
            # Half from clients, half from numbers nobody knows.
            "From": phones[i % CLIENTS] if i % 2 else f"+1617557{i:04d}",
            "To": PRACTICE_NUMBER,
            "Body": BODIES[i % len(BODIES)],
            "NumMedia": "0",
        }
        for i in range(REPLIES)
    ]
    with served(app) as base, ThreadPoolExecutor(SENDERS) as pool:
        poster = Poster(base)
        first = []
        for i, form in enumerate(forms):
            if i % 2 == 0:  # this pair arrives at once: adjacent in the queue, one barrier
                together = threading.Barrier(2)
                first += [pool.submit(poster.post, form, together) for _ in range(2)]
            else:
                first.append(pool.submit(poster.post, form))
        answers = Counter(f.result() for f in first)
        # Twilio's retry of the other half, after the first delivery was answered.
        retries = [pool.submit(poster.post, form) for i, form in enumerate(forms) if i % 2]
        answers.update(f.result() for f in retries)
        poster.close()

    assert answers == {200: 2 * REPLIES}, answers
    session.expire_all()
    stored = Counter(session.scalars(select(InboundMessage.provider_sid)))
    assert set(stored) == {form["MessageSid"] for form in forms}
    assert max(stored.values()) == 1
    # Each stored reply was acted on once: one acknowledgement and at most one alert each.
    acks = Counter(
        session.scalars(
            select(OutboundMessage.idempotency_key).where(OutboundMessage.kind == "reply")
        )
    )
    assert max(acks.values(), default=1) == 1
    alerts = Counter(session.scalars(select(Alert.inbound_id).where(Alert.inbound_id.is_not(None))))
    assert max(alerts.values(), default=1) == 1
    processed = session.scalar(select(func.count()).where(InboundMessage.processed_at.is_not(None)))
    assert processed == REPLIES  # and understood, none left for the clock
