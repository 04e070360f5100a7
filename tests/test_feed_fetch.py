"""Fetching a feed: only public http(s) addresses, also after redirects and however the
name answers a second time; 304s; limits, the time limit for the whole fetch."""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from service import feed_fetch
from service.feed_fetch import FetchFailed, check_form, fetch, vetted_addresses
from tests.feed_server import feed_server

CALENDAR = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nEND:VCALENDAR\r\n"


def vet(url: str, allow_private: bool) -> None:
    """Judge ``url`` as each hop of a fetch does: its form, then every address its host
    has (``FetchFailed`` when refused), without a request."""
    vetted_addresses(*check_form(url, allow_private), allow_private)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1/feed.ics", "loopback"),
        ("http://127.0.0.1:8080/feed.ics", "loopback"),
        ("http://localhost/feed.ics", "loopback"),
        ("http://10.0.0.1/feed.ics", "private"),
        ("https://192.168.1.20/feed.ics", "private"),
        ("http://169.254.169.254/latest/meta-data/", "metadata"),
        ("http://[::1]/feed.ics", "loopback"),
        ("http://[::ffff:10.0.0.1]/feed.ics", "private"),
        ("http://[fe80::1]/feed.ics", "link-local"),
        ("http://0.0.0.0/feed.ics", "unspecified"),
        ("http://224.0.0.1/feed.ics", "multicast"),
        ("http://100.64.0.1/feed.ics", "not a public address"),
        ("http://[2002:7f00:1::]/feed.ics", "loopback"),  # 6to4 of 127.0.0.1
        ("http://[2002:a00:1::1]/feed.ics", "private"),  # 6to4 of 10.0.0.1
        ("http://[2002:a9fe:a9fe::]/feed.ics", "metadata"),  # 6to4 of 169.254.169.254
        ("http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/feed.ics", "loopback"),  # Teredo
        ("http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/feed.ics", "private"),  # Teredo
        ("http://[2001:0:4136:e378:8000:63bf:5601:5601]/feed.ics", "metadata"),  # Teredo
        ("ftp://calendar.example.com/feed.ics", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("http:///feed.ics", "no host"),
        ("http://[::1/feed.ics", "not a valid web address"),
    ],
)
def test_addresses_that_are_not_public_http_are_refused(url: str, reason: str) -> None:
    with pytest.raises(FetchFailed, match=reason):
        vet(url, allow_private=False)
    with pytest.raises(FetchFailed, match=reason):  # refused before any request is made
        fetch(url, etag=None, last_modified=None, allow_private=False)


def test_a_public_address_passes_and_the_setting_allows_private_ones() -> None:
    vet("https://93.184.215.14/feed.ics", allow_private=False)
    vet("https://[2002:5db8:d70e::]/feed.ics", allow_private=False)  # 6to4, public
    vet("http://127.0.0.1/feed.ics", allow_private=True)
    with pytest.raises(FetchFailed, match="only http and https"):
        vet("gopher://127.0.0.1/", allow_private=True)


def test_webcal_addresses_are_fetched_over_https() -> None:
    assert feed_fetch.normalized_url(" webcal://p.example.com/a.ics ") == (
        "https://p.example.com/a.ics"
    )


