"""Texts in English ("en") and Spanish ("es"): dates written out, given names, segment
fits, and each kind of text in the shipped wording (``domain.shipped_wording``, rendered by
``domain.wording``; senders write through the wording in force, which a practice may edit).

Rules the shipped wording keeps (``domain.wording`` enforces those an edit must keep too):

* One SMS segment: at most 160 GSM-7 characters with realistic names. Any character outside
  GSM-7 switches the whole message to UCS-2, where a segment holds only 70 characters. So the
  Spanish wording is chosen to need no á, í, ó or ú (é, ñ, ü, ¿ and ¡ are GSM-7): "queda
  confirmada" rather than "está confirmada", "solo" (no accent, as the RAE now writes it). The
  one unavoidable loss is the weekday "sab" for "sáb". Names are used as given, so a name with
  such a letter still makes that one text UCS-2.
* Nothing about diagnosis or treatment: an "appointment"/"cita" at the practice, and "pain"
  ("dolor") only in the check-in question.
* A caregiver (any contact but the client's own phone) is greeted by their own name and
  told whose appointment or pain it is: "Hi Rosa, a reminder of Maria's appointment...",
  "How is Maria's pain today...", "Hi Rosa, Maria's appointment at ... is now ...". A phone
  can hear about several clients, so each text names its client. The client's own phone
  gets the notices without a greeting ("Your appointment at ... is now ..."). The Spanish
  reminder says "recordamos" rather than "le recordamos" there, to leave room for the
  second name, and a cancellation leaves out the practice phone when the names make it
  too long (the answer to its R gives the phone).
* Replies are single letters (C, R) or a number; no text ever asks for a carrier keyword
  (STOP, CANCEL, END, QUIT, ...) except the HELP and opt-in texts, which must say how to stop.
* Dates are formatted here, not by the process locale: "Thu Mar 4, 9:00 AM" / "jue 4 mar, 9:00".

Unknown languages fall back to English.
"""

from datetime import datetime

from service.domain.vocabulary import Ack, Language, TextKind
from service.domain.wording import Wording, acknowledgement, for_recipient

LANGUAGES = tuple(Language)
# The acknowledgements ``ack`` writes; a stop in plain words has ``opt_out_confirmation``.
ACKS = tuple(a for a in Ack if a != Ack.OPTED_OUT)

_DAYS = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "es": ("lun", "mar", "mié", "jue", "vie", "sab", "dom"),
}
MONTHS = {  # short month names (series_words uses them too)
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "es": ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"),
}
# GSM 03.38 default alphabet; the extension table's characters take two septets each.
_GSM7 = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")


def _lang(language: str) -> str:
    """Return the language if supported, else English."""
    return language if language in LANGUAGES else "en"


def format_local(dt_local: datetime, language: str) -> str:
    """Format a local date and time: "Thu Mar 4, 9:00 AM" (en) or "jue 4 mar, 9:00" (es)."""
    lang = _lang(language)
    day = _DAYS[lang][dt_local.weekday()]
    month = MONTHS[lang][dt_local.month - 1]
    if lang == "es":
        return f"{day} {dt_local.day} {month}, {dt_local.hour}:{dt_local.minute:02d}"
    hour = dt_local.hour % 12 or 12
    half = "AM" if dt_local.hour < 12 else "PM"
    return f"{day} {month} {dt_local.day}, {hour}:{dt_local.minute:02d} {half}"


def first_name(full_name: str) -> str:
    """Return the given name to greet: the first word, or the part after "Last, First"."""
    before, _, after = full_name.partition(",")
    words = after.replace(",", " ").split() or before.split()
    return words[0] if words else ""


def fits_one_segment(text: str) -> bool:
    """Tell whether the text goes out as a single SMS segment (160 GSM-7 or 70 UCS-2)."""
    if all(c in _GSM7 or c in _GSM7_EXTENDED for c in text):
        return len(text) + sum(c in _GSM7_EXTENDED for c in text) <= 160
    # UCS-2 counts UTF-16 code units, so an emoji takes two.
    return len(text.encode("utf-16-le")) // 2 <= 70


def _shipped(kind: TextKind, language: str, about: str, **values: str) -> str:
    """The shipped wording of this kind, naming the client when ``about`` is a name."""
    written = Wording.shipped().write(
        for_recipient(kind, about), language, {"client_first_name": about, **values}
    )
    return written[0]


def reminder(
    language: str, practice: str, first_name: str, start_local: datetime, *, about: str = ""
) -> str:
    """Return the appointment reminder, which says how to confirm or reschedule.

    ``first_name`` is the recipient's; ``about``, the client's given name when the
    recipient is a caregiver, makes it "a reminder of Maria's appointment"."""
    when = format_local(start_local, language)
    return _shipped(
        TextKind.REMINDER, language, about, first_name=first_name, practice=practice, when=when
    )


def checkin(language: str, practice: str, first_name: str, *, about: str = "") -> str:
    """Return the check-in asking for today's pain as one number from 0 (none) to 10 (worst);
    ``about`` (the client's given name, to a caregiver) asks about that client's pain."""
    return _shipped(TextKind.CHECKIN, language, about, first_name=first_name, practice=practice)


def ack(
    language: str, intent: str, practice: str, practice_phone: str, *, about: str = ""
) -> str | None:
    """Return the acknowledgement for a reply of this intent; None for opt_out. ``about``
    names the client it was for (help and opt-in are about the phone, and never do)."""
    if intent not in ACKS:
        raise ValueError(f"unknown intent {intent!r} to acknowledge")
    values = {"practice": practice, "practice_phone": practice_phone, "client_first_name": about}
    written = acknowledgement(Wording.shipped(), intent, language, values)
    return written[0] if written else None


def rebooking(language: str, practice: str, first_name: str, practice_phone: str) -> str:
    """Return the one text a lapsing client gets: reply R to book, or call the practice."""
    values = {"first_name": first_name, "practice": practice, "practice_phone": practice_phone}
    return _shipped(TextKind.REBOOKING, language, "", **values)


def opt_out_confirmation(language: str, practice: str) -> str:
    """The one confirmation a plain-words stop gets (carriers answer only their keywords)."""
    return _shipped(TextKind.OPT_OUT, language, "", practice=practice)


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
    when, was = format_local(new_local, language), format_local(old_local, language)
    values = {"first_name": first_name, "practice": practice, "when": when, "was": was}
    return _shipped(TextKind.MOVE_NOTICE, language, about, **values)


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
    values = {
        "first_name": first_name,
        "practice": practice,
        "practice_phone": practice_phone,
        "when": format_local(start_local, language),
    }
    return _shipped(TextKind.CANCEL_NOTICE, language, about, **values)
