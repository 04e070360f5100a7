"""What a stored reply is read against, fetched in one statement.

``facts``: the reply's row (locked, so two processes never act on one reply twice), every
contact with the sender's number and their clients, the latest text we sent that number
about one of them, the number's consent, each of those clients' pain score before this
reply, and the practice's saved settings and wording (one JSON array). ``in_force``: those
settings over the environment's, and the wording in force. The webhook answers an ordinary
reply with these, one UPDATE of the row and the acknowledgement's INSERT.

Plain columns and values throughout, never ORM objects, and the statement runs on the driver
(``plain_sql``): loading objects, or SQLAlchemy's execution machinery, would cost more than the
rest of an ordinary reply's work.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    CompoundSelect,
    Dialect,
    Integer,
    ScalarSelect,
    Select,
    String,
    Table,
    bindparam,
    func,
    literal_column,
    null,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from service import practice_settings
from service.config import Settings
from service.db import Base
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
from service.number_models import texts_stopped
from service.phones import try_normalize
from service.plain_sql import PlainStatement


@dataclass
class Reply:
    """A stored reply's row as processing reads and fills it; ``replies`` writes it back
    in one UPDATE."""

    id: int
    provider_sid: str
    body: str
    fields: dict[str, Any]
    processed_at: datetime | None
    client_id: int | None
    contact_id: int | None
    answers_message_id: int | None
    appointment_id: int | None
    intent: str | None = None
    pain_score: int | None = None
    guess: str | None = None
    note: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Sender:
    """A contact with the sender's number, and the client they are a contact of."""

    contact_id: int
    client_id: int
    relation: str
    client_name: str
    language: str


@dataclass(frozen=True)
class Sent:
    """A text we sent, as a reply is read against it."""

    id: int
    client_id: int | None
    appointment_id: int | None
    to_phone: str
    kind: str
    body: str
    sent_at: datetime | None


@dataclass
class Facts:
    """A reply's row and what it is read against; ``row`` is None when it is gone, or
    locked by another process that skips it."""

    row: Reply | None = None
    # Every contact with the number, by contact id.
    contacts: list[Sender] = field(default_factory=list)
    latest: Sent | None = None
    opted_out: bool = False
    # Each client's latest pain score received before this reply (None: none yet).
    previous_pain: dict[int, int | None] = field(default_factory=dict)
    # The wording in force and the practice's saved settings, as ``in_force`` reads them.
    in_force: list[list[Any]] = field(default_factory=list)


@functools.lru_cache(maxsize=4096)
def sender_phone(sender: str, region: str) -> str:
    """The sender in E.164, or as stored when it does not read as a number; remembered,
    since the same numbers text again and again and parsing one costs more than most of a
    reply's other work."""
    return try_normalize(sender, region) or sender


