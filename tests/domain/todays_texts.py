"""The texts as TouchBase wrote them before their wording became editable templates, kept
word for word as the oracle the shipped templates (``service.domain.shipped_wording``) are
checked against: rendering a shipped template must give exactly what these functions give.
Never edit it to follow a change of the shipped wording; that change is a decision the test
comparing the two makes visible."""

from datetime import datetime

from service.domain.texts import fits_one_segment, format_local
from service.domain.vocabulary import Ack, Language

LANGUAGES = tuple(Language)
# The acknowledgements ``ack`` writes; a stop in plain words has ``opt_out_confirmation``.
ACKS = tuple(a for a in Ack if a != Ack.OPTED_OUT)

_HELLO = {"en": ("Hi {name},", "Hi,"), "es": ("Hola {name},", "Hola,")}
_REMINDER = {
    "en": "{hello} reminder of your appointment at {practice} on {when}. "
    "Reply C to confirm or R to reschedule.",
    "es": "{hello} le recordamos su cita en {practice} el {when}. "
    "Responda C para confirmar o R para cambiar la fecha.",
}
# To a caregiver (any contact but the client's own phone): greet them, name the client.
_REMINDER_ABOUT = {
    "en": "{hello} a reminder of {client}'s appointment at {practice} on {when}. "
    "Reply C to confirm or R to reschedule.",
    "es": "{hello} recordamos la cita de {client} en {practice} el {when}. "
    "Responda C para confirmar o R para cambiar la fecha.",
}
_CHECKIN = {
    "en": "{hello} {practice} checking in. How is your pain today, from 0 (none) to 10 (worst)? "
    "Reply with one number.",
    "es": "{hello} le saluda {practice}. Del 0 (nada) al 10 (el peor), "
    "¿qué nivel de dolor tiene hoy? Responda solo con la cifra.",
}
_CHECKIN_ABOUT = {
    "en": "{hello} {practice} checking in. How is {client}'s pain today, from 0 (none) to 10 "
    "(worst)? Reply with one number.",
    "es": "{hello} le saluda {practice}. Del 0 (nada) al 10 (el peor), "
    "¿qué nivel de dolor tiene {client} hoy? Responda solo con la cifra.",
}
_ACKS = {
    "en": {
        "confirm": "Thanks, you're confirmed.",
        "reschedule": "Thanks. {practice} will be in touch to find a new time, or call {phone}.",
        "pain": "Thanks, we've noted it.",
        "reask": "Sorry, please reply with one number from 0 (none) to 10 (worst).",
        "help": "{practice}: appointment reminders and check-ins. Questions? Call {phone}. "
        "Reply STOP to opt out.",
        "opt_in": "You will get texts from {practice} again. Reply STOP to opt out.",
        "other": "Thanks, we got your message.",
    },
    "es": {
        "confirm": "Gracias, su cita queda confirmada.",
        "reschedule": "Gracias. Desde {practice} le escribiremos para buscar otra fecha, "
        "o llame al {phone}.",
        "pain": "Gracias, lo hemos anotado.",
        "reask": "Perdone, responda solo con una cifra del 0 (nada) al 10 (el peor).",
        "help": "{practice}: recordatorios de citas y seguimiento. ¿Preguntas? Llame al {phone}. "
        "Responda STOP para darse de baja.",
        "opt_in": "Vuelve a recibir mensajes de {practice}. Responda STOP para darse de baja.",
        "other": "Gracias, hemos recibido su mensaje.",
    },
}

# The acknowledgements that name the client, for a caregiver or a phone several clients share.
_ACKS_ABOUT = {
    "en": {
        "confirm": "Thanks, {client}'s appointment is confirmed.",
        "reschedule": "Thanks. {practice} will be in touch to find a new time for {client}, "
        "or call {phone}.",
        "pain": "Thanks, we've noted it for {client}.",
        "reask": "Sorry, for {client} please reply with one number from 0 (none) to 10 (worst).",
        "other": "Thanks, we got your message about {client}.",
    },
    "es": {
        "confirm": "Gracias, la cita de {client} queda confirmada.",
        "reschedule": "Gracias. Desde {practice} le escribiremos para buscar otra fecha para "
        "{client}, o llame al {phone}.",
        "pain": "Gracias, lo hemos anotado para {client}.",
        "reask": "Perdone, para {client} responda solo con una cifra del 0 (nada) al 10 (el peor).",
        "other": "Gracias, hemos recibido su mensaje sobre {client}.",
    },
}


def _lang(language: str) -> str:
    """Return the language if supported, else English."""
    return language if language in LANGUAGES else "en"


def reminder(
    language: str, practice: str, first_name: str, start_local: datetime, *, about: str = ""
) -> str:
    """Return the appointment reminder, which says how to confirm or reschedule.

    ``first_name`` is the recipient's; ``about``, the client's given name when the
    recipient is a caregiver, makes it "a reminder of Maria's appointment"."""
    lang = _lang(language)
    when = format_local(start_local, lang)
    wording = _REMINDER_ABOUT[lang] if about.strip() else _REMINDER[lang]
    hello = _hello(lang, first_name)
    return wording.format(hello=hello, practice=practice, when=when, client=about.strip())


