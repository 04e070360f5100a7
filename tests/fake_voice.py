"""The Calls resource of the local Twilio: create, fetch and list calls, and scripts that say
how each call goes (answered by a person or a machine, busy, no answer, failed), so tests
drive whole calls through the real SDK.

``FakeTwilio`` owns one ``FakeVoice`` as ``fake.voice``; its HTTP handler passes every
``Calls`` request here. A created call is answered at once with status ``queued``, like
Twilio, and then placed in a background thread by ``tests.fake_caller``, which fetches the
TwiML from ``Url``, plays it and sends the status callback. Tests script a call with
``fake.voice.script_for(to, Answer(...))`` and read what happened with
``fake.voice.wait_for_calls(n)``, which returns the finished ``Call`` records.

A call with no script of its own (``script_for``, then ``script``) is answered as usual,
except during a spell of ``fake.misbehave(...)``: then its create gets the spell's next
reply, from the same rotation as the texts' (``FakeTwilio.spell_reply``), and the call, if
that reply places one, goes as ``Answer()`` would. So one spell makes texts and calls
misbehave alike.
"""

from __future__ import annotations

import base64
import re
import secrets
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.fake_twilio import API, Reply, _error, _matches_date

if TYPE_CHECKING:
    from tests.fake_twilio import FakeTwilio, _Handler

ANSWERED = ("human", "machine_start", "machine_end_beep", "fax", "unknown")
UNANSWERED = ("busy", "no-answer", "failed")
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
ACCEPTED = Reply()  # a normal 201 for the create request (Reply is frozen: safe to share)
CALL_ERRORS = {
    21201: "No 'To' number is specified",
    21205: "Url is not a valid URL.",
    21211: "Invalid 'To' Phone Number",
    21212: "Invalid 'From' Phone Number",
    21213: "No 'From' number is specified",
}


@dataclass(frozen=True)
class Answer:
    """How one scripted call goes; the default is a person who answers and presses nothing.

    ``outcome``: who answers (``human``, ``machine_start``, ``fax``, ``unknown``...) or why
    nobody does (``busy``, ``no-answer``, ``failed``). ``keys``: what the callee presses at
    each ``<Gather>`` in turn, as typed on the keypad ("10#"); ``""`` (or running out of
    entries) is silence until the Gather times out. ``error_code`` and ``sip_code`` go in the
    callback of a failed call. ``create`` answers the create request itself: a refusal
    (``Reply(status=400, code=...)``, a 500, a stall) places no call unless the reply says
    ``accept_then_hang``. ``hold``: the call stays queued until the test sets this event.
    ``signing_token``: sign the call's requests with this instead of the auth token (a forgery).
    """

    outcome: str = "human"
    keys: tuple[str, ...] = ()
    error_code: int | None = None
    sip_code: int | None = None
    create: Reply = ACCEPTED
    hold: threading.Event | None = None
    signing_token: str | None = None

    def __post_init__(self) -> None:
        """Refuse outcomes Twilio never reports, so a typo does not pass for a silent call."""
        if self.outcome not in ANSWERED + UNANSWERED:
            raise ValueError(f"unknown call outcome {self.outcome!r}")


@dataclass(frozen=True)
class Said:
    """One ``<Say>`` the caller heard, with the voice and language it was read in."""

    text: str
    voice: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class Hit:
    """One request the caller made to the app, and the app's answer (status None: no answer)."""

    kind: str  # "twiml" (the call's Url), "gather", "redirect" or "status"
    method: str
    url: str
    params: dict[str, str]
    signature: str
    status: int | None
    body: str


@dataclass
class Call:
    """Everything about one placed call: its create form, what was said and pressed, the
    requests it made with their answers, and the resource the API shows."""

    sid: str
    form: dict[str, str]
    events: tuple[str, ...]  # the StatusCallbackEvent values asked for
    answer: Answer
    resource: dict[str, Any]
    said: list[Said] = field(default_factory=list)
    digits: list[str] = field(default_factory=list)  # each Digits value posted to an action
    hits: list[Hit] = field(default_factory=list)
    errors: list[int] = field(default_factory=list)  # Twilio's debugger codes, e.g. 11200
    finished: threading.Event = field(default_factory=threading.Event)

    @property
    def status(self) -> str:
        """The call's status as the API shows it now."""
        return str(self.resource["status"])

    @property
    def callbacks(self) -> list[Hit]:
        """The status callbacks sent for this call, in order."""
        return [h for h in self.hits if h.kind == "status"]

    @property
    def texts(self) -> list[str]:
        """Only the words of every ``<Say>``, in order."""
        return [s.text for s in self.said]


