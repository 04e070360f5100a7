"""The phone simulator: what a demo phone received, and replies typed in as if from it.

It exists only while texts are simulated (no Twilio credentials): the blueprint is not
even registered otherwise, so every simulator URL answers 404. A reply typed here becomes
the same form Twilio would post and goes through ``handle_inbound``, exactly as a real
text does; only the signature check is replaced by the dashboard's login and CSRF check.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from service import audit
from service.access import scope_clients
from service.config import Settings, current_settings, settings_of
from service.dashboard.auth import current_user, load_user, require_login
from service.dashboard.forms import Form
from service.dashboard.security import add_headers, check_csrf, refuse_nul
from service.db import get_session
from service.domain.vocabulary import ARRIVED, Channel
from service.models import Client, Contact, InboundMessage, OutboundMessage, User
from service.webhooks import handle_inbound

bp = Blueprint("simulator", __name__, url_prefix="/simulator")
MAX_BODY = 1600  # Twilio's limit for one (concatenated) text


@dataclass(frozen=True)
class Phone:
    """A number the signed-in user may play: whose it is, and for which client."""

    number: str
    label: str
    client_ids: tuple[int, ...]


@dataclass(frozen=True)
class Line:
    """One text on the phone's screen: received from the practice, or sent by the phone."""

    body: str
    at: datetime
    sent_by_phone: bool
    status: str
    call_id: int | None = None  # a call from the practice, to be answered (its outbox row)
    call_kind: str = ""  # what the call is: a reminder or a check-in
    by_call: bool = False  # keys pressed on a call, not a text


def receive(settings: Settings, sender: str, body: str) -> tuple[str, str | None]:
    """Hand a typed text to the inbound handling; its new sid, and the reply it got."""
    sid = "SMsim" + secrets.token_hex(14)
    form = MultiDict(
        {"MessageSid": sid, "From": sender, "To": settings.practice_phone or "", "Body": body}
    )
    return sid, handle_inbound(form)


def phones(session: Session, user: User) -> list[Phone]:
    """Every contact number of the clients ``user`` may see, one entry per number."""
    rows = session.execute(
        scope_clients(
            select(Contact, Client).join(Client, Client.id == Contact.client_id), user
        ).order_by(Client.name, Contact.name, Contact.id)
    )
    names: dict[str, list[str]] = {}
    clients: dict[str, list[int]] = {}
    for contact, client in rows:
        who = contact.name if contact.is_own else f"{contact.name} ({client.name})"
        names.setdefault(contact.phone, []).append(who)
        clients.setdefault(contact.phone, []).append(client.id)
    return [
        Phone(number, ", ".join(who), tuple(sorted(set(clients[number]))))
        for number, who in names.items()
    ]


def screen(session: Session, user: User, number: str) -> list[Line]:
    """The texts ``number`` received from us and sent to us, oldest first.

    A therapist sees only the texts about their own clients (a shared number may also get
    texts about another therapist's client); an admin sees them all.
    """
    out = select(OutboundMessage).where(
        OutboundMessage.to_phone == number, OutboundMessage.status.in_(ARRIVED)
    )
    into = select(InboundMessage).where(InboundMessage.from_phone == number)
    if not user.is_admin:
        mine = select(Client.id).where(Client.therapist_id == user.id)
        out = out.where(OutboundMessage.client_id.in_(mine))
        into = into.where(InboundMessage.client_id.in_(mine))
    lines = [_received(m) for m in session.scalars(out)] + [_sent(m) for m in session.scalars(into)]
    # At the same instant a reply comes before our answer to it.
    return sorted(lines, key=lambda line: (line.at, not line.sent_by_phone))


def _received(message: OutboundMessage) -> Line:
    """A text or a call the phone received (a call is answered on its own page)."""
    at = message.sent_at or message.send_at
    if message.channel != Channel.VOICE:
        return Line(message.body, at, False, message.status)
    return Line("", at, False, message.status, call_id=message.id, call_kind=message.kind)


def _sent(reply: InboundMessage) -> Line:
    """A text the phone sent us, or keys it pressed on a call."""
    status = reply.intent or "received"
    return Line(reply.body, reply.received_at, True, status, by_call=reply.channel == Channel.VOICE)


def _chosen(session: Session, user: User) -> tuple[list[Phone], Phone | None]:
    """The user's phones, and the one named by ``?phone=`` or the form (404 if not theirs)."""
    mine = phones(session, user)
    wanted = (request.values.get("phone") or "").strip()
    if not wanted:
        return mine, None
    for phone in mine:
        if phone.number == wanted:
            return mine, phone
    abort(404)


def chosen_phone(session: Session, user: User) -> Phone:
    """The phone named by ``?phone=`` or the form; 404 when none is, or not the user's."""
    _, phone = _chosen(session, user)
    if phone is None:
        abort(404)
    return phone


@bp.get("/")
def index() -> str:
    """Pick a phone; see what it received; type a reply."""
    session, user = get_session(), current_user()
    mine, phone = _chosen(session, user)
    lines = screen(session, user, phone.number) if phone else []
    if phone:
        audit.record(
            session, user, "view", "client", "*", clients=list(phone.client_ids), via="simulator"
        )
        session.commit()
    return render_template(
        "simulator/phone.html", phones=mine, phone=phone, lines=lines, form=Form()
    )


@bp.get("/screen")
def screen_fragment() -> str:
    """The chosen phone's texts alone, for the page's auto-refresh."""
    session, user = get_session(), current_user()
    phone = chosen_phone(session, user)
    return render_template(
        "simulator/_screen.html", lines=screen(session, user, phone.number), phone=phone
    )


@bp.post("/reply")
def reply() -> BaseResponse | tuple[str, int]:
    """Send a text from the chosen phone, through the same handling as a real one."""
    session, user = get_session(), current_user()
    mine, phone = _chosen(session, user)
    if phone is None:
        abort(404)
    form = Form(request.form)
    body = form.text("body", required=True, max_length=MAX_BODY)
    if not form.ok or body is None:
        lines = screen(session, user, phone.number)
        page = render_template(
            "simulator/phone.html", phones=mine, phone=phone, lines=lines, form=form
        )
        return page, 422
    _, answer = receive(current_settings(), phone.number, body)
    flash(f"Replied to the phone: {answer}" if answer else "Sent; no text came back.")
    return redirect(url_for("simulator.index", phone=phone.number) + "#screen")


def _context() -> dict[str, Any]:
    """What base.html needs: the signed-in user and the settings."""
    return {"user": g.get("user"), "settings": current_settings()}


def _error_page(exc: HTTPException) -> tuple[str, int]:
    """The dashboard's calm error page."""
    code = exc.code or 500
    return render_template("error.html", code=code, title=exc.name, message=exc.description), code


def guard(blueprint: Blueprint) -> None:
    """The dashboard's own checks on a simulator blueprint, in its order: no NUL, who is
    signed in, sign-in required, CSRF; its calm error pages, security headers and context."""
    blueprint.before_request(refuse_nul)
    blueprint.before_request(load_user)
    blueprint.before_request(require_login)
    blueprint.before_request(check_csrf)
    for code in (400, 403, 404, 405, 413, 429):
        blueprint.register_error_handler(code, _error_page)
    blueprint.after_request(add_headers)
    blueprint.context_processor(_context)


guard(bp)


def init_app(app: Flask) -> None:
    """Register the simulator when texts are simulated outside production; otherwise it
    does not exist."""
    if settings_of(app).phone_simulator:
        app.register_blueprint(bp)
