"""The phone simulator's calls: a simulated call answered in the browser, its words shown and
its keypad pressed, through the same webhooks a real call reaches.

While calls are simulated the dispatcher records each one as delivered without ringing
anything (``SimulatedVoiceGateway``). Here staff answer it as the client or caregiver would,
and the simulator plays Twilio's part: it asks the call's webhook for its TwiML
(``voice_webhooks.simulated``: the very handlers Twilio's posts reach, with the signature
check replaced by the dashboard's sign-in and CSRF check), shows the words each ``<Say>``
would speak, and offers a keypad for a ``<Gather>``. Keys are taken one press per request,
as a phone sends them, and handed on as Twilio hands them on: at the finish key (which is
not part of the digits), at ``numDigits``, or with what was pressed when the caller lets
the question time out; a question left without a digit falls through to the ``<Redirect>``
(silence). Whatever the webhook answers is shown the same way, until the call hangs up.

Each answering is a call of its own (a fresh call sid), so a demo can answer a call again;
the keys of one answering are stored once per question, as a real call's are.
"""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Blueprint, Flask, abort, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from service import audit, voice_webhooks
from service.config import current_settings, settings_of
from service.dashboard.auth import current_user
from service.db import get_session
from service.domain.vocabulary import ARRIVED, Channel
from service.models import Client, OutboundMessage, User
from service.phone_simulator import Phone, chosen_phone, guard

bp = Blueprint("simulator_calls", __name__, url_prefix="/simulator/call")
KEYPAD = "123456789*0#"
MAX_KEYS = 20  # more than any question takes; a longer string is no phone's


@dataclass(frozen=True)
class Gather:
    """A question listening for keys: where they go, and when Twilio stops listening."""

    action: str
    finish_on_key: str = "#"
    num_digits: int | None = None
    silence: str = ""  # where the call goes when nothing is pressed ("" ends it)


@dataclass(frozen=True)
class Heard:
    """One TwiML document as the callee hears it: the words in order, then a question, a
    connection to another number, or the end of the call."""

    said: tuple[str, ...]
    gather: Gather | None = None
    dial: str = ""


def heard(twiml: str) -> Heard:
    """What a caller hears of ``twiml``, up to its first question (Twilio never comes back
    to the rest of a document after a ``<Gather>``)."""
    said: list[str] = []
    root = ET.fromstring(twiml)
    verbs = list(root)
    for index, verb in enumerate(verbs):
        if verb.tag == "Say":
            said.append((verb.text or "").strip())
        elif verb.tag == "Gather":
            said.extend((s.text or "").strip() for s in verb if s.tag == "Say")
            after = verbs[index + 1 : index + 2]
            redirect = (after[0].text or "").strip() if after and after[0].tag == "Redirect" else ""
            digits = verb.get("numDigits", "")
            gather = Gather(
                action=verb.get("action", ""),
                finish_on_key=verb.get("finishOnKey", "#"),
                num_digits=int(digits) if digits.isascii() and digits.isdigit() else None,
                silence=redirect,
            )
            return Heard(tuple(said), gather)
        elif verb.tag == "Dial":
            return Heard(tuple(said), dial=(verb.text or "").strip())
        elif verb.tag == "Hangup":
            break
    return Heard(tuple(said))


def gathered(keys: str, gather: Gather, *, timed_out: bool) -> tuple[str, str] | None:
    """The digits and the finish key Twilio posts for ``keys`` pressed at ``gather`` (the
    finish key ends them and is not a digit; ``numDigits`` ends them too); None while the
    question still listens. A caller who let it time out sends what was pressed."""
    digits = ""
    for key in keys:
        if gather.finish_on_key and key == gather.finish_on_key:
            return digits, key
        digits += key
        if gather.num_digits and len(digits) >= gather.num_digits:
            return digits, ""
    return (digits, "") if timed_out else None


def _local(url: str) -> str:
    """The path of a URL the TwiML names (absolute with ``PUBLIC_BASE_URL``, or a path)."""
    base = (current_settings().public_base_url or "").rstrip("/")
    prefix = urlsplit(base).path.rstrip("/")
    path = urlsplit(url).path
    return path[len(prefix) :] if prefix and path.startswith(prefix + "/") else path