class FakeVoice:
    """The Calls resource of one ``FakeTwilio``: scripts, records and the calls in progress."""

    def __init__(self, fake: FakeTwilio) -> None:
        """Serve calls for ``fake``'s account and credentials."""
        self.fake = fake
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._threads: list[threading.Thread] = []
        self.reset()

    def reset(self) -> None:
        """Forget every call and script."""
        with self._lock:
            self._script: deque[Answer] = deque()
            self._scripts_for: dict[str, deque[Answer]] = {}
            self._calls: list[Call] = []
            self._creates: list[dict[str, str]] = []
            self._done = 0

    def script(self, *answers: Answer | Reply) -> None:
        """Queue how the next calls go (a bare ``Reply`` answers the create request)."""
        with self._lock:
            self._script.extend(_as_answer(a) for a in answers)

    def script_for(self, to: str, *answers: Answer | Reply) -> None:
        """Queue how the next calls to ``to`` go; they go before the general script."""
        with self._lock:
            self._scripts_for.setdefault(to, deque()).extend(_as_answer(a) for a in answers)

    def client(self, timeout: float = 5.0) -> Any:
        """The real SDK's ``twilio.rest.Client`` pointed at this server, through the same
        host-rewriting HTTP client the app's gateway uses."""
        from twilio.rest import Client

        from service.sms.gateway import _RedirectingHttpClient

        http = _RedirectingHttpClient(self.fake.base_url, timeout)
        return Client(self.fake.account_sid, self.fake.auth_token, http_client=http)

    @property
    def calls(self) -> list[Call]:
        """Every placed call, oldest first (records still fill in while a call goes on)."""
        with self._lock:
            return list(self._calls)

    @property
    def creates(self) -> list[dict[str, str]]:
        """The form of every create request received, placed or refused."""
        with self._lock:
            return [dict(f) for f in self._creates]

    @property
    def done(self) -> int:
        """How many create requests the server is finished with: placed, refused or dropped
        (equal to ``len(creates)`` once no create is in progress)."""
        with self._lock:
            return self._done

    def call(self, sid: str) -> Call:
        """The record of the call with this sid."""
        with self._lock:
            return next(c for c in self._calls if c.sid == sid)

    def wait_for_calls(self, count: int, timeout: float = 10.0) -> list[Call]:
        """Wait until ``count`` calls were placed and all of them finished; the records.

        The timeout is only there so that a broken test fails instead of hanging."""
        with self._changed:
            placed = self._changed.wait_for(lambda: len(self._calls) >= count, timeout)
            calls = list(self._calls)
        assert placed, f"expected {count} calls, {len(calls)} placed"
        for call in calls:
            assert call.finished.wait(timeout), f"call {call.sid} never finished"
        return calls

    def join(self) -> None:
        """Wait for every call thread (the server is stopping: the calls end quickly)."""
        with self._lock:
            threads, self._threads = self._threads, []
        for thread in threads:
            thread.join()

    def serves(self, handler: _Handler, method: str) -> bool:
        """Answer ``handler``'s request if it is about Calls; False leaves it to Messages."""
        path = urlsplit(handler.path).path
        base = f"{API}{self.fake.account_sid}/Calls"
        if not path.startswith(base):
            return False
        if not self._authorized(handler):
            handler._answer(401, _error(401, 20003))
        elif method == "POST" and path == base + ".json":
            try:
                self._create(handler)
            finally:
                with self._lock:
                    self._done += 1
        elif method == "GET" and path == base + ".json":
            handler._answer(200, self._list(_query(handler.path)))
        elif method == "GET" and (found := self._find(path.removeprefix(base + "/"))):
            with self._lock:
                handler._answer(200, dict(found.resource))
        else:
            handler._answer(404, _error(404, 20404))
        return True

    def _authorized(self, handler: _Handler) -> bool:
        expected = f"{self.fake.account_sid}:{self.fake.auth_token}".encode()
        header = handler.headers.get("Authorization", "")
        return bool(header == "Basic " + base64.b64encode(expected).decode())

    def _find(self, name: str) -> Call | None:
        sid = name.removesuffix(".json")
        with self._lock:
            return next((c for c in self._calls if c.sid == sid), None)

    def _next_answer(self, to: str) -> Answer:
        with self._lock:
            mine = self._scripts_for.get(to)
            if mine:
                return mine.popleft()
            if self._script:
                return self._script.popleft()
        spelled = self.fake.spell_reply()  # not under our lock: the fake's is its own
        return Answer() if spelled is None else Answer(create=spelled)

    def _create(self, handler: _Handler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        fields = parse_qs(handler.rfile.read(length).decode(), keep_blank_values=True)
        form = {k: v[0] for k, v in fields.items()}
        with self._lock:
            self._creates.append(dict(form))
        refusal = _invalid(form)
        if refusal:
            handler._answer(400, _error(400, refusal, CALL_ERRORS[refusal]))
            return
        answer = self._next_answer(form["To"])
        reply = answer.create
        placed = self._place(form, fields, answer) if reply.accept_then_hang else None
        if reply.no_answer:
            handler._wait_for_hang_up(self.fake)
            return
        stopping = self.fake._stopping
        if (reply.hang and stopping.wait(reply.hang)) or (
            reply.until is not None and not self.fake._wait_for(reply.until)
        ):
            return
        if reply.status >= 400:
            handler._answer(reply.status, _error(reply.status, reply.code, reply.message))
            return
        handler._answer(201, placed or self._place(form, fields, answer))

    def _place(
        self, form: dict[str, str], fields: dict[str, list[str]], answer: Answer
    ) -> dict[str, Any]:
        """Record the call as queued, start placing it in the background; the queued resource."""
        from tests.fake_caller import place

        sid = "CA" + secrets.token_hex(16)
        call = Call(
            sid=sid,
            form=form,
            events=tuple(fields.get("StatusCallbackEvent", [])),
            answer=answer,
            resource=self._resource(sid, form),
        )
        thread = threading.Thread(target=place, args=(self, call), name=f"call {sid}")
        queued = dict(call.resource)  # taken before the thread can move the call on
        with self._changed:
            self._calls.append(call)
            self._threads.append(thread)
            self._changed.notify_all()
        thread.start()
        return queued

    def update(self, call: Call, **changes: Any) -> None:
        """Change the resource the API shows for ``call`` (used by the caller thread)."""
        now = datetime.now(UTC).replace(microsecond=0)
        with self._lock:
            call.resource = {**call.resource, **changes, "date_updated": format_datetime(now)}

    def _resource(self, sid: str, form: dict[str, str]) -> dict[str, Any]:
        stamp = format_datetime(datetime.now(UTC).replace(microsecond=0))
        uri = f"{API}{self.fake.account_sid}/Calls/{sid}"
        return {
            "account_sid": self.fake.account_sid,
            "annotation": None,
            "answered_by": None,
            "api_version": "2010-04-01",
            "caller_name": None,
            "date_created": stamp,
            "date_updated": stamp,
            "direction": "outbound-api",
            "duration": None,
            "end_time": None,
            "forwarded_from": None,
            "from": form["From"],
            "from_formatted": form["From"],
            "group_sid": None,
            "parent_call_sid": None,
            "phone_number_sid": "PN" + "0" * 32,
            "price": None,
            "price_unit": "USD",
            "queue_time": "0",
            "sid": sid,
            "start_time": None,
            "status": "queued",
            "subresource_uris": {"recordings": f"{uri}/Recordings.json"},
            "to": form["To"],
            "to_formatted": form["To"],
            "trunk_sid": None,
            "uri": f"{uri}.json",
        }

    def _list(self, query: dict[str, str]) -> dict[str, Any]:
        size = int(query.get("PageSize", "50"))
        page = int(query.get("Page", "0"))
        dates = ("StartTime", "StartTime>", "StartTime<", "EndTime", "EndTime>", "EndTime<")
        with self._lock:
            resources = [dict(c.resource) for c in reversed(self._calls)]
        found = [
            r
            for r in resources
            if all(r.get(k.lower()) == query[k] for k in ("To", "From", "Status") if k in query)
            and all(_on_date(r, k, query[k]) for k in dates if k in query)
        ]
        chunk = found[page * size : (page + 1) * size]
        base = f"{API}{self.fake.account_sid}/Calls.json"

        def page_uri(number: int) -> str:
            return f"{base}?{urlencode({**query, 'Page': number, 'PageSize': size})}"

        more = (page + 1) * size < len(found)
        return {
            "calls": chunk,
            "end": page * size + max(len(chunk) - 1, 0),
            "first_page_uri": page_uri(0),
            "next_page_uri": page_uri(page + 1) if more else None,
            "page": page,
            "page_size": size,
            "previous_page_uri": page_uri(page - 1) if page else None,
            "start": page * size,
            "uri": page_uri(page),
        }


def _as_answer(item: Answer | Reply) -> Answer:
    return item if isinstance(item, Answer) else Answer(create=item)


def _query(path: str) -> dict[str, str]:
    parsed = parse_qs(urlsplit(path).query, keep_blank_values=True)
    return {k: v[0] for k, v in parsed.items()}


def _invalid(form: dict[str, str]) -> int | None:
    """The error code Twilio refuses this create with, or None."""
    if not form.get("To"):
        return 21201
    if not form.get("From"):
        return 21213
    if not E164.match(form["To"]):
        return 21211
    if not E164.match(form["From"]):
        return 21212
    url = form.get("Url")
    if url is None and "Twiml" not in form and "ApplicationSid" not in form:
        return 21205
    if url is not None and not (urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc):
        return 21205
    return None


def _on_date(resource: dict[str, Any], key: str, wanted: str) -> bool:
    """A StartTime / EndTime filter, as Messages' DateSent ones (a call not yet started or
    not yet ended has no such time, so a filter on it never finds the call). Twilio documents
    these filters by whole days; the fake honours the time of day the SDK sends, so code that
    relies on the list must still check each call's own start_time."""
    stamp = resource.get("start_time" if key.startswith("Start") else "end_time")
    value = datetime.strptime(stamp, "%a, %d %b %Y %H:%M:%S %z") if stamp else None
    return _matches_date(
        value, "DateSent" + key.removeprefix("StartTime").removeprefix("EndTime"), wanted
    )
