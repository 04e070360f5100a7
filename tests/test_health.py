"""The health check: 200 with the clock's state while the database answers, 503 when not."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from jobs.clock import heartbeat
from service.db import utcnow
from service.models import Heartbeat


def test_it_says_the_clock_never_ran(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {
        "database": "ok",
        "clock": {"last_beat": None, "ok": False},
        "simulated": True,
    }


def test_it_reads_the_heartbeat(app: Flask, client: FlaskClient) -> None:
    heartbeat(app)
    heartbeat(app)  # an upsert: beating twice keeps one row
    clock = client.get("/healthz").get_json()["clock"]
    assert clock["ok"] is True and clock["age_seconds"] < 60


def test_a_stale_clock_is_reported_not_fatal(client: FlaskClient, session: Session) -> None:
    session.add(Heartbeat(name="clock", beat_at=utcnow() - timedelta(minutes=30), detail={}))
    session.commit()
    response = client.get("/healthz")
    assert response.status_code == 200
    clock = response.get_json()["clock"]
    assert clock["ok"] is False and clock["age_seconds"] >= 30 * 60


def test_it_says_when_texts_are_real(make_app: Callable[..., Flask]) -> None:
    app = make_app(
        TWILIO_ACCOUNT_SID="AC" + "3" * 32, TWILIO_AUTH_TOKEN="t", TWILIO_FROM_NUMBER="+16175550100"
    )
    assert app.test_client().get("/healthz").get_json()["simulated"] is False


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////nonexistent-touchbase-dir/nowhere.sqlite3",
        "postgresql://postgres@127.0.0.1:1/nowhere",  # port 1: refused at once
    ],
    ids=["sqlite", "postgresql"],
)
def test_an_unreachable_database_is_a_503_in_json(
    app: Flask, make_app: Callable[..., Flask], url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # ``app`` comes first so the fixture's clean-up uses the reachable database.
    broken = make_app(DATABASE_URL=url)
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"database": "unreachable", "clock": None, "simulated": True}
    [line] = [r for r in caplog.records if r.name == "service.health"]
    assert line.levelname == "WARNING" and line.exc_info is None
    assert "nowhere" not in line.getMessage()  # the URL is not logged