def _call(session: Session, user: User, phone: Phone, message_id: int) -> OutboundMessage:
    """The call placed to ``phone`` for outbox row ``message_id``, when the user may see it
    (a therapist only their own clients'); 404 otherwise."""
    query = select(OutboundMessage).where(
        OutboundMessage.id == message_id,
        OutboundMessage.channel == Channel.VOICE,
        OutboundMessage.to_phone == phone.number,
        OutboundMessage.status.in_(ARRIVED),
    )
    if not user.is_admin:
        mine = select(Client.id).where(Client.therapist_id == user.id)
        query = query.where(OutboundMessage.client_id.in_(mine))
    found = session.scalar(query)
    if found is None:
        abort(404)
    return found


def _twilio_form(phone: Phone, call_sid: str, **more: str) -> MultiDict[str, str]:
    """What Twilio posts about an answered call, to the practice's caller number."""
    settings = current_settings()
    caller = settings.twilio_from_number or settings.practice_phone or ""
    fields = {
        "CallSid": call_sid,
        "From": caller,
        "To": phone.number,
        "CallStatus": "in-progress",
        "Direction": "outbound-api",
        "AnsweredBy": "human",
    }
    return MultiDict({**fields, **more})


def _follow(path: str, form: MultiDict[str, str], message_id: int) -> Heard:
    """Post ``form`` to the call's webhook at ``path`` and hear its answer; 400 for a path
    that is not this call's."""
    answered = voice_webhooks.simulated(_local(path), form, message_id)
    if answered is None:
        abort(400, "that is not a step of this call")
    return heard(answered.get_data(as_text=True))


def _page(phone: Phone, call: OutboundMessage, call_sid: str, now: Heard, keys: str = "") -> str:
    """The call screen, audited as a view of the call's client."""
    session, user = get_session(), current_user()
    audit.record(session, user, "view", "client", "*", clients=[call.client_id], via="simulator")
    session.commit()
    return render_template(
        "simulator/call.html", phone=phone, call=call, call_sid=call_sid, heard=now, keys=keys
    )


@bp.get("/<int:message_id>")
def answer(message_id: int) -> str:
    """Pick up the call: what it says first."""
    session, user = get_session(), current_user()
    phone = chosen_phone(session, user)
    call = _call(session, user, phone, message_id)
    session.commit()  # no read held open while the webhook writes
    call_sid = "CAsim" + secrets.token_hex(14)
    first = _follow(f"/voice/call/{message_id}", _twilio_form(phone, call_sid), message_id)
    return _page(phone, call, call_sid, first)


@bp.post("/<int:message_id>/press")
def press(message_id: int) -> str:
    """One key pressed (or the question left to time out): the question listens on, or the
    keys go to the call's webhook and the call goes on as it answers."""
    session, user = get_session(), current_user()
    phone = chosen_phone(session, user)
    call = _call(session, user, phone, message_id)
    session.commit()
    posted = request.form
    call_sid, keys, key = posted.get("call_sid", ""), posted.get("keys", ""), posted.get("key", "")
    if not call_sid.startswith("CAsim") or len(call_sid) > 40:
        abort(400, "this call is not one the simulator answered")
    if len(key) > 1 or any(k not in KEYPAD for k in keys + key) or len(keys) >= MAX_KEYS:
        abort(400, "only the keys 0 to 9, * and # are on a phone's keypad")
    digits = posted.get("num_digits", "")
    gather = Gather(
        action=posted.get("action", ""),
        finish_on_key=posted.get("finish_on_key", ""),
        num_digits=int(digits) if digits.isascii() and digits.isdigit() else None,
        silence=posted.get("silence", ""),
    )
    keys += key
    now = Heard(tuple(posted.getlist("said")), gather)
    sent = gathered(keys, gather, timed_out="wait" in posted)
    if sent is None:
        return _page(phone, call, call_sid, now, keys)
    digits_sent, finished = sent
    if digits_sent:
        form = _twilio_form(phone, call_sid, Digits=digits_sent, FinishedOnKey=finished)
        return _page(phone, call, call_sid, _follow(gather.action, form, message_id))
    if not gather.silence:  # nothing pressed and nowhere to fall through to: the call ends
        return _page(phone, call, call_sid, Heard(()))
    silent = _follow(gather.silence, _twilio_form(phone, call_sid), message_id)
    return _page(phone, call, call_sid, silent)


guard(bp)


def init_app(app: Flask) -> None:
    """Register the simulator's calls with the rest of the phone simulator: only while
    messages are simulated outside production."""
    if settings_of(app).phone_simulator:
        app.register_blueprint(bp)
