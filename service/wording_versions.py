"""The wording in force, from the database: each kind's saved versions, saving and resetting
them, and previews (the rules are ``domain.wording``'s, the shipped wording too).

A save or a reset adds a version (``MessageTemplate``); none is ever changed or removed, and
the highest version of a kind and language is the one in force (a version without a body is
a reset to the shipped wording, and texts written after it record its id; resetting wording
already shipped adds nothing). In the same transaction the planner re-renders every reminder
and check-in still planned, so what goes out is the wording in force when it is saved; the
count of texts it changed comes back with the new version (``Saved``). Texts other than
reminders and check-ins keep the wording they were queued with: they are queued to go within
minutes (replies, notices) or at most by the next morning (rebooking), and their values (the
old time of a moved session) were fixed when they were queued.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service import audit, planner, practice_settings
from service.config import Settings, current_settings
from service.domain import segments, texts
from service.domain.vocabulary import TextKind
from service.domain.wording import LANGUAGES, Wording, name_for_text, problems, shipped
from service.models import MessageTemplate, User
from service.wording_in_force import current, versions

__all__ = ["Preview", "Saved", "WordingRefused", "current", "preview", "reset", "save", "versions"]


@dataclass(frozen=True)
class Saved:
    """A version just added, and how many planned texts it re-rendered."""

    template: MessageTemplate
    replanned: int


class WordingRefused(ValueError):
    """A template that breaks the rules; ``reasons`` says each way it does."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


@dataclass(frozen=True)
class Preview:
    """A template rendered as a client would get it, and what it costs to send."""

    text: str
    count: segments.Count


def save(
    session: Session,
    kind: str,
    language: str,
    body: str,
    user: User | None,
    now: datetime,
    *,
    settings: Settings | None = None,
) -> Saved:
    """Save a new version of this kind's wording, re-render the planned texts, audit it.

    Line breaks are stored as "\\n" and surrounding whitespace is dropped. Raises
    WordingRefused with every reason, writing nothing, when the rules refuse it; ValueError
    for an unknown kind or language. ``settings``: the environment's (by default the current
    app's), under the practice's saved settings, to re-plan with."""
    _check(kind, language)
    body = body.replace("\r\n", "\n").strip()
    reasons = problems(kind, language, body)
    if reasons:
        raise WordingRefused(reasons)
    practice_settings.hold(session, exclusive=True)  # saves and planning ticks take turns
    return _add_version(session, kind, language, body, user, now, settings, "template_saved")


def reset(
    session: Session,
    kind: str,
    language: str,
    user: User | None,
    now: datetime,
    *,
    settings: Settings | None = None,
) -> Saved | None:
    """Go back to the shipped wording (a new version without a body), re-render, audit, and
    return the new version. ``settings`` as for ``save``. When the shipped wording is already
    in force (never saved, or reset already: a second click, another admin), None: nothing
    is written, audited or re-planned."""
    _check(kind, language)
    practice_settings.hold(session, exclusive=True)  # so two resets cannot both add one
    if not current(session).edited(kind, language):
        return None
    return _add_version(session, kind, language, None, user, now, settings, "template_reset")


def _check(kind: str, language: str) -> None:
    """Refuse a kind or language no template exists for."""
    if kind not in set(TextKind) or language not in LANGUAGES:
        raise ValueError(f"no template for {kind!r} in {language!r}")


def _add_version(
    session: Session,
    kind: str,
    language: str,
    body: str | None,
    user: User | None,
    now: datetime,
    settings: Settings | None,
    action: str,
) -> Saved:
    """Insert the next version, re-plan and audit, in the caller's transaction. The caller
    first holds the practice's settings as a settings save does (``practice_settings.hold``):
    saves take turns, so each gets the next version number, and a planning tick in progress
    (which read the wording before) commits before the re-plan, never after it."""
    before = current(session).body(kind, language)
    newest = session.scalar(
        select(func.max(MessageTemplate.version)).where(
            MessageTemplate.kind == kind, MessageTemplate.language == language
        )
    )
    template = MessageTemplate(
        kind=kind,
        language=language,
        version=(newest or 0) + 1,
        body=body,
        created_at=now,
        created_by_id=user.id if user is not None else None,
    )
    session.add(template)
    session.flush()
    # The practice's settings as saved now (read under the hold), over the ones given.
    rules = practice_settings.effective(session, settings or current_settings())
    replanned = planner.plan_horizon(session, rules, now, everyone=True).updated
    audit.record(
        session,
        user,
        action,
        "message_template",
        f"{kind}/{language}",
        version=template.version,
        old=before,
        new=body if body is not None else shipped(kind, language),
        replanned=replanned,
    )
    return Saved(template, replanned)


def preview(
    settings: Settings,
    wording_body: str,
    kind: str,
    language: str,
    *,
    first_name: str,
    client_first_name: str,
    now: datetime,
) -> Preview:
    """``wording_body`` rendered as a text of this kind would be now (names as the practice
    shows them; the session tomorrow at this time, moved from today), with its size. The
    body need not pass the rules: the preview shows what it would send."""
    plain = settings.names_in_texts == "plain_letters"
    local = now.astimezone(ZoneInfo(settings.practice_timezone)).replace(tzinfo=None)
    values = {
        "first_name": name_for_text(first_name, plain),
        "client_first_name": name_for_text(client_first_name, plain),
        "practice": settings.practice_name,
        "practice_phone": settings.practice_phone_shown,
        "when": texts.format_local(local + timedelta(days=1), language),
        "was": texts.format_local(local, language),
    }
    text, _ = Wording({(str(kind), language): (None, wording_body)}).write(kind, language, values)
    return Preview(text, segments.count(text))
