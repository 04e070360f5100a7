"""What the practice's calls say, word for word, in English and Spanish (``call_scripts``
puts them in order). Short sentences, one thing each; nothing about diagnosis or treatment,
and "pain" ("dolor") only in the check-in question. A caregiver hears the client's given
name ("Maria's appointment"), the client's own phone hears "your" ("su"). The Spanish is
what a US Spanish-speaking receptionist would say on the phone: "usted", "oprima" for a key,
"la tecla numeral" for #; its check-in question follows the check-in text ("¿Qué nivel de
dolor tiene hoy...?"). Times are written for the voice to read: "10:30 AM", "a las 10 y
media de la mañana".
"""

from __future__ import annotations

from datetime import datetime

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "reminder": "Hello, this is {practice} with a reminder of {whose} appointment on {when}.",
        "menu": "To confirm, press 1. To ask for another time, press 2. To stop these calls, "
        "press 9.",
        "greeting": "Hello, this is {practice}.",
        "checkin": "How is {whose} pain today, from 0, no pain, to 10, the worst? Press the "
        "number, then the pound key.",
        "read_back": "You pressed {score}. Thank you.",
        "stop_offer": "To stop these calls, press 9.",
        "again": "Sorry, we didn't get that.",
        "confirmed": "Thank you. The appointment is confirmed.",
        "another_time": "Thank you. {practice} will call you back to find another time.",
        "stopped": "{practice} will not call this number again. This does not stop text messages.",
        "goodbye": "Goodbye.",
        "not_needed": "Sorry, this call is no longer needed.",
        "no_answer": "Thank you. Goodbye.",
        "machine": "This is {practice} calling about an appointment. Please call us at {phone}.",
        "machine_no_phone": "This is {practice} calling about an appointment. Please call us back.",
        "incoming": "Thank you for calling {practice}.",
        "connecting": "Please hold while we connect you.",
        "no_line": "Sorry, no one can take calls at this number. Goodbye.",
    },
    "es": {
        "reminder": "Hola, le llamamos de {practice} para recordarle {whose} del {when}.",
        "menu": "Para confirmar, oprima 1. Para pedir otro horario, oprima 2. Para no recibir "
        "más llamadas, oprima 9.",
        "greeting": "Hola, le llamamos de {practice}.",
        "checkin": "¿Qué nivel de dolor tiene {whose}hoy, del 0, nada, al 10, el peor? Marque "
        "el número y después la tecla numeral.",
        "read_back": "Marcó {score}. Gracias.",
        "stop_offer": "Para no recibir más llamadas, oprima 9.",
        "again": "Disculpe, no le entendimos.",
        "confirmed": "Gracias. La cita queda confirmada.",
        "another_time": "Gracias. {practice} le llamará para buscar otro horario.",
        "stopped": "{practice} no volverá a llamar a este número. Esto no cancela los mensajes "
        "de texto.",
        "goodbye": "Adiós.",
        "not_needed": "Disculpe, esta llamada ya no es necesaria.",
        "no_answer": "Gracias. Adiós.",
        "machine": "Le llamamos de {practice} por una cita. Por favor, llámenos al {phone}.",
        "machine_no_phone": "Le llamamos de {practice} por una cita. Por favor, devuélvanos la "
        "llamada.",
        "incoming": "Gracias por llamar a {practice}.",
        "connecting": "Por favor, espere mientras le comunicamos.",
        "no_line": "Lo sentimos, en este número no podemos atender llamadas. Adiós.",
    },
}

_DAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
}
_MONTHS = {
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    "es": [
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ],
}


# Whose appointment or pain, for the client's own phone and for a caregiver naming them.
_WHOSE = {
    ("en", "appointment"): ("your", "{name}'s"),
    ("en", "pain"): ("your", "{name}'s"),
    ("es", "appointment"): ("su cita", "la cita de {name}"),
    ("es", "pain"): ("", "{name} "),  # "¿Qué nivel de dolor tiene [Maria ]hoy...?"
}


def whose(language: str, thing: str, about: str) -> str:
    """Whose ``thing`` ("appointment" or "pain") the call is about, as its sentence needs it:
    "your"/"Maria's"; "su cita"/"la cita de Maria"; ""/"Maria " before "hoy"."""
    own, caregiver = _WHOSE[(language, thing)]
    return caregiver.format(name=about) if about else own


def spoken_when(start_local: datetime, language: str) -> str:
    """The appointment's local date and time as a person says it: "Thursday, December 3,
    at 10 AM" / "jueves 3 de diciembre a las 10 de la mañana"."""
    day, month = _DAYS[language][start_local.weekday()], _MONTHS[language][start_local.month - 1]
    if language == "es":
        return f"{day} {start_local.day} de {month} {_hora(start_local.hour, start_local.minute)}"
    return f"{day}, {month} {start_local.day}, at {_clock(start_local.hour, start_local.minute)}"


def _clock(hour: int, minute: int) -> str:
    """ "10 AM", "10:30 AM", "noon", "12:15 PM", "midnight"."""
    if minute == 0 and hour in (0, 12):
        return "noon" if hour == 12 else "midnight"
    half = "AM" if hour < 12 else "PM"
    shown = hour % 12 or 12
    return f"{shown} {half}" if minute == 0 else f"{shown}:{minute:02d} {half}"


def _hora(hour: int, minute: int) -> str:
    """ "a las 10 de la mañana", "a la 1 y media de la tarde", "a las 12 del mediodía"."""
    shown = hour % 12 or 12
    article = "a la" if shown == 1 else "a las"
    minutes = {0: "", 15: " y cuarto", 30: " y media"}.get(minute, f" y {minute}")
    if hour < 6:
        part = "de la madrugada"
    elif hour < 12:
        part = "de la mañana"
    elif hour == 12:
        part = "del mediodía"
    elif hour < 20:
        part = "de la tarde"
    else:
        part = "de la noche"
    if hour == 0 and minute == 0:
        return "a la medianoche"
    return f"{article} {shown}{minutes} {part}"


def spoken_phone(phone: str) -> str:
    """A phone number read digit by digit in its groups: "+1 617-555-0100" gives "6 1 7,
    5 5 5, 0 1 0 0" (a US number without its country code; others in groups of three)."""
    digits = "".join(c for c in phone if c.isdigit())
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) == 10:
        groups = [digits[:3], digits[3:6], digits[6:]]
    else:
        groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return ", ".join(" ".join(group) for group in groups)
