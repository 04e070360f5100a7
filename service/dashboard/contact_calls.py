"""What the contact form showed about calls, so that saving it never changes calls behind
the back of the person saving.

The edit form carries in hidden fields where calls to the contact's number stood when it
was shown (``calls_shown``: agreed, not agreed or stopped by the caller) and the contact's
channel (``channel_shown``). The box records an agreement, or withdraws one, only as a
change from what the form showed. When either changed before the save (the caller
pressed 9, which also moves the number's contacts on ``voice`` to texts; another user
withdrew or recorded the agreement, or changed the contact's channel), a save would turn
a box shown ticked into a new agreement against the caller's stop (or one shown unticked
into a withdrawal): instead nothing is saved, and the form comes back (422) with a notice
of what happened, the box and the channel showing where calls stand now, and the other
fields as typed. Ticking the box again then records a new agreement, as any tick does.

A post without those fields (a page opened before they existed, a script) is judged
against where calls stand now: shown again the same way when it would record the
agreement, or give the contact a channel that calls that it does not have, for the same
number; a withdrawal, which can only stop calls, is taken as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import call_consent
from service.dashboard import timefmt
from service.dashboard.client_page import CHANNEL_WORDS
from service.dashboard.forms import Form
from service.domain.vocabulary import ChannelPreference
from service.models import AuditEntry, Contact, PhoneNumber, User
from service.roster import CALL_CHANNELS

AGREED, NOT_AGREED, STOPPED = "agreed", "not_agreed", "stopped"


@dataclass(frozen=True)
class Standing:
    """Where calls to a contact stand: its number's agreement (``AGREED``, ``NOT_AGREED``,
    ``STOPPED``) and the contact's channel."""

    calls: str
    channel: str

    @property
    def agreed(self) -> bool:
        """True when the number's owner agreed to calls and has not stopped them since."""
        return self.calls == AGREED

    def fields(self) -> dict[str, str]:
        """The form's values showing this: the box, the channel and the hidden fields."""
        return {
            "voice_consent": "on" if self.agreed else "",
            "channel": self.channel,
            "calls_shown": self.calls,
            "channel_shown": self.channel,
        }


def number_row(db: Session, phone: str) -> PhoneNumber | None:
    """The number's consent row as committed now (None: never seen), not a copy read
    earlier in the request."""
    statement = select(PhoneNumber).where(PhoneNumber.phone == phone)
    return db.scalars(statement.execution_options(populate_existing=True)).one_or_none()


def standing(row: PhoneNumber | None, channel: str) -> Standing:
    """Where calls stand for a contact on ``channel`` whose number's row is ``row``."""
    if call_consent.agreed(row):
        return Standing(AGREED, channel)
    return Standing(STOPPED if call_consent.stopped_by_caller(row) else NOT_AGREED, channel)


def shown(form: Form) -> Standing | None:
    """What the submitted form showed about calls, or None when it does not say."""
    calls, channel = form.raw("calls_shown"), form.raw("channel_shown")
    if calls not in (AGREED, NOT_AGREED, STOPPED) or channel not in tuple(ChannelPreference):
        return None
    return Standing(calls, channel)


def changed_since_shown(
    form: Form, contact: Contact, values: dict[str, object], now: Standing
) -> bool:
    """True when where calls stand now is not what ``form`` showed; for a form that does
    not say, when its ``values`` would start calls to the contact's number."""
    before = shown(form)
    if before is not None:
        return before != now
    if values.get("phone") != contact.phone:
        return False  # another number: its box is about that one
    channel = values.get("channel")
    return values.get("voice_consent") is True or (
        channel in CALL_CHANNELS and channel != now.channel
    )


def notice(db: Session, form: Form, row: PhoneNumber | None, now: Standing, tz: str) -> str:
    """Why the form is shown again, in the words the dashboard puts beside the box."""
    before = shown(form)
    if before is None or before.calls != now.calls:
        what = _what_happened(db, row, now, tz)
    else:
        what = f"This contact was changed to hear {CHANNEL_WORDS[ChannelPreference(now.channel)]}"
    if before is None:
        said = f"{what}. Nothing was saved: check the box and the channel, then save again."
    else:
        said = f"{what}, after this form was opened. Nothing was saved; the form now shows"
        said += " where calls stand."
    return said + ("" if now.agreed else " Tick the box again to record a new agreement.")


def _what_happened(db: Session, row: PhoneNumber | None, now: Standing, tz: str) -> str:
    """The last change of the number's agreement to calls, in words."""
    if now.calls == STOPPED and row is not None:
        day = timefmt.day_of(row.voice_opted_out_at, tz)
        return f"Calls to this number were stopped by the caller (pressed 9) on {day}"
    if now.agreed and row is not None:
        by = _name(db, row.voice_consent_by_id)
        return f"Calls to this number were agreed on {timefmt.day_of(row.voice_consent_at, tz)}{by}"
    withdrawn = db.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.entity == "phone",
            AuditEntry.entity_id == (row.phone if row is not None else ""),
            AuditEntry.action == "voice_consent_withdrawn",
        )
        .order_by(AuditEntry.id.desc())
        .limit(1)
    ).first()
    if withdrawn is None:
        return "Calls to this number are not agreed"
    day, by = timefmt.day_of(withdrawn.at, tz), _name(db, withdrawn.user_id)
    return f"The agreement to calls for this number was withdrawn on {day}{by}"


def _name(db: Session, user_id: int | None) -> str:
    """`` by Ana Ruiz`` for the user who did it, or nothing when not known."""
    name = db.scalar(select(User.name).where(User.id == user_id)) if user_id else None
    return f" by {name}" if name else ""
