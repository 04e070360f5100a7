"""Replies read the practice's saved settings at once: its name and phone in the answers,
its pain alert threshold."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import practice_settings
from service.config import settings_of
from service.models import Alert
from tests.webhooks.conftest import Twilio, reply_text
from tests.webhooks.test_replies import PHONE, after_checkin


def save(app: Flask, session: Session, **values: str) -> None:
    now = datetime.now(UTC)
    practice_settings.save(session, settings_of(app), None, values, now, via="test")
    session.commit()


def test_an_answer_names_the_practice_as_just_saved(
    app: Flask, twilio: Twilio, session: Session
) -> None:
    after_checkin(session)
    assert "Bright Path" in (reply_text(twilio.text(PHONE, "HELP")) or "")
    save(app, session, practice_name="Calm Hands", practice_phone="(617) 555-0199")
    answer = reply_text(twilio.text(PHONE, "HELP")) or ""
    assert "Calm Hands" in answer and "(617) 555-0199" in answer
    assert "Bright Path" not in answer


def test_a_score_alerts_from_the_threshold_just_saved(
    app: Flask, twilio: Twilio, session: Session
) -> None:
    client, _, _ = after_checkin(session)
    save(app, session, pain_alert_threshold="5")
    twilio.text(PHONE, "5")
    session.expire_all()
    assert [(a.kind, a.client_id) for a in session.scalars(select(Alert))] == [("pain", client.id)]
