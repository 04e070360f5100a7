"""The API says how each message went and each reply came in: ``channel`` "sms" for a
text, "voice" for a call placed and for keys pressed during a call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from service.domain.vocabulary import MessageKind
from tests.api.conftest import Api, make_api
from tests.api.test_contract import SCHEMAS
from tests.voice.conftest import PHONE, Twilio, arrange, call_sid, placed_call, voice_config
from tests.webhooks.conftest import Twilio as Texts


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """An app that knows its Twilio auth token, so the signed webhooks are taken."""
    return make_app(**voice_config())


@pytest.fixture
def admin(app: Flask) -> Api:
    return make_api(app, "boss@practice.test", admin=True)


def _as_documented(schema: str, item: dict[str, Any]) -> None:
    """``item`` has the fields the OpenAPI document gives a ``schema``, its channel one the
    document names (the whole shape is the schemathesis run's: ``test_openapi``)."""
    assert set(item) == set(SCHEMAS[schema]["properties"])
    assert item["channel"] in SCHEMAS[schema]["properties"]["channel"]["enum"]


def test_a_key_press_is_a_reply_by_voice_and_a_text_one_by_sms(
    app: Flask, session: Session, admin: Api
) -> None:
    people = arrange(session)
    call = placed_call(session, people.client, people.contact, MessageKind.CHECKIN)
    keys = Twilio(app.test_client(), call_sid()).keys(call.id, "checkin", "7")
    assert keys.status_code == 200
    assert Texts(app.test_client()).text(PHONE, "pain 6").status_code == 200
    items = admin.get("/replies", client_id=people.client.id).get_json()["items"]
    by_body = {item["body"]: item for item in items}
    assert set(by_body) == {"7", "pain 6"}
    assert (by_body["7"]["channel"], by_body["7"]["pain"]) == ("voice", 7)
    assert (by_body["pain 6"]["channel"], by_body["pain 6"]["pain"]) == ("sms", 6)
    for item in items:
        _as_documented("Reply", item)


def test_a_call_is_a_message_by_voice_and_a_text_one_by_sms(
    app: Flask, session: Session, admin: Api
) -> None:
    people = arrange(session)
    call = placed_call(session, people.client, people.contact, MessageKind.REMINDER)
    assert Texts(app.test_client()).text(PHONE, "hello").status_code == 200  # answered by text
    items = admin.get("/messages", client_id=people.client.id).get_json()["items"]
    channels = {item["id"]: item["channel"] for item in items}
    assert channels.pop(call.id) == "voice"
    assert channels and set(channels.values()) == {"sms"}
    for item in items:
        _as_documented("Message", item)


def test_the_document_names_both_channels() -> None:
    for schema in ("Message", "Reply"):
        channel = SCHEMAS[schema]["properties"]["channel"]
        assert channel["enum"] == ["sms", "voice"]
        assert "channel" in SCHEMAS[schema]["required"]
