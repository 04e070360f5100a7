"""The admin's page that brings clients in from a CSV file: upload, preview, import.

The page keeps the file's text in a text box of its own form, so the admin previews it,
fixes a refused row there (or uploads the file again) and previews or imports again;
nothing is kept on the server between two requests. "Import" plans the rows again and
writes them only when none is refused (``client_import``: all or nothing).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from service import client_import
from service.config import current_settings
from service.dashboard.auth import require_admin
from service.db import get_session, utcnow
from service.domain.client_csv import MAX_ROWS, Unreadable

bp = Blueprint("client_import", __name__)
VIA = "dashboard"
# The form carries the file and the text box (either may be the whole file) and the token.
FORM_LIMIT = 2 * client_import.MAX_BYTES + 64 * 1024


@bp.url_value_preprocessor
def _larger_body(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """Let this page's form carry a whole file; it runs before the dashboard's checks read
    the form (a body over the limit answers 413)."""
    request.max_content_length = FORM_LIMIT
    request.max_form_memory_size = client_import.MAX_BYTES + 1


def _text() -> str:
    """The file's text: the file uploaded, or else the text box."""
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        return client_import.decode(upload.read(client_import.MAX_BYTES + 1))
    return client_import.decode(request.form.get("csv_text", "").encode("utf-8"))


def _page(text: str = "", **values: Any) -> str:
    return render_template(
        "clients/import.html",
        text=text,
        max_rows=MAX_ROWS,
        max_mb=client_import.MAX_BYTES // (1024 * 1024),
        **values,
    )


@bp.get("/clients/import")
def form() -> str:
    """The upload form."""
    require_admin()
    return _page()


@bp.post("/clients/import")
def submit() -> Response | tuple[str, int] | str:
    """Preview the file, or import it when every row can be."""
    admin, db = require_admin(), get_session()
    importing = request.form.get("action") == "import"
    text = ""
    try:
        text = _text()
        if len(text.encode("utf-8")) > client_import.MAX_BYTES:
            raise Unreadable(f"the file is over {client_import.MAX_BYTES // (1024 * 1024)} MB")
        result = client_import.import_clients(
            db, current_settings(), admin, text, utcnow(), dry_run=not importing, via=VIA
        )
    except Unreadable as exc:
        db.rollback()
        return _page(text, problem=str(exc)), 422
    if not result.write:
        db.rollback()
        return _page(text, result=result), 422 if result.refused else 200
    db.commit()
    totals = result.totals
    flash(
        f"Imported: {totals['created']} created, {totals['updated']} updated, "
        f"{totals['unchanged']} unchanged."
    )
    return redirect(url_for("dashboard.clients.index"))
