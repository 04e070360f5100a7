"""``flask import-clients``: the CSV import on the command line, for files too big for a
web request."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service import accounts
from service.config import settings_of
from service.db import get_db
from service.models import Client

FILE = "Name,Phone\nAna Ruiz,617-555-0101\nBen Cole,617-555-0102\n"


def _people(app: Flask) -> None:
    with get_db(app).session() as session:
        settings = settings_of(app)
        accounts.create_user(session, settings, "boss@x.test", "Bo", "long-enough-pw", admin=True)
        accounts.create_user(session, settings, "ana@x.test", "Ana", "long-enough-pw")
        session.commit()


def _clients(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Client)) or 0


def test_it_imports_a_file_as_an_admin(
    app: Flask, runner: FlaskCliRunner, session: Session, tmp_path: Path
) -> None:
    _people(app)
    path = tmp_path / "clients.csv"
    path.write_text(FILE, encoding="utf-8-sig")
    preview = runner.invoke(args=["import-clients", str(path), "--as", "BOSS@x.test", "--dry-run"])
    assert preview.exit_code == 0, preview.output
    assert "would import: 2 created, 0 updated, 0 unchanged, 0 refused" in preview.output
    assert _clients(session) == 0
    done = runner.invoke(args=["import-clients", str(path), "--as", "boss@x.test"])
    assert "imported: 2 created" in done.output
    assert _clients(session) == 2


def test_it_refuses_a_therapist_a_bad_file_and_a_refused_row(
    app: Flask, runner: FlaskCliRunner, session: Session, tmp_path: Path
) -> None:
    _people(app)
    path = tmp_path / "clients.csv"
    path.write_text(FILE, encoding="utf-8")
    therapist = runner.invoke(args=["import-clients", str(path), "--as", "ana@x.test"])
    assert therapist.exit_code == 1 and "no active admin" in therapist.output
    path.write_text("Name\nAna\n", encoding="utf-8")
    unreadable = runner.invoke(args=["import-clients", str(path), "--as", "boss@x.test"])
    assert unreadable.exit_code == 1 and "no phone column" in unreadable.output
    path.write_text(FILE.replace("617-555-0102", "555"), encoding="utf-8")
    refused = runner.invoke(args=["import-clients", str(path), "--as", "boss@x.test"])
    assert refused.exit_code == 1
    assert "row 3: refused: Phone: invalid phone number" in refused.output
    assert "nothing was imported" in refused.output
    assert _clients(session) == 0
