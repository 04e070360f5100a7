"""The clock process: its jobs, and ``python -m jobs.clock --once``."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from jobs.clock import build_scheduler, guarded, plan, retry_replies
from service import create_app
from service.config import settings_of
from service.db import get_db
from service.dispatch import Dispatcher
from service.domain.vocabulary import Channel
from service.models import AppointmentSeries, Heartbeat, InboundMessage, OutboundMessage
from service.sms.gateway import SimulatorGateway
from tests import factories
from tests.conftest import base_config

ROOT = Path(__file__).resolve().parent.parent
NY = ZoneInfo("America/New_York")


def test_every_job_coalesces_and_never_overlaps_itself(app: Flask) -> None:
    dispatcher = Dispatcher(
        get_db(app), settings_of(app), {Channel.SMS: SimulatorGateway()}, stop=threading.Event()
    )
    scheduler = build_scheduler(app, dispatcher)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"plan", "dispatch", "replies", "signals", "heartbeat", "feeds", "fallback"}
    for job in jobs.values():
        assert job.coalesce is True
        assert job.max_instances == 1
        assert 0 < job.misfire_grace_time <= 300


def test_once_plans_sends_beats_and_exits_zero(
    app: Flask, session: Session, database_url: str
) -> None:
    client, _ = factories.client_with_phone(session)
    # First session in 23 hours: its 24-hour reminder is an hour overdue, so it goes now.
    first = (datetime.now(NY) + timedelta(hours=23)).replace(second=0, microsecond=0)
    session.add(
        AppointmentSeries(
            client_id=client.id,
            rrule="FREQ=DAILY;COUNT=20",
            starts_local=first.replace(tzinfo=None),
            timezone="America/New_York",
            duration_minutes=60,
        )
    )
    session.commit()
    quiet = (datetime.now(NY).hour + 12) % 24  # quiet hours far from now
    env = {
        "PATH": os.environ.get("PATH", ""),
        "TOUCHBASE_ENV": "test",
        "SECRET_KEY": "test",
        "DATABASE_URL": database_url,
        "QUIET_HOURS": f"{quiet:02d}:00-{quiet:02d}:30",
    }
    done = subprocess.run(
        [sys.executable, "-m", "jobs.clock", "--once"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "texts are SIMULATED" in done.stdout
    assert "plan (everyone): 14 occurrences materialized" in done.stdout
    assert "dispatch: claimed 1, sent 1" in done.stdout
    assert "+16175550123" not in done.stdout + done.stderr
    session.expire_all()
    [sent] = session.scalars(select(OutboundMessage).where(OutboundMessage.status == "delivered"))
    assert sent.kind == "reminder" and sent.provider_sid
    assert session.get(Heartbeat, "clock") is not None


def test_replies_that_failed_to_process_are_finished_later(app: Flask, session: Session) -> None:
    factories.client_with_phone(session)
    session.add(
        InboundMessage(
            provider_sid="SMlate",
            from_phone="+16175550123",
            body="R",
            received_at=datetime.now(UTC) - timedelta(minutes=5),
        )
    )
    session.commit()
    assert retry_replies(app) == 1
    session.expire_all()
    row = session.scalars(select(InboundMessage)).one()
    assert row.processed_at is not None and row.intent == "reschedule" and row.client_id is not None
    assert retry_replies(app) == 0


def test_a_late_acknowledgement_goes_through_the_outbox(app: Flask, session: Session) -> None:
    factories.client_with_phone(session)
    session.add(
        InboundMessage(
            provider_sid="SMlate2",
            from_phone="+16175550123",
            body="R",
            received_at=datetime.now(UTC) - timedelta(minutes=5),
        )
    )
    session.commit()
    retry_replies(app)
    session.expire_all()
    ack = session.scalars(select(OutboundMessage).where(OutboundMessage.kind == "reply")).one()
    assert (ack.status, ack.sent_at) == ("planned", None)


def test_a_job_that_cannot_reach_the_database_logs_one_line_and_lets_the_next_tick_retry(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    unreachable = "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1"
    gone = create_app(base_config(database_url, DATABASE_URL=unreachable))
    with caplog.at_level(logging.WARNING, logger="jobs.clock"):
        assert guarded("plan", plan)(gone) is None
    assert [r.getMessage() for r in caplog.records] == [
        "plan: database unreachable (OperationalError); next tick retries"
    ]
    assert all(r.exc_info is None for r in caplog.records)

    def broken(app: Flask) -> None:
        raise ValueError("a bug, not an outage")

    with pytest.raises(ValueError):
        guarded("plan", broken)(gone)
