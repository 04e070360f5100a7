"""The simulator's door to the inbound handling: texts typed in, no Twilio, no signature.

Only while texts are simulated (no Twilio credentials): it reaches exactly the code the
signed webhook reaches, behind the API's authentication instead of Twilio's signature.
The dashboard's phone simulator page (``service/phone_simulator.py``) goes through the same door.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from service.api.errors import not_found
from service.api.inputs import json_body
from service.config import current_settings
from service.phone_simulator import MAX_BODY, receive

bp = Blueprint("api_simulator", __name__)


@bp.post("/simulator/inbound")
def simulate_inbound() -> tuple[dict[str, Any], int]:
    """Receive a text as if a phone had sent it; answer with the reply it would get."""
    settings = current_settings()
    if not settings.phone_simulator:
        raise not_found()
    fields = json_body({"from", "body"})
    sender = fields.text("from", required=True, max_length=40)
    # Texts are stored as sent: any string, even empty.
    body = fields.raw_text("body", required=True, max_length=MAX_BODY)
    fields.done()
    sid, reply = receive(settings, sender or "", body or "")
    return {"message_sid": sid, "reply": reply}, 201
