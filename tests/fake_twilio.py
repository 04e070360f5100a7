"""A local Twilio-compatible HTTP server, so tests run the real SDK over real HTTP offline.

It speaks just enough of ``/2010-04-01/Accounts/{AccountSid}/Messages.json`` (create and
list) for ``twilio.rest.Client`` to work, and can be scripted to refuse, fail or stall the
next sends. Use it as ``with FakeTwilio() as fake:`` or, in a fixture, ``yield from serve()``.
Its Calls resource and the caller that plays each call's TwiML live in tests/fake_voice.py
and tests/fake_caller.py, reached as ``fake.voice``.

A stall that a test relies on should not be a race with the wall clock: ``no_answer`` (the
client gives up, whenever that is) and ``until`` (the test says when) end theirs on an event;
``hang`` is a plain delay, for slowing answers down.
"""

from __future__ import annotations

import base64
import json
import math
import secrets
import select
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qs, urlencode, urlsplit

if TYPE_CHECKING:  # the server itself needs nothing of the app's
    from service.sms.gateway import TwilioGateway

API = "/2010-04-01/Accounts/"
ERROR_TEXT = {
    20003: "Authenticate",
    20404: "The requested resource was not found",
    21211: "The 'To' number is not a valid phone number.",
    21602: "Message body is required.",
    21603: "A 'From' or 'MessagingServiceSid' parameter is required to send a message.",
    21604: "A 'To' phone number is required.",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
}


@dataclass(frozen=True)
class Reply:
    """How the server answers one scripted POST; the default is a normal 201.

    ``no_answer``: the request is lost. The server never answers: it holds the connection
    until the client gives up and closes it (or the server stops), then closes its end. The
    text is never accepted, however long the client waits, unless ``accept_then_hang`` says
    it was accepted first: then it was accepted and the answer was lost.

    ``until``: stall until the test sets this event (or the server stops), then answer as
    the other fields say; nothing races the clock.
    """

    status: int = 201
    code: int | None = None
    message: str = ""
    hang: float = 0.0  # seconds to stall before answering, to force client read timeouts
    accept_then_hang: bool = False  # record the text as sent first, then stall
    no_answer: bool = False  # never answer; nothing is accepted (see above)
    until: threading.Event | None = None  # answer only once this is set


# What ``_create`` returns for a request that gets no answer at all (``Reply.no_answer``).
NO_ANSWER = "no answer"


def _error(status: int, code: int | None, message: str = "") -> dict[str, Any]:
    text = message or ERROR_TEXT.get(code or 0, "Error")
    more_info = f"https://www.twilio.com/docs/errors/{code}" if code else None
    return {"code": code, "message": text, "more_info": more_info, "status": status}


def _segments(body: str) -> int:
    # Close enough to Twilio: GSM-7 fits 160 (153 per part), anything else UCS-2 at 70 (67).
    single, part = (160, 153) if body.isascii() else (70, 67)
    return 1 if len(body) <= single else math.ceil(len(body) / part)


def _matches_date(value: datetime | None, key: str, wanted: str) -> bool:
    # A message that is not sent yet has no date_sent, so a DateSent filter never finds it.
    if value is None:
        return False
    moment = datetime.fromisoformat(wanted)
    bound: date | datetime = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    left: date | datetime = value
    if len(wanted) <= 10:  # a bare YYYY-MM-DD compares whole days, as Twilio documents
        bound, left = moment.date(), value.date()
    if key == "DateSent>":
        return left >= bound
    if key == "DateSent<":
        return left <= bound
    return left == bound


