"""The far end of the local Twilio's calls: it rings, answers as the script says, fetches the
TwiML from the call's ``Url`` over HTTP, plays it and sends the status callbacks.

Every request to the app is signed like Twilio's (``X-Twilio-Signature``, from the SDK's
``RequestValidator``) and carries Twilio's parameters. The TwiML is played the way Twilio
plays it: each ``<Say>`` is heard in order; a ``<Gather>`` takes the callee's next scripted
key presses, stops at ``numDigits`` or at the ``finishOnKey`` key (which is not part of the
digits) and posts them to its ``action`` (by default the current document), never coming
back to the rest of the document; a ``<Gather>`` that hears nothing (or only the finish key)
falls through to the next verb unless ``actionOnEmptyResult`` is true. ``<Redirect>`` fetches
another document, ``<Hangup>`` or the end of the document ends the call.

Time on the call is counted, not spent: a Say lasts a second per two and a half words, a
Pause its length, a Gather that waits for its timeout that timeout. Nothing sleeps.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections import deque
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urljoin

import requests
from twilio.request_validator import RequestValidator

from tests.fake_voice import ANSWERED, Call, FakeVoice, Hit, Said

if TYPE_CHECKING:
    from tests.fake_voice import Answer

MAX_DOCUMENTS = 50  # Twilio gives up on a call that redirects forever, so does the fake
SIP = {"completed": 200, "busy": 486, "no-answer": 487, "failed": 500}
# The next request a played document leads to: kind, URL, method and its extra parameters.
Next = tuple[str, str, str, dict[str, str]]


def place(voice: FakeVoice, call: Call) -> None:
    """Place ``call`` from start to end (the body of its background thread)."""
    try:
        _Caller(voice, call).run()
    finally:
        call.finished.set()


class _Caller:
    def __init__(self, voice: FakeVoice, call: Call) -> None:
        self.voice = voice
        self.call = call
        self.answer: Answer = call.answer
        # Only a person presses keys ("unknown" may be one); machines and faxes never do.
        pressing = call.answer.outcome in ("human", "unknown")
        self.keys = deque(call.answer.keys if pressing else ())
        self.seconds = 0
        self.started = datetime.now(UTC).replace(microsecond=0)
        self.sequence = 0
        token = call.answer.signing_token or voice.fake.auth_token
        self.validator = RequestValidator(token)
        self.http = requests.Session()
        self.detecting = bool(call.form.get("MachineDetection"))

    def run(self) -> None:
        hold = self.answer.hold
        if hold is not None and not self.voice.fake._wait_for(hold):
            return  # the server stopped while the call was held
        self.started = datetime.now(UTC).replace(microsecond=0)
        self.voice.update(self.call, status="ringing", start_time=format_datetime(self.started))
        self.event("initiated", "queued")
        self.event("ringing", "ringing")
        try:
            outcome = self.answer.outcome
            if outcome not in ANSWERED:
                if outcome == "no-answer":
                    self.seconds = int(self.call.form.get("Timeout") or 60)
                self.finish(outcome)
                return
            answered_by = outcome if self.detecting else None
            self.voice.update(self.call, status="in-progress", answered_by=answered_by)
            self.event("answered", "in-progress")
            self.play()
            self.finish("completed")
        finally:
            self.http.close()

    def params(self, status: str) -> dict[str, str]:
        """The parameters Twilio sends with every request about this call."""
        form = self.call.form
        params = {
            "AccountSid": self.voice.fake.account_sid,
            "ApiVersion": "2010-04-01",
            "CallSid": self.call.sid,
            "CallStatus": status,
            "Called": form["To"],
            "Caller": form["From"],
            "Direction": "outbound-api",
            "From": form["From"],
            "To": form["To"],
        }
        if self.detecting and self.answer.outcome in ANSWERED:
            params["AnsweredBy"] = self.answer.outcome
        return params

    def event(self, name: str, status: str, extra: dict[str, str] | None = None) -> None:
        """Send the status callback for ``name`` if the call asked for that event."""
        url = self.call.form.get("StatusCallback")
        if not url or name not in (self.call.events or ("completed",)):
            return
        self.sequence += 1
        params = {
            **self.params(status),
            "CallbackSource": "call-progress-events",
            "SequenceNumber": str(self.sequence - 1),
            "Timestamp": format_datetime(datetime.now(UTC).replace(microsecond=0)),
            **(extra or {}),
        }
        method = (self.call.form.get("StatusCallbackMethod") or "POST").upper()
        self.request("status", url, method, params)

    def finish(self, status: str) -> None:
        """End the call as ``status`` and send the completed callback."""
        duration = self.seconds if status == "completed" else 0
        ended = self.started + timedelta(seconds=duration)
        self.voice.update(
            self.call, status=status, duration=str(duration), end_time=format_datetime(ended)
        )
        extra = {"SipResponseCode": str(self.answer.sip_code or SIP[status])}
        if status == "completed":
            extra["CallDuration"] = str(duration)
        if status == "failed" and self.answer.error_code:
            extra["ErrorCode"] = str(self.answer.error_code)
        self.event("completed", status, extra)

    def play(self) -> None:
        """Fetch and play documents until the call hangs up or the TwiML runs out."""
        form = self.call.form
        inline = form.get("Twiml")
        step: Next | None = ("twiml", form.get("Url", ""), form.get("Method") or "POST", {})
        for _ in range(MAX_DOCUMENTS):
            if step is None or self.voice.fake._stopping.is_set():
                return
            kind, url, method, extra = step
            if inline is not None:
                text, inline = inline, None
            else:
                hit = self.request(kind, url, method, {**self.params("in-progress"), **extra})
                if hit.status is None or not 200 <= hit.status < 300:
                    self.call.errors.append(11200)  # Twilio: HTTP retrieval failure
                    return
                text = hit.body
            try:
                root = ET.fromstring(text)
            except ET.ParseError:
                root = ET.Element("Invalid")
            if root.tag != "Response":
                self.call.errors.append(12100)  # Twilio: document parse failure
                return
            step = self.perform(root, url)
        self.call.errors.append(11215)  # too many redirects

    def perform(self, root: ET.Element, url: str) -> Next | None:
        """Play one document's verbs; the request it leads to, or None when the call ends."""
        for verb in root:
            if verb.tag in ("Say", "Pause", "Play"):
                self.hear(verb)
            elif verb.tag == "Gather":
                step = self.gather(verb, url)
                if step is not None:
                    return step
            elif verb.tag == "Redirect":
                target = urljoin(url, (verb.text or "").strip() or url)
                return "redirect", target, (verb.get("method") or "POST").upper(), {}
            elif verb.tag in ("Hangup", "Reject"):
                return None
        return None

    def hear(self, verb: ET.Element) -> None:
        """Record a ``<Say>`` and count the time any spoken or silent verb takes."""
        if verb.tag == "Pause":
            self.seconds += int(verb.get("length") or 1)
            return
        if verb.tag == "Play":
            self.seconds += 1
            return
        text = " ".join("".join(verb.itertext()).split())
        self.call.said.append(Said(text, verb.get("voice"), verb.get("language")))
        self.seconds += max(1, math.ceil(len(text.split()) / 2.5))

    def gather(self, verb: ET.Element, url: str) -> Next | None:
        """Play a ``<Gather>``'s prompts, take the next key presses; the action to post, or
        None when it heard nothing and the call falls through to the next verb."""
        for child in verb:
            if child.tag in ("Say", "Pause", "Play"):
                self.hear(child)
        finish = verb.get("finishOnKey", "#")
        wanted = int(verb.get("numDigits") or 0)
        pressed = self.keys.popleft() if self.keys else ""
        if "dtmf" not in (verb.get("input") or "dtmf"):
            pressed = ""  # a speech-only Gather does not listen to the keypad
        digits, finished_on = "", ""
        for key in pressed:
            if finish and key in finish:
                finished_on = key
                break
            digits += key
            if wanted and len(digits) >= wanted:
                break
        if not finished_on and not (wanted and len(digits) >= wanted):
            self.seconds += int(verb.get("timeout") or 5)  # it waited for the timeout
        empty_posts = verb.get("actionOnEmptyResult") == "true"
        if not digits and not empty_posts:
            return None
        action = verb.get("action") or url
        if not action:
            return None  # inline TwiML has no document to post back to
        self.call.digits.append(digits)
        extra = {"Digits": digits, "FinishedOnKey": finished_on, "msg": "Gather End"}
        return "gather", urljoin(url, action), (verb.get("method") or "POST").upper(), extra

    def request(self, kind: str, url: str, method: str, params: dict[str, str]) -> Hit:
        """Send one signed request to the app and record it with the answer."""
        headers = {"User-Agent": "TwilioProxy/1.1"}
        try:
            if method == "GET":
                url = url + ("&" if "?" in url else "?") + urlencode(params)
                signature = self.validator.compute_signature(url, {})
                headers["X-Twilio-Signature"] = signature
                answer = self.http.get(url, headers=headers, timeout=5)
            else:
                signature = self.validator.compute_signature(url, params)
                headers["X-Twilio-Signature"] = signature
                answer = self.http.post(url, data=params, headers=headers, timeout=5)
            status: int | None = answer.status_code
            body = answer.text
        except requests.RequestException:
            status, body = None, ""
        hit = Hit(kind, method, url, dict(params), signature, status, body)
        self.call.hits.append(hit)
        return hit