def checkin(language: str, practice: str, first_name: str, *, about: str = "") -> str:
    """Return the check-in asking for today's pain as one number from 0 (none) to 10 (worst);
    ``about`` (the client's given name, to a caregiver) asks about that client's pain."""
    lang = _lang(language)
    wording = _CHECKIN_ABOUT[lang] if about.strip() else _CHECKIN[lang]
    hello = _hello(lang, first_name)
    return wording.format(hello=hello, practice=practice, client=about.strip())


def ack(
    language: str, intent: str, practice: str, practice_phone: str, *, about: str = ""
) -> str | None:
    """Return the acknowledgement for a reply of this intent; None for opt_out. ``about``
    names the client it was for (help and opt-in are about the phone, and never do)."""
    # Carriers answer STOP-type replies themselves; a second reply would go to an opted-out phone.
    if intent not in ACKS:
        raise ValueError(f"unknown intent {intent!r} to acknowledge")
    if intent == Ack.OPT_OUT:
        return None
    lang, client = _lang(language), about.strip()
    wording = _ACKS_ABOUT[lang].get(intent) if client else None
    return (wording or _ACKS[lang][intent]).format(
        practice=practice, phone=practice_phone, client=client
    )


_REBOOKING = {
    "en": "{hello} it's been a while since your last appointment at {practice}. "
    "Reply R and we'll find a time{call}.",
    "es": "{hello} hace tiempo que no le vemos en {practice}. "
    "Responda R y le buscamos una fecha{call}.",
}
_CALL = {"en": ", or call {phone}", "es": ", o llame al {phone}"}


def rebooking(language: str, practice: str, first_name: str, practice_phone: str) -> str:
    """Return the one text a lapsing client gets: reply R to book, or call the practice."""
    lang = _lang(language)
    call = _CALL[lang].format(phone=practice_phone) if practice_phone else ""
    return _REBOOKING[lang].format(hello=_hello(lang, first_name), practice=practice, call=call)


_OPTED_OUT = {
    "en": "You won't get more texts from {practice}. Reply START to resubscribe.",
    "es": "Ya no recibira mensajes de {practice}. Responda START para volver a recibirlos.",
}


def opt_out_confirmation(language: str, practice: str) -> str:
    """The one confirmation a plain-words stop gets (carriers answer only their keywords)."""
    return _OPTED_OUT[_lang(language)].format(practice=practice)


def _hello(lang: str, name: str) -> str:
    """Return the greeting, without a name when there is none."""
    named, bare = _HELLO[lang]
    name = name.strip()
    return named.format(name=name) if name else bare


# To the client's own phone a notice names no one; to a caregiver it greets them and names
# the client, like the reminder.
_MOVED = {
    "en": "Your appointment at {practice} is now {when} (was {was}). Reply C to confirm.",
    "es": "Su cita en {practice} ahora es el {when} (antes el {was}). Responda C para confirmar.",
}
_CANCELLED = {
    "en": "Your appointment at {practice} on {when} is cancelled. "
    "Reply R and we'll find a new time{call}.",
    "es": "Su cita en {practice} del {when} queda cancelada. "
    "Responda R y le buscamos otra fecha{call}.",
}
_MOVED_ABOUT = {
    "en": "{hello} {client}'s appointment at {practice} is now {when} (was {was}). "
    "Reply C to confirm.",
    "es": "{hello} la cita de {client} en {practice} ahora es el {when} (antes el {was}). "
    "Responda C para confirmar.",
}
_CANCELLED_ABOUT = {
    "en": "{hello} {client}'s appointment at {practice} on {when} is cancelled. "
    "Reply R and we'll find a new time{call}.",
    "es": "{hello} la cita de {client} en {practice} del {when} queda cancelada. "
    "Responda R y le buscamos otra fecha{call}.",
}


def move_notice(
    language: str,
    practice: str,
    new_local: datetime,
    old_local: datetime,
    *,
    first_name: str = "",
    about: str = "",
) -> str:
    """Return the notice of a moved session: the new time, the old one, and how to confirm.

    ``about``, the client's given name when the recipient is a caregiver, greets them by
    ``first_name`` and makes it "Maria's appointment"."""
    lang, client = _lang(language), about.strip()
    when, was = format_local(new_local, lang), format_local(old_local, lang)
    if not client:
        return _MOVED[lang].format(practice=practice, when=when, was=was)
    hello = _hello(lang, first_name)
    return _MOVED_ABOUT[lang].format(
        hello=hello, client=client, practice=practice, when=when, was=was
    )


def cancel_notice(
    language: str,
    practice: str,
    start_local: datetime,
    practice_phone: str,
    *,
    first_name: str = "",
    about: str = "",
) -> str:
    """Return the notice of a cancelled session, which says how to find a new time; ``about``
    and ``first_name`` as for ``move_notice``. The practice phone is left out when it would
    not fit one segment (long names to a caregiver): an R is answered with it anyway."""
    lang, client = _lang(language), about.strip()
    when = format_local(start_local, lang)
    wording = _CANCELLED_ABOUT[lang] if client else _CANCELLED[lang]
    named = {"hello": _hello(lang, first_name), "client": client, "practice": practice}
    call = _CALL[lang].format(phone=practice_phone) if practice_phone else ""
    text = wording.format(when=when, call=call, **named)
    if call and not fits_one_segment(text):
        text = wording.format(when=when, call="", **named)
    return text
