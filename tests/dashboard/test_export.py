"""CSV exports: a client's replies and pain scores, and every reply in a date range."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.dashboard.export import cell
from service.models import AuditEntry, ImportedPainReport, InboundMessage
from tests import factories
from tests.dashboard.conftest import Staff, Web, now


def _rows(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1 555", "'+1 555"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("9", "9"),
        ("pain is 8 = bad", "pain is 8 = bad"),
        (None, ""),
        (7, "7"),
    ],
)
def test_cells_that_look_like_formulas_are_defused(value: object, expected: str) -> None:
    assert cell(value) == expected


def _reply(session: Session, client_id: int | None, body: str, days: float, **kw: object) -> None:
    session.add(
        InboundMessage(
            provider_sid=f"SM{body}{days}",
            from_phone="+16175550123",
            body=body,
            client_id=client_id,
            received_at=now() - timedelta(days=days),
            **kw,
        )
    )


def test_a_clients_replies_and_pain_scores(as_ana: Web, ana: Staff, session: Session) -> None:
    client, contact = factories.client_with_phone(session, "Sam Lee", therapist_id=ana.id)
    _reply(session, client.id, "7", 2, pain_score=7, intent="pain", contact_id=contact.id)
    _reply(session, client.id, "=cmd|' /C calc'!A0", 1, intent="other", contact_id=contact.id)
    session.commit()
    response = as_ana.get(f"/clients/{client.id}/export.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    header, first, second = _rows(response.data)
    assert header == [
        "received_at",
        "source",
        "contact",
        "relation",
        "intent",
        "pain_score",
        "text",
    ]
    assert first[1:] == ["text", "Sam Lee", "self", "pain", "7", "7"]
    assert second[-1] == "'=cmd|' /C calc'!A0"
    assert session.scalar(select(AuditEntry.action).where(AuditEntry.action == "export"))


def test_all_replies_in_a_range_of_ones_own_clients(
    as_ana: Web, as_boss: Web, ana: Staff, ben: Staff, session: Session
) -> None:
    mine, _ = factories.client_with_phone(session, "Anna Own", "+16175550101", therapist_id=ana.id)
    theirs, _ = factories.client_with_phone(
        session, "Bea Other", "+16175550102", therapist_id=ben.id
    )
    _reply(session, mine.id, "4", 1, pain_score=4, intent="pain")
    _reply(session, mine.id, "old", 40)
    _reply(session, theirs.id, "5", 1, pain_score=5, intent="pain")
    _reply(session, None, "who is this", 1)
    session.commit()
    today = now().date()
    span = {"from": (today - timedelta(days=7)).isoformat(), "to": today.isoformat()}
    rows = _rows(as_ana.get("/export", **span).data)
    assert rows[0][:3] == ["received_at", "client", "therapist"]
    assert [(r[1], r[-1]) for r in rows[1:]] == [("Anna Own", "4")]
    everyone = _rows(as_boss.get("/export", **span).data)
    assert sorted(r[1] for r in everyone[1:]) == [
        "Anna Own",
        "Bea Other",
        "unknown sender +16175550123",
    ]


def test_a_bad_range_is_an_inline_error(as_ana: Web) -> None:
    response = as_ana.get("/export", **{"from": "2027-03-04", "to": "2027-03-01"})
    assert response.status_code == 422
    assert "must not be before the first" in response.get_data(as_text=True)
    assert 'value="2027-03-01"' in response.get_data(as_text=True)
    assert as_ana.get("/export").status_code == 200


def test_imported_scores_are_in_the_client_export_marked_imported(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client, contact = factories.client_with_phone(session, "Sam Lee", therapist_id=ana.id)
    _reply(session, client.id, "4", 1, pain_score=4, intent="pain", contact_id=contact.id)
    session.add(
        ImportedPainReport(
            client_id=client.id,
            reported_at=now() - timedelta(days=30),
            pain=6,
            note="from the paper chart",
        )
    )
    session.commit()
    _, older, newer = _rows(as_ana.get(f"/clients/{client.id}/export.csv").data)
    assert older[1:] == ["imported", "", "", "pain", "6", "from the paper chart"]
    assert newer[1:3] == ["text", "Sam Lee"]


@pytest.mark.parametrize("export", ["client", "range"])
def test_exports_start_with_a_byte_order_mark_so_excel_reads_utf8(
    export: str, as_ana: Web, ana: Staff, session: Session
) -> None:
    client, contact = factories.client_with_phone(session, "José Peña", therapist_id=ana.id)
    _reply(session, client.id, "dolor 3, señora", 1, intent="other", contact_id=contact.id)
    session.commit()
    today = now().date()
    span = {"from": (today - timedelta(days=7)).isoformat(), "to": today.isoformat()}
    response = (
        as_ana.get(f"/clients/{client.id}/export.csv")
        if export == "client"
        else as_ana.get("/export", **span)
    )
    assert response.data[:3] == b"\xef\xbb\xbf"
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.data[3:].decode("utf-8"))))
    assert rows[0][0] == "received_at"  # the mark is not glued to the first header cell


def test_a_client_export_parses_in_a_bom_aware_reader_with_accents_intact(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    client, contact = factories.client_with_phone(session, "José Peña", therapist_id=ana.id)
    _reply(session, client.id, "dolor 3, señora", 1, intent="other", contact_id=contact.id)
    session.commit()
    data = as_ana.get(f"/clients/{client.id}/export.csv").data
    (row,) = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert row["contact"] == "José Peña"
    assert row["text"] == "dolor 3, señora"
