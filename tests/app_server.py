"""Serve a Flask app over real HTTP on 127.0.0.1, for tests whose other side (the local
Twilio's caller) must reach the app the way Twilio would: ``with app_server(app) as base:``."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from werkzeug.serving import make_server


@contextmanager
def app_server(app: Flask) -> Iterator[str]:
    """Run ``app`` on a free port in a background thread; yields its base URL, then stops it."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
