"""Replies from calls show in the client's thread and in the inbox with a phone icon that a
screen reader names ("by phone call"); texts show without it."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session

from service.domain.vocabulary import MessageKind
from tests.dashboard.conftest import make_staff, signed_in
from tests.voice.conftest import PHONE, Twilio, arrange, placed_call
from tests.webhooks.conftest import Twilio as Texts

MARK = 'aria-label="by phone call"'


def test_a_key_press_is_marked_as_by_phone_in_the_thread_and_the_inbox(
    app: Flask, twilio: Twilio, session: Session
) -> None:
    people = arrange(session)
    call = placed_call(session, people.client, people.contact, MessageKind.CHECKIN)
    assert twilio.keys(call.id, "checkin", "9").status_code == 200
    browser = signed_in(app, make_staff(app, "boss@example.com", "Boss", admin=True))
    inbox = browser.get("/").get_data(as_text=True)
    assert inbox.count(MARK) == 1 and "Pressed “9”" in inbox
    page = browser.get(f"/clients/{people.client.id}").get_data(as_text=True)
    thread = page.split('id="thread"', 1)[1]
    # The call placed and the keys pressed during it, each marked once.
    assert thread.count(MARK) == 2


def test_a_text_carries_no_phone_mark(app: Flask, session: Session) -> None:
    people = arrange(session)
    placed_call(session, people.client, people.contact, MessageKind.CHECKIN)
    Texts(app.test_client()).text(PHONE, "9")
    browser = signed_in(app, make_staff(app, "boss@example.com", "Boss", admin=True))
    assert MARK not in browser.get("/").get_data(as_text=True)
    page = browser.get(f"/clients/{people.client.id}").get_data(as_text=True)
    assert page.split('id="thread"', 1)[1].count(MARK) == 1  # only the call we placed
