"""Twilio's webhooks for calls: what a placed call says, the keys pressed, how the call
ended, and calls to the practice's number.

Every post is read and its signature checked as the texts' are (``twilio_posts``: 403
without a valid signature, 400 for a missing field). The words come from ``call_scripts``,
in the client's language; ``call_pages`` writes them as TwiML.

* ``POST /voice/call/<message id>``: the call placed for that outbox row (``voice_gateway``
  points Twilio here). A machine hears the reminder's short message, or nothing; a message
  that is no reminder or check-in call of ours hears a goodbye, never an error page.
* ``POST /voice/keys/<message id>/<question>[/2]``: keys pressed at the first (or second)
  asking of a question. They are stored as a reply (``channel`` "voice", the called number
  as its sender, sid ``<CallSid>:<question>[:2]``, so a retried webhook stores them once)
  before anything else, then acted on by ``replies.process``, as a text is (``call_keys``
  reads them); the call answers with ``call_scripts.answer``.
* ``POST /voice/silence/<message id>/<question>/<asked>``: where a question nobody answered
  falls through to: asked again, or the call ends as ``call_scripts.answer`` says.
* ``POST /voice/status``: how the call ended, recorded on its outbox row
  (``delivery.apply_call_status``); an unknown call sid is logged and answered 204.
* ``POST /voice/incoming``: a call to the practice's number: a greeting in English and
  Spanish, then a connection to ``PRACTICE_PHONE`` when it is set.

While calls are simulated, the phone simulator plays Twilio's part on the same handlers
(``simulated``: a step of one call, without the signature check, behind the dashboard's
sign-in; see ``simulated_calls``).

Logs carry masked numbers, call sids and question names, never the keys or the words.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Blueprint, Flask, Response, abort, current_app
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from service import call_pages, delivery, outbox, replies, twilio_posts
from service.call_keys import CALL, QUESTION
from service.config import current_settings, settings_of
from service.db import get_db, get_session, utcnow
from service.domain import call_scripts, keypad
from service.phones import mask
from service.twilio_posts import storable

log = logging.getLogger(__name__)
bp = Blueprint("voice_webhooks", __name__)
ASKS = range(1, call_scripts.ASKS + 1)


def _posted(*required: str) -> MultiDict[str, str]:
    """The signed form (403 unless Twilio signed it), with each ``required`` field (400)."""
    posted = twilio_posts.form()
    twilio_posts.verify(posted)
    if any(not posted.get(name, "").strip() for name in required):
        abort(400, f"{', '.join(required)} required")
    return posted


def _base() -> str:
    """What the URLs of a call's TwiML start with: the public base URL, or nothing (paths
    are resolved against the document's own URL)."""
    return (settings_of(current_app).public_base_url or "").rstrip("/")


def _page(steps: tuple[call_scripts.Step, ...], message_id: int = 0) -> Response:
    return call_pages.twiml(steps, _base(), message_id)


@bp.post("/voice/call/<int:message_id>")
def call(message_id: int) -> Response:
    """What the call placed for outbox row ``message_id`` says first."""
    return _call(_posted("CallSid"), message_id)


def _call(posted: MultiDict[str, str], message_id: int) -> Response:
    """The call's first words, for who (or what) answered it."""
    found = call_pages.callee(get_session(), message_id)
    if found is None:
        log.info("call %s: message %s is no call of ours", posted["CallSid"], message_id)
        return _page(call_scripts.goodbye("en"))
    settings = current_settings()
    practice = settings.practice_name
    answered_by = posted.get("AnsweredBy", "")
    if answered_by == "fax":
        steps: tuple[call_scripts.Step, ...] = (call_scripts.Hangup(),)
    elif found.called_off:  # cancelled while it rang: nothing to remind of or ask about
        steps = call_scripts.not_needed(found.language, practice)
    elif answered_by.startswith("machine"):
        phone = settings.practice_phone or settings.twilio_from_number or ""
        steps = call_scripts.machine_message(found.language, found.kind, practice, phone)
    elif found.start_local is not None:
        steps = call_scripts.reminder(
            found.language, practice, found.start_local, about=found.about
        )
    else:
        steps = call_scripts.checkin(found.language, practice, about=found.about)
    log.info("call %s: message %s, %s", posted["CallSid"], message_id, answered_by or "answered")
    return _page(steps, message_id)


def _question(question: str, asked: int) -> keypad.Question | None:
    """``question`` when it is one a call asks, and ``asked`` a count it is asked at."""
    found = next((q for q in keypad.QUESTIONS if q == question), None)
    return found if asked in ASKS else None


@bp.post("/voice/keys/<int:message_id>/<question>")
def keys(message_id: int, question: str) -> Response:
    """Keys pressed at the first asking of a question."""
    return _keys(_posted("CallSid", "To"), message_id, question, 1)


# Not one rule with a default: werkzeug would redirect ".../1" to the first asking's URL.
@bp.post("/voice/keys/<int:message_id>/<question>/<int:asked>")
def keys_again(message_id: int, question: str, asked: int) -> Response:
    """Keys pressed at a later asking of a question."""
    return _keys(_posted("CallSid", "To"), message_id, question, asked)


def _keys(posted: MultiDict[str, str], message_id: int, question: str, asked: int) -> Response:
    """Keys pressed at a question: stored, acted on, and answered by the call."""
    if "Digits" not in posted:
        abort(400, "Digits required")
    asking = _question(question, asked)
    if asking is None:
        return _page(call_scripts.goodbye("en"))
    _store_and_process(posted, message_id, asking, asked)
    meaning = keypad.read_keys(
        posted["Digits"], asking, finished_on_key=posted.get("FinishedOnKey", "")
    )
    return _answer(message_id, asking, asked, meaning)


