"""What a stored reply is read against, fetched in two statements.

``facts``: the reply's row (locked, so two processes never act on one reply twice), every
contact with the sender's number and their clients, the latest text we sent that number
about one of them, the number's consent, and each of those clients' pain score before this
reply. ``in_force``: the practice's saved settings over the environment's and the wording
in force. The webhook answers an ordinary reply with these, one UPDATE of the row and the
acknowledgement's INSERT.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Integer,
    Select,
    String,
    bindparam,
    cast,
    func,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from service import practice_settings
from service.config import Settings
from service.domain.vocabulary import LEFT, MessageKind
from service.domain.wording import Wording
from service.models import (
    Client,
    Contact,
    InboundMessage,
    MessageTemplate,
    OutboundMessage,
    PhoneNumber,
    PracticeSetting,
)
from service.phones import try_normalize


@dataclass
class Facts:
    """A reply's row and what it is read against; ``row`` is None when it is gone, or
    locked by another process that skips it."""

    row: InboundMessage | None = None
    # Every contact with the number, by contact id, each with its client.
    contacts: list[tuple[Contact, Client]] = field(default_factory=list)
    latest: OutboundMessage | None = None
    opted_out: bool = False
    # Each client's latest pain score received before this reply (None: none yet).
    previous_pain: dict[int, int | None] = field(default_factory=dict)


@functools.lru_cache(maxsize=4096)
def sender_phone(sender: str, region: str) -> str:
    """The sender in E.164, or as stored when it does not read as a number; remembered,
    since the same numbers text again and again and parsing one costs more than most of a
    reply's other work."""
    return try_normalize(sender, region) or sender


@functools.cache
def _facts_query(skip_locked: bool) -> Select[Any]:
    """The statement of ``facts``, built once: building it (aliases, subqueries) costs
    more than running it."""
    phone = bindparam("phone", type_=String)
    mine, earlier, latest = aliased(Contact), aliased(InboundMessage), aliased(OutboundMessage)
    latest_id = (
        select(OutboundMessage.id)
        .where(
            OutboundMessage.to_phone == phone,
            OutboundMessage.status.in_(LEFT),
            OutboundMessage.kind != MessageKind.REPLY,
            OutboundMessage.client_id.in_(select(mine.client_id).where(mine.phone == phone)),
        )
        .order_by(OutboundMessage.sent_at.desc().nulls_last(), OutboundMessage.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    previous = (
        select(earlier.pain_score)
        .where(
            earlier.client_id == Client.id,
            earlier.pain_score.is_not(None),
            earlier.id != InboundMessage.id,
            earlier.received_at <= InboundMessage.received_at,
        )
        .order_by(earlier.received_at.desc(), earlier.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return (
        select(InboundMessage, Contact, Client, PhoneNumber, latest, previous)
        .select_from(InboundMessage)
        .outerjoin(Contact, Contact.phone == phone)
        .outerjoin(Client, Client.id == Contact.client_id)
        .outerjoin(PhoneNumber, PhoneNumber.phone == phone)
        .outerjoin(latest, latest.id == latest_id)
        .where(InboundMessage.id == bindparam("inbound_id", type_=Integer))
        .order_by(Contact.id)
        .with_for_update(of=InboundMessage, skip_locked=skip_locked)
        .execution_options(populate_existing=True)
    )


def facts(session: Session, inbound_id: int, phone: str, *, skip_locked: bool) -> Facts:
    """The reply ``inbound_id`` from ``phone`` (normalized), its row locked, and its facts."""
    found = Facts()
    rows = session.execute(_facts_query(skip_locked), {"inbound_id": inbound_id, "phone": phone})
    for row, contact, client, number, sent, score in rows:
        found.row, found.latest = row, sent
        found.opted_out = number is not None and number.opted_out
        if contact is not None and client is not None:
            found.contacts.append((contact, client))
            found.previous_pain[client.id] = score
    return found


@functools.cache
def _in_force_query() -> CompoundSelect[Any]:
    """The statement of ``in_force``, built once."""
    t = MessageTemplate
    newest = (
        select(t.kind, t.language, func.max(t.version).label("version"))
        .group_by(t.kind, t.language)
        .subquery()
    )
    wording = select(t.kind, t.language, t.id, t.body).join(
        newest,
        (t.kind == newest.c.kind)
        & (t.language == newest.c.language)
        & (t.version == newest.c.version),
    )
    p = PracticeSetting
    saved = select(p.name, p.name, cast(null(), Integer), p.value)
    return union_all(wording, saved)


def in_force(session: Session, base: Settings) -> tuple[Settings, Wording]:
    """``base`` with the practice's saved settings over it, and the wording in force (each
    kind and language's latest version), in one statement."""
    templates: dict[tuple[str, str], tuple[int | None, str | None]] = {}
    values: dict[str, str] = {}
    for name, language, template_id, text in session.execute(_in_force_query()):
        if template_id is None:  # a saved setting: its name and its value as written
            values[name] = text
        else:
            templates[(name, language)] = (template_id, text)
    return practice_settings.overlay(base, values), Wording(templates)