class FakeTwilio:
    """A Twilio-compatible Messages API on 127.0.0.1, run in a background thread."""

    def __init__(
        self,
        account_sid: str = "AC" + "0" * 32,
        auth_token: str = "test-token",
        *,
        latency: float = 0.0,
    ) -> None:
        """Prepare a server for these credentials; ``start`` binds it. Each create is
        answered ``latency`` seconds after it arrives (Twilio's own API takes about 0.1 s
        from a US host)."""
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.latency = latency
        self.base_url = ""
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        from tests.fake_voice import FakeVoice  # which imports this module

        self.voice = FakeVoice(self)  # the Calls resource, see tests/fake_voice.py
        self.reset()

    def start(self) -> FakeTwilio:
        """Bind a free port, serve in the background and set ``base_url``."""
        self._stopping.clear()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        host, port = self._server.server_address[:2]
        self.base_url = f"http://{host!s}:{port}"
        # stop() waits for the loop to look at its flag: poll often, for a quick stop.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        return self

    def gateway(
        self,
        *,
        status_callback: str | None = "https://touchbase.example/sms/status",
        timeout: float = 0.5,
    ) -> TwilioGateway:
        """The app's Twilio gateway (the real SDK) pointed at this server, sending from the
        practice number the tests use."""
        from service.sms.gateway import TwilioGateway

        return TwilioGateway(
            account_sid=self.account_sid,
            auth_token=self.auth_token,
            from_number="+16175550100",
            messaging_service_sid=None,
            api_base_url=self.base_url,
            status_callback=status_callback,
            timeout=timeout,
        )

    def stop(self) -> None:
        """Wake stalled handlers, stop serving and wait for every handler thread."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.voice.join()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> FakeTwilio:
        """Start the server."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server."""
        self.stop()

    def reset(self) -> None:
        """Forget every message, call and script."""
        self.voice.reset()
        with self._lock:
            self._script: deque[Reply] = deque()
            self._scripts_for: dict[str, deque[Reply]] = {}
            self._sent: list[dict[str, str]] = []
            self._sent_at: list[float] = []
            self._messages: list[dict[str, str]] = []
            self._done = 0
            self._resources: list[tuple[datetime, dict[str, Any]]] = []
            self._spell: deque[Reply] = deque()
            self._spell_until = 0.0

    def script(self, *replies: Reply) -> None:
        """Queue how the next POSTs are answered; once used up, POSTs get a normal 201."""
        with self._lock:
            self._script.extend(replies)

    def script_for(self, to: str, *replies: Reply) -> None:
        """Queue answers for the next POSTs to ``to``; they go before the general script."""
        with self._lock:
            self._scripts_for.setdefault(to, deque()).extend(replies)

    def misbehave(self, replies: Sequence[Reply], seconds: float) -> None:
        """For the next ``seconds``, answer POSTs with ``replies`` in turn, round and round.

        The spell answers the creates of texts and of calls alike, in one rotation (a call
        takes the next reply as a text would; see tests/fake_voice.py); lists and fetches
        are never touched. Scripted answers (``script``, ``script_for``, and the Calls
        resource's own scripts) still go first; once the spell is over POSTs get a normal 201.
        """
        if not replies:
            raise ValueError("misbehave needs at least one reply")
        with self._lock:
            self._spell = deque(replies)
            self._spell_until = time.monotonic() + seconds

    def behave(self) -> None:
        """End a spell of misbehaviour now."""
        with self._lock:
            self._spell_until = 0.0

    @property
    def sent(self) -> list[dict[str, str]]:
        """A copy of every accepted message's form fields, plus its ``Sid``."""
        with self._lock:
            return [dict(m) for m in self._sent]

    @property
    def sent_at(self) -> list[float]:
        """When each accepted message arrived (``time.time()``), in the order of ``sent``."""
        with self._lock:
            return list(self._sent_at)

    @property
    def messages(self) -> list[dict[str, str]]:
        """A copy of the form fields of every POST received, accepted or not."""
        with self._lock:
            return [dict(m) for m in self._messages]

    @property
    def done(self) -> int:
        """How many POSTs the server is finished with: answered, refused or dropped."""
        with self._lock:
            return self._done

    def _finished(self) -> None:
        with self._lock:
            self._done += 1

    def _next_reply(self, to: str) -> Reply:
        with self._lock:
            mine = self._scripts_for.get(to)
            if mine:
                return mine.popleft()
            if self._script:
                return self._script.popleft()
            return self._spelled() or Reply()

    def spell_reply(self) -> Reply | None:
        """The spell's next reply while one lasts (it moves the rotation on), else None."""
        with self._lock:
            return self._spelled()

    def _spelled(self) -> Reply | None:
        # The caller holds ``_lock``.
        if self._spell and time.monotonic() < self._spell_until:
            self._spell.rotate(-1)
            return self._spell[-1]
        return None

    def _accept(self, form: dict[str, str], arrived: float) -> dict[str, Any]:
        sid = "SM" + secrets.token_hex(16)
        # Twilio stamps whole seconds; finders must cope with that, so the fake does too.
        now = datetime.now(UTC).replace(microsecond=0)
        stamp = format_datetime(now)
        service = form.get("MessagingServiceSid")
        uri = f"{API}{self.account_sid}/Messages/{sid}"
        resource: dict[str, Any] = {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": form["Body"],
            "date_created": stamp,
            "date_sent": None,
            "date_updated": stamp,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From"),
            "messaging_service_sid": service,
            "num_media": "0",
            "num_segments": str(_segments(form["Body"])),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            # Twilio says "accepted" while a Messaging Service still has to pick a sender.
            "status": "accepted" if service and "From" not in form else "queued",
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": form["To"],
            "uri": f"{uri}.json",
        }
        with self._lock:
            self._sent.append({**form, "Sid": sid})
            self._sent_at.append(arrived)
            self._resources.append((now, resource))
        return resource

    def _record(self, form: dict[str, str]) -> None:
        with self._lock:
            self._messages.append(dict(form))

    def _create(self, form: dict[str, str]) -> tuple[int, dict[str, Any]] | str | None:
        """The status and body to answer; ``NO_ANSWER``, or None when the server stops."""
        if not form.get("To"):
            return 400, _error(400, 21604)
        if not form.get("Body"):
            return 400, _error(400, 21602)
        if not (form.get("From") or form.get("MessagingServiceSid")):
            return 400, _error(400, 21603)
        arrived = time.time()
        reply = self._next_reply(form["To"])
        resource = self._accept(form, arrived) if reply.accept_then_hang else None
        if reply.no_answer:
            return NO_ANSWER
        # Event.wait doubles as an interruptible sleep: stop() must not wait out a stall.
        if reply.hang and self._stopping.wait(reply.hang):
            return None
        if reply.until is not None and not self._wait_for(reply.until):
            return None
        if reply.status >= 400:
            return reply.status, _error(reply.status, reply.code, reply.message)
        if self.latency and self._stopping.wait(self.latency):
            return None
        return reply.status, resource or self._accept(form, arrived)

    def _wait_for(self, event: threading.Event) -> bool:
        """Wait until ``event`` is set (True) or the server stops (False)."""
        while not event.wait(0.05):
            if self._stopping.is_set():
                return False
        return True

    def _list(self, query: dict[str, str]) -> dict[str, Any]:
        size = int(query.get("PageSize", "50"))
        page = int(query.get("Page", "0"))
        with self._lock:
            found = [
                r
                for _, r in sorted(self._resources, key=lambda pair: pair[0], reverse=True)
                if all(r.get(k.lower()) == query[k] for k in ("To", "From") if k in query)
                and all(
                    _matches_date(_date_sent(r), k, query[k])
                    for k in ("DateSent", "DateSent>", "DateSent<")
                    if k in query
                )
            ]
        chunk = found[page * size : (page + 1) * size]
        base = f"{API}{self.account_sid}/Messages.json"

        def page_uri(number: int) -> str:
            return f"{base}?{urlencode({**query, 'Page': number, 'PageSize': size})}"

        more = (page + 1) * size < len(found)
        return {
            "end": page * size + max(len(chunk) - 1, 0),
            "first_page_uri": page_uri(0),
            "messages": chunk,
            "next_page_uri": page_uri(page + 1) if more else None,
            "page": page,
            "page_size": size,
            "previous_page_uri": page_uri(page - 1) if page else None,
            "start": page * size,
            "uri": page_uri(page),
        }


