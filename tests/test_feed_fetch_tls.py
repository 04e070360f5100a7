"""An https feed is fetched from the address its name was vetted at, while the TLS
certificate is checked against the name (sent as SNI) and the Host header names it."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from service import feed_fetch
from service.feed_fetch import FetchFailed, fetch

HERE = Path(__file__).parent / "feed_tls"
CALENDAR = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nEND:VCALENDAR\r\n"


@contextmanager
def tls_server(names: list[str], hosts: list[str]) -> Iterator[int]:
    """A TLS server on 127.0.0.1 with the certificate of ``calendar.test``; the names
    clients asked for (SNI) and the Host headers they sent are recorded. Its port."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(HERE / "calendar.test.pem", HERE / "calendar.test.key")
    context.sni_callback = lambda _sock, name, _context: names.append(str(name)) and None

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hosts.append(self.headers.get("Host", ""))
            self.send_response(200)
            self.send_header("Content-Length", str(len(CALENDAR)))
            self.end_headers()
            self.wfile.write(CALENDAR)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def trusted(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every name is at 127.0.0.1; the test certificate is trusted."""
    context = ssl.create_default_context(cafile=str(HERE / "calendar.test.pem"))
    monkeypatch.setattr(feed_fetch, "_tls", lambda: context)

    def local(host: str, port: int, *args: object, **kwargs: object) -> list[tuple]:  # type: ignore[type-arg]
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("127.0.0.1", port))]

    monkeypatch.setattr(socket, "getaddrinfo", local)


def test_the_certificate_is_checked_against_the_name_not_the_address(trusted: None) -> None:
    names: list[str] = []
    hosts: list[str] = []
    with tls_server(names, hosts) as port:
        got = fetch(
            f"https://calendar.test:{port}/a.ics", etag=None, last_modified=None, allow_private=True
        )
        assert got.body == CALENDAR
        assert names == ["calendar.test"] and hosts == [f"calendar.test:{port}"]
        with pytest.raises(FetchFailed, match="could not be reached"):  # not its certificate
            fetch(
                f"https://other.test:{port}/a.ics",
                etag=None,
                last_modified=None,
                allow_private=True,
            )
        assert hosts == [f"calendar.test:{port}"]
