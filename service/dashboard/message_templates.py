"""The wording of every text, for admins: a list of every kind in each language, and a page
per kind and language to edit it with a live preview, keep or reset it, and read its history.

``service.wording_versions`` checks, saves (with the audit row) and re-plans unsent texts;
this module only reads the form and shows the outcome. A refused text is shown again as
typed with every reason beside the field, and nothing is written. Without JavaScript, the
"Preview" button shows the same preview the script draws as the admin types, rendered by
the server.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from service import audit, wording_versions
from service.config import current_settings
from service.dashboard import template_preview
from service.dashboard.auth import require_admin
from service.dashboard.forms import sentence
from service.dashboard.security import checks_nul_in
from service.db import get_session, utcnow
from service.domain import wording as rules
from service.domain.vocabulary import Language, TextKind
from service.models import MessageTemplate, User

bp = Blueprint("texts", __name__, url_prefix="/settings/texts")

K = TextKind
# Each kind of text in the practice's words, in the order the list shows them.
LABELS = {
    K.REMINDER: "Reminder",
    K.REMINDER_CAREGIVER: "Reminder to a caregiver",
    K.CHECKIN: "Check-in",
    K.CHECKIN_CAREGIVER: "Check-in to a caregiver",
    K.REASK: "Asking again for a number",
    K.REASK_CAREGIVER: "Asking a caregiver again for a number",
    K.ACK_CONFIRM: "Acknowledgement of a confirmation",
    K.ACK_CONFIRM_CAREGIVER: "Acknowledgement of a confirmation, to a caregiver",
    K.ACK_RESCHEDULE: "Acknowledgement of a reschedule request",
    K.ACK_RESCHEDULE_CAREGIVER: "Acknowledgement of a reschedule request, to a caregiver",
    K.ACK_PAIN: "Acknowledgement of a pain score",
    K.ACK_PAIN_CAREGIVER: "Acknowledgement of a pain score, to a caregiver",
    K.ACK_OTHER: "Acknowledgement of any other reply",
    K.ACK_OTHER_CAREGIVER: "Acknowledgement of any other reply, to a caregiver",
    K.HELP: "Answer to HELP",
    K.OPT_IN: "Opt-in confirmation",
    K.OPT_OUT: "Opt-out confirmation",
    K.REBOOKING: "Rebooking invitation",
    K.MOVE_NOTICE: "Moved appointment notice",
    K.MOVE_NOTICE_CAREGIVER: "Moved appointment notice, to a caregiver",
    K.CANCEL_NOTICE: "Cancelled appointment notice",
    K.CANCEL_NOTICE_CAREGIVER: "Cancelled appointment notice, to a caregiver",
}
LANGUAGE_NAMES = {Language.EN: "English", Language.ES: "Spanish"}
SAVE, PREVIEW = "save", "preview"


@dataclass(frozen=True)
class Row:
    """One kind in one language on the list: its current text and where it came from."""

    kind: str
    language: str
    label: str
    language_name: str
    body: str
    version: int  # 0 while no version was ever saved
    edited: bool

    @property
    def anchor(self) -> str:
        return f"{self.kind}-{self.language}"


def _versions_now(session: Session) -> dict[tuple[str, str], int]:
    """The number of the current (highest) version of each kind and language saved."""
    top = select(
        MessageTemplate.kind, MessageTemplate.language, func.max(MessageTemplate.version)
    ).group_by(MessageTemplate.kind, MessageTemplate.language)
    return {(kind, language): number for kind, language, number in session.execute(top)}


def rows(session: Session) -> list[Row]:
    """Every kind in every language, with its current text, version and state."""
    current, numbers = wording_versions.current(session), _versions_now(session)
    return [
        Row(
            kind,
            language,
            label,
            name,
            current.body(kind, language),
            numbers.get((kind, language), 0),
            current.edited(kind, language),  # a reset is in force as the shipped wording
        )
        for kind, label in LABELS.items()
        for language, name in LANGUAGE_NAMES.items()
    ]


def _known(kind: str, language: str) -> tuple[TextKind, Language]:
    """The kind and language the path names, or 404."""
    if kind not in set(TextKind) or language not in set(Language):
        abort(404)
    return TextKind(kind), Language(language)


def _title(kind: str, language: str) -> str:
    return f"{LABELS[TextKind(kind)]} ({LANGUAGE_NAMES[Language(language)]})"


@bp.get("")
def index() -> str:
    """Every kind of text in each language, with its current wording."""
    db = get_session()
    require_admin()
    return render_template("texts/list.html", rows=rows(db))


def _history(session: Session, kind: str, language: str) -> list[tuple[MessageTemplate, str]]:
    """Every saved version, newest first, with the name of who saved it."""
    saved = wording_versions.versions(session, kind, language)
    ids = {v.created_by_id for v in saved if v.created_by_id is not None}
    names = {
        uid: name
        for uid, name in session.execute(select(User.id, User.name).where(User.id.in_(ids)))
    }
    return [(v, names.get(v.created_by_id, "") if v.created_by_id else "") for v in saved]


def _page(
    kind: str,
    language: str,
    body: str,
    *,
    reasons: list[str] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    """The edit page with ``body`` in the field and previewed, and any reasons beside it."""
    db, admin, now, settings = get_session(), require_admin(), utcnow(), current_settings()
    recipients = [
        template_preview.real_recipient(db, kind, language, now),
        template_preview.longest_recipient(kind, language),
    ]
    shown_body = body.replace("\x00", "\ufffd")  # a NUL is refused; show where it was
    previews = [
        template_preview.shown(settings, shown_body, kind, language, who, now) for who in recipients
    ]
    for who in recipients:
        if who.client_id is not None:
            audit.record(db, admin, "view", "client", who.client_id, via=request.endpoint)
    db.commit()
    history = _history(db, kind, language)
    page = render_template(
        "texts/edit.html",
        kind=kind,
        language=language,
        title=_title(kind, language),
        body=shown_body,
        reasons=[sentence(reason) for reason in reasons or []],
        placeholders=[(name, rules.PLACEHOLDERS[name]) for name in rules.allowed(TextKind(kind))],
        previews=previews,
        edited=bool(history) and history[0][0].body is not None,
        history=history,
    )
    return page, status


@bp.route("/<kind>/<language>", methods=["GET", "POST"])
@checks_nul_in("body")
def edit(kind: str, language: str) -> Response | tuple[str, int]:
    """Show a text's wording with its preview; preview or save what was typed."""
    db, admin = get_session(), require_admin()
    kind, language = _known(kind, language)
    if request.method == "GET":
        return _page(kind, language, wording_versions.current(db).body(kind, language))
    # A textarea sends its line breaks as CRLF; a text keeps them as the browser shows them.
    body = request.form.get("body", "").replace("\r\n", "\n")
    if request.form.get("action") != SAVE:
        return _page(kind, language, body, reasons=rules.problems(kind, language, body.strip()))
    try:
        saved = wording_versions.save(db, kind, language, body, admin, utcnow())
    except wording_versions.WordingRefused as refused:
        db.rollback()
        return _page(kind, language, body, reasons=refused.reasons, status=422)
    db.commit()
    _flash_saved(_title(kind, language), f"version {saved.template.version} saved", saved)
    return redirect(url_for(".index") + f"#{kind}-{language}")


@bp.post("/<kind>/<language>/reset")
def reset(kind: str, language: str) -> Response:
    """Go back to the shipped wording (kept as a new version, so the history shows it)."""
    db, admin = get_session(), require_admin()
    kind, language = _known(kind, language)
    saved = wording_versions.reset(db, kind, language, admin, utcnow())
    db.commit()
    if saved is None:  # already the shipped wording (a second click, another tab)
        flash(f"{_title(kind, language)} already has the shipped wording.")
    else:
        _flash_saved(_title(kind, language), "back to the shipped wording", saved)
    return redirect(url_for(".index") + f"#{kind}-{language}")


def _flash_saved(title: str, what: str, saved: wording_versions.Saved) -> None:
    """Say what changed and how many planned texts now read the new wording."""
    replanned = saved.replanned
    if not replanned:
        planned = "No planned text needed re-writing."
    else:
        planned = (
            f"{replanned} planned {'text was' if replanned == 1 else 'texts were'} re-written."
        )
    flash(f"{title}: {what}. {planned}")
