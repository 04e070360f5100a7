"""Fetching a calendar feed's text from its address, carefully.

A feed address is typed by a person and fetched by the server, so it is checked like
any address the server is asked to visit: ``http`` or ``https`` only (``webcal`` is read
as ``https``), to a host whose every address is public; loopback, private, link-local
(the cloud's metadata service at 169.254.169.254 among them), multicast, reserved and
unspecified addresses are refused, also when carried in IPv6 (mapped, 6to4, Teredo),
before the first request and after each redirect, unless ``CALENDAR_FEEDS_ALLOW_PRIVATE``
is on (tests and local setups). The host is looked up once per request and the
connection made to an address so vetted (the Host header and the TLS certificate check
are for the name), so a name server answering differently the second time cannot steer
the request elsewhere. At most 3 redirects are followed, each checked; the text may be
5 MB; the ETag and Last-Modified of the last answer are sent back, so an unchanged feed
is a 304.

One deadline, ``TIMEOUT_SECONDS``, covers the whole fetch: every socket operation gets
at most the time left, the body is read in pieces as they arrive, and a watchdog shuts
the connection when the time is up (a server trickling a byte at a time, in the TLS
handshake, the headers or the body, holds it no longer). Looking the name up is the
system resolver's, outside the deadline. Proxies from the environment are not used.

Errors say why in words a therapist can act on, and never repeat the address: a
calendar's secret address is a password.
"""

from __future__ import annotations

import base64
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import SplitResult, unquote, urljoin, urlsplit

import certifi
from requests.utils import requote_uri

TIMEOUT_SECONDS = 10  # for the whole fetch: connections, redirects, headers and body
PIECE_BYTES = 16 * 1024  # read as it arrives, at most this much at a time
REDIRECTS = (301, 302, 303, 307, 308)
LIMIT_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 3
METADATA = ipaddress.ip_address("169.254.169.254")
Address = tuple[int, tuple[Any, ...]]  # a socket family and an address to connect to
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
    if isinstance(address, ipaddress.IPv6Address):
        inside = [address.ipv4_mapped, address.sixtofour, *(address.teredo or ())]
        refusals = [address_refusal(v4) for v4 in inside if v4 is not None]
        if any(refusals):  # an IPv4 address carried in IPv6 (mapped, 6to4, Teredo)
            return next(r for r in refusals if r)
        if address.ipv4_mapped is not None:
            return None
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


def vetted_addresses(host: str, port: int, allow_private: bool) -> list[Address]:
    """Where ``host`` is, looked up once; ``FetchFailed`` when an address is not public
    (unless ``allow_private``). A fetch connects only to these, so a name that answers
    differently the second time it is asked (DNS rebinding) gains nothing."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        raise FetchFailed(f"the host {host} could not be found") from None
    addresses: list[Address] = []
    for family, _, _, _, sockaddr in found:
        refusal = None if allow_private else address_refusal(_ip(str(sockaddr[0])))
        if refusal is not None:
            raise FetchFailed(f"the host {host} is {refusal}, which feeds may not use")
        if (family, sockaddr) not in addresses:
            addresses.append((family, sockaddr))
    return addresses


def _ip(written: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """An address as ``getaddrinfo`` writes it, without an IPv6 zone."""
    return ipaddress.ip_address(written.split("%")[0])


class _Deadline:
    """The one clock of a whole fetch: the time left for each socket operation, and a
    watchdog that cuts the connection when it runs out (a TLS handshake or a header
    trickled a byte at a time cannot outlast it)."""

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds
        self.passed = threading.Event()

    def left(self) -> float:
        """Seconds left; ``FetchFailed`` when none are."""
        left = self.at - time.monotonic()
        if left <= 0 or self.passed.is_set():
            raise FetchFailed(f"the calendar took longer than {TIMEOUT_SECONDS} s to arrive")
        return left

    @contextmanager
    def watching(self, sock: socket.socket) -> Iterator[None]:
        """Shut ``sock``'s connection down when the time is up, if it is still open."""
        cutter = sock.dup()  # the same connection: shutting it down wakes any read
        timer = threading.Timer(max(self.at - time.monotonic(), 0.0), self._cut, (cutter,))
        timer.daemon = True
        timer.start()
        try:
            yield
        finally:
            timer.cancel()
            cutter.close()

    def _cut(self, cutter: socket.socket) -> None:
        self.passed.set()
        with suppress(OSError):
            cutter.shutdown(socket.SHUT_RDWR)


