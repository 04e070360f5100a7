"""Fetching a calendar feed's text from its address, carefully.

A feed address is typed by a person and fetched by the server, so it is checked like
any address the server is asked to visit: ``http`` or ``https`` only (``webcal`` is read
as ``https``), to a host whose every address is public; loopback, private, link-local
(the cloud's metadata service at 169.254.169.254 among them), multicast, reserved and
unspecified addresses are refused, before the first request and after each redirect,
unless ``CALENDAR_FEEDS_ALLOW_PRIVATE`` is on (tests and local setups). At most 3
redirects are followed, each checked; the whole fetch has 10 s and the text 5 MB; the
ETag and Last-Modified of the last answer are sent back, so an unchanged feed is a 304.

Errors say why in words a therapist can act on, and never repeat the address: a
calendar's secret address is a password.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests

TIMEOUT_SECONDS = 10
LIMIT_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 3
METADATA = ipaddress.ip_address("169.254.169.254")
HEADERS = {"User-Agent": "TouchBase calendar sync", "Accept": "text/calendar, */*;q=0.5"}


class FetchFailed(Exception):
    """A feed that could not be fetched; the message says why (never the address)."""


@dataclass(frozen=True)
class Fetched:
    """What a fetch brought: the feed's text, or None when the server said it had not
    changed (304); the validators to send next time."""

    body: bytes | None
    etag: str | None
    last_modified: str | None


def normalized_url(url: str) -> str:
    """The address as fetched: trimmed, ``webcal://`` read as ``https://``."""
    url = url.strip()
    if url.lower().startswith("webcal://"):
        return "https://" + url[len("webcal://") :]
    return url


def address_refusal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why a feed may not be fetched from this address, or None when it is public."""
    mapped = getattr(address, "ipv4_mapped", None)
    address = mapped or address
    if address == METADATA:
        return "the cloud's metadata address"
    for reason, flag in (
        ("a loopback address", address.is_loopback),
        ("an unspecified address", address.is_unspecified),
        ("a link-local address", address.is_link_local),
        ("a multicast address", address.is_multicast),
        ("a private address", address.is_private),
        ("a reserved address", address.is_reserved),
        ("not a public address", not address.is_global),
    ):
        if flag:
            return reason
    return None


def check_form(url: str, allow_private: bool) -> tuple[str, int]:
    """The host and port of an http(s) address, without looking the host up; an address
    written as a refused IP address is refused here already (unless ``allow_private``)."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise FetchFailed("the address is not a valid web address") from None
    if parts.scheme not in ("http", "https"):
        raise FetchFailed("only http and https addresses can be subscribed to")
    host = parts.hostname
    if not host:
        raise FetchFailed("the address has no host")
    try:
        literal = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return host, port
    refusal = None if allow_private else address_refusal(literal)
    if refusal is not None:
        raise FetchFailed(f"the host {host} is {refusal}, which feeds may not use")
    return host, port


def check_address(url: str, allow_private: bool) -> None:
    """Refuse (``FetchFailed``) an address that is not http(s) or whose host resolves to
    an address that is not public (unless ``allow_private``)."""
    host, port = check_form(url, allow_private)
    if allow_private:
        return
    try:
        found = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        raise FetchFailed(f"the host {host} could not be found") from None
    for *_, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        refusal = address_refusal(address)
        if refusal is not None:
            raise FetchFailed(f"the host {host} is {refusal}, which feeds may not use")


def fetch(url: str, *, etag: str | None, last_modified: str | None, allow_private: bool) -> Fetched:
    """The feed at ``url``, following at most 3 checked redirects; ``FetchFailed`` says why
    not (refused address, network error, an error status, too large, too slow)."""
    deadline = time.monotonic() + TIMEOUT_SECONDS
    headers = dict(HEADERS)
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    url = normalized_url(url)
    for _hop in range(MAX_REDIRECTS + 1):
        check_address(url, allow_private)
        try:
            response = requests.get(
                url, headers=headers, timeout=TIMEOUT_SECONDS, stream=True, allow_redirects=False
            )
        except requests.Timeout:
            raise FetchFailed("the calendar's server did not answer within 10 s") from None
        except requests.RequestException as exc:
            raise FetchFailed(
                f"the calendar's server could not be reached ({_kind(exc)})"
            ) from None
        with response:
            if response.is_redirect:
                url = urljoin(url, response.headers["Location"])
                continue
            return _answer(response, deadline)
    raise FetchFailed(f"the address redirects more than {MAX_REDIRECTS} times")


def _answer(response: requests.Response, deadline: float) -> Fetched:
    """The body and validators of a final answer; ``FetchFailed`` for an error status or a
    body over 5 MB or 10 s."""
    etag, modified = response.headers.get("ETag"), response.headers.get("Last-Modified")
    if response.status_code == 304:
        return Fetched(None, etag, modified)
    if response.status_code != 200:
        raise FetchFailed(f"the calendar's server answered {response.status_code}")
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > LIMIT_BYTES:
        raise FetchFailed("the calendar is larger than 5 MB")
    body = bytearray()
    try:
        for chunk in response.iter_content(64 * 1024):
            body += chunk
            if len(body) > LIMIT_BYTES:
                raise FetchFailed("the calendar is larger than 5 MB")
            if time.monotonic() > deadline:
                raise FetchFailed("the calendar took longer than 10 s to arrive")
    except requests.RequestException as exc:
        raise FetchFailed(f"the calendar could not be read to its end ({_kind(exc)})") from None
    return Fetched(bytes(body), etag, modified)


def _kind(exc: Exception) -> str:
    """A network error's kind, without its message (which repeats the address)."""
    return type(exc).__name__
