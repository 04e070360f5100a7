"""What a placed call is about, and its steps written as TwiML (``voice_webhooks`` answers
Twilio with them).

``callee`` reads the outbox row a call was placed for: a reminder or a check-in on the voice
channel, the client's language and, for a caregiver's phone, the client's given name (a
caregiver hears "Maria's appointment", as their texts name her, and so does anyone who
answers a number several clients share), and whether its session was called off since;
anything else is no call of ours to speak. ``twiml`` turns ``call_scripts``' steps into
TwiML with the SDK's ``VoiceResponse``: ``Say`` in the step's voice and language; ``Ask``
as a keypad-only ``Gather`` that posts the keys to ``/voice/keys/...``, followed by a
``Redirect`` that Twilio reaches only when nobody pressed anything (to
``/voice/silence/...``, which asks again or ends as ``call_scripts.answer`` says); ``Dial``;
``Hangup``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Response
from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from service.domain.call_scripts import Ask, Dial, Say, Step
from service.domain.vocabulary import CALLED_OFF, Channel, MessageKind
from service.domain.wording import name_for_text
from service.models import SELF, Appointment, Client, Contact, OutboundMessage

KEYS_PATH = "/voice/keys/{message_id}/{question}"
SILENCE_PATH = "/voice/silence/{message_id}/{question}/{asked}"


@dataclass(frozen=True)
class Callee:
    """What the words of a call need to know of the message it was placed for."""

    message_id: int
    kind: str  # a reminder or a check-in
    language: str
    about: str = ""  # the client's given name, on a caregiver's or a shared phone
    start_local: datetime | None = None  # a reminder's appointment, on the client's clock
    called_off: bool = False  # its session was cancelled (or missed) since it was placed


def callee(session: Session, message_id: int) -> Callee | None:
    """The reminder or check-in call placed for outbox row ``message_id``; None when there
    is no such call (another kind, a text, a client or appointment gone)."""
    message = session.get(OutboundMessage, message_id)
    if message is None or message.channel != Channel.VOICE or message.client_id is None:
        return None
    if message.kind not in (MessageKind.REMINDER, MessageKind.CHECKIN):
        return None
    client = session.get(Client, message.client_id)
    if client is None:
        return None
    contact = session.get(Contact, message.contact_id) if message.contact_id else None
    caregiver = contact is not None and contact.relation != SELF
    named = caregiver or _shared(session, message.to_phone)
    about = name_for_text(client.name, plain=False) if named else ""
    appointment = session.get(Appointment, message.appointment_id or 0)
    start_local = None
    if message.kind == MessageKind.REMINDER:
        if appointment is None:
            return None
        start_local = appointment.starts_at.astimezone(ZoneInfo(client.timezone))
    called_off = appointment is not None and appointment.status in CALLED_OFF
    return Callee(message_id, message.kind, client.language, about, start_local, called_off)


def _shared(session: Session, phone: str) -> bool:
    """Whether ``phone`` is a contact of more than one client (a family's landline): the
    call then names whose session it is about, whoever answers."""
    clients = select(func.count(distinct(Contact.client_id))).where(Contact.phone == phone)
    return (session.scalar(clients) or 0) > 1


def keys_path(message_id: int, ask: Ask) -> str:
    """Where the keys pressed at ``ask`` are posted: the first asking at
    ``/voice/keys/<message id>/<question>``, the second with ``/2`` after it."""
    path = KEYS_PATH.format(message_id=message_id, question=ask.question)
    return path if ask.asked == 1 else f"{path}/{ask.asked}"


def twiml(steps: tuple[Step, ...], base: str, message_id: int = 0) -> Response:
    """``steps`` as a TwiML response; ``base`` is prefixed to the URLs it posts to (the
    public base URL, or "" for paths Twilio resolves against the document's URL)."""
    response = VoiceResponse()
    for step in steps:
        if isinstance(step, Say):
            response.say(step.text, voice=step.voice.name, language=step.voice.locale)
        elif isinstance(step, Ask):
            gather = response.gather(
                input="dtmf",
                finish_on_key=step.finish_on_key,
                num_digits=step.num_digits,
                timeout=step.timeout,
                action=base + keys_path(message_id, step),
                method="POST",
            )
            gather.say(step.prompt, voice=step.voice.name, language=step.voice.locale)
            silence = SILENCE_PATH.format(
                message_id=message_id, question=step.question, asked=step.asked
            )
            response.redirect(base + silence, method="POST")
            break  # nothing after a question is reached: the keys or the silence lead on
        elif isinstance(step, Dial):
            response.dial(step.number)
        else:
            response.hangup()
    return Response(str(response), mimetype="application/xml")