def _table(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


# The reply's own columns, in ``Reply``'s order.
_REPLY_COLUMNS = (
    "id",
    "provider_sid",
    "body",
    "fields",
    "processed_at",
    "client_id",
    "contact_id",
    "answers_message_id",
    "appointment_id",
)
_SENT_COLUMNS = ("id", "client_id", "appointment_id", "to_phone", "kind", "body", "sent_at")


@functools.cache
def _facts_statement(skip_locked: bool, dialect: Dialect) -> PlainStatement:
    """``facts``'s statement compiled for ``dialect``, once: building it (aliases,
    subqueries) costs more than running it."""
    return PlainStatement(_facts_query(skip_locked, dialect.name), dialect)


# Where each part of ``_facts_query``'s row starts.
_SENDER_AT = len(_REPLY_COLUMNS)
_NUMBER_AT = _SENDER_AT + 5
_SENT_AT = _NUMBER_AT + 2
_PAIN_AT = _SENT_AT + len(_SENT_COLUMNS)


def _facts_query(skip_locked: bool, dialect: str) -> Select[Any]:
    """The statement of ``facts`` in ``dialect``: the reply's columns, the sender's, the
    number's consent, the latest text's, the previous pain score and the settings and wording
    in force, in that order (``_SENDER_AT`` ...)."""
    phone = bindparam("phone", type_=String)
    reply, contact, client = _table(InboundMessage), _table(Contact), _table(Client)
    number, sent = _table(PhoneNumber), _table(OutboundMessage)
    mine, earlier, latest = contact.alias("mine"), reply.alias("earlier"), sent.alias("latest")
    latest_id = (
        select(sent.c.id)
        .where(
            sent.c.to_phone == phone,
            # The statuses written into the SQL once: an expanding IN would be rewritten
            # at every execution.
            sent.c.status.in_([literal_column(f"'{status}'") for status in LEFT]),
            sent.c.kind != MessageKind.REPLY,
            sent.c.client_id.in_(select(mine.c.client_id).where(mine.c.phone == phone)),
        )
        .order_by(sent.c.sent_at.desc().nulls_last(), sent.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    previous = (
        select(earlier.c.pain_score)
        .where(
            earlier.c.client_id == client.c.id,
            earlier.c.pain_score.is_not(None),
            earlier.c.id != reply.c.id,
            earlier.c.received_at <= reply.c.received_at,
        )
        .order_by(earlier.c.received_at.desc(), earlier.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return (
        select(
            *(reply.c[name] for name in _REPLY_COLUMNS),
            contact.c.id.label("sender_contact_id"),
            contact.c.relation.label("sender_relation"),
            client.c.id.label("sender_client_id"),
            client.c.name.label("sender_client_name"),
            client.c.language.label("sender_language"),
            number.c.opted_out_at,
            number.c.opted_in_at,
            *(latest.c[name].label(f"sent_{name}") for name in _SENT_COLUMNS),
            previous.label("previous_pain"),
            _in_force_column(dialect).label("in_force"),
        )
        .select_from(reply)
        .outerjoin(contact, contact.c.phone == phone)
        .outerjoin(client, client.c.id == contact.c.client_id)
        .outerjoin(number, number.c.phone == phone)
        .outerjoin(latest, latest.c.id == latest_id)
        .where(reply.c.id == bindparam("inbound_id", type_=Integer))
        .order_by(contact.c.id)
        .with_for_update(of=reply, skip_locked=skip_locked)
    )


def facts(session: Session, inbound_id: int, phone: str, *, skip_locked: bool) -> Facts:
    """The reply ``inbound_id`` from ``phone`` (normalized), its row locked, and its facts."""
    found = Facts()
    params = {"inbound_id": inbound_id, "phone": phone}
    connection = session.connection()
    for r in _facts_statement(skip_locked, connection.dialect).rows(connection, params):
        if found.row is None:  # the reply's, the number's and the latest text's: every row's
            found.row = Reply(*r[:_SENDER_AT])
            found.in_force = r[_PAIN_AT + 1] or []
            if r[_SENT_AT] is not None:
                found.latest = Sent(*r[_SENT_AT:_PAIN_AT])
            opted_out_at, opted_in_at = r[_NUMBER_AT : _NUMBER_AT + 2]
            found.opted_out = texts_stopped(opted_out_at, opted_in_at)
        contact_id, relation, client_id, client_name, language = r[_SENDER_AT:_NUMBER_AT]
        if contact_id is not None and client_id is not None:
            sender = Sender(contact_id, client_id, relation, client_name, language)
            found.contacts.append(sender)
            found.previous_pain[client_id] = r[_PAIN_AT]
    return found


def sent(session: Session, message_id: int, phone: str) -> Sent | None:
    """The text or call ``message_id`` we sent to ``phone``, as a reply is read against it;
    None when there is none (keys are read against their own call: ``call_keys.call_of``)."""
    table = _table(OutboundMessage)
    query = select(*(table.c[name] for name in _SENT_COLUMNS)).where(
        table.c.id == message_id, table.c.to_phone == phone
    )
    row = session.execute(query).first()
    return Sent(*row) if row is not None else None


@functools.cache
def _in_force_query() -> CompoundSelect[Any]:
    """The statement of ``in_force``, built once."""
    t, p = _table(MessageTemplate).c, _table(PracticeSetting).c
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
    saved = select(p.name, p.name, sql_cast(null(), Integer), p.value)
    return union_all(wording, saved)


def _in_force_column(dialect: str) -> ScalarSelect[Any]:
    """``_in_force_query``'s rows as one JSON array of arrays, so that ``facts`` reads them
    in its own statement."""
    rows = _in_force_query().subquery()
    if dialect == "postgresql":
        every = func.json_agg(func.json_build_array(*rows.c))
    else:
        every = func.json_group_array(func.json_array(*rows.c))
    return select(type_coerce(every, JSON)).scalar_subquery()


def in_force(found: Facts, base: Settings) -> tuple[Settings, Wording]:
    """``base`` with the practice's saved settings over it, and the wording in force (each
    kind and language's latest version), as ``facts`` read them."""
    templates: dict[tuple[str, str], tuple[int | None, str | None]] = {}
    values: dict[str, str] = {}
    for name, language, template_id, text in found.in_force:
        if template_id is None:  # a saved setting: its name and its value as written
            values[name] = text
        else:
            templates[(name, language)] = (template_id, text)
    return practice_settings.overlay(base, values), Wording(templates)
