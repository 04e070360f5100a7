"""The inbound webhook: signatures, storing first, idempotency and bad input."""

from __future__ import annotations

import threading
from collections.abc import Callable

from flask import Flask, request
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from twilio.twiml.messaging_response import MessagingResponse

from service import webhooks
from service.models import Alert, InboundMessage
from tests.webhooks.conftest import AUTH_TOKEN, PUBLIC, Twilio, reply_text, sign

UNKNOWN = "+16175559999"


def stored(session: Session) -> list[InboundMessage]:
    session.expire_all()
    return list(session.scalars(select(InboundMessage).order_by(InboundMessage.id)))


def test_a_signed_text_is_stored_and_answered(twilio: Twilio, session: Session) -> None:
    response = twilio.text(UNKNOWN, "hello?")
    assert reply_text(response) == "Thanks, we got your message."
    [row] = stored(session)
    assert (row.from_phone, row.body, row.client_id) == (UNKNOWN, "hello?", None)
    assert row.fields["To"] == "+16175550100" and "Body" not in row.fields
    assert row.processed_at is not None


def test_a_forged_signature_is_refused_and_nothing_stored(twilio: Twilio, session: Session) -> None:
    form = {"MessageSid": "SMforged", "From": UNKNOWN, "Body": "hi"}
    assert (
        twilio.post(
            "/sms/inbound", form, signature=sign(PUBLIC + "/sms/inbound", form, "wrong")
        ).status_code
        == 403
    )
    assert twilio.post("/sms/inbound", form, signature="").status_code == 403
    tampered = sign(PUBLIC + "/sms/inbound", form)
    assert (
        twilio.post("/sms/inbound", {**form, "Body": "STOP"}, signature=tampered).status_code == 403
    )
    assert stored(session) == []


def test_without_an_auth_token_nothing_is_accepted(
    make_app: Callable[..., Flask], session: Session
) -> None:
    app = make_app(PUBLIC_BASE_URL=PUBLIC)
    form = {"MessageSid": "SMx", "From": UNKNOWN, "Body": "hi"}
    response = app.test_client().post(
        "/sms/inbound",
        data=form,
        headers={"X-Twilio-Signature": sign(PUBLIC + "/sms/inbound", form)},
    )
    assert response.status_code == 403
    assert stored(session) == []


def test_a_replayed_text_is_stored_once_and_answered_twice(
    twilio: Twilio, session: Session
) -> None:
    form = {"MessageSid": "SMreplay", "From": UNKNOWN, "To": "+16175550100", "Body": "hi"}
    first, second = twilio.post("/sms/inbound", form), twilio.post("/sms/inbound", form)
    assert reply_text(first) is not None
    assert reply_text(second) is None
    assert len(stored(session)) == 1
    assert session.scalar(select(func.count()).select_from(Alert)) == 1


def test_concurrent_retries_of_one_text_are_stored_once(app: Flask, session: Session) -> None:
    form = {"MessageSid": "SMconcurrent", "From": UNKNOWN, "To": "+16175550100", "Body": "7"}
    signature = sign(PUBLIC + "/sms/inbound", form)
    statuses: list[int] = []
    barrier = threading.Barrier(4)

    def post() -> None:
        client = app.test_client()
        barrier.wait()
        statuses.append(
            client.post(
                "/sms/inbound", data=form, headers={"X-Twilio-Signature": signature}
            ).status_code
        )

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 4
    assert len(stored(session)) == 1


def test_missing_fields_are_a_400(twilio: Twilio, session: Session) -> None:
    assert twilio.post("/sms/inbound", {"From": UNKNOWN, "Body": "x"}).status_code == 400
    assert twilio.post("/sms/inbound", {"MessageSid": "SM1", "Body": "x"}).status_code == 400
    assert stored(session) == []


def test_a_body_over_64_kb_is_a_413(twilio: Twilio, session: Session) -> None:
    response = twilio.post(
        "/sms/inbound", {"MessageSid": "SMbig", "From": UNKNOWN, "Body": "x" * 70_000}
    )
    assert response.status_code == 413
    assert stored(session) == []


def test_undecodable_bytes_are_a_400(app: Flask, session: Session) -> None:
    response = app.test_client().post(
        "/sms/inbound",
        data=b"MessageSid=SMbad&From=%2B16175559999&Body=%FF%FE",
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": "x"},
    )
    assert response.status_code == 400
    assert stored(session) == []


def test_odd_but_valid_texts_are_stored_and_answered(twilio: Twilio, session: Session) -> None:
    bodies = ["😀👍🏽", "x" * 1600, "שלום, כאב 7", "tab\there\x07bell", "", " "]
    for body in bodies:
        assert reply_text(twilio.text(UNKNOWN, body)) is not None
    assert [row.body for row in stored(session)] == bodies


def test_fields_twilio_adds_later_are_kept(twilio: Twilio, session: Session) -> None:
    twilio.text(UNKNOWN, "hi", FromCity="BOSTON", SomeNewField="x")
    [row] = stored(session)
    assert (row.fields["FromCity"], row.fields["SomeNewField"]) == ("BOSTON", "x")


def test_behind_a_trusted_proxy_the_public_url_is_rebuilt(
    make_app: Callable[..., Flask], session: Session
) -> None:
    app = make_app(TWILIO_AUTH_TOKEN=AUTH_TOKEN, TRUSTED_PROXIES="1")
    form = {"MessageSid": "SMproxy", "From": UNKNOWN, "Body": "hi"}
    response = app.test_client().post(
        "/sms/inbound",
        data=form,
        headers={
            "X-Twilio-Signature": sign("https://sms.practice.example/sms/inbound", form),
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "sms.practice.example",
        },
    )
    assert response.status_code == 200
    assert len(stored(session)) == 1


field_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    sid=st.text(st.characters(codec="ascii"), max_size=70),
    sender=field_text,
    body=field_text,
    extra=st.dictionaries(
        st.text(st.characters(codec="ascii"), min_size=1, max_size=20), field_text, max_size=4
    ),
)
def test_no_posted_form_ever_gets_a_500(
    twilio: Twilio, sid: str, sender: str, body: str, extra: dict[str, str]
) -> None:
    form = {**extra, "MessageSid": sid, "From": sender, "Body": body}
    response = twilio.post("/sms/inbound", form)
    assert response.status_code in (200, 400), response.get_data(as_text=True)[:300]


@given(st.one_of(st.none(), st.just(""), st.text(max_size=80)))
def test_the_answer_is_the_twiml_the_sdk_writes(reply: str | None) -> None:
    expected = MessagingResponse()
    if reply:
        expected.message(reply)
    flask = Flask(__name__)
    with flask.app_context():
        answer = webhooks._twiml(reply)
    assert answer.get_data(as_text=True) == str(expected)
    assert answer.mimetype == "application/xml"


def test_a_webhook_post_opens_no_session_from_a_cookie(app: Flask) -> None:
    interface = app.session_interface
    signer = interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    cookie = f"{interface.get_cookie_name(app)}={signer.dumps({'user_id': 1})}"
    with app.test_request_context("/sms/inbound", method="POST", headers={"Cookie": cookie}):
        assert dict(interface.open_session(app, request) or {}) == {}
    with app.test_request_context("/", headers={"Cookie": cookie}):
        assert dict(interface.open_session(app, request) or {}) == {"user_id": 1}
