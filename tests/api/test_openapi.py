"""The API honours its OpenAPI document: schemathesis's command line, every check, against
the app served over HTTP on the test database."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import WSGIRequestHandler, make_server

from service.api import OPENAPI
from tests.api.conftest import Api

# The coverage phase tries every documented boundary (null, "", lengths, patterns) whatever
# this says; it bounds the random phases so the run stays well under a minute. Shaking out new
# disagreements takes the same command with far more (--max-examples=300).
MAX_EXAMPLES = 10
DOCUMENT: dict[str, Any] = json.loads(OPENAPI.read_text())


def test_the_document_is_served_without_a_token(client: FlaskClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.get_json() == DOCUMENT
    assert DOCUMENT["openapi"].startswith("3.")


def test_the_document_describes_every_api_route(app: Flask) -> None:
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and rule.endpoint != "api_openapi":
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
            served |= {
                (path, m.lower()) for m in rule.methods or () if m not in {"HEAD", "OPTIONS"}
            }
    documented = {
        (path, method)
        for path, item in DOCUMENT["paths"].items()
        for method in item
        if method != "parameters"
    }
    assert documented == served
    assert len(documented) == 31


class _QuietHandler(WSGIRequestHandler):
    """Logs errors only: a failing run shows schemathesis's report, not every request."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@pytest.fixture
def served(app: Flask) -> Iterator[str]:
    """The app served over HTTP on a free local port, on the test database; its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    server.server_close()


def _schemathesis() -> str:
    """The installed command, beside this Python (a venv need not be activated) or on PATH."""
    beside = Path(sys.executable).with_name("schemathesis")
    found = str(beside) if beside.exists() else shutil.which("schemathesis")
    assert found, "the schemathesis command is missing: pip install -e '.[test]'"
    return found


def _records(api: Api) -> None:
    """One of each record, so generated ids sometimes hit a real one and lists are not empty."""
    client = api.post("/clients", {"name": "Sam Lee", "phone": "6175550123"}).get_json()
    for path, body in [
        (f"/clients/{client['id']}/contacts", {"name": "Kim Lee", "phone": "6175550199"}),
        (
            "/series",
            {"client_id": client["id"], "starts_at": "2031-07-01T09:00", "rrule": "FREQ=WEEKLY"},
        ),
        ("/appointments", {"client_id": client["id"], "starts_at": "2031-06-01T09:00"}),
        (f"/clients/{client['id']}/pain-reports", {"reported_at": "2026-01-05T18:00", "pain": 4}),
        ("/simulator/inbound", {"from": "+16175550123", "body": "4"}),
    ]:
        response = api.post(path, body)
        assert response.status_code == 201, (path, response.get_json())


def _run_schemathesis(served: str, token: str, tmp_path: Path, *options: str) -> None:
    command = [
        _schemathesis(),
        "run",
        f"{served}/api/v1/openapi.json",
        "--checks=all",
        # positive_data_acceptance: the document cannot say which strings are real time
        # zones, phone numbers or recurrence rules, which days a month has (Feb 30), nor
        # which ids exist or are the caller's; refusing those with a 422 (or a 404) is right.
        # use_after_free: DELETE /series/<id> ends a series (it stops; its row and history
        # stay, and the dashboard can restore it), so the series still answers afterwards.
        "--exclude-checks=positive_data_acceptance,use_after_free",
        f"--header=Authorization: Bearer {token}",
        f"--max-examples={MAX_EXAMPLES}",
        "--workers=1",
        "--request-timeout=10",
        "--generation-database=none",
        "--no-color",
        *options,
    ]
    # In a fresh directory: no stray schemathesis.toml is read, no report is left behind.
    result = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_schemathesis_finds_no_disagreement_and_no_server_error(
    served: str, api: Api, tmp_path: Path
) -> None:
    _records(api)
    _run_schemathesis(served, api.token, tmp_path)


def test_schemathesis_finds_none_in_the_settings_an_admin_changes(
    served: str, admin_api: Api, tmp_path: Path
) -> None:
    # A therapist's changes are refused (403) before their values are read: an admin's are
    # saved, so what the values do is only tried with an admin's token.
    _records(admin_api)
    _run_schemathesis(served, admin_api.token, tmp_path, "--include-path=/settings")


def test_schemathesis_finds_none_in_an_admins_import_of_clients(
    served: str, admin_api: Api, tmp_path: Path
) -> None:
    # A therapist's import is refused (403) before the file is read: an admin's is planned.
    _run_schemathesis(served, admin_api.token, tmp_path, "--include-path=/imports/clients")
