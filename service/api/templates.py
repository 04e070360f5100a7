"""The wording of every text, as the API shows and changes it (changes: admins only).

``GET /templates`` lists every kind in every language with the wording in force;
``PUT /templates/<kind>/<language>`` saves a new version (the rules of ``domain.wording``,
each reason a 422), ``DELETE`` goes back to the shipped wording. Either re-renders the
planned reminders and check-ins at once and says how many changed (``replanned``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from service import wording_in_force, wording_versions
from service.api.errors import ApiError, invalid, not_found
from service.api.inputs import json_body
from service.api.serialize import local_iso
from service.api.tokens import current_user
from service.config import current_settings
from service.db import get_session, utcnow
from service.domain.vocabulary import TextKind
from service.domain.wording import LANGUAGES, MAX_LENGTH, allowed, shipped
from service.models import MessageTemplate

bp = Blueprint("api_templates", __name__)


def _template_json(kind: str, language: str, newest: MessageTemplate | None) -> dict[str, Any]:
    """One kind's wording in one language: what is in force, and which version it is."""
    saved = newest.body if newest is not None else None
    changed_at = newest.created_at if newest is not None else None
    return {
        "kind": kind,
        "language": language,
        "body": saved if saved is not None else shipped(kind, language),
        "default": saved is None,
        "version": newest.version if newest is not None else None,
        "template_id": newest.id if newest is not None else None,
        "updated_at": local_iso(changed_at, current_settings().practice_timezone),
        "placeholders": list(allowed(kind)),
    }


@bp.get("/templates")
def list_templates() -> dict[str, Any]:
    """Every kind of text in every language, with the wording in force."""
    saved = wording_in_force.newest(get_session())
    return {
        "items": [
            _template_json(kind, language, saved.get((kind, language)))
            for kind in TextKind
            for language in LANGUAGES
        ]
    }


def _admin_kind(kind: str, language: str) -> None:
    """403 for anyone but an admin; 404 for a kind or language no template exists for."""
    if not current_user().is_admin:
        raise ApiError(403, "forbidden", "only an admin can change the wording of texts")
    if kind not in set(TextKind) or language not in LANGUAGES:
        raise not_found("template")


def _changed(saved: wording_versions.Saved) -> dict[str, Any]:
    """The wording after a change, and how many planned texts it re-rendered."""
    template = saved.template
    body = _template_json(template.kind, template.language, template)
    return {**body, "replanned": saved.replanned}


@bp.put("/templates/<kind>/<language>")
def save_template(kind: str, language: str) -> dict[str, Any]:
    """Save a new version of this kind's wording (admins)."""
    _admin_kind(kind, language)
    fields = json_body({"body"})
    body = fields.text("body", required=True, max_length=MAX_LENGTH)
    fields.done()
    session = get_session()
    try:
        saved = wording_versions.save(session, kind, language, body or "", current_user(), utcnow())
    except wording_versions.WordingRefused as refused:  # nothing was written
        raise invalid({"body": "; ".join(refused.reasons)}) from None
    out = _changed(saved)
    session.commit()
    return out


@bp.delete("/templates/<kind>/<language>")
def reset_template(kind: str, language: str) -> dict[str, Any]:
    """Go back to the shipped wording of this kind (admins); the earlier versions stay. On
    the shipped wording already, nothing changes and the answer is the wording in force."""
    _admin_kind(kind, language)
    session = get_session()
    saved = wording_versions.reset(session, kind, language, current_user(), utcnow())
    if saved is None:  # the shipped wording already: nothing written, nothing re-planned
        in_force = next(iter(wording_versions.versions(session, kind, language)), None)
        out = {**_template_json(kind, language, in_force), "replanned": 0}
    else:
        out = _changed(saved)
    session.commit()
    return out
