"""The wording as templates: the shipped ones write today's texts byte for byte, rendering
fills placeholders, names show as the practice chose, and the rules refuse what they must."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from service.domain import segments, texts
from service.domain.vocabulary import Ack, TextKind
from service.domain.wording import (
    ACK_KINDS,
    LANGUAGES,
    LONGEST_NAMES,
    MAX_LENGTH,
    PLACEHOLDERS,
    Wording,
    allowed,
    for_recipient,
    name_for_text,
    problems,
    render,
    shipped,
)
from tests.domain import todays_texts as today

K = TextKind
PRACTICES = ("Bright Path", "Bay Area Neuromuscular Center")
PHONES = ("+1 (415) 555-0134", "")
NAMES = ("Sam", "Maximiliano", "", "Lucía", " Rosa ")
NEW, OLD = datetime(2027, 11, 13, 12, 30), datetime(2027, 12, 29, 23, 59)


def _values(language: str, practice: str, phone: str, name: str, about: str) -> dict[str, str]:
    return {
        "first_name": name,
        "client_first_name": about,
        "practice": practice,
        "practice_phone": phone,
        "when": texts.format_local(NEW, language),
        "was": texts.format_local(OLD, language),
    }


# Today's function for each kind (the frozen oracle): (language, practice, phone, name,
# about) -> text.
Today = Callable[[str, str, str, str, str], str | None]
TODAY: dict[TextKind, Today] = {
    K.REMINDER: lambda lang, pr, ph, name, about: today.reminder(lang, pr, name, NEW, about=about),
    K.CHECKIN: lambda lang, pr, ph, name, about: today.checkin(lang, pr, name, about=about),
    K.REBOOKING: lambda lang, pr, ph, name, about: today.rebooking(lang, pr, name, ph),
    K.OPT_OUT: lambda lang, pr, ph, name, about: today.opt_out_confirmation(lang, pr),
    K.MOVE_NOTICE: lambda lang, pr, ph, name, about: today.move_notice(
        lang, pr, NEW, OLD, first_name=name, about=about
    ),
    K.CANCEL_NOTICE: lambda lang, pr, ph, name, about: today.cancel_notice(
        lang, pr, NEW, ph, first_name=name, about=about
    ),
}
for _ack, _kind in ACK_KINDS.items():
    if _ack != Ack.OPTED_OUT:
        TODAY[_kind] = lambda lang, pr, ph, name, about, a=_ack: today.ack(  # type: ignore[misc]
            lang, a, pr, ph, about=about
        )


@pytest.mark.parametrize("language", [*LANGUAGES, "fr"])
@pytest.mark.parametrize("base", list(TODAY))
@pytest.mark.parametrize("practice", PRACTICES)
@pytest.mark.parametrize("about", ["", "Maria", "Maximiliano", "Mary Ann", " "])
def test_the_shipped_templates_write_todays_texts_byte_for_byte(
    language: str, base: TextKind, practice: str, about: str
) -> None:
    # Today's acknowledgements wrote "or call ." with no practice phone: only with one.
    phones = PHONES[:1] if base in ACK_KINDS.values() else PHONES
    for name, phone in ((n, p) for n in NAMES for p in phones):
        expected = TODAY[base](language, practice, phone, name, about)
        kind = for_recipient(base, about)
        values = _values(language, practice, phone, name, about)
        assert Wording.shipped().write(kind, language, values) == (expected, None), kind


def test_todays_functions_now_write_the_shipped_wording() -> None:
    for language, about in ((lang, a) for lang in LANGUAGES for a in ("", "Maria")):
        args = (language, PRACTICES[1], "Maximiliano")
        assert texts.reminder(*args, NEW, about=about) == today.reminder(*args, NEW, about=about)
        assert texts.checkin(*args, about=about) == today.checkin(*args, about=about)
        assert texts.rebooking(*args, PHONES[0]) == today.rebooking(*args, PHONES[0])
        for intent in texts.ACKS:
            ours = texts.ack(language, intent, PRACTICES[0], PHONES[0], about=about)
            assert ours == today.ack(language, intent, PRACTICES[0], PHONES[0], about=about)
        names = {"first_name": "Rosa", "about": about}
        moved = (language, PRACTICES[0], NEW, OLD)
        assert texts.move_notice(*moved, **names) == today.move_notice(*moved, **names)
        cancelled = (language, PRACTICES[1], NEW, PHONES[0])
        assert texts.cancel_notice(*cancelled, **names) == today.cancel_notice(*cancelled, **names)
        assert texts.opt_out_confirmation(language, "X") == today.opt_out_confirmation(
            language, "X"
        )


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("base", [K.REBOOKING, K.CANCEL_NOTICE, K.CANCEL_NOTICE_CAREGIVER])
def test_without_a_practice_phone_the_hint_offers_no_call(language: str, base: TextKind) -> None:
    about = "Maria" if base == K.CANCEL_NOTICE_CAREGIVER else ""
    oracle = TODAY[K.REBOOKING if base == K.REBOOKING else K.CANCEL_NOTICE]
    expected = oracle(language, "Bright Path", "", "Sam", about)
    values = _values(language, "Bright Path", "", "Sam", about)
    assert Wording.shipped().write(base, language, values)[0] == expected


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", list(TextKind))
def test_shipped_templates_pass_the_rules_and_fit_one_segment_with_the_longest_names(
    language: str, kind: TextKind
) -> None:
    assert problems(kind, language, shipped(kind, language)) == []
    longest = LONGEST_NAMES[language]
    values = _values(language, PRACTICES[1], PHONES[0], longest, longest)
    text, _ = Wording.shipped().write(kind, language, values)
    assert "{" not in text and "}" not in text
    assert segments.count(text).segments == 1, text
    assert segments.count(text).encoding == "GSM-7", text


def test_every_placeholder_is_explained_and_every_kind_allows_only_known_ones() -> None:
    assert set(PLACEHOLDERS) == {
        "first_name",
        "client_first_name",
        "practice",
        "practice_phone",
        "when",
        "was",
        "reply_hint",
    }
    for kind in TextKind:
        assert set(allowed(kind)) <= set(PLACEHOLDERS)
        assert ("client_first_name" in allowed(kind)) == kind.endswith("_caregiver")
    assert "was" in allowed(K.MOVE_NOTICE) and "was" not in allowed(K.CANCEL_NOTICE)


@pytest.mark.parametrize(
    ("body", "values", "expected"),
    [
        ("Hi {first_name},", {"first_name": "Sam"}, "Hi Sam,"),
        ("Hi {first_name},", {"first_name": ""}, "Hi,"),
        ("Hi {first_name},", {}, "Hi,"),
        ("Hola {first_name}, {practice}.", {"first_name": " ", "practice": "X"}, "Hola, X."),
        ("{practice}: ok", {"practice": "A {b}"}, "A {b}: ok"),  # values are not templates
        ("A  {first_name}", {"first_name": ""}, "A "),  # only the one space goes
        ("{first_name}{practice}", {"first_name": "", "practice": "P"}, "P"),
    ],
)
def test_render_fills_placeholders_and_an_empty_one_takes_its_space(
    body: str, values: dict[str, str], expected: str
) -> None:
    assert render(body, values) == expected


@pytest.mark.parametrize(
    ("name", "plain", "expected"),
    [
        ("Lucía Pérez", False, "Lucía"),
        ("Lucía Pérez", True, "Lucia"),
        ("José", True, "José"),  # é is GSM-7: the text stays GSM-7 with it
        ("Peña, Begoña", True, "Begoña"),
        ("Zoë", True, "Zoe"),
        ("Łukasz", True, "Lukasz"),
        ("Nguyễn Ngọc", True, "Nguyen"),
        ("François", True, "Francois"),
        ("😊🌟", False, ""),
        ("😊🌟", True, ""),
        ("💜 Maria", False, "Maria"),
        ("王", False, "王"),
        ("王", True, ""),  # nothing GSM-7 is left of it
        ("", True, ""),
        ("Maria", True, "Maria"),
    ],
)
def test_names_show_as_written_or_in_plain_letters(name: str, plain: bool, expected: str) -> None:
    assert name_for_text(name, plain) == expected


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_plain_name_keeps_the_text_gsm7(language: str) -> None:
    values = _values(language, "Bright Path", PHONES[0], name_for_text("Lucía", True), "")
    text, _ = Wording.shipped().write(K.REMINDER, language, values)
    assert segments.count(text).encoding == "GSM-7"
    values["first_name"] = "Lucía"
    assert segments.count(Wording.shipped().write(K.REMINDER, language, values)[0]).encoding == (
        "UCS-2"
    )


def test_a_client_named_by_nothing_gets_the_wording_that_names_no_one() -> None:
    assert for_recipient(K.REMINDER, "") == K.REMINDER
    assert for_recipient(K.REMINDER, "Maria") == K.REMINDER_CAREGIVER
    assert for_recipient(K.HELP, "Maria") == K.HELP  # help is about the phone


def test_a_saved_template_is_used_with_its_id_and_the_rest_stay_shipped() -> None:
    edited = Wording({("reminder", "en"): (7, "{practice}: {when}. {reply_hint}")})
    values = _values("en", "Bright Path", PHONES[0], "Sam", "")
    assert edited.write(K.REMINDER, "en", values) == (
        "Bright Path: Sat Nov 13, 12:30 PM. Reply C to confirm or R to reschedule.",
        7,
    )
    assert edited.template_id(K.REMINDER, "es") is None
    assert edited.body(K.REMINDER, "es") == shipped(K.REMINDER, "es")
    assert edited.body(K.REMINDER, "fr") == edited.body(K.REMINDER, "en")  # unknown: English


def _one(found: list[str], *parts: str) -> None:
    assert len(found) == 1, found
    assert all(part in found[0] for part in parts), found


# (kind, language, body, what the one reason names)
REFUSED = [
    (K.REMINDER, "en", "Hi {first name}, {when}. {reply_hint}", ("{first name}",)),
    (K.REMINDER, "es", "Hola {nombre}, {when}. {reply_hint}", ("{nombre}",)),
    (K.REMINDER, "en", "Hi {first_name, {when}. {reply_hint}", ('lone "{" in "{first_name,',)),
    (K.CHECKIN, "en", "How is it { today? {reply_hint}", ('lone "{" in "{ today?',)),
    (K.CHECKIN, "es", "Hola } {reply_hint}", ('lone "}" in "Hola }"',)),
    (K.ACK_PAIN, "en", "Thanks {{ for coming", ('"{{"',)),
    (K.ACK_PAIN, "es", "Gracias {first_name}.", ("{first_name}", "no value")),
    (K.CHECKIN, "en", "Hi {first_name}, {when}? {reply_hint}", ("{when}", "no value")),
    (K.REMINDER, "en", "Hi {client_first_name}, {when}. {reply_hint}", ("{client_first_name}",)),
    (K.CANCEL_NOTICE, "es", "Cancelada ({was}). {reply_hint}", ("{was}",)),
    (K.REMINDER, "en", "Hi {first_name}, see you {when}.", ("{reply_hint}",)),
    (K.REMINDER_CAREGIVER, "es", "Cita de {client_first_name} el {when}.", ("{reply_hint}",)),
    (K.CHECKIN, "es", "Hola {first_name}, ¿dolor hoy del 0 al 10?", ("{reply_hint}",)),
    (K.CHECKIN_CAREGIVER, "en", "Pain for {client_first_name}?", ("{reply_hint}",)),
    (K.REMINDER, "en", "{when}. {reply_hint} Text STOP to stop.", ('"STOP"', "carrier")),
    (K.ACK_OTHER, "en", "Thanks. To stop, reply stop.", ('"stop"',)),
    (K.ACK_OTHER, "en", "Thanks. Reply END to end these.", ('"END"',)),
    (K.ACK_CONFIRM, "en", 'Confirmed. Send "cancel" to call it off.', ('"cancel"',)),
    (K.REBOOKING, "en", "Miss you! Reply QUIT for no more. {reply_hint}", ('"QUIT"',)),
    (K.ACK_OTHER, "en", "Thanks. unsubscribe anytime.", ('"unsubscribe"',)),
    (K.ACK_OTHER, "es", "Gracias. Responda BAJA para no recibir mas.", ('"BAJA"',)),
    (K.ACK_OTHER, "es", "Gracias. Si quiere dejarlo, envie parar.", ('"parar"',)),
    (K.OPT_OUT, "es", "Ya no recibira mensajes. Escriba BASTA si...", ('"BASTA"',)),
    # Asked for in lower case past punctuation or the words that say how to send it, and
    # the reply understanding's opt-out phrases.
    (K.ACK_OTHER, "en", "Thanks. Reply: stop, if you want no more.", ('"stop"', "carrier")),
    (K.ACK_OTHER, "en", "Thanks. To opt out, text back stop.", ('"stop"',)),
    (K.ACK_CONFIRM, "en", "Confirmed. To leave, reply with the word stop.", ('"stop"',)),
    (K.ACK_CONFIRM, "en", "Confirmed. Reply C or cancel.", ('"cancel"',)),
    (K.ACK_OTHER, "en", "Thanks. Reply REMOVE ME to leave the list.", ('"REMOVE ME"',)),
    (K.ACK_OTHER, "en", "Thanks. Send 'stop it' for no more.", ('"stop it"',)),
    (K.ACK_OTHER, "es", "Gracias. Responda: baja, si no quiere más.", ('"baja"', "carrier")),
    (K.ACK_OTHER, "es", "Gracias. Para salir, envíe la palabra baja.", ('"baja"',)),
    (K.ACK_OTHER, "es", "Gracias. Responda ALTO para no recibir más.", ('"ALTO"',)),
    (K.ACK_OTHER, "es", "Gracias. Conteste con la palabra alto.", ('"alto"',)),
    (K.ACK_OTHER, "es", "Gracias. Responda a este mensaje con basta.", ('"basta"',)),
    (K.HELP, "en", "{practice}: call {practice_phone}.", ("say how to stop",)),
    (K.OPT_IN, "es", "Vuelve a recibir mensajes de {practice}.", ("say how to stop",)),
    (K.HELP, "es", "{practice}: llame al {practice_phone}. Para salir, pare.", ("how to stop",)),
    (K.REMINDER, "en", "Hi, your cerebral palsy session {when}. {reply_hint}", ("cerebral palsy",)),
    (K.CHECKIN, "en", "How is the SPASTICITY today? {reply_hint}", ("SPASTICITY",)),
    (K.ACK_PAIN, "es", "Gracias, lo anotamos para su parálisis cerebral.", ("parálisis cerebral",)),
    (K.ACK_PAIN, "es", "Gracias, lo anotamos (paralisis  Cerebral).", ("paralisis  Cerebral",)),
    (K.REBOOKING, "es", "Su masaje le espera. {reply_hint}", ("masaje",)),
    (K.OPT_IN, "en", "Texts about your therapy again. Reply STOP to opt out.", ("therapy",)),
    (K.MOVE_NOTICE, "en", "Your injection moved to {when}. {reply_hint}", ("injection",)),
    # Plurals beyond s/es, related forms, look-alike letters of other alphabets.
    (K.ACK_OTHER, "en", "Thanks. Injuries heal with time.", ("Injuries",)),
    (K.ACK_OTHER, "en", "Your therapies are booked.", ("therapies",)),
    (K.ACK_OTHER, "en", "We noted both diagnoses.", ("diagnoses",)),
    (K.ACK_OTHER, "en", "Our autistic clients love it.", ("autistic",)),
    (K.ACK_OTHER, "en", "See you for ther\u0430py.", ("ther\u0430py",)),  # a Cyrillic a
    (
        K.ACK_OTHER,
        "en",
        "See you for \u03a4\u0397\u0395RAPY.",
        ("\u03a4\u0397\u0395RAPY",),
    ),  # Greek
    (K.ACK_OTHER, "en", "Noted for all your conditions.", ("conditions",)),
    (K.ACK_OTHER, "en", "Treatments resume Monday.", ("Treatments",)),
    (K.ACK_OTHER, "es", "Gracias. Las lesiones sanan.", ("lesiones",)),
    (K.ACK_OTHER, "es", "Sus terapias quedan reservadas.", ("terapias",)),
    (K.ACK_OTHER, "es", "Anotamos los diagnósticos.", ("diagnósticos",)),
    (K.ACK_OTHER, "es", "Para niños autistas.", ("autistas",)),
    (
        K.ACK_OTHER,
        "es",
        "Gracias por su fisiot\u0435rapia.",
        ("fisiot\u0435rapia",),
    ),  # a Cyrillic e
    (K.ACK_OTHER, "es", "Revisamos sus enfermedades.", ("enfermedades",)),
    (K.ACK_OTHER, "es", "Traiga su silla de ruedas.", ("silla de ruedas",)),
    (K.ACK_OTHER, "es", "", ("empty",)),
    (K.ACK_OTHER, "en", "Thanks\x00", ("NUL",)),
    (K.ACK_OTHER, "es", "Gracias\tya", ("tab",)),
    (K.ACK_OTHER, "en", "Thanks\x07", ("U+0007",)),
    (K.ACK_OTHER, "en", "x" * 2000, ("2000 characters long, more than the 600 allowed",)),
    (K.ACK_OTHER, "es", "x" * (MAX_LENGTH + 1), (str(MAX_LENGTH + 1),)),
    # Nothing anyone would see, or something that hides or reorders what they see.
    (K.ACK_OTHER, "en", "\u200b", ("empty",)),
    (K.ACK_OTHER, "es", "\u00ad\u200d\ufeff", ("empty",)),
    (K.OPT_OUT, "en", " \u2060\u0301 ", ("empty",)),
    (K.ACK_OTHER, "en", "Thanks \u202eti deton ew", ("right-to-left override (U+202E)",)),
    (K.ACK_OTHER, "es", "Gracias\u200b, lo anotamos.", ("zero width space (U+200B)",)),
    (K.ACK_OTHER, "es", "Gra\u00adcias.", ("soft hyphen (U+00AD)",)),
    (K.ACK_OTHER, "en", "Thanks\u200d.", ("zero width joiner (U+200D)",)),
    (K.ACK_OTHER, "en", "Thanks \ud83d", ("half a character (U+D83D)",)),
    (K.ACK_OTHER, "es", "\udc9c Gracias", ("half a character (U+DC9C)",)),
]


@pytest.mark.parametrize(("kind", "language", "body", "named"), REFUSED)
def test_the_rules_refuse_with_one_reason_naming_what_is_wrong(
    kind: TextKind, language: str, body: str, named: tuple[str, ...]
) -> None:
    _one(problems(kind, language, body), *named)


ACCEPTED = [
    (K.REMINDER, "en", "{practice}: see you {when}! {reply_hint}"),
    (K.REMINDER, "es", "{practice}: le esperamos el {when}. {reply_hint}"),
    (K.CHECKIN, "es", "Hola {first_name}, ¿cómo está hoy, del 0 al 10? {reply_hint}"),
    (
        K.ACK_OTHER,
        "en",
        "Thanks! We'll stop by the front desk to tell them.",
    ),  # lower-case, not asked
    (K.ACK_OTHER, "en", "Thanks, see you at the end of the week."),
    (K.ACK_OTHER, "es", "Gracias, para cualquier cosa llame al {practice_phone}."),
    (K.ACK_CONFIRM_CAREGIVER, "es", "Gracias, la cita de {client_first_name} queda confirmada."),
    (K.HELP, "en", "{practice} texts. Text STOP to opt out, or call {practice_phone}."),
    (K.OPT_IN, "es", "De nuevo con {practice}. Responda BAJA para darse de baja."),
    (K.MOVE_NOTICE, "en", "Hi {first_name}, moved to {when} (was {was}). {reply_hint}"),
    # Saying how to stop in lower case still says it; everyday words not asked for pass.
    (K.HELP, "en", "{practice}: call {practice_phone}. Reply: stop to opt out."),
    (K.HELP, "es", "{practice}: llame al {practice_phone}. Para salir, envíe la palabra baja."),
    (K.OPT_IN, "en", "Texts from {practice} again. To leave, text back stop."),
    (K.OPT_IN, "es", "De nuevo con {practice}. Responda: baja, para salir."),
    (K.ACK_CONFIRM, "es", "Gracias. Responda C para confirmar o R para cambiar la cita."),
    (K.ACK_PAIN, "es", "Gracias. Si el dolor sigue alto, llame al {practice_phone}."),
    (K.ACK_PAIN, "en", "Thanks. Remove the ice after 10 minutes; call us by the end of the day."),
    (K.ACK_OTHER, "en", "Thanks. Reply C, or stop by the front desk."),
    (K.ACK_OTHER, "es", "Gracias. Le escribimos para confirmar; basta con responder C."),
    (K.ACK_OTHER, "en", "Line one\nLine two\r\nLine three"),
    (K.ACK_OTHER, "en", "x" * MAX_LENGTH),
    (K.ACK_OTHER, "en", "Thanks 💜"),
    # Words that share letters with clinical ones are not them.
    (K.ACK_OTHER, "en", "Thanks! Happy holidays, enjoy the days off."),
    (K.ACK_OTHER, "en", "Thanks for the kind words, see you Thursday."),
    (K.ACK_OTHER, "es", "Gracias, lo vemos el jueves. ¡Buenas tardes!"),
    (K.ACK_OTHER, "es", "Gracias por sus palabras: nos alegra ayudarle."),
    (K.ACK_OTHER, "es", "Gracias 👨\u200d👩\u200d👧 \U0001f44d\U0001f3fd"),  # joiners inside emoji
    (K.ACK_OTHER, "en", "💜"),
]


@pytest.mark.parametrize(("kind", "language", "body"), ACCEPTED)
def test_the_rules_accept_what_keeps_them(kind: TextKind, language: str, body: str) -> None:
    assert problems(kind, language, body) == []


def test_every_reason_is_given_at_once_and_none_holds_the_separator() -> None:
    found = problems(K.REMINDER, "en", "Hi {first name}, STOP { the spasticity\x00" + "x" * 600)
    assert len(found) == 7, found  # length, control, 2 placeholders, hint, keyword, clinical
    assert not any("; " in reason for reason in found)
