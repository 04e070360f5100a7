"""``GET /healthz``: is the database answering, and when did the clock last beat?

The platform's router (and an uptime monitor) reads the status code: 200 while the
database answers, 503 when it does not, because a web process without its database can
serve nothing. The clock's staleness is reported in the body but never fails the check:
restarting web processes would not bring a stopped clock back.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from service.config import settings_of
from service.db import get_session, insert, utcnow
from service.models import Heartbeat

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)
STALE_CLOCK = timedelta(minutes=5)
CLOCK = "clock"


def beat(session: Session, now: datetime, name: str = CLOCK) -> None:
    """Record that a background process is alive (the clock beats every minute)."""
    statement = insert(session, Heartbeat).values(name=name, beat_at=now, detail={})
    session.execute(statement.on_conflict_do_update(index_elements=["name"], set_={"beat_at": now}))


def clock_state(beat: Heartbeat | None) -> dict[str, Any]:
    """The clock's last beat, its age, and whether it is recent enough to call alive."""
    if beat is None:
        return {"last_beat": None, "ok": False}
    age = utcnow() - beat.beat_at
    return {
        "last_beat": beat.beat_at.isoformat(),
        "age_seconds": int(age.total_seconds()),
        "ok": age <= STALE_CLOCK,
    }


@bp.get("/healthz")
def health() -> tuple[Response, int]:
    """200 with the clock's state while the database answers; 503 when it does not."""
    # From the environment alone: no query before the database has been tried below.
    simulated = not settings_of(current_app).twilio_configured
    try:
        session = get_session()
        session.execute(text("SELECT 1"))
        beat = session.scalar(select(Heartbeat).where(Heartbeat.name == CLOCK))
    except SQLAlchemyError as exc:
        # One line, no traceback: a monitor polls this every few seconds during an outage.
        # The exception's class names the failure; its text may quote the URL.
        log.warning("health check: database unreachable (%s)", type(exc).__name__)
        body: dict[str, Any] = {"database": "unreachable", "clock": None, "simulated": simulated}
        return jsonify(body), 503
    body = {"database": "ok", "clock": clock_state(beat), "simulated": simulated}
    return jsonify(body), 200


def init_app(app: Flask) -> None:
    """Register the health check."""
    app.register_blueprint(bp)
