"""On a phone (390 x 844): move a session with the notice ticked, and the Twilio-compatible
test server receives that notice exactly once, with the new time."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import select

from service import accounts
from service.config import settings_of
from service.db import get_db
from service.dispatch import Dispatcher
from service.domain.vocabulary import Channel, MessageKind
from service.models import OutboundMessage
from tests import factories
from tests.browser.conftest import Console, Live, skip_without_a_browser
from tests.fake_twilio import FakeTwilio

if TYPE_CHECKING:
    from playwright.sync_api import Browser

skip_without_a_browser()

from playwright.sync_api import expect  # noqa: E402 - only once known to be installed

NY = ZoneInfo("America/New_York")
PASSWORD = "long-enough-pw"


def _arrange(live: Live) -> tuple[int, datetime]:
    """Ana's client Sam with a session in three days at 10:00; its client's id and the new
    start (that day at 15:00, New York)."""
    start = (datetime.now(NY) + timedelta(days=3)).replace(hour=10, minute=0, second=0)
    with get_db(live.app).session() as session:
        ana = accounts.create_user(
            session, settings_of(live.app), "ana@practice.test", "Ana Ruiz", PASSWORD
        )
        client, _ = factories.client_with_phone(session, "Sam Lee", therapist_id=ana.id)
        factories.appointment(session, client, start.replace(microsecond=0).astimezone(UTC))
        session.commit()
        return client.id, start.replace(hour=15, microsecond=0)


def _dispatch_twice(live: Live, fake: FakeTwilio) -> None:
    """Run the dispatcher twice, when the notice is due (after quiet hours, if it is night)."""
    with get_db(live.app).session() as session:
        due = session.scalar(
            select(OutboundMessage.send_at).where(OutboundMessage.kind == MessageKind.MOVE_NOTICE)
        )
    assert due is not None
    gateway = fake.gateway(status_callback=live.url + "/sms/status", timeout=5)
    dispatcher = Dispatcher(
        get_db(live.app),
        settings_of(live.app),
        {Channel.SMS: gateway},
        now=lambda: due + timedelta(seconds=1),
        rng=random.Random(7),
    )
    dispatcher.run()
    dispatcher.run()
    gateway.close()


def test_a_move_with_the_notice_reaches_the_client_once_with_the_new_time(
    live: Live, browser: Browser, console: Console
) -> None:
    client_id, new_start = _arrange(live)
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.on("console", console.record)
    page.set_default_timeout(15_000)
    page.goto(live.url + "/")
    page.get_by_label("Email").fill("ana@practice.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live.url}/clients/{client_id}")
    page.get_by_role("link", name=re.compile(r"^Move the appointment")).click()

    page.get_by_label("Starts").fill(new_start.strftime("%Y-%m-%dT%H:%M"))
    notify = page.get_by_label(re.compile(r"^Text Sam Lee"))
    expect(notify).to_be_checked()
    page.get_by_role("button", name="Move", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("the client was told")
    context.close()

    with FakeTwilio() as fake:
        _dispatch_twice(live, fake)
        told = [m for m in fake.sent if "is now" in m["Body"]]
    assert len(told) == 1
    when = f"{new_start:%a %b} {new_start.day}, 3:00 PM"
    assert f"is now {when} (was " in told[0]["Body"]
    assert told[0]["To"] == "+16175550123"
    assert console.problems() == []
