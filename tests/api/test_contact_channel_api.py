"""Contacts' channel and consent for calls in the API: read, written, refused with a 422."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import AuditEntry, PhoneNumber
from tests.api.conftest import Api, error_of

MOM = {"name": "Maria Lee", "phone": "617-555-0177", "relation": "mother"}


def _client(api: Api) -> dict:  # type: ignore[type-arg]
    response = api.post("/clients", {"name": "Sam Lee", "phone": "(617) 555-0123"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def test_a_contact_texts_by_default_and_has_no_agreement_to_calls(api: Api) -> None:
    [own] = _client(api)["contacts"]
    assert own["channel"] == "sms"
    assert (own["voice_consent"], own["voice_consent_at"], own["calls_stopped"]) == (
        False,
        None,
        False,
    )


def test_a_channel_that_calls_without_agreement_is_a_422_on_channel(api: Api) -> None:
    client = _client(api)
    for channel in ("voice", "sms_then_voice"):
        refused = api.post(f"/clients/{client['id']}/contacts", {**MOM, "channel": channel})
        assert refused.status_code == 422
        error = error_of(refused)
        assert error["fields"] == {"channel": "send voice_consent true with it"}
        assert "agreement of the client or caregiver" in error["message"]
    assert len(api.get(f"/clients/{client['id']}").get_json()["contacts"]) == 1
    own = client["contacts"][0]["id"]
    assert api.patch(f"/contacts/{own}", {"channel": "voice"}).status_code == 422


def test_an_unknown_channel_or_a_consent_that_is_not_a_boolean_is_refused(api: Api) -> None:
    client = _client(api)
    body = {**MOM, "channel": "fax", "voice_consent": "yes"}
    refused = api.post(f"/clients/{client['id']}/contacts", body)
    assert refused.status_code == 422
    assert error_of(refused)["fields"] == {
        "channel": "must be one of sms, voice, sms_then_voice",
        "voice_consent": "must be true or false",
    }


def test_agreement_sent_with_the_channel_is_recorded_by_the_token_user(
    api: Api, session: Session
) -> None:
    client = _client(api)
    body = {**MOM, "channel": "sms_then_voice", "voice_consent": True}
    added = api.post(f"/clients/{client['id']}/contacts", body)
    assert added.status_code == 201, added.get_json()
    contact = added.get_json()
    assert (contact["channel"], contact["voice_consent"]) == ("sms_then_voice", True)
    assert contact["voice_consent_at"].endswith("-04:00") or contact["voice_consent_at"].endswith(
        "-05:00"
    )  # the client's local offset (New York)
    row = session.get(PhoneNumber, "+16175550177")
    assert row is not None and row.voice_consent_by_id == api.user_id
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "voice_consent")).one()
    assert (entry.user_id, entry.entity, entry.detail) == (api.user_id, "phone", {"via": "api"})


def test_withdrawing_agreement_with_texts_back(api: Api, session: Session) -> None:
    client = _client(api)
    own = client["contacts"][0]["id"]
    agreed = api.patch(f"/contacts/{own}", {"channel": "voice", "voice_consent": True})
    assert agreed.status_code == 200 and agreed.get_json()["voice_consent"] is True
    kept_calling = api.patch(f"/contacts/{own}", {"voice_consent": False})
    assert kept_calling.status_code == 422
    withdrawn = api.patch(f"/contacts/{own}", {"channel": "sms", "voice_consent": False})
    assert withdrawn.status_code == 200
    body = withdrawn.get_json()
    assert (body["channel"], body["voice_consent"], body["voice_consent_at"]) == (
        "sms",
        False,
        None,
    )
    assert body["opted_out"] is False  # texts untouched
    actions = session.scalars(
        select(AuditEntry.action).where(AuditEntry.entity == "phone").order_by(AuditEntry.id)
    ).all()
    assert actions == ["voice_consent", "voice_consent_withdrawn"]