@bp.post("/voice/silence/<int:message_id>/<question>/<int:asked>")
def silence(message_id: int, question: str, asked: int) -> Response:
    """Nobody pressed anything at a question: asked again, or the call ends."""
    return _silence(_posted("CallSid"), message_id, question, asked)


def _silence(posted: MultiDict[str, str], message_id: int, question: str, asked: int) -> Response:
    """The question's silence, read as no keys at all."""
    asking = _question(question, asked)
    if asking is None:
        return _page(call_scripts.goodbye("en"))
    return _answer(message_id, asking, asked, keypad.read_keys("", asking))


def _answer(
    message_id: int, question: keypad.Question, asked: int, meaning: keypad.KeyMeaning
) -> Response:
    """What the call says once the keys pressed (or none) at a question mean ``meaning``."""
    found = call_pages.callee(get_session(), message_id)
    language, about = (found.language, found.about) if found else ("en", "")
    ask = call_scripts.ask(language, question, about=about, asked=asked)
    practice = current_settings().practice_name
    return _page(call_scripts.answer(language, ask, meaning, practice), message_id)


def _store_and_process(
    posted: MultiDict[str, str], message_id: int, question: str, asked: int
) -> None:
    """Store the keys as a reply (committed before anything else, as a text is), then act on
    them as on a text; a failure after storing is logged and kept, and the clock finishes
    the reply."""
    call_sid, called = storable(posted["CallSid"].strip()), storable(posted["To"].strip())
    sid = f"{call_sid}:{question}" if asked == 1 else f"{call_sid}:{question}:{asked}"
    fields = {storable(k): storable(v[:2000]) for k, v in posted.items() if k != "Digits"}
    inbound = replies.Inbound(
        sid=sid[:64],
        from_phone=called[:64],
        to_phone=storable(posted.get("From", ""))[:64],
        body=storable(posted["Digits"])[:20],
        num_media=0,
        fields={**fields, QUESTION: question, CALL: str(message_id)},
        channel="voice",
    )
    db, now = get_db(), utcnow()
    with db.engine.connect() as connection:
        # Durable before the call goes on: the processing's commit, or ``keep``'s.
        stored = replies.store_first(connection, inbound, now)
        if stored is None:
            log.info("keys %s from %s: duplicate, already stored", sid, mask(called))
            return
        with db.sessions(bind=connection) as session:
            try:
                # The call's own row may still be being recorded as placed: wait for it, so
                # the keys are read as answering it.
                outbox.wait_for_sends_to(session, called[:20])
                session.commit()
                environment = settings_of(current_app)
                replies.process(session, environment, stored, now, sender=called[:64])
            except Exception:  # the keys are stored and the clock retries them
                session.rollback()
                log.exception("keys %s from %s: stored, processing failed", sid, mask(called))
                replies.keep(session, stored, "processing failed; it is tried again")
                return
    log.info("keys %s from %s: processed", sid, mask(called))


@bp.post("/voice/status")
def status() -> Response:
    """Twilio's status callback for a call we placed: how it ended, on its outbox row."""
    posted = _posted("CallSid", "CallStatus")
    sid = storable(posted["CallSid"].strip())
    state = posted["CallStatus"].strip().lower()
    answered_by = posted.get("AnsweredBy", "").strip().lower()
    code = twilio_posts.error_code(posted)
    session, now = get_session(), utcnow()
    to_phone = storable(posted.get("To", "").strip())[:20] or None

    quiet = current_settings().quiet_hours  # a retried call rings outside them too

    def apply() -> str:
        return delivery.apply_call_status(session, sid, state, answered_by, code, now, quiet)

    outcome = twilio_posts.applied_after_sends(session, to_phone, apply)
    log.info("call status %s: %s (%s)", sid, state, outcome)
    return Response("", status=204)


@bp.post("/voice/incoming")
def incoming() -> Response:
    """A call to the practice's number: a greeting in English and Spanish, then the
    practice's phone when it is set."""
    posted = _posted("CallSid")
    settings = current_settings()
    log.info("incoming call %s from %s", posted["CallSid"], mask(posted.get("From")))
    return _page(call_scripts.incoming(settings.practice_name, settings.practice_phone or ""))


# What a call's TwiML may lead to, by endpoint, without the signature check (``simulated``).
_FOLLOWED: dict[str, Callable[..., Response]] = {
    "voice_webhooks.call": _call,
    "voice_webhooks.keys": lambda posted, **args: _keys(posted, asked=1, **args),
    "voice_webhooks.keys_again": _keys,
    "voice_webhooks.silence": _silence,
}


def simulated(path: str, posted: MultiDict[str, str], message_id: int) -> Response | None:
    """What the webhook at ``path`` answers ``posted``, as if Twilio had signed it, when
    ``path`` is a step of the call placed for outbox row ``message_id``; else None.

    Only the phone simulator calls this, behind the dashboard's sign-in and CSRF check and
    only while calls are simulated: it plays Twilio's part, so the keys it posts are stored,
    understood and answered by exactly the code a real call's are."""
    try:
        endpoint, args = current_app.url_map.bind("localhost").match(path, method="POST")
    except HTTPException:
        return None
    handler = _FOLLOWED.get(str(endpoint))
    if handler is None or args.get("message_id") != message_id:
        return None
    return handler(posted, **args)


def init_app(app: Flask) -> None:
    """Register the calls' webhooks."""
    app.register_blueprint(bp)