def fetch(url: str, *, etag: str | None, last_modified: str | None, allow_private: bool) -> Fetched:
    """The feed at ``url``, following at most 3 checked redirects; ``FetchFailed`` says why
    not (refused address, network error, an error status, too large, too slow).

    One deadline (``TIMEOUT_SECONDS``) covers it all: each connection, redirect, header
    and piece of the body gets at most the time left."""
    deadline = _Deadline(TIMEOUT_SECONDS)
    headers = dict(HEADERS)
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    url = normalized_url(url)
    for _hop in range(MAX_REDIRECTS + 1):
        answer = _hop_once(url, headers, deadline, allow_private)
        if isinstance(answer, Fetched):
            return answer
        url = urljoin(url, answer)
    raise FetchFailed(f"the address redirects more than {MAX_REDIRECTS} times")


def _hop_once(
    url: str, headers: dict[str, str], deadline: _Deadline, allow_private: bool
) -> Fetched | str:
    """One request to a vetted address of ``url``'s host: the answer, or where a redirect
    points."""
    host, port = check_form(url, allow_private)
    parts = urlsplit(url)
    sock = _connect(vetted_addresses(host, port, allow_private), deadline)
    with ExitStack() as stack:
        stack.callback(sock.close)
        stack.enter_context(deadline.watching(sock))
        try:
            if parts.scheme == "https":
                sock.settimeout(deadline.left())
                sock = _tls().wrap_socket(sock, server_hostname=host)  # checks the certificate
                stack.callback(sock.close)
            connection = http.client.HTTPConnection(host, port)
            connection.sock = sock
            sock.settimeout(deadline.left())
            connection.request("GET", _target(parts), headers=headers | _host_headers(parts))
            response = connection.getresponse()
            stack.callback(response.close)
            _too_slow_if_late(deadline)  # headers the watchdog cut short
        except (OSError, http.client.HTTPException, ValueError) as exc:
            _too_slow_if_late(deadline)
            raise FetchFailed(
                f"the calendar's server could not be reached ({_kind(exc)})"
            ) from None
        location = response.getheader("Location")
        if response.status in REDIRECTS and location:
            return location
        return _answer(response, sock, deadline)


def _connect(addresses: list[Address], deadline: _Deadline) -> socket.socket:
    """A connection to the first of the vetted ``addresses`` that answers (connected to
    as they are: no second look-up)."""
    failure: Exception | None = None
    for family, sockaddr in addresses:
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(deadline.left())
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            sock.close()
            failure = exc
        except FetchFailed:
            sock.close()
            raise
    _too_slow_if_late(deadline)
    raise FetchFailed(f"the calendar's server could not be reached ({_kind(failure)})")


@lru_cache(maxsize=1)
def _tls() -> ssl.SSLContext:
    """Certificates checked against the host's name, with requests' trusted authorities."""
    return ssl.create_default_context(cafile=certifi.where())


def _target(parts: SplitResult) -> str:
    """The request's path and query, percent-encoded where the address was not."""
    return requote_uri((parts.path or "/") + (f"?{parts.query}" if parts.query else ""))


def _host_headers(parts: SplitResult) -> dict[str, str]:
    """The Host header for the name (not the address connected to), and the address's
    user and password as Basic authorization, when it has them."""
    headers = {"Host": parts.netloc.rpartition("@")[2]}
    if parts.username is not None:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    return headers


def _answer(
    response: http.client.HTTPResponse, sock: socket.socket, deadline: _Deadline
) -> Fetched:
    """The body and validators of a final answer; ``FetchFailed`` for an error status or a
    body over 5 MB or the deadline. The body is read in pieces as they arrive."""
    etag, modified = response.getheader("ETag"), response.getheader("Last-Modified")
    if response.status == 304:
        return Fetched(None, etag, modified)
    if response.status != 200:
        raise FetchFailed(f"the calendar's server answered {response.status}")
    declared = response.getheader("Content-Length") or ""
    if declared.isdigit() and int(declared) > LIMIT_BYTES:
        raise FetchFailed("the calendar is larger than 5 MB")
    body = bytearray()
    try:
        while True:
            sock.settimeout(deadline.left())
            piece = response.read1(PIECE_BYTES)
            if not piece:
                break
            body += piece
            if len(body) > LIMIT_BYTES:
                raise FetchFailed("the calendar is larger than 5 MB")
    except (OSError, http.client.HTTPException) as exc:
        _too_slow_if_late(deadline)
        raise FetchFailed(f"the calendar could not be read to its end ({_kind(exc)})") from None
    _too_slow_if_late(deadline)  # an end that was the watchdog's cut
    return Fetched(bytes(body), etag, modified)


def _too_slow_if_late(deadline: _Deadline) -> None:
    """``FetchFailed`` for the deadline when an error (or an end) came from its running out."""
    deadline.left()


def _kind(exc: Exception | None) -> str:
    """A network error's kind, without its message (which may repeat the address)."""
    return type(exc).__name__
