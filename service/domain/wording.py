"""The wording of every text, as templates a practice may edit, and the rules an edit must keep.

Pure. A template is plain text with named placeholders (``{first_name}``, ``{when}``...)
that ``render`` fills in; the shipped templates are the wording of ``domain.texts``, and
rendering one gives byte for byte what that module writes. ``problems`` says why an edited
template cannot be saved: every reason, in plain words, naming what is wrong. What they keep:

* Placeholders are ``{name}`` with a name from ``PLACEHOLDERS``, each only in the kinds that
  have a value for it (``allowed``). A lone ``{`` or ``}`` (or ``{{``) is refused, not
  escaped: texts have no use for braces.
* Reminders and check-ins keep ``{reply_hint}``: the reply understanding reads C, R and
  numbers because the texts tell clients to send them.
* No text asks for a carrier keyword: a client who sends STOP (or any word or phrase the
  reply understanding reads as an opt-out) is opted out by the carrier and by us. Those that
  are also everyday words ("stop", "para", "end", "baja", "alto") count only when asked for
  (``asked_keywords``: in capitals, in quotes, or after "reply", "text back", "responda:",
  "envíe la palabra"...). The help and opt-in confirmations are the exception and must say
  how to stop.
* No clinical word (``clinical.TERMS``), in any kind.
* Not empty, no control characters but line breaks, at most ``MAX_LENGTH`` characters.

One SMS segment is not a rule (the dashboard shows the count and warns): a practice may
choose a longer text knowingly.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

from service.domain import asked_keywords, clinical, segments
from service.domain.shipped_wording import CALL, HINTS, SHIPPED
from service.domain.vocabulary import Ack, Language, TextKind

K = TextKind
LANGUAGES = tuple(Language)
# Well above a 4-segment text, well below anything a person would type by mistake.
MAX_LENGTH = 600

PLACEHOLDERS: dict[str, str] = {
    "first_name": "the recipient's given name (left out, with the space before it, when "
    "there is none)",
    "client_first_name": "the given name of the client the text is about",
    "practice": "the practice's name",
    "practice_phone": "the practice's phone number",
    "when": "the session's date and time, in the recipient's language and time zone",
    "was": "the session's previous date and time (move notices)",
    "reply_hint": "what to reply, as the reply understanding reads it "
    '("Reply C to confirm or R to reschedule.")',
}

_ABOUT_PHONE = ("practice", "practice_phone")
_TO_SOMEONE = ("first_name", *_ABOUT_PHONE)
_ALLOWED: dict[TextKind, tuple[str, ...]] = {
    K.REMINDER: (*_TO_SOMEONE, "when", "reply_hint"),
    K.CHECKIN: (*_TO_SOMEONE, "reply_hint"),
    K.REBOOKING: (*_TO_SOMEONE, "reply_hint"),
    K.MOVE_NOTICE: (*_TO_SOMEONE, "when", "was", "reply_hint"),
    K.CANCEL_NOTICE: (*_TO_SOMEONE, "when", "reply_hint"),
}
# A caregiver's variant may also name the client; the rest (replies) know only the phone.
CAREGIVER: dict[TextKind, TextKind] = {
    K.REMINDER: K.REMINDER_CAREGIVER,
    K.CHECKIN: K.CHECKIN_CAREGIVER,
    K.REASK: K.REASK_CAREGIVER,
    K.ACK_CONFIRM: K.ACK_CONFIRM_CAREGIVER,
    K.ACK_RESCHEDULE: K.ACK_RESCHEDULE_CAREGIVER,
    K.ACK_PAIN: K.ACK_PAIN_CAREGIVER,
    K.ACK_OTHER: K.ACK_OTHER_CAREGIVER,
    K.MOVE_NOTICE: K.MOVE_NOTICE_CAREGIVER,
    K.CANCEL_NOTICE: K.CANCEL_NOTICE_CAREGIVER,
}
for _base, _variant in CAREGIVER.items():
    _ALLOWED[_variant] = (*_ALLOWED.get(_base, _ABOUT_PHONE), "client_first_name")
del _base, _variant
# The acknowledgement each answer to a client's text uses (Ack.OPT_OUT gets none: the carrier
# answers its own keywords).
ACK_KINDS: dict[str, TextKind] = {
    Ack.CONFIRM: K.ACK_CONFIRM,
    Ack.RESCHEDULE: K.ACK_RESCHEDULE,
    Ack.PAIN: K.ACK_PAIN,
    Ack.REASK: K.REASK,
    Ack.HELP: K.HELP,
    Ack.OPT_IN: K.OPT_IN,
    Ack.OPTED_OUT: K.OPT_OUT,
    Ack.OTHER: K.ACK_OTHER,
}
# Kinds that must keep {reply_hint}; kinds that must say how to stop.
NEEDS_REPLY_HINT = (K.REMINDER, K.REMINDER_CAREGIVER, K.CHECKIN, K.CHECKIN_CAREGIVER)
SAYS_HOW_TO_STOP = (K.HELP, K.OPT_IN)

# Realistic longest given names, for previews: the text must still fit with them.
LONGEST_NAMES: dict[str, str] = {"en": "Christopher", "es": "Maximiliano"}


def lang(language: str) -> str:
    """The language if texts are written in it, else English."""
    return language if language in LANGUAGES else "en"


def allowed(kind: str) -> tuple[str, ...]:
    """The placeholders a template of this kind may use."""
    return _ALLOWED.get(TextKind(kind), _ABOUT_PHONE)


def shipped(kind: str, language: str) -> str:
    """The wording TouchBase ships for this kind and language, as a template."""
    return SHIPPED[lang(language)][TextKind(kind)]


def base_kind(kind: str) -> TextKind:
    """The kind a caregiver variant varies (a kind without variant is its own base)."""
    for base, variant in CAREGIVER.items():
        if variant == kind:
            return base
    return TextKind(kind)


def reply_hint(kind: str, language: str, practice_phone: str = "") -> str:
    """What a text of this kind tells its reader to reply ("" for kinds that ask nothing)."""
    hint = HINTS[lang(language)].get(base_kind(kind), "")
    call = CALL[lang(language)].format(phone=practice_phone) if practice_phone else ""
    return hint.replace("{call}", call)


def for_recipient(kind: str, about: str) -> TextKind:
    """The caregiver variant of ``kind`` when the text names a client (``about`` is their
    given name as shown), else ``kind``: a client whose name shows as nothing is not named."""
    return CAREGIVER.get(TextKind(kind), TextKind(kind)) if about.strip() else TextKind(kind)


def acknowledgement(
    in_force: Wording, answer: str, language: str, values: Mapping[str, str]
) -> tuple[str, int | None] | None:
    """The answer to a client's text (an ``Ack``) and its template id; None for a carrier
    keyword, which the carrier answers. It names the client when ``client_first_name`` does."""
    if answer == Ack.OPT_OUT:
        return None
    kind = for_recipient(ACK_KINDS[answer], values.get("client_first_name", ""))
    return in_force.write(kind, language, values)


_SPACE_BEFORE = re.compile(r" ?\{([^{}]*)\}")


def render(body: str, values: Mapping[str, str]) -> str:
    """Fill in the placeholders; one with an empty (or no) value also takes the one space
    before it, so "Hi {first_name}," becomes "Hi,"."""

    def fill(match: re.Match[str]) -> str:
        value = values.get(match.group(1), "").strip()
        if not value:
            return ""
        return match.group()[: match.start(1) - match.start() - 1] + value

    return _SPACE_BEFORE.sub(fill, body)


# Letters with a mark Unicode does not take apart, and their plain spelling.
_UNMARKED = {"ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "\u0131": "i", "ħ": "h"}
_UNMARKED |= {"þ": "th", "Þ": "Th", "œ": "oe", "Œ": "Oe", "ŧ": "t", "Ŧ": "T"}


def name_for_text(name: str, plain: bool) -> str:
    """The given name as texts show it: the first word of ``name`` that has a letter or a
    digit (a name of emoji or symbols alone is left out: ""). ``plain``: accents and other
    marks are taken off the letters that would make the text UCS-2 ("Lucía" -> "Lucia");
    letters GSM-7 has (é, ñ, ü) stay, and what still is not GSM-7 is dropped."""
    before, _, after = name.partition(",")
    words = after.replace(",", " ").split() or before.split()
    given = next((w for w in words if any(c.isalnum() for c in w)), "")
    if not plain:
        return given
    kept = []
    for char in given:
        if char in segments.GSM_BASIC:
            kept.append(char)
            continue
        char = _UNMARKED.get(char, char)
        bare = "".join(
            c for c in unicodedata.normalize("NFKD", char) if unicodedata.category(c) != "Mn"
        )
        kept.append("".join(c for c in bare if c in segments.GSM_BASIC and c.isalnum()))
    plain_name = "".join(kept)
    return plain_name if any(c.isalnum() for c in plain_name) else ""


@dataclass(frozen=True)
class Wording:
    """The wording in force: (kind, language) -> (template id, body). A pair it does not
    hold uses the shipped wording (template id None); so does a reset version (body None),
    whose id the texts record, so a text sent after a reset is told from one sent before
    any edit."""

    templates: Mapping[tuple[str, str], tuple[int | None, str | None]] = field(default_factory=dict)

    @classmethod
    def shipped(cls) -> Wording:
        """The shipped wording of every kind in every language."""
        return cls()

    def body(self, kind: str, language: str) -> str:
        """The template of this kind and language."""
        found = self.templates.get((str(kind), lang(language)))
        return found[1] if found and found[1] is not None else shipped(kind, language)

    def template_id(self, kind: str, language: str) -> int | None:
        """The id of the saved version in force (a reset too), or None when never saved."""
        found = self.templates.get((str(kind), lang(language)))
        return found[0] if found else None

    def edited(self, kind: str, language: str) -> bool:
        """True when a saved body is in force (not the shipped wording, nor a reset to it)."""
        found = self.templates.get((str(kind), lang(language)))
        return found is not None and found[1] is not None

    def write(self, kind: str, language: str, values: Mapping[str, str]) -> tuple[str, int | None]:
        """The text of this kind, rendered with ``values`` and the kind's reply hint (offering
        ``values["practice_phone"]``), and the template id it used. A cancellation leaves the
        phone out of its hint when that alone makes it longer than one segment, as it always
        has (the answer to its R gives the phone)."""
        body, phone = self.body(kind, language), values.get("practice_phone", "")
        filled = {**values, "reply_hint": reply_hint(kind, language, phone)}
        text = render(body, filled)
        if base_kind(kind) == K.CANCEL_NOTICE and phone and segments.count(text).segments > 1:
            text = render(body, {**filled, "reply_hint": reply_hint(kind, language)})
        return text, self.template_id(kind, language)


def problems(kind: str, language: str, body: str) -> list[str]:
    """Every reason this template cannot be saved for this kind, in plain words (none holds
    "; ", so they can be joined with it); [] when it can. ``language`` is the template's:
    both languages' keywords and clinical words are refused in either, since a client may
    read either."""
    kind = TextKind(kind)
    surrogates = sorted({f"U+{ord(c):04X}" for c in body if "\ud800" <= c <= "\udfff"})
    if surrogates:  # half a character (a broken emoji): nothing else can be read of it
        return [f"the text holds half a character ({', '.join(surrogates)}): type it again"]
    if not any(unicodedata.category(c)[0] in "LNPS" for c in body):
        return ["the text is empty: it has no letter, digit or symbol anyone would see"]
    found = _shape_problems(body)
    found += _placeholder_problems(kind, body)
    found += _keyword_problems(kind, body)
    found += [clinical.reason(term) for term in clinical.found(body)]
    return found


def _shape_problems(body: str) -> list[str]:
    """Length, control characters and invisible ones."""
    found = []
    length = segments.count(body).characters
    if length > MAX_LENGTH:
        found.append(f"the text is {length} characters long, more than the {MAX_LENGTH} allowed")
    controls = sorted({c for c in body if unicodedata.category(c) == "Cc" and c not in "\n\r"})
    if controls:
        named = ", ".join(_control_name(c) for c in controls)
        found.append(f"the text holds a control character ({named}): only line breaks may be used")
    hidden = sorted({c for i, c in enumerate(body) if _hidden(body, i)})
    if hidden:
        named = ", ".join(
            f"{unicodedata.name(c, 'format character').lower()} (U+{ord(c):04X})" for c in hidden
        )
        found.append(
            f"the text holds an invisible character ({named}): it can hide or reorder words"
        )
    return found


def _pictograph(char: str) -> bool:
    """An emoji or other symbol, or the marks that finish one (U+FE0F, skin tones)."""
    return unicodedata.category(char) in ("So", "Sk", "Mn")


def _hidden(body: str, index: int) -> bool:
    """A format character (Unicode's Cf: zero-width spaces, soft hyphens, direction
    overrides...) other than a joiner inside an emoji sequence ("👨\u200d👩")."""
    char = body[index]
    if unicodedata.category(char) != "Cf":
        return False
    if char != "\u200d" or index == 0 or index + 1 == len(body):
        return True
    return not (_pictograph(body[index - 1]) and _pictograph(body[index + 1]))


def _control_name(char: str) -> str:
    """ "NUL (U+0000)", "tab (U+0009)"."""
    code = f"U+{ord(char):04X}"
    names = {"\0": "NUL", "\t": "tab", "\x1b": "escape"}
    return f"{names[char]} ({code})" if char in names else code


_BRACES = re.compile(r"\{\{|\}\}|\{[^{}]*\}|[{}]")
_NAME = re.compile(r"[a-z_]+")


def _placeholder_problems(kind: TextKind, body: str) -> list[str]:
    """Malformed, unknown or not-allowed placeholders; a missing reply hint."""
    found, used = [], set()
    for match in _BRACES.finditer(body):
        token = match.group()
        name = token[1:-1]
        if token in ("{", "}"):
            around = body[match.start() : match.start() + 12] if token == "{" else token
            if token == "}":
                around = body[max(0, match.start() - 11) : match.end()]
            found.append(
                f'a lone "{token}" in "{around.strip()}": placeholders are written '
                f"{{name}}, as {_listed(allowed(kind))}, and no other braces are used"
            )
        elif token in ("{{", "}}") or not _NAME.fullmatch(name):
            found.append(
                f'"{token}" is not a placeholder: write one of '
                f"{_listed(allowed(kind))}, braces and all, and no other braces"
            )
        elif name not in PLACEHOLDERS:
            found.append(f'"{token}" is not a placeholder: use one of {_listed(allowed(kind))}')
        elif name not in allowed(kind):
            found.append(
                f'"{token}" has no value in this text: use one of {_listed(allowed(kind))}'
            )
        used.add(name)
    if kind in NEEDS_REPLY_HINT and "reply_hint" not in used:
        found.append(
            "keep {reply_hint}: it tells clients what to reply, and the replies are read by it"
        )
    return found


def _listed(names: tuple[str, ...]) -> str:
    return ", ".join("{" + n + "}" for n in names)


def _keyword_problems(kind: TextKind, body: str) -> list[str]:
    """A carrier keyword asked for; or, in help and opt-in, none to say how to stop."""
    asked = asked_keywords.asked(body)
    if kind in SAYS_HOW_TO_STOP:
        if asked:
            return []
        return ['say how to stop texts, with a carrier keyword: "Reply STOP to opt out."']
    return [
        f'"{word}" is a carrier keyword: a client who sends it is opted out of every text'
        for word in asked
    ]
