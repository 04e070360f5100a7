"""Importing clients from a CSV file (admins only; written through ``client_import``)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from service import client_import
from service.api.errors import ApiError, invalid
from service.api.tokens import current_user
from service.config import current_settings
from service.db import get_session, utcnow
from service.domain.client_csv import Unreadable

bp = Blueprint("api_imports", __name__)
VIA = "api"
DRY_RUN = {"1": True, "true": True, "0": False, "false": False}


def result_json(result: client_import.Result) -> dict[str, Any]:
    """Every row's outcome and the totals."""
    return {
        "dry_run": result.dry_run,
        "written": result.write,
        "rows": [o.as_json() for o in result.outcomes],
        "totals": result.totals,
    }


@bp.post("/imports/clients")
def import_clients() -> dict[str, Any]:
    """Create or update clients from a CSV body, all or nothing; ``?dry_run=1`` previews."""
    user = current_user()
    if not user.is_admin:
        raise ApiError(403, "forbidden", "only an admin can import clients")
    dry_run = _dry_run()
    if request.mimetype not in ("text/csv", "text/plain", "application/csv"):
        raise ApiError(415, "unsupported_media_type", "send the file as Content-Type: text/csv")
    request.max_content_length = client_import.MAX_BYTES
    if (request.content_length or 0) > client_import.MAX_BYTES:
        raise ApiError(
            413, "too_large", f"the file is over {client_import.MAX_BYTES // (1024 * 1024)} MB"
        )
    session = get_session()
    try:
        result = client_import.import_clients(
            session,
            current_settings(),
            user,
            client_import.decode(request.get_data(cache=False)),
            utcnow(),
            dry_run=dry_run,
            via=VIA,
        )
    except Unreadable as exc:
        session.rollback()
        raise ApiError(400, "unreadable", str(exc)) from None
    if not result.write:
        session.rollback()
    else:
        session.commit()
    if result.refused:
        error = ApiError(422, "refused", _refused_message(len(result.refused)))
        error.extra = {"rows": [o.as_json() for o in result.refused], "totals": result.totals}
        raise error
    return result_json(result)


def _dry_run() -> bool:
    """The ``dry_run`` query parameter: 1 or true to preview, 0 or false (or absent) not."""
    raw = request.args.get("dry_run", "0").lower()
    if raw not in DRY_RUN:
        raise invalid({"dry_run": "must be 1 (or true) to preview, or 0 (or false)"})
    return DRY_RUN[raw]


def _refused_message(count: int) -> str:
    rows = "1 row is" if count == 1 else f"{count} rows are"
    return f"{rows} refused: nothing was imported"