def test_a_redirect_to_a_refused_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    judge = feed_fetch.address_refusal

    def public_loopback(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
        """127.0.0.1 plays a public server; every other address is judged as usual."""
        return None if str(address) == "127.0.0.1" else judge(address)

    monkeypatch.setattr(feed_fetch, "address_refusal", public_loopback)
    with feed_server() as server:
        good = server.serve("/good.ics", CALENDAR)
        assert fetch(good, etag=None, last_modified=None, allow_private=False).body
        for target, reason in (
            ("http://169.254.169.254/latest/meta-data/", "metadata"),
            ("http://10.0.0.1/feed.ics", "private"),
            ("http://[::1]:8080/feed.ics", "loopback"),
        ):
            url = server.serve("/moved.ics", "", 302, Location=target)
            with pytest.raises(FetchFailed, match=reason):
                fetch(url, etag=None, last_modified=None, allow_private=False)
        assert [path for path, _ in server.seen] == ["/good.ics"] + ["/moved.ics"] * 3


def test_redirects_are_followed_three_times_and_no_more() -> None:
    with feed_server() as server:
        server.serve("/final.ics", CALENDAR)
        for hop in range(1, 5):
            server.serve(f"/r{hop}", "", 301, Location=f"/r{hop + 1}")
        server.serve("/r5", "", 307, Location="/final.ics")
        three = fetch(server.base + "/r3", etag=None, last_modified=None, allow_private=True)
        assert three.body == CALENDAR.encode()
        with pytest.raises(FetchFailed, match="redirects more than 3 times"):
            fetch(server.base + "/r2", etag=None, last_modified=None, allow_private=True)


def test_an_unchanged_feed_is_a_304_and_its_validators_are_sent_back() -> None:
    with feed_server() as server:
        url = server.serve(
            "/feed.ics", CALENDAR, **{"Last-Modified": "Mon, 07 Dec 2026 06:00:00 GMT"}
        )
        first = fetch(url, etag=None, last_modified=None, allow_private=True)
        assert first.body == CALENDAR.encode() and first.etag
        again = fetch(url, etag=first.etag, last_modified=first.last_modified, allow_private=True)
        assert again.body is None and again.etag == first.etag
        sent = server.seen[-1][1]
        assert sent["If-None-Match"] == first.etag
        assert sent["If-Modified-Since"] == "Mon, 07 Dec 2026 06:00:00 GMT"


@pytest.mark.parametrize(
    ("status", "reason"), [(404, "answered 404"), (500, "answered 500"), (403, "answered 403")]
)
def test_an_error_status_is_a_failure(status: int, reason: str) -> None:
    with feed_server() as server:
        url = server.serve("/feed.ics", "nope", status)
        with pytest.raises(FetchFailed, match=reason):
            fetch(url, etag=None, last_modified=None, allow_private=True)


def test_a_feed_over_5_mb_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with feed_server() as server:
        url = server.serve("/big.ics", b"X" * (5 * 1024 * 1024 + 1))
        with pytest.raises(FetchFailed, match="larger than 5 MB"):
            fetch(url, etag=None, last_modified=None, allow_private=True)
        monkeypatch.setattr(feed_fetch, "LIMIT_BYTES", 100_000)
        url = server.serve("/streamed.ics", b"Y" * 1_000_000, **{"X-Streamed": "1"})
        with pytest.raises(FetchFailed, match="larger than 5 MB"):  # counted as it comes
            fetch(url, etag=None, last_modified=None, allow_private=True)


def test_a_server_that_is_not_there_is_a_failure_that_names_no_address() -> None:
    with feed_server() as server:
        url = server.base + "/feed.ics"
    with pytest.raises(FetchFailed, match="could not be reached") as caught:
        fetch(url, etag=None, last_modified=None, allow_private=True)
    assert "127.0.0.1" not in str(caught.value)


@contextmanager
def trickling(head: bytes, pieces: list[bytes], gap: float) -> Iterator[str]:
    """A server on 127.0.0.1 that answers one request with ``head`` and then ``pieces``,
    one every ``gap`` seconds (until the client goes away); its address."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)
    done = threading.Event()

    def serve() -> None:
        try:
            connection, _ = listener.accept()
        except OSError:
            return
        with connection:
            try:
                connection.recv(65536)
                connection.sendall(head)
                for piece in pieces:
                    if done.wait(gap):
                        return
                    connection.sendall(piece)
            except OSError:
                return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/feed.ics"
    finally:
        done.set()
        listener.close()
        thread.join(10)


@pytest.mark.parametrize(
    ("head", "pieces"),
    [
        (b"HTTP/1.1 304 Not Modified\r\n", [b"X"] * 30 + [b": y\r\n\r\n"]),  # the headers
        (b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\nBEGIN:", [b"V"] * 40),  # the body
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", [b"V"] * 40),  # to the close
    ],
)
def test_one_deadline_covers_the_whole_fetch_however_slowly_it_trickles(
    monkeypatch: pytest.MonkeyPatch, head: bytes, pieces: list[bytes]
) -> None:
    monkeypatch.setattr(feed_fetch, "TIMEOUT_SECONDS", 1)
    with (
        trickling(head, pieces, gap=0.1) as url,
        pytest.raises(FetchFailed, match="took longer than 1 s"),
    ):
        fetch(url, etag=None, last_modified=None, allow_private=True)


def test_a_name_is_looked_up_once_and_only_its_vetted_address_is_connected_to(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    judge = feed_fetch.address_refusal
    monkeypatch.setattr(  # 127.0.0.2 plays a public server, where nothing listens
        feed_fetch, "address_refusal", lambda a: None if str(a) == "127.0.0.2" else judge(a)
    )
    answers = iter(["127.0.0.2"])

    def rebinding(host: str, port: int, *args: object, **kwargs: object) -> list[tuple]:  # type: ignore[type-arg]
        """A hostile name server: a public address first, loopback from then on."""
        address = next(answers, "127.0.0.1")
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    with feed_server() as server:
        server.serve("/feed.ics", CALENDAR)
        port = server.base.rsplit(":", 1)[1]
        with pytest.raises(FetchFailed, match="could not be reached"):
            fetch(
                f"http://calendar.example.com:{port}/feed.ics",
                etag=None,
                last_modified=None,
                allow_private=False,
            )
        assert server.seen == []  # the second answer, 127.0.0.1, was never asked or used
        with pytest.raises(FetchFailed, match="loopback"):  # asked anew: refused
            fetch(
                f"http://calendar.example.com:{port}/feed.ics",
                etag=None,
                last_modified=None,
                allow_private=False,
            )
        assert server.seen == []


def test_the_request_names_the_host_it_was_addressed_to(monkeypatch: pytest.MonkeyPatch) -> None:
    with feed_server() as server:
        url = server.serve("/feed.ics?key=1", CALENDAR)
        port = url.split(":")[2].split("/")[0]
        monkeypatch.setattr(
            socket,
            "getaddrinfo",
            lambda *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", int(port)))],
        )
        named = f"http://calendar.example.com:{port}/feed.ics?key=1"
        assert fetch(named, etag=None, last_modified=None, allow_private=True).body
        assert server.seen[-1][1]["Host"] == f"calendar.example.com:{port}"