def _date_sent(resource: dict[str, Any]) -> datetime | None:
    stamp = resource.get("date_sent")
    return datetime.strptime(stamp, "%a, %d %b %Y %H:%M:%S %z") if stamp else None


def serve() -> Iterator[FakeTwilio]:
    """Run a FakeTwilio for the life of a pytest fixture: ``yield from serve()``."""
    with FakeTwilio() as fake:
        yield fake


class _Server(ThreadingHTTPServer):
    # Join handler threads on close so no stalled handler outlives the test that made it.
    daemon_threads = False
    fake: FakeTwilio

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Ignore clients that hung up (they timed out on purpose); report anything else."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    timeout = 5  # bounds how long a handler waits on a silent client

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def do_GET(self) -> None:
        """Answer a Messages list request (Calls requests go to ``fake.voice``)."""
        if cast(_Server, self.server).fake.voice.serves(self, "GET"):
            return
        fake = self._authorized()
        if fake is None:
            return
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        self._answer(200, fake._list(query))

    def do_POST(self) -> None:
        """Answer a Messages create request (Calls requests go to ``fake.voice``)."""
        if cast(_Server, self.server).fake.voice.serves(self, "POST"):
            return
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8")
        form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
        server_fake = cast(_Server, self.server).fake
        server_fake._record(form)
        try:
            fake = self._authorized()
            if fake is None:
                return
            answer = fake._create(form)
            if answer == NO_ANSWER:
                self._wait_for_hang_up(fake)
            elif isinstance(answer, tuple):
                self._answer(*answer)
        finally:
            server_fake._finished()

    def _wait_for_hang_up(self, fake: FakeTwilio) -> None:
        """Hold the connection, unanswered, until the client closes it or the server stops."""
        while not fake._stopping.is_set():
            readable, _, _ = select.select([self.connection], [], [], 0.05)
            if not readable:
                continue
            try:
                if not self.connection.recv(4096):  # end of stream: the client hung up
                    return
            except OSError:  # reset by the client, or timed out: gone either way
                return

    def _authorized(self) -> FakeTwilio | None:
        fake = cast(_Server, self.server).fake
        expected = f"{fake.account_sid}:{fake.auth_token}".encode()
        header = self.headers.get("Authorization", "")
        if header != "Basic " + base64.b64encode(expected).decode():
            self._answer(401, _error(401, 20003))
            return None
        if urlsplit(self.path).path != f"{API}{fake.account_sid}/Messages.json":
            self._answer(404, _error(404, 20404))
            return None
        return fake

    def _answer(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except ConnectionError:
            pass  # the client gave up waiting, which is what a stalled reply is for
