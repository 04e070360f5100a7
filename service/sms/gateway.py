"""The one door texts leave through: Twilio's official SDK, or a simulator that keeps them local.

A gateway sends one text and says how a failure should be treated (``SendError``); it never
retries, because the caller owns retries, back-off and the record of what was sent. When a
send ends with ``unknown_outcome`` the provider may have accepted the text, and ``find_sent``
asks the provider what it really sent so the caller can settle it instead of texting twice.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client
from urllib3.exceptions import ClosedPoolError, ConnectTimeoutError, MaxRetryError

OPTED_OUT_CODES = frozenset({21610})  # the recipient texted STOP; only START undoes it

INVALID_NUMBER_CODES = frozenset(
    {
        21211,  # invalid 'To' phone number (texts and calls)
        21217,  # calls: the 'To' number does not appear to be a valid phone number
        21265,  # 'To' number is a short code, which Twilio numbers cannot text
        21407,  # the number's type does not support SMS
        21612,  # 'To' number is not reachable via SMS (unroutable)
        21614,  # 'To' number is not a valid mobile number (landline or invalid)
        21635,  # 'To' number is a landline in a country where Twilio will not try
        30005,  # callback code: unknown destination handset (the number does not exist)
        30006,  # callback code: landline or unreachable carrier
    }
)
# Left out on purpose: 21401 is about the 'From' number, 21214 (a call that cannot reach
# the number) says nothing of the number's texts, 21215 and 21216 (calls the account may
# not make: geographic permissions, blocked destinations) are the practice's settings,
# 21421 is for buying numbers, and 30003 (handset off or out of coverage) passes.
# Whether a refused send is permanent is read from the HTTP status (any 4xx but 408 and
# 429), not from a list of codes: these two lists only say what the refusal tells us about
# the number.

FIND_SENT_LIMIT = 50  # messages per page when find_sent pages through the window


class SendError(Exception):
    """A text was not (or not knowably) handed to the provider; the flags say what to do next."""

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        status: int | None = None,
        permanent: bool = False,
        unknown_outcome: bool = False,
    ) -> None:
        """Record why the send failed; ``permanent`` and ``unknown_outcome`` exclude each other."""
        if permanent and unknown_outcome:
            raise ValueError("a send error cannot be both permanent and of unknown outcome")
        super().__init__(message)
        self.code = code
        self.status = status
        self.permanent = permanent
        self.unknown_outcome = unknown_outcome


@dataclass(frozen=True)
class SentRecord:
    """One message the provider holds for a recipient, as it reported it."""

    sid: str
    to: str
    status: str
    date_created: datetime | None
    body: str | None
    answered_by: str | None = None  # a call's: who answered (human, machine_start...)


def same_text(record: SentRecord, body: str) -> bool:
    """Whether a text the provider holds is the message looked up: the same words."""
    return record.body == body


class Gateway(Protocol):
    """Where messages of one channel are sent; ``simulated`` gateways never reach a phone."""

    simulated: bool

    def send(self, to: str, body: str, *, message_id: int | None = None) -> str:
        """Hand one message (the outbox's ``message_id``) to the provider and return its
        sid, or raise SendError."""
        ...

    def find_sent(self, to: str, since: datetime) -> list[SentRecord]:
        """Return the messages the provider holds for ``to`` created at or after ``since``."""
        ...


def _as_utc(moment: datetime) -> datetime:
    # Naive datetimes are taken as UTC because that is what SQLite hands back for our columns.
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _created_since(records: list[SentRecord], since: datetime) -> list[SentRecord]:
    # Twilio stamps date_created to the whole second, so compare against the second it fell in.
    floor = _as_utc(since).replace(microsecond=0)
    return [r for r in records if r.date_created is not None and r.date_created >= floor]


def _is_twilio_host(host: str) -> bool:
    return host == "twilio.com" or host.endswith(".twilio.com")


# The SDK logs every request at INFO, query strings (phone numbers) included; ours must
# never hold an unmasked number, so it gets a logger of its own that passes warnings only.
_SDK_LOG = logging.Logger("twilio.sdk", level=logging.WARNING)


class _RedirectingHttpClient(TwilioHttpClient):  # type: ignore[misc]  # SDK ships no types
    """A TwilioHttpClient that sends every *.twilio.com request to ``base_url`` instead."""

    def __init__(self, base_url: str, timeout: float) -> None:
        """Build a pooled client with a fixed timeout and no retries inside the SDK."""
        # max_retries=0 makes the SDK mount a no-retry adapter for https only; plain http
        # (a local Twilio-compatible server) gets the same so we never resend a POST here.
        super().__init__(timeout=timeout, max_retries=0, logger=_SDK_LOG)
        self.session.mount("http://", HTTPAdapter(max_retries=0))
        parts = urlsplit(base_url)
        # Rewriting one Twilio host to another would break region or product hosts, so a
        # base URL that already is Twilio's leaves every URL untouched.
        self._target = None if _is_twilio_host(parts.hostname or "") else parts

    def rewrite(self, url: str) -> str:
        """Return ``url`` with a Twilio scheme and host replaced by the base URL's."""
        parts = urlsplit(url)
        if self._target is None or not _is_twilio_host(parts.hostname or ""):
            return url
        path = self._target.path.rstrip("/") + parts.path
        return urlunsplit((self._target.scheme, self._target.netloc, path, parts.query, ""))

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        """Make the SDK's request against the rewritten URL."""
        return super().request(
            method,
            self.rewrite(url),
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )

    def close(self) -> None:
        """Close the pooled connections."""
        self.session.close()


def _error_from_status(
    what: str, status: int, code: object, message: str, *, sending: bool = False
) -> SendError:
    # The SDK fills in the HTTP status as the code when the body has none; that is no code.
    twilio_code = code if isinstance(code, int) and code != status else None
    if sending and status >= 500 and status != 503:
        # A 500, 502 or 504 can come back after Twilio created the message: look it up
        # before sending again. 503 means it was turned away at the door.
        return SendError(
            f"{what}: {message}", code=twilio_code, status=status, unknown_outcome=True
        )
    if status in (408, 429) or status >= 500 or status < 400:
        return SendError(f"{what}: {message}", code=twilio_code, status=status)
    # Any other 4xx means Twilio looked at the request and refused it; asking again is futile.
    return SendError(f"{what}: {message}", code=twilio_code, status=status, permanent=True)


def _error_from_twilio(what: str, exc: TwilioException, *, sending: bool) -> SendError:
    status = getattr(exc, "status", None)
    if not isinstance(status, int):
        # A failed page fetch raises a bare TwilioException with the response as its 2nd arg.
        response: Any = exc.args[1] if len(exc.args) > 1 else None
        status = getattr(response, "status_code", None)
    # str() of the SDK's exceptions draws coloured boxes on a terminal, so take the text.
    message = getattr(exc, "msg", None) or getattr(exc, "title", None)
    text = str(message or (exc.args[0] if exc.args else type(exc).__name__))
    if isinstance(status, int):
        return _error_from_status(what, status, getattr(exc, "code", None), text, sending=sending)
    # No status means the SDK choked on an answer it got; a send may well have gone through.
    return SendError(f"{what}: {text}", unknown_outcome=sending)


def _never_connected(exc: requests.ConnectionError) -> bool:
    if isinstance(exc, requests.ConnectTimeout | requests.exceptions.SSLError):
        return True
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    # NewConnectionError (refused, unresolvable) is a ConnectTimeoutError in urllib3 2.
    return isinstance(reason, ConnectTimeoutError | ClosedPoolError)


def _error_from_transport(what: str, exc: requests.RequestException, *, sending: bool) -> SendError:
    if isinstance(exc, requests.ConnectionError) and _never_connected(exc):
        return SendError(f"{what}: could not connect ({exc})")
    # The request may have reached Twilio before the connection broke or the answer was late.
    return SendError(f"{what}: no answer ({exc})", unknown_outcome=sending)


class TwilioGateway:
    """Sends through Twilio's REST API with the official SDK."""

    simulated = False

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        from_number: str | None,
        messaging_service_sid: str | None,
        api_base_url: str = "https://api.twilio.com",
        status_callback: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        """Configure the SDK client; needs a sender and a positive timeout."""
        if not (from_number or messaging_service_sid):
            raise ValueError("a from_number or a messaging_service_sid is required")
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, not {timeout}")
        self._from_number = from_number
        self._messaging_service_sid = messaging_service_sid
        self._status_callback = status_callback
        self._http = _RedirectingHttpClient(api_base_url, timeout)
        self._client: Any = Client(account_sid, auth_token, http_client=self._http)

    def send(self, to: str, body: str, *, message_id: int | None = None) -> str:
        """Hand one text to Twilio and return its message sid, or raise SendError (a text
        needs only its number and words: ``message_id`` is not used)."""
        fields: dict[str, str] = {"to": to, "body": body}
        # Twilio picks the sender from the service's pool when a service is named.
        if self._messaging_service_sid:
            fields["messaging_service_sid"] = self._messaging_service_sid
        elif self._from_number:
            fields["from_"] = self._from_number
        if self._status_callback:
            fields["status_callback"] = self._status_callback
        return created_sid("text", lambda: self._client.messages.create(**fields))

    def find_sent(self, to: str, since: datetime) -> list[SentRecord]:
        """Return Twilio's messages to ``to`` created at or after ``since``, newest first."""
        # No DateSent filter: it is documented per day, and a still-queued message has no
        # date_sent yet, which is exactly the message an unknown outcome is looking for.
        # Twilio lists newest first: page until the first message older than the window,
        # so a busy number cannot push the one we look for off a fixed-size page.
        floor = _as_utc(since).replace(microsecond=0)
        try:
            messages = []
            for m in self._client.messages.stream(to=to, page_size=FIND_SENT_LIMIT):
                if m.date_created is not None and _as_utc(m.date_created) < floor:
                    break
                messages.append(m)
        except TwilioException as exc:
            raise _error_from_twilio("Twilio message list failed", exc, sending=False) from exc
        except requests.RequestException as exc:
            raise _error_from_transport("Twilio unreachable", exc, sending=False) from exc
        except json.JSONDecodeError as exc:
            raise SendError(f"Twilio message list was not JSON: {exc}") from exc
        records = [
            SentRecord(
                sid=str(m.sid),
                to=str(m.to),
                status=str(m.status),
                date_created=m.date_created,
                body=m.body,
            )
            for m in messages
        ]
        return _created_since(records, since)

    def close(self) -> None:
        """Release the HTTP connections this gateway keeps open."""
        self._http.close()


def created_sid(what: str, create: Callable[[], Any]) -> str:
    """Run one SDK create call (of a text or a call) and return the new resource's sid;
    every failure as the SendError that says what to do next."""
    try:
        resource = create()
    except TwilioException as exc:
        raise _error_from_twilio(f"Twilio refused the {what}", exc, sending=True) from exc
    except requests.RequestException as exc:
        raise _error_from_transport("Twilio unreachable", exc, sending=True) from exc
    except json.JSONDecodeError as exc:
        raise SendError(f"Twilio answered 2xx with bad JSON: {exc}", unknown_outcome=True) from exc
    sid = resource.sid
    if not isinstance(sid, str) or not sid:
        raise SendError(f"Twilio accepted the {what} but returned no sid", unknown_outcome=True)
    return sid


class SimulatorGateway:
    """Pretends to send: texts never leave the machine but are remembered for find_sent."""

    simulated = True
    sid_prefix = "SM"  # Twilio's for a text
    keeps_body = True  # a call's record names no body

    def __init__(self) -> None:
        """Start with nothing sent."""
        self._lock = threading.Lock()
        self._sent: list[SentRecord] = []

    def send(self, to: str, body: str, *, message_id: int | None = None) -> str:
        """Remember the text and return a fresh Twilio-shaped sid."""
        sid = self.sid_prefix + secrets.token_hex(16)
        kept = body if self.keeps_body else None
        record = SentRecord(sid, to, "queued", datetime.now(UTC), kept)
        with self._lock:
            self._sent.append(record)
        return sid

    def find_sent(self, to: str, since: datetime) -> list[SentRecord]:
        """Return the texts "sent" to ``to`` at or after ``since``, newest first."""
        with self._lock:
            mine = [r for r in reversed(self._sent) if r.to == to]
        return _created_since(mine, since)
