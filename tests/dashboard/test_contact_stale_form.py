"""A contact form opened before calls to its number changed (the caller pressed 9, another
user withdrew or recorded the agreement, or changed the contact's channel) changes nothing
about calls when saved: it comes back with a notice and where calls stand now
(``dashboard.contact_calls``). The forms are submitted as a browser would submit them."""

from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service import call_consent
from service.models import AuditEntry, Contact, PhoneNumber
from tests import factories
from tests.dashboard.conftest import Staff, Web, text_of

LONG_AGO = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)
PRESSED_9 = datetime(2026, 3, 9, 15, 0, tzinfo=UTC)  # Mar 9 in New York, the client's zone
STOPPED = "Calls to this number were stopped by the caller (pressed 9) on Mar 9, after this form"


class _FormReader(HTMLParser):
    """What a browser sends for the page's form: each field's value, a box only ticked,
    a select's chosen option."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, str] = {}
        self.select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "input" and a.get("name") and a["name"] != "csrf_token":
            if a.get("type") != "checkbox" or "checked" in a:
                self.data[a["name"]] = a.get("value", "")
        elif tag == "select":
            self.select = a.get("name")
        elif tag == "option" and self.select and (self.select not in self.data or "selected" in a):
            self.data[self.select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self.select = None


def shown(page: str) -> dict[str, str]:
    """The form on ``page`` as a browser would submit it untouched."""
    reader = _FormReader()
    reader.feed(page)
    return reader.data


def _open(web: Web, contact: Contact) -> dict[str, str]:
    page = web.get(f"/contacts/{contact.id}/edit")
    assert page.status_code == 200
    return shown(page.get_data(as_text=True))


def _agreed_on_voice(session: Session, ana: Staff) -> Contact:
    _, own = factories.client_with_phone(session, therapist_id=ana.id)
    call_consent.record_consent(session, None, own.phone, LONG_AGO, via="test")
    own.channel = "voice"
    session.commit()
    return own


def _state(session: Session, contact: Contact) -> tuple[bool, str, str]:
    session.expire_all()
    row = session.get(PhoneNumber, contact.phone)
    saved = session.get(Contact, contact.id)
    assert saved is not None
    return call_consent.may_call(row), saved.channel, saved.name


def _consents(session: Session) -> int:
    return session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "voice_consent")
    )


def test_a_form_opened_before_the_caller_pressed_9_leaves_calls_stopped(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    own = _agreed_on_voice(session, ana)
    form = _open(as_ana, own)
    assert form["voice_consent"] == "on" and form["channel"] == "voice"
    call_consent.stop_calls(session, None, own.phone, PRESSED_9, via="keypad")
    session.commit()
    consents = _consents(session)
    again = as_ana.post(f"/contacts/{own.id}/edit", {**form, "name": "Sam L."})
    assert again.status_code == 422
    assert STOPPED in text_of(again) and "Tick the box again to record a new agreement" in text_of(
        again
    )
    assert _state(session, own) == (False, "sms", own.name)  # nothing saved
    assert _consents(session) == consents
    now_shown = shown(again.get_data(as_text=True))
    assert "voice_consent" not in now_shown and now_shown["channel"] == "sms"
    assert now_shown["name"] == "Sam L."  # what was typed is kept
    saved = as_ana.post(f"/contacts/{own.id}/edit", now_shown)  # saved as it now shows
    assert saved.status_code == 302
    assert _state(session, own) == (False, "sms", "Sam L.")


def test_ticking_the_box_again_after_the_notice_records_a_new_agreement(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    own = _agreed_on_voice(session, ana)
    form = _open(as_ana, own)
    call_consent.stop_calls(session, None, own.phone, PRESSED_9, via="keypad")
    session.commit()
    again = shown(as_ana.post(f"/contacts/{own.id}/edit", form).get_data(as_text=True))
    ticked = {**again, "voice_consent": "on", "channel": "voice"}
    assert as_ana.post(f"/contacts/{own.id}/edit", ticked).status_code == 302
    assert _state(session, own) == (True, "voice", own.name)
    row = session.get(PhoneNumber, own.phone)
    assert row is not None and row.voice_consent_by_id == ana.id


def test_a_form_opened_before_another_user_withdrew_leaves_calls_not_agreed(
    as_ana: Web, ana: Staff, as_boss: Web, session: Session
) -> None:
    own = _agreed_on_voice(session, ana)
    stale = _open(as_ana, own)
    withdrawn = {k: v for k, v in _open(as_boss, own).items() if k != "voice_consent"}
    assert (
        as_boss.post(f"/contacts/{own.id}/edit", {**withdrawn, "channel": "sms"}).status_code == 302
    )
    assert _state(session, own)[:2] == (False, "sms")
    again = as_ana.post(f"/contacts/{own.id}/edit", {**stale, "name": "Sam L."})
    assert again.status_code == 422
    assert "The agreement to calls for this number was withdrawn on " in text_of(again)
    assert "by Bo Boss, after this form was opened" in text_of(again)
    assert _state(session, own) == (False, "sms", own.name)
    now_shown = shown(again.get_data(as_text=True))
    assert "voice_consent" not in now_shown and now_shown["channel"] == "sms"
    ticked = {**now_shown, "voice_consent": "on", "channel": "voice"}
    assert as_ana.post(f"/contacts/{own.id}/edit", ticked).status_code == 302
    assert _state(session, own) == (True, "voice", "Sam L.")


def test_a_form_opened_before_another_user_recorded_the_agreement_does_not_withdraw_it(
    as_ana: Web, ana: Staff, as_boss: Web, session: Session
) -> None:
    _, own = factories.client_with_phone(session, therapist_id=ana.id)
    session.commit()
    stale = _open(as_ana, own)
    assert "voice_consent" not in stale
    agreed = {**_open(as_boss, own), "voice_consent": "on", "channel": "voice"}
    assert as_boss.post(f"/contacts/{own.id}/edit", agreed).status_code == 302
    again = as_ana.post(f"/contacts/{own.id}/edit", stale)  # box unticked, texts, as shown
    assert again.status_code == 422
    assert "Calls to this number were agreed on " in text_of(again)
    assert "Tick the box again" not in text_of(again)
    assert _state(session, own)[:2] == (True, "voice")
    now_shown = shown(again.get_data(as_text=True))
    assert now_shown["voice_consent"] == "on" and now_shown["channel"] == "voice"


def test_a_form_opened_before_the_channel_was_changed_does_not_change_it_back(
    as_ana: Web, ana: Staff, as_boss: Web, session: Session
) -> None:
    own = _agreed_on_voice(session, ana)
    stale = _open(as_ana, own)
    texts = {**_open(as_boss, own), "channel": "sms"}
    assert as_boss.post(f"/contacts/{own.id}/edit", texts).status_code == 302
    again = as_ana.post(f"/contacts/{own.id}/edit", stale)
    assert again.status_code == 422
    assert "This contact was changed to hear by text, after this form was opened" in text_of(again)
    assert _state(session, own)[:2] == (True, "sms")


def test_without_a_change_meanwhile_the_form_saves_and_its_box_works(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    own = _agreed_on_voice(session, ana)
    consents = _consents(session)
    renamed = {**_open(as_ana, own), "name": "Sam L."}
    assert as_ana.post(f"/contacts/{own.id}/edit", renamed).status_code == 302
    assert _state(session, own) == (True, "voice", "Sam L.")
    assert _consents(session) == consents  # the box left ticked records nothing new
    unticked = {k: v for k, v in _open(as_ana, own).items() if k != "voice_consent"}
    assert (
        as_ana.post(f"/contacts/{own.id}/edit", {**unticked, "channel": "sms"}).status_code == 302
    )
    assert _state(session, own)[:2] == (False, "sms")
    ticked = {**_open(as_ana, own), "voice_consent": "on", "channel": "sms_then_voice"}
    assert as_ana.post(f"/contacts/{own.id}/edit", ticked).status_code == 302
    assert _state(session, own)[:2] == (True, "sms_then_voice")
    assert _consents(session) == consents + 1


def test_a_post_that_does_not_say_what_it_showed_may_not_restart_stopped_calls(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    own = _agreed_on_voice(session, ana)
    call_consent.stop_calls(session, None, own.phone, PRESSED_9, via="keypad")
    session.commit()
    body = {"name": "Sam L.", "relation": "self", "phone": "617-555-0123", "channel": "voice",
            "voice_consent": "on", "reminders": "on"}  # fmt: skip
    refused = as_ana.post(f"/contacts/{own.id}/edit", body)
    assert refused.status_code == 422
    assert "stopped by the caller (pressed 9) on Mar 9. Nothing was saved" in text_of(refused)
    assert _state(session, own) == (False, "sms", own.name)
    texts = {**body, "channel": "sms"}
    del texts["voice_consent"]
    assert as_ana.post(f"/contacts/{own.id}/edit", texts).status_code == 302  # touches no calls
    assert _state(session, own) == (False, "sms", "Sam L.")


def test_a_form_with_an_error_and_a_change_of_calls_shows_both(
    as_ana: Web, ana: Staff, session: Session
) -> None:
    own = _agreed_on_voice(session, ana)
    form = _open(as_ana, own)
    call_consent.stop_calls(session, None, own.phone, PRESSED_9, via="keypad")
    session.commit()
    again = as_ana.post(f"/contacts/{own.id}/edit", {**form, "name": "", "phone": "12"})
    assert again.status_code == 422
    assert STOPPED in text_of(again) and "Not a phone number" in text_of(again)
    assert "voice_consent" not in shown(again.get_data(as_text=True))
    assert _state(session, own) == (False, "sms", own.name)
