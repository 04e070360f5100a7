"""The admin's import page: upload, preview, fix and retry, import; admins only."""

from __future__ import annotations

import io

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.models import Client
from tests.dashboard.conftest import Staff, Web, text_of

FILE = (
    "Name;Mobile Phone;Days;Time\r\n"
    "Ana Ruiz;617-555-0101;lun, jue;10am\r\n"
    "Ben Cole;617-555-0102;;\r\n"
)


def clients(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Client)) or 0


def upload(web: Web, text: str, action: str = "preview") -> object:
    data = {"file": (io.BytesIO(("\ufeff" + text).encode()), "clients.csv"), "action": action}
    return web.post("/clients/import", data)


def test_the_clients_list_links_the_page_for_admins_only(as_boss: Web, as_ana: Web) -> None:
    assert "Import clients" in text_of(as_boss.get("/clients"))
    assert "Import clients" not in text_of(as_ana.get("/clients"))
    assert as_boss.get("/clients/import").status_code == 200


def test_a_therapist_may_not_import(as_ana: Web, session: Session) -> None:
    assert as_ana.get("/clients/import").status_code == 403
    assert upload(as_ana, FILE, "import").status_code == 403  # type: ignore[attr-defined]
    assert clients(session) == 0


def test_signed_out_is_sent_to_sign_in(web: Web) -> None:
    response = web.get("/clients/import")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_post_without_the_form_token_is_refused(app: Flask, boss: Staff, as_boss: Web) -> None:
    response = as_boss.http.post("/clients/import", data={"csv_text": FILE, "action": "import"})
    assert response.status_code == 400


def test_preview_then_import(as_boss: Web, session: Session) -> None:
    preview = upload(as_boss, FILE)
    assert preview.status_code == 200  # type: ignore[attr-defined]
    page = text_of(preview)  # type: ignore[arg-type]
    assert "Preview: ready to import" in page
    assert "2 to create, 0 to update, 0 unchanged" in page
    assert "Import 2 rows" in page
    assert clients(session) == 0
    # The page keeps the file's text: importing sends it back from the text box.
    kept = preview.get_data(as_text=True)  # type: ignore[attr-defined]
    assert "Ana Ruiz;617-555-0101" in kept
    done = as_boss.post("/clients/import", {"csv_text": FILE, "action": "import"})
    assert done.status_code == 302
    assert "Imported: 2 created, 0 updated, 0 unchanged." in text_of(as_boss.get("/clients"))
    assert clients(session) == 2
    again = text_of(upload(as_boss, FILE))  # type: ignore[arg-type]
    assert "0 to create, 0 to update, 2 unchanged" in again


def test_a_file_imported_by_upload_is_unchanged_when_sent_again_from_the_text_box(
    as_boss: Web, session: Session
) -> None:
    # A note over two lines: "\r\n" in the uploaded file, "\n" or "\r\n" from the text box.
    noted = 'Name,Mobile Phone,Notes\r\nAna Ruiz,617-555-0101,"Left side.\r\nGate code 4"\r\n'
    assert upload(as_boss, noted, "import").status_code == 302  # type: ignore[attr-defined]
    for text in (noted.replace("\r\n", "\n"), noted):
        again = text_of(as_boss.post("/clients/import", {"csv_text": text, "action": "preview"}))
        assert "0 to create, 0 to update, 1 unchanged" in again
    session.expire_all()
    assert session.scalar(select(Client.notes)) == "Left side.\nGate code 4"


def test_a_refused_row_keeps_the_text_to_fix_and_writes_nothing(
    as_boss: Web, session: Session
) -> None:
    bad = FILE.replace("617-555-0102", "555")
    response = as_boss.post("/clients/import", {"csv_text": bad, "action": "import"})
    assert response.status_code == 422
    page = text_of(response)
    assert "1 row refused: nothing will be imported" in page
    assert "Phone: invalid phone number" in page
    assert "Ben Cole;555" in response.get_data(as_text=True)
    assert "Import 1 row" not in page and "Import 2 rows" not in page
    assert clients(session) == 0


def test_an_unreadable_file_says_why(as_boss: Web) -> None:
    for data, words in [
        ({"csv_text": ""}, "the file is empty"),
        ({"file": (io.BytesIO(b"\xff\xfe\x00"), "x.csv")}, "not UTF-8"),
        ({"csv_text": "Name\nAna\n"}, "no phone column"),
    ]:
        response = as_boss.post("/clients/import", data)
        assert response.status_code == 422
        assert words in text_of(response)


def test_a_file_over_the_limit_is_a_calm_413(as_boss: Web) -> None:
    big = b"x" * (5 * 1024 * 1024)  # sent as bytes: the test client spools no temporary file
    kind = "multipart/form-data; boundary=x"
    response = as_boss.http.post("/clients/import", data=big, content_type=kind)
    assert response.status_code == 413
    assert "Request Entity Too Large" in text_of(response)


def test_a_changed_rhythm_is_previewed_as_an_update_saying_so(
    as_boss: Web, session: Session
) -> None:
    assert upload(as_boss, FILE, "import").status_code in (200, 302)  # type: ignore[attr-defined]
    assert clients(session) == 2
    changed = FILE.replace("lun, jue;10am", "mar;11am")
    page = text_of(upload(as_boss, changed))  # type: ignore[arg-type]
    assert "1 to update, 1 unchanged" in page
    assert "Updated" in page and "weekly rhythm changed" in page
