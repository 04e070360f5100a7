"""The health check: the database, and the clock's last heartbeat."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from jobs.clock import heartbeat


def test_it_says_the_clock_never_ran(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"database": "ok", "clock": {"last_beat": None, "ok": False}}


def test_it_reads_the_heartbeat(app: Flask, client: FlaskClient) -> None:
    heartbeat(app)
    heartbeat(app)  # an upsert: beating twice keeps one row
    clock = client.get("/healthz").get_json()["clock"]
    assert clock["ok"] is True and clock["age_seconds"] < 60
