"""The door calls leave through: Twilio's Calls API with the official SDK, or a simulator.

A call is one more channel of the outbox, sent by the same dispatcher as texts: a voice
gateway has the text gateway's shape (``send`` and ``find_sent``, failures as ``SendError``
with the same meaning) so claims, retries, back-off and the look-up of unknown outcomes
are the dispatcher's, unchanged.

Placing a call asks Twilio to ring the number and, once it is answered, to fetch what to
say from ``{PUBLIC_BASE_URL}/voice/call/{message id}``; how the call ended is reported to
``{PUBLIC_BASE_URL}/voice/status``. Machine detection is on, and an unanswered call rings
for 25 seconds.

How a call of unknown outcome is recognised (``is_ours``): Twilio's call records carry no
body and no URL, so nothing in them names the message. Any call to the number, from the
practice's caller number, created since the message was claimed and not yet recorded
against another message, is taken to be the message's own: one claim places at most one
call, and a call is recorded against one message at most. So that a call another batch is
placing (placed, its sid not yet recorded) never passes for it, the dispatcher's look-up of
a call holds its number's lock exclusively and is put off while another call to the number
is claimed and unrecorded (``service.dispatch``). Two calls to one number whose outcomes
are both unknown at once cannot be told apart: each settles with one of the calls found, or
is placed again when none is left, so the number gets as many calls as were asked for, but
the two sids may be swapped between the two messages.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import requests
from twilio.base.exceptions import TwilioException
from twilio.rest import Client

from service.sms.gateway import (
    FIND_SENT_LIMIT,
    SendError,
    SentRecord,
    SimulatorGateway,
    _as_utc,
    _created_since,
    _error_from_transport,
    _error_from_twilio,
    _RedirectingHttpClient,
    created_sid,
)

RING_SECONDS = 25  # how long an unanswered call rings before Twilio gives up


def is_ours(record: SentRecord, body: str) -> bool:
    """Whether a call Twilio holds may be the message's own: any call is (see above); the
    caller has already left out the calls recorded against other messages."""
    return record.body is None


def call_url(public_base_url: str, message_id: int) -> str:
    """Where Twilio fetches what to say on the call placed for this message."""
    return f"{public_base_url.rstrip('/')}/voice/call/{message_id}"


def status_url(public_base_url: str) -> str:
    """Where Twilio reports how a call went."""
    return f"{public_base_url.rstrip('/')}/voice/status"


class TwilioVoiceGateway:
    """Places calls through Twilio's REST API with the official SDK."""

    simulated = False

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        from_number: str,
        public_base_url: str,
        api_base_url: str = "https://api.twilio.com",
        timeout: float = 10.0,
    ) -> None:
        """Configure the SDK client; needs the practice's caller number and its public URL."""
        if not from_number or not public_base_url:
            raise ValueError("a from_number and a public_base_url are required to place calls")
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, not {timeout}")
        self._from_number = from_number
        self._base = public_base_url
        self._http = _RedirectingHttpClient(api_base_url, timeout)
        self._client: Any = Client(account_sid, auth_token, http_client=self._http)

    def send(self, to: str, body: str, *, message_id: int | None = None) -> str:
        """Place one call for message ``message_id``; its call sid, or raise SendError.

        The body is not sent: the call's page (``call_url``) reads the message itself.
        """
        if message_id is None:
            raise ValueError("a call needs the id of its message")
        return created_sid(
            "call",
            lambda: self._client.calls.create(
                to=to,
                from_=self._from_number,
                url=call_url(self._base, message_id),
                status_callback=status_url(self._base),
                machine_detection="Enable",
                timeout=RING_SECONDS,
            ),
        )

    def find_sent(self, to: str, since: datetime) -> list[SentRecord]:
        """Return Twilio's calls to ``to`` from the practice created at or after ``since``,
        newest first."""
        # No StartTime filter: Twilio documents it by whole days, and a call still queued
        # has not started, which is exactly the call an unknown outcome is looking for.
        # Twilio lists newest first: page until the first call older than the window.
        floor = _as_utc(since).replace(microsecond=0)
        try:
            calls = []
            stream = self._client.calls.stream(
                to=to, from_=self._from_number, page_size=FIND_SENT_LIMIT
            )
            for c in stream:
                if c.date_created is not None and _as_utc(c.date_created) < floor:
                    break
                calls.append(c)
        except TwilioException as exc:
            raise _error_from_twilio("Twilio call list failed", exc, sending=False) from exc
        except requests.RequestException as exc:
            raise _error_from_transport("Twilio unreachable", exc, sending=False) from exc
        except json.JSONDecodeError as exc:
            raise SendError(f"Twilio call list was not JSON: {exc}") from exc
        records = [
            SentRecord(
                str(c.sid),
                str(c.to),
                str(c.status),
                c.date_created,
                body=None,
                answered_by=str(c.answered_by) if c.answered_by else None,
            )
            for c in calls
        ]
        return _created_since(records, since)

    def close(self) -> None:
        """Release the HTTP connections this gateway keeps open."""
        self._http.close()


class SimulatedVoiceGateway(SimulatorGateway):
    """Pretends to call: nothing leaves the machine, but each call is remembered, as
    Twilio's call list would show it (a call sid, no body)."""

    sid_prefix = "CA"
    keeps_body = False


class UnplaceableVoiceGateway:
    """Twilio is configured, but calls cannot be placed (no caller number or no public URL
    for Twilio to fetch the call from): every call fails at once, with the reason, so the
    practice is told instead of a call being pretended."""

    simulated = False

    def __init__(self, reason: str) -> None:
        """Keep the reason every call fails with."""
        self.reason = reason

    def send(self, to: str, body: str, *, message_id: int | None = None) -> str:
        """Refuse the call, permanently."""
        raise SendError(f"calls cannot be placed: {self.reason}", permanent=True)

    def find_sent(self, to: str, since: datetime) -> list[SentRecord]:
        """No call was ever placed."""
        return []
