"""What a text's edit page previews: the wording rendered for a real client of the practice
and for the longest name we plan for, each with its encoding and SMS segments.

The real client is the one seen most recently (the latest session that was not called off)
with a phone of the right sort: their own for a client's text, a caregiver's for a caregiver
variant, preferring one who reads the text's language. A practice with none yet (a new one)
sees a sample name instead. The page is for admins, who may see every client; showing a
client's first name is a view of their record, so the page audits it.

The page also hands the browser each preview's placeholder values, so that
``static/template_preview.js`` renders the text again as the admin types, by the same rule
as ``domain.wording.render``; the server renders the same on "Preview" and on save.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from service import wording_versions
from service.config import Settings
from service.domain import wording as rules
from service.domain.segments import Count
from service.domain.vocabulary import LIVE, TextKind
from service.models import SELF, Appointment, Client, Contact

# The names a new practice sees until it has a client with a session behind them.
SAMPLE_CLIENT = "Alex"
SAMPLE_CAREGIVER = "Rosa"


@dataclass(frozen=True)
class Recipient:
    """Who a preview is for: the names it fills in (whole; the preview shows them as the
    practice's texts do), and the client behind them, if real."""

    caption: str
    first_name: str
    client_first_name: str
    client_id: int | None = None


@dataclass(frozen=True)
class Shown:
    """One preview as the page shows it: the text, its count, and the placeholder values
    the browser fills in as the admin types (``if_long``: the values that replace them when
    the text takes more than one segment, as ``Wording.write`` shortens a cancellation's
    reply hint)."""

    caption: str
    text: str
    count: Count
    values: dict[str, str]
    if_long: dict[str, str]


def for_caregiver(kind: str) -> bool:
    """True for a caregiver variant: the text goes to someone caring for the client."""
    return kind in rules.CAREGIVER.values()


def real_recipient(session: Session, kind: str, language: str, now: datetime) -> Recipient:
    """The client seen most recently with the right sort of phone, or a sample."""
    caregiver = for_caregiver(kind)
    seen = (
        select(Appointment.client_id, func.max(Appointment.starts_at).label("at"))
        .where(Appointment.starts_at <= now, Appointment.status.in_(LIVE))
        .group_by(Appointment.client_id)
        .subquery()
    )
    phone = Contact.relation != SELF if caregiver else Contact.relation == SELF
    row = session.execute(
        select(Client.id, Client.name, Contact.name)
        .join(seen, seen.c.client_id == Client.id)
        .join(Contact, Contact.client_id == Client.id)
        .where(phone)
        .order_by(case((Client.language == language, 0), else_=1), seen.c.at.desc(), Contact.id)
        .limit(1)
    ).first()
    if row is None:
        if caregiver:
            return Recipient(
                f"For {SAMPLE_CAREGIVER}, caring for {SAMPLE_CLIENT} (sample names: no "
                "client with a caregiver has had a session yet)",
                SAMPLE_CAREGIVER,
                SAMPLE_CLIENT,
            )
        return Recipient(
            f"For {SAMPLE_CLIENT} (a sample name: no client has had a session yet)",
            SAMPLE_CLIENT,
            SAMPLE_CLIENT,
        )
    client_id, client_name, contact_name = row
    # Names go to the preview whole, as a text's values do; the caption shows them as written.
    client_first = rules.name_for_text(client_name, plain=False)
    if caregiver:
        first = rules.name_for_text(contact_name, plain=False)
        caption = f"For {first}, caring for {client_first} (a client seen recently)"
        return Recipient(caption, contact_name, client_name, client_id)
    caption = f"For {client_first} (a client seen recently)"
    return Recipient(caption, client_name, client_name, client_id)


def longest_recipient(kind: str, language: str) -> Recipient:
    """The longest given name we plan for in this language (for a caregiver and for the
    client both), so a text that fits one segment with it fits with any realistic name."""
    longest = rules.LONGEST_NAMES[rules.lang(language)]
    if for_caregiver(kind):
        return Recipient(
            f"For the longest name we plan for ({longest}, caring for {longest})",
            longest,
            longest,
        )
    return Recipient(f"For the longest name we plan for ({longest})", longest, longest)


def shown(
    settings: Settings, body: str, kind: str, language: str, who: Recipient, now: datetime
) -> Shown:
    """The text as ``who`` would read it, its count, and the values the browser fills in."""
    names = {"first_name": who.first_name, "client_first_name": who.client_first_name}
    rendered = wording_versions.preview(settings, body, kind, language, now=now, **names)
    # Each placeholder alone renders to its value exactly as the server fills it in.
    values = {
        name: wording_versions.preview(
            settings, "{" + name + "}", kind, language, now=now, **names
        ).text
        for name in rules.PLACEHOLDERS
    }
    if_long = {}
    if rules.base_kind(kind) == TextKind.CANCEL_NOTICE and settings.practice_phone:
        if_long["reply_hint"] = rules.reply_hint(kind, language)
    return Shown(who.caption, rendered.text, rendered.count, values, if_long)
