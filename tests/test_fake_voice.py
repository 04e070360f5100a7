"""The local Twilio's Calls resource and its caller, driven through the real SDK against a
small app that serves TwiML over HTTP and checks every signature, as the practice's will."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from flask import Flask, Response, abort, request
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse

from tests.app_server import app_server
from tests.fake_twilio import FakeTwilio, Reply
from tests.fake_voice import Answer, Call

TO = "+16175550123"
OTHER = "+16175550124"
PRACTICE = "+16175550100"
HELLO = "Hello, this is a reminder from the practice of your session tomorrow at ten."
ASK_CODE = "Please enter the code from your text, then press pound."
NOT_HEARD = "We did not hear anything."
MENU = "Press 1 to confirm your session, or 9 to cancel it."
GOODBYE = "Goodbye."
VOICEMAIL = "This is the practice. Please call us back about your session."


def voice_app(token: str, seen: list[dict[str, str]]) -> Flask:
    """A practice's voice app: a code prompt, then a confirm-or-cancel menu. It refuses any
    request whose signature does not verify, and keeps the parameters of those it accepts."""
    app = Flask("voice")
    validator = RequestValidator(token)

    def checked() -> dict[str, str]:
        signature = request.headers.get("X-Twilio-Signature", "")
        if not validator.validate(request.url, request.form.to_dict(), signature):
            abort(403)
        params = {"path": request.path, **request.form.to_dict()}
        seen.append(params)
        return params

    def twiml(response: VoiceResponse) -> Response:
        return Response(str(response), mimetype="text/xml")

    @app.post("/voice/start")
    def start() -> Response:
        params = checked()
        response = VoiceResponse()
        if params.get("AnsweredBy", "human") != "human":
            response.say(VOICEMAIL, voice="alice", language="en-US")
            response.hangup()
            return twiml(response)
        response.say(HELLO, voice="alice", language="en-US")
        gather = response.gather(input="dtmf", action="keys", finish_on_key="#", timeout=5)
        gather.say(ASK_CODE)
        response.say(NOT_HEARD)
        response.redirect("/voice/menu-prompt")
        return twiml(response)

    @app.post("/voice/keys")
    def keys() -> Response:
        params = checked()
        response = VoiceResponse()
        response.say(f"You entered {params['Digits']}.")
        response.hangup()
        return twiml(response)

    @app.post("/voice/menu-prompt")
    def menu_prompt() -> Response:
        checked()
        response = VoiceResponse()
        gather = response.gather(input="dtmf", action="/voice/menu", num_digits=1)
        gather.say(MENU)
        response.say(GOODBYE)
        return twiml(response)

    @app.post("/voice/menu")
    def menu() -> Response:
        params = checked()
        response = VoiceResponse()
        response.say({"1": "Confirmed.", "9": "Cancelled."}.get(params["Digits"], "Sorry."))
        return twiml(response)

    @app.post("/voice/status")
    def status() -> tuple[str, int]:
        checked()
        return "", 204

    return app


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


@pytest.fixture
def seen() -> list[dict[str, str]]:
    return []


@pytest.fixture
def base(fake: FakeTwilio, seen: list[dict[str, str]]) -> Iterator[str]:
    with app_server(voice_app(fake.auth_token, seen)) as url:
        yield url


@pytest.fixture
def client(fake: FakeTwilio) -> Any:
    return fake.voice.client()


def dial(client: Any, base: str, to: str = TO, **more: Any) -> Any:
    """Place a call the way the app will."""
    return client.calls.create(
        to=to,
        from_=PRACTICE,
        url=f"{base}/voice/start",
        status_callback=f"{base}/voice/status",
        machine_detection="Enable",
        timeout=25,
        **more,
    )


def only_call(fake: FakeTwilio) -> Call:
    (call,) = fake.voice.wait_for_calls(1)
    return call


def test_a_call_is_queued_at_once_then_fetched_and_listed(
    fake: FakeTwilio, client: Any, base: str
) -> None:
    held = threading.Event()
    fake.voice.script_for(TO, Answer(hold=held))
    created = dial(client, base)
    assert created.sid.startswith("CA") and created.status == "queued"
    assert (created.to, created._from, created.direction) == (TO, PRACTICE, "outbound-api")
    assert client.calls(created.sid).fetch().status == "queued"
    since = datetime.now(UTC) - timedelta(minutes=1)
    # A queued call has not started, so a start-time filter cannot find it yet.
    assert client.calls.list(to=TO, start_time_after=since) == []
    dial(client, base, to=OTHER)
    held.set()
    fake.voice.wait_for_calls(2)
    fetched = client.calls(created.sid).fetch()
    assert (fetched.status, fetched.answered_by) == ("completed", "human")
    assert int(fetched.duration) > 0 and fetched.end_time >= fetched.start_time
    assert [c.sid for c in client.calls.list(to=TO, start_time_after=since)] == [created.sid]
    assert len(client.calls.list(status="completed", page_size=1)) == 2  # two pages
    assert client.calls.list(status="busy") == []
    assert fake.voice.creates[0]["MachineDetection"] == "Enable"
    assert fake.voice.creates[0]["Timeout"] == "25"


def test_an_unknown_call_is_not_found(fake: FakeTwilio, client: Any) -> None:
    with pytest.raises(TwilioRestException) as raised:
        client.calls("CA" + "1" * 32).fetch()
    assert (raised.value.status, raised.value.code) == (404, 20404)


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"to": "", "url": "https://x.example/v"}, 21201),
        ({"to": "617-555", "url": "https://x.example/v"}, 21211),
        ({"to": TO, "url": "not a url"}, 21205),
        ({"to": TO}, 21205),
    ],
)
def test_a_create_that_twilio_would_refuse(
    fake: FakeTwilio, client: Any, fields: dict[str, str], code: int
) -> None:
    with pytest.raises(TwilioRestException) as raised:
        client.calls.create(from_=PRACTICE, **fields)
    assert (raised.value.status, raised.value.code) == (400, code)
    assert fake.voice.calls == []


def test_scripted_refusals_of_the_create_place_no_call(
    fake: FakeTwilio, client: Any, base: str
) -> None:
    fake.voice.script(Reply(status=400, code=21215), Reply(status=500))
    for status, code in ((400, 21215), (500, None)):
        with pytest.raises(TwilioRestException) as raised:
            dial(client, base)
        assert (raised.value.status, raised.value.code) == (status, code)
    assert fake.voice.calls == [] and len(fake.voice.creates) == 2
    dial(client, base)  # the script is used up: the next call goes through
    assert only_call(fake).status == "completed"


def test_a_stalled_create_leaves_the_client_waiting(fake: FakeTwilio, base: str) -> None:
    fake.voice.script(Reply(no_answer=True))
    with pytest.raises(requests.ReadTimeout):
        dial(fake.voice.client(timeout=0.3), base)
    assert fake.voice.calls == [] and len(fake.voice.creates) == 1


def test_a_call_whose_create_answer_is_lost_is_still_placed(fake: FakeTwilio, base: str) -> None:
    fake.voice.script(Reply(accept_then_hang=True, no_answer=True))
    client = fake.voice.client(timeout=0.3)
    with pytest.raises(requests.ReadTimeout):
        dial(client, base)
    call = only_call(fake)  # the client never heard, but the phone rang all the same
    assert call.status == "completed"
    assert [c.sid for c in client.calls.list(to=TO)] == [call.sid]


def test_a_spell_of_misbehaviour_answers_calls_in_the_rotation_of_texts(
    fake: FakeTwilio, client: Any, base: str
) -> None:
    fake.misbehave([Reply(status=503), Reply(status=500, accept_then_hang=True), Reply()], 60)
    fake.voice.script_for(OTHER, Answer())  # a call's own script goes before the spell
    with pytest.raises(TwilioRestException) as text:
        client.messages.create(to=TO, from_=PRACTICE, body="hi")
    with pytest.raises(TwilioRestException) as call:
        dial(client, base)
    assert (text.value.status, call.value.status) == (503, 500)
    dial(client, base, to=OTHER)
    dial(client, base)  # the rotation's third reply: a plain 201
    fake.behave()
    fake.misbehave([Reply(status=429)], 0)  # a spell already over answers nothing
    dial(client, base)
    calls = fake.voice.wait_for_calls(4)
    assert [c.form["To"] for c in calls] == [TO, OTHER, TO, TO]  # the 500 was placed
    assert fake.voice.done == len(fake.voice.creates) == 4 and fake.sent == []


def test_a_code_entered_with_the_pound_key(
    fake: FakeTwilio, client: Any, base: str, seen: list[dict[str, str]]
) -> None:
    fake.voice.script_for(TO, Answer(keys=("10#",)))
    sid = dial(client, base).sid
    call = only_call(fake)
    assert call.texts == [HELLO, ASK_CODE, "You entered 10."]
    assert call.said[0].voice == "alice" and call.said[0].language == "en-US"
    assert call.digits == ["10"]
    posted = next(p for p in seen if p["path"] == "/voice/keys")
    assert (posted["Digits"], posted["FinishedOnKey"], posted["CallSid"]) == ("10", "#", sid)
    assert (posted["From"], posted["To"], posted["AccountSid"]) == (PRACTICE, TO, fake.account_sid)
    (callback,) = call.callbacks
    assert callback.status == 204  # the app verified the signature
    assert callback.params["CallStatus"] == "completed"
    assert callback.params["AnsweredBy"] == "human"
    assert int(callback.params["CallDuration"]) > 0
    assert callback.params["SipResponseCode"] == "200"


def test_digits_then_silence_post_what_was_pressed(
    fake: FakeTwilio, client: Any, base: str, seen: list[dict[str, str]]
) -> None:
    fake.voice.script_for(TO, Answer(keys=("7",)))
    dial(client, base)
    call = only_call(fake)
    assert call.digits == ["7"] and call.texts[-1] == "You entered 7."
    posted = next(p for p in seen if p["path"] == "/voice/keys")
    assert (posted["Digits"], posted["FinishedOnKey"]) == ("7", "")


def test_silence_falls_through_to_the_redirect_and_the_second_gather(
    fake: FakeTwilio, client: Any, base: str, seen: list[dict[str, str]]
) -> None:
    dial(client, base)  # nobody presses anything, twice
    call = only_call(fake)
    assert call.texts == [HELLO, ASK_CODE, NOT_HEARD, MENU, GOODBYE]
    assert call.digits == []
    assert [h.kind for h in call.hits] == ["twiml", "redirect", "status"]
    assert [p["path"] for p in seen] == ["/voice/start", "/voice/menu-prompt", "/voice/status"]


@pytest.mark.parametrize(
    ("keys", "heard"), [("9", "Cancelled."), ("99", "Cancelled."), ("1", "Confirmed.")]
)
def test_num_digits_ends_the_gather(
    fake: FakeTwilio, client: Any, base: str, keys: str, heard: str
) -> None:
    fake.voice.script_for(TO, Answer(keys=("", keys)))
    dial(client, base)
    call = only_call(fake)
    assert call.digits == [keys[0]]
    assert call.texts == [HELLO, ASK_CODE, NOT_HEARD, MENU, heard]


def test_a_machine_answers(
    fake: FakeTwilio, client: Any, base: str, seen: list[dict[str, str]]
) -> None:
    fake.voice.script_for(TO, Answer("machine_start"))
    sid = dial(client, base).sid
    call = only_call(fake)
    assert call.texts == [VOICEMAIL] and call.digits == []
    assert seen[0]["AnsweredBy"] == "machine_start"
    assert seen[0]["CallStatus"] == "in-progress" and seen[0]["Direction"] == "outbound-api"
    assert call.callbacks[0].params["AnsweredBy"] == "machine_start"
    assert client.calls(sid).fetch().answered_by == "machine_start"


@pytest.mark.parametrize(
    ("answer", "sip", "error"),
    [
        (Answer("busy"), "486", None),
        (Answer("no-answer"), "487", None),
        (Answer("failed", error_code=32009, sip_code=503), "503", "32009"),
    ],
)
def test_a_call_nobody_answers(
    fake: FakeTwilio, client: Any, base: str, answer: Answer, sip: str, error: str | None
) -> None:
    fake.voice.script_for(TO, answer)
    sid = dial(client, base).sid
    call = only_call(fake)
    assert call.said == [] and [h.kind for h in call.hits] == ["status"]
    (callback,) = call.callbacks
    assert callback.status == 204
    assert callback.params["CallStatus"] == answer.outcome
    assert callback.params["SipResponseCode"] == sip
    assert callback.params.get("ErrorCode") == error
    assert "CallDuration" not in callback.params and "AnsweredBy" not in callback.params
    fetched = client.calls(sid).fetch()
    assert (fetched.status, fetched.duration) == (answer.outcome, "0")


def test_every_asked_for_event_gets_a_signed_callback(
    fake: FakeTwilio, client: Any, base: str
) -> None:
    events = ["initiated", "ringing", "answered", "completed"]
    dial(client, base, status_callback_event=events)
    call = only_call(fake)
    assert [c.params["CallStatus"] for c in call.callbacks] == [
        "queued",
        "ringing",
        "in-progress",
        "completed",
    ]
    assert [c.params["SequenceNumber"] for c in call.callbacks] == ["0", "1", "2", "3"]
    validator = RequestValidator(fake.auth_token)
    for callback in call.callbacks:
        assert callback.status == 204
        assert validator.validate(callback.url, callback.params, callback.signature)


def test_a_forged_signature_is_refused_and_recorded(
    fake: FakeTwilio, client: Any, base: str, seen: list[dict[str, str]]
) -> None:
    fake.voice.script_for(TO, Answer(keys=("10#",), signing_token="not-the-auth-token"))
    dial(client, base)
    call = only_call(fake)
    assert [(h.kind, h.status) for h in call.hits] == [("twiml", 403), ("status", 403)]
    assert call.errors == [11200] and call.said == [] and seen == []
    assert call.status == "completed"


def test_inline_twiml_needs_no_app(fake: FakeTwilio, client: Any) -> None:
    client.calls.create(to=TO, from_=PRACTICE, twiml="<Response><Say>Hi there.</Say></Response>")
    call = only_call(fake)
    assert call.texts == ["Hi there."] and call.callbacks == []
