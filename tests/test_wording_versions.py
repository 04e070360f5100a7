"""The wording in the database: versions kept, resets in one call, refusals write nothing,
every change audited, previews as a client would get them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service import accounts, wording_versions
from service.config import settings_of
from service.domain.vocabulary import TextKind
from service.domain.wording import shipped
from service.models import AuditEntry, MessageTemplate, User

NOW = datetime(2027, 3, 3, 16, 0, tzinfo=UTC)  # Wednesday 11:00 in New York
EDITED = "{practice}: see you {when}, {first_name}. {reply_hint}"


@pytest.fixture
def admin(app: Flask, session: Session) -> User:
    user = accounts.create_user(
        session, settings_of(app), "boss@practice.test", "Boss", "long-enough-pw", admin=True
    )
    session.commit()
    return user


def save(app: Flask, session: Session, admin: User, body: str, **where: str) -> MessageTemplate:
    kind, language = where.get("kind", "reminder"), where.get("language", "en")
    saved = wording_versions.save(
        session, kind, language, body, admin, NOW, settings=settings_of(app)
    )
    session.commit()
    return saved.template


def test_with_nothing_saved_the_wording_is_the_shipped_one(session: Session) -> None:
    current = wording_versions.current(session)
    for kind in TextKind:
        assert current.body(kind, "es") == shipped(kind, "es")
        assert current.template_id(kind, "es") is None
    assert wording_versions.versions(session, "reminder", "en") == []


def test_every_save_is_a_new_version_and_reset_is_one_call(
    app: Flask, session: Session, admin: User
) -> None:
    first = save(app, session, admin, EDITED)
    second = save(app, session, admin, "Hi {first_name}, {when}. {reply_hint}")
    current = wording_versions.current(session)
    assert current.body("reminder", "en") == "Hi {first_name}, {when}. {reply_hint}"
    assert current.template_id("reminder", "en") == second.id
    assert current.body("reminder", "es") == shipped("reminder", "es")  # its own language
    reset = wording_versions.reset(
        session, "reminder", "en", admin, NOW, settings=settings_of(app)
    ).template
    session.commit()
    assert [v.version for v in wording_versions.versions(session, "reminder", "en")] == [3, 2, 1]
    assert [v.id for v in wording_versions.versions(session, "reminder", "en")] == [
        reset.id,
        second.id,
        first.id,
    ]
    assert reset.body is None and first.body == EDITED  # earlier versions untouched
    assert wording_versions.current(session).body("reminder", "en") == shipped("reminder", "en")
    # The reset is in force as the shipped wording, under its own id (texts record it).
    assert wording_versions.current(session).template_id("reminder", "en") == reset.id
    assert not wording_versions.current(session).edited("reminder", "en")
    assert {v.created_by_id for v in wording_versions.versions(session, "reminder", "en")} == {
        admin.id
    }


def test_line_breaks_are_kept_as_newlines_and_the_ends_trimmed(
    app: Flask, session: Session, admin: User
) -> None:
    saved = save(app, session, admin, "  Thanks!\r\nSee you.\n", kind="ack_other")
    assert saved.body == "Thanks!\nSee you."


BAD = [
    "Hi {first name}, {when}. {reply_hint}",
    "Hi {, {when}. {reply_hint}",
    "x" * 2000 + " {reply_hint}",
    "Hi\x00 {when}. {reply_hint}",
    "   \n ",
    "Hi {when}. Reply STOP. {reply_hint}",
    "Your spasticity session {when}. {reply_hint}",
    "Hi {first_name}, {when}.",
    "\u200b\u00ad",
    "Hi \ud83d {when}. {reply_hint}",
    "Hi {when}. {reply_hint} Or text back stop.",
    "Your therapies {when}. {reply_hint}",
]


@pytest.mark.parametrize("body", BAD)
def test_a_refused_save_writes_nothing_and_leaves_the_previous_version(
    app: Flask, session: Session, admin: User, body: str
) -> None:
    before = save(app, session, admin, EDITED)
    audits = session.scalar(select(func.count()).select_from(AuditEntry))
    with pytest.raises(wording_versions.WordingRefused) as refused:
        wording_versions.save(
            session, "reminder", "en", body, admin, NOW, settings=settings_of(app)
        )
    session.commit()
    assert refused.value.reasons
    assert [v.id for v in wording_versions.versions(session, "reminder", "en")] == [before.id]
    assert wording_versions.current(session).body("reminder", "en") == EDITED
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == audits


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_reset_of_the_shipped_wording_writes_and_audits_nothing(
    app: Flask, session: Session, admin: User, language: str
) -> None:
    never = wording_versions.reset(
        session, "checkin", language, admin, NOW, settings=settings_of(app)
    )
    assert never is None  # never saved: nothing to go back from
    save(app, session, admin, "Thanks!", kind="ack_other", language=language)
    first = wording_versions.reset(
        session, "ack_other", language, admin, NOW, settings=settings_of(app)
    )
    second = wording_versions.reset(
        session, "ack_other", language, admin, NOW, settings=settings_of(app)
    )
    session.commit()
    assert first is not None and first.template.body is None
    assert second is None  # already the shipped wording
    assert [v.body for v in wording_versions.versions(session, "ack_other", language)] == [
        None,
        "Thanks!",
    ]
    assert wording_versions.versions(session, "checkin", language) == []
    audits = session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.entity == "message_template")
        .order_by(AuditEntry.id)
    ).all()
    assert audits == ["template_saved", "template_reset"]


@pytest.mark.parametrize(("kind", "language"), [("reminders", "en"), ("reminder", "fr")])
def test_an_unknown_kind_or_language_is_refused(
    app: Flask, session: Session, admin: User, kind: str, language: str
) -> None:
    with pytest.raises(ValueError, match="no template"):
        wording_versions.save(
            session, kind, language, EDITED, admin, NOW, settings=settings_of(app)
        )
    with pytest.raises(ValueError, match="no template"):
        wording_versions.reset(session, kind, language, admin, NOW, settings=settings_of(app))


def test_saves_and_resets_are_audited_with_who_the_old_and_the_new_wording(
    app: Flask, session: Session, admin: User
) -> None:
    save(app, session, admin, EDITED, language="en")
    wording_versions.reset(session, "reminder", "en", admin, NOW, settings=settings_of(app))
    session.commit()
    rows = session.scalars(
        select(AuditEntry).where(AuditEntry.entity == "message_template").order_by(AuditEntry.id)
    ).all()
    assert [(r.action, r.entity_id, r.user_id) for r in rows] == [
        ("template_saved", "reminder/en", admin.id),
        ("template_reset", "reminder/en", admin.id),
    ]
    assert rows[0].detail["old"] == shipped("reminder", "en")
    assert rows[0].detail["new"] == EDITED
    assert (rows[1].detail["old"], rows[1].detail["new"]) == (EDITED, shipped("reminder", "en"))
    assert [r.detail["version"] for r in rows] == [1, 2]


@pytest.mark.parametrize(
    ("language", "names", "expected"),
    [
        (
            "en",
            "as_written",
            "Hi Lucía, a reminder of Maximiliano's appointment at Bright Path on "
            "Thu Mar 4, 11:00 AM. Reply C to confirm or R to reschedule.",
        ),
        (
            "es",
            "plain_letters",
            "Hola Lucia, recordamos la cita de Maximiliano en Bright Path el jue 4 mar, 11:00. "
            "Responda C para confirmar o R para cambiar la fecha.",
        ),
    ],
)
def test_a_preview_renders_with_the_practices_names_and_counts_segments(
    make_app: object, language: str, names: str, expected: str
) -> None:
    app = make_app(NAMES_IN_TEXTS=names)  # type: ignore[operator]
    kind = "reminder_caregiver"
    preview = wording_versions.preview(
        settings_of(app),
        shipped(kind, language),
        kind,
        language,
        first_name="Lucía Pérez",
        client_first_name="Maximiliano",
        now=NOW,
    )
    assert preview.text == expected
    # "í" makes the whole text UCS-2, 70 characters a segment: plain letters keep it to one.
    assert (preview.count.encoding, preview.count.segments) == (
        ("UCS-2", 2) if names == "as_written" else ("GSM-7", 1)
    )


def test_a_preview_of_a_long_template_says_it_takes_more_segments(app: Flask) -> None:
    body = "Hi {first_name}! " + "Lots of news from {practice}. " * 8 + "{reply_hint}"
    preview = wording_versions.preview(
        settings_of(app), body, "reminder", "en", first_name="Sam", client_first_name="", now=NOW
    )
    assert preview.text.startswith("Hi Sam! Lots of news from Bright Path.")
    assert preview.count.segments == 2
