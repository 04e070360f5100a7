"""A calendar server on 127.0.0.1 for the feed tests: each path answers what the test set
(status, headers, body), honours If-None-Match with a 304, and records what it was sent."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    """What one path answers."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FeedServer:
    """The running server: ``routes`` by path, ``seen`` the headers of each request."""

    base: str
    routes: dict[str, Route] = field(default_factory=dict)
    seen: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def serve(self, path: str, body: bytes | str, status: int = 200, **headers: str) -> str:
        """Answer ``path`` with this; a 200 gets an ETag of its body. The full address."""
        raw = body.encode() if isinstance(body, str) else body
        if status == 200 and "ETag" not in headers:
            headers["ETag"] = '"' + hashlib.sha256(raw).hexdigest()[:16] + '"'
        self.routes[path] = Route(raw, status, headers)
        return self.base + path


@contextmanager
def feed_server() -> Iterator[FeedServer]:
    """A ``FeedServer`` on a free port of 127.0.0.1, stopped afterwards."""
    state = FeedServer(base="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.seen.append((self.path, dict(self.headers.items())))
            route = state.routes.get(self.path, Route(b"not found", 404))
            etag = route.headers.get("ETag")
            if route.status == 200 and etag and self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            self.send_response(route.status)
            for name, value in route.headers.items():
                self.send_header(name, value)
            if "X-Streamed" not in route.headers:  # else: no length, the body ends at close
                self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            self.wfile.write(route.body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
