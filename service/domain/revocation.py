"""Consent in plain words: is a reply asking us to stop texting this number, or to start again?

Pure; works on folded text (``folding.fold``). Since the FCC's 2024 order consent revoked
by any reasonable means must be honoured, so a reply whose plain meaning is "stop contacting
this number" is read as one generously: carrier keywords alone or as a sentence of their
own ("7. STOP"), their common typos ("stp", "unsubcribe"), requests in English and Spanish
with politeness, negation and reasons ("never text this phone again", "wrong number",
"remove my number", "how do I stop these", "no me manden más mensajes"). When a reply is
about stopping the texts but unclear, it is read as a stop too: the confirmation it gets
says how to opt back in, and an unwanted text is the worse error. The false friends stay
safe: "don't stop the sessions", "my pain won't stop", "stop by at 3?", "end of the week".
"""

from __future__ import annotations

import re

from rapidfuzz import process
from rapidfuzz.distance import OSA

from service.domain.folding import respell, words

_WORD = re.compile(r"[^\W_]+")
_SENTENCES = re.compile(r"[.!?;,\n]+")


# Words that may surround a keyword without changing what it means ("stop please", "ok, yes").
FILLERS = words(
    "please pls plz now thanks thank you ty all just i said ok okay por favor ya gracias que "
    "porfa porfavor plis pliz"
)
_STOP_WORDS = words("stop stopall unsubscribe quit revoke optout baja parar para basta unsub")
# Carrier keywords too common in talk to read inside a sentence: only the whole message counts.
_WHOLE_ONLY_STOPS = words("cancel end")
# Every word that opts a number out when it is the whole reply, in English and Spanish: no
# template may ask a client to send one (``domain.wording`` checks), except to say how to stop.
OPT_OUT_KEYWORDS = _STOP_WORDS | _WHOLE_ONLY_STOPS
# Phrases that opt a number out when they are a sentence of their own ("Remove me.", "ALTO"):
# no template may ask for one either.
OPT_OUT_PHRASES = frozenset(
    {"stop it", "stop this", "stop that", "stop them", "remove me", "stop now", "alto"}
)
_START_WORDS = words("start unstop resubscribe")
_AGAIN = words("again otra vez de nuevo si")
_YES_WORDS = words("yes si")
# Keyword typos are fixed only toward these words, and never from these ordinary ones.
_KEYWORDS = ["stop", "unsubscribe", "stopall"]
_NOT_KEYWORDS = words("step shop stoop stow slop stops top sop atop stoo spot")

# A fixed-width lookbehind guard so a negated phrase ("don't cancel") never matches.
NOT = (
    r"(?<!n't )(?<!dont )(?<!cant )(?<!wont )(?<!not )(?<!never )(?<!cannot )(?<!no )"
    r"(?<!n't want to )(?<!dont want to )(?<!not want to )"
)
_TEXTS = r"(?:texts?|txts?|texting|messages?|msgs?|messaging|reminders?|sms|notifications?)"
_US = r"(?:me|us|him|her|them|this\s+(?:number|phone|cell)|my\s+(?:number|phone|cell))"
_OPT_OUT = re.compile(
    NOT + r"\b(?:stop|quit|cease|end|halt|para|paren|pare)\s+(?:all\s+)?(?:texting|txting|texing"
    r"|messaging|sending|contacting|calling|(?:the\s+|these\s+|this\s+|your\s+|ur\s+|los\s+"
    rf"|las\s+|mis\s+|sus\s+)?(?:{_TEXTS}|mensajes|textos|recordatorios))\b"
    rf"|\bno\s+more\s+{_TEXTS}|\bno\s+{_TEXTS}\s+(?:please|pls|anymore|any\s+more|here"
    r"|to\s+this|on\s+this)\b"
    r"|" + NOT + r"\b(?:take|remove|delete|drop|erase|get)\s+(?:me|us|him|her|this\s+number"
    r"|my\s+number"
    r"|this\s+phone|my\s+phone|the\s+number|our\s+number)\s+(?:off|from|out)\b"
    r"|\b(?:remove|delete|erase)\s+(?:this|my|our|the)\s+(?:number|phone|cell)\b"
    r"|" + NOT + r"\b(?:unsubscribe|unsub|opt\s*-?\s*(?:me\s+)?out)\b"
    rf"|\b(?:do\s*n'?t|do\s+not|dont|pls\s+dont|never)\s+(?:ever\s+)?(?:text|txt|message|msg"
    rf"|contact|send|sms|call)(?:ing)?\s+(?:{_US}|me\s+anything|anything)\b"
    rf"|\bnever\s+(?:text|txt|message|contact)\s+\w+\s+again\b"
    r"|\b(?:do\s*n'?t|do\s+not|dont|no\s+longer)\s+(?:want|need)\s+(?:any\s*more\s+|these\s+"
    rf"|your\s+|the\s+|to\s+(?:get|receive)\s+(?:any\s*more\s+|these\s+|your\s+)?)?{_TEXTS}"
    r"|\brevok\w*\s+(?:my\s+)?(?:consent|permission)\b"
    r"|" + NOT + r"\bleave\s+(?:me|us)\s+alone\b"
    r"|(?:^|[.!?,;]\s*)(?:(?:sorry|hi|hello|hey|umm?|lol)\W+)?(?:i\s+think\s+)?(?:(?:this\s+is"
    r"|you\s+have|you'?ve\s+got|you\s+got|u\s+have|u\s+got|its|it'?s|you\s+texted|u\s+texted)"
    r"\s+)?(?:(?:a|the)\s+)?wrong\s+(?:number|person|phone|#|num)(?!\w)"
    r"|\bnot\s+the\s+right\s+(?:number|phone)\b"
    r"|\b(?:isn'?t|is\s+not|not|no\s+longer)\s+(?:\w+'?s\s+)?(?:number|phone|cell)\s+(?:anymore"
    r"|any\s+more)\b|\b(?:new|different)\s+(?:phone|number)\W+(?:\w+\W+){0,8}remove\b"
    r"|" + NOT + r"\b(?:f[\w*]*k?\s+off|go\s+away|get\s+lost|piss\s+off)\b"
    r"|\benough\s+(?:with\s+)?(?:the\s+|these\s+|your\s+)?(?:texts|messages)\b"
    r"|\b(?:saquennos|sacarnos|saquenos|quitennos|quitarnos|borrennos)\b"
    r"|\b(?:take|remove|delete)\s+(?:this|the|our|my)\s+(?:number|phone)\s+(?:off|out\s+of|from)\b"
    r"|\b(?:do\s*n'?t|do\s+not|dont|stop|quit)\s+(?:send|sending|texting|forward\w*)\s+"
    r"(?:\w+\s+){0,2}(?:texts|messages|reminders|msgs)\b"
    r"|\bbasta\s+(?:ya\s+)?(?:de\s+)?(?:mensajes|textos|sms)\b"
    r"|\bhow\s+(?:do|can|to)\s+(?:i\s+|we\s+)?(?:stop|unsubscribe|opt\s+out|turn\s+off)\b"
    r"|\b(?:turn|switch)\s+off\s+(?:the\s+|these\s+)?"
    + _TEXTS
    + r"|^(?:i'?m\s+)?not\s+interested\W*$"
    r"|" + NOT + r"\bcancel\w*\s+(?:my\s+|the\s+|these\s+|all\s+)?(?:subscription|texts|messages"
    r"|reminders|sms|suscripcion|mensajes|recordatorios|notificaciones)\b"
    r"|\b(?:deja|dejen|dejar|deje|dejes|paren|pare)\s+de\s+(?:enviar|mandar|escribir|textear"
    r"|contactar|llamar)"
    r"|\bno\s+(?:me|nos|le)\s+(?:manden|mandes|mande|envien|envies|envie|escriban|escribas"
    r"|contacten|molesten|llamen)\b|\bya\s+no\s+(?:me\s+)?(?:manden|envien|escriban)\b"
    r"|\bno\s+(?:me|nos|le)\s+(?:sigan|siga|vuelvan\s+a|vuelva\s+a)\s+(?:mand|envi|escrib"
    r"|contact|textea)\w*|\bno\s+(?:quiero|queremos)\s+(?:recibir\s+|saber\s+)?(?:nada|mas\s+nada)\b"
    r"|\bno\s+(?:quiero|deseo|queremos)\s+(?:recibir\s+)?(?:mas\s+)?(?:mensajes|textos"
    r"|recordatorios|sms)|\bno\s+mas\s+(?:mensajes|textos|recordatorios)\b"
    r"|\b(?:darme|dame|denme|deme|darnos|dennos)\s+de\s+baja\b"
    r"|\b(?:quitenme|quitarme|quiteme|sacame|saquenme|borrenme|borrarme|eliminenme)\b"
    r"|\b(?:borr|elimin|quit|saqu|sac)\w*\s+(?:este|mi|el|nuestro)\s+(?:numero|telefono"
    r"|celular)\b|\bnumero\s+equivocado\b|\bequivocaron\s+de\s+numero\b"
    r"|\bdejame\s+en\s+paz\b|\bdejenme\s+en\s+paz\b"
)
_OPT_IN = re.compile(
    r"\b(?:start|resume|restart|turn\s+on|switch\s+on)\s+(?:the\s+|my\s+)?(?:texts|messages"
    r"|reminders|texting)\b|\b(?:text|message|txt)(?:ing)?\s+(?:me|us)\s+again\b"
    r"|\b(?:can|may)\s+(?:text|message)\s+(?:me|us)\s+(?:again|now)\b"
    r"|\b(?:want|like)\s+(?:to\s+(?:get|receive)\s+)?(?:the\s+)?(?:\w+\s+)?(?:texts|reminders"
    r"|messages)\s+again\b|\bstart\s+(?:sending|texting)\b"
    r"|\b(?:send|sending)\s+(?:me|us)\s+(?:the\s+)?(?:texts|messages|reminders)\s+again\b"
    r"|\b(?:get|receive|have)\s+(?:them|the\s+texts|texts|messages|reminders|the\s+reminders)\s+"
    r"(?:again|back)\b|\b(?:stopped|unsubscribed|opted\s+out)\s+(?:\w+\s+){0,3}by\s+"
    r"(?:accident|mistake)|\b(?:manden|envien|mande|envie)(?:me|nos)?\s+(?:los\s+|las\s+)?"
    r"(?:mensajes|recordatorios|textos)\s+(?:otra\s+vez|de\s+nuevo)\b|\bopt\s*-?\s*(?:me\s+)?(?:back\s+)?in\b|\bresubscribe\b"
    r"|\bvolver\s+a\s+recibir\b|\bvuelvan\s+a\s+(?:enviar|mandar|escribir)"
    r"|\b(?:reactivar|activar|activen)\s+(?:los\s+)?(?:mensajes|recordatorios|textos)\b"
    r"|\b(?:like|want)\s+(?:the\s+)?(?:texts|reminders|messages)\s+back\b"
    r"|\bvolver\s+a\s+(?:mandar|enviar|escribir)\w*"
    r"|" + NOT + r"\b(?:queremos|quiero)\s+(?:los\s+|las\s+)?(?:reminders|recordatorios|mensajes"
    r"|textos)\b"
)


def _keyword(token: str) -> str | None:
    """The carrier keyword ``token`` misspells at one edit ("stp", "unsubcribe"), or None."""
    if len(token) < 3 or token in _NOT_KEYWORDS or not token.isalpha() or token[0] not in "su":
        return None
    near = process.extractOne(token, _KEYWORDS, scorer=OSA.distance, score_cutoff=1)
    return near[0] if near is not None else None


def with_keywords_respelled(folded: str) -> str:
    """The folded text with keyword typos fixed (only for reading consent)."""
    return respell(folded, list(range(len(folded))), _keyword)[0]


def only(tokens: list[str], words: frozenset[str] | set[str]) -> bool:
    """True when the tokens hold one of the words and otherwise only fillers."""
    return any(t in words for t in tokens) and all(t in words or t in FILLERS for t in tokens)


# A sentence about the texts with a wish that they stop, however it is put: when a reply is
# about stopping the texts but unclear, it is read as a stop (the confirmation says how to
# come back; an unwanted text is the worse error).
_ABOUT_TEXTS = re.compile(
    r"\b(?:texts?|txts?|text\s+messages?|messages?|msgs?|reminders?|sms|mensajes?|textos?"
    r"|recordatorios?|notificaciones)\b"
)
_WISH_TO_STOP = re.compile(
    NOT
    + r"\b(?:no\s+longer|stop|unsubscribe|opt\s+out|remove|take\s+\w+\s+off|don'?t\s+(?:want|need)"
    r"|do\s+not\s+(?:want|need)|dont\s+(?:want|need)|no\s+more|ya\s+no|dejen\s+de"
    r"|no\s+(?:queremos|quiero|necesitamos|necesito)|saquen|quiten|borren|eliminen)\b"
)
_REGRET = re.compile(
    r"\b(?:didn'?t|did\s+not|didnt)\s+mean\s+to\s+(?:unsubscribe|stop|opt\s+out|send\s+stop)"
    r"|\b(?:stopped|unsubscribed|opted\s+out|sent\s+stop|hit\s+stop|turned\s+\w+\s+off)\s+"
    r"(?:\w+\s+){0,3}by\s+(?:accident|mistake)|\bput\s+(?:me|us)\s+back\s+on\b"
    r"|\bturn\w*\s+(?:them|it|these|the\s+texts|the\s+reminders)\s+back\s+on\b"
    r"|\b(?:son|daughter|kid|child|baby|hijo|hija|nino|nina)\s+(?:hit|pressed|sent|typed)\s+stop\b"
    r"|\bsin\s+querer\b"
)
_STARTS_WITH_START = re.compile(r"^(?:start|unstop)\b(?!\s+(?:texting|sending|messaging))")


def _about_stopping(text: str) -> str | None:
    """A sentence that is about the texts and wishes them to stop, or None."""
    for sentence in _SENTENCES.split(text):
        wish = _WISH_TO_STOP.search(sentence)
        if wish and _ABOUT_TEXTS.search(sentence):
            return sentence.strip()
    return None


def opt_out_phrase(folded: str) -> str | None:
    """The words of the reply that revoke consent to texts, or None when none do."""
    if _REGRET.search(folded):
        return None  # "didn't mean to unsubscribe, put me back on": the opposite
    text = with_keywords_respelled(folded)
    tokens = _WORD.findall(text)
    if tokens and set(tokens) <= _WHOLE_ONLY_STOPS:
        return " ".join(tokens)
    for sentence in _SENTENCES.split(text):
        words = _WORD.findall(sentence)
        kept = " ".join(w for w in words if w not in FILLERS)
        if only(words, _STOP_WORDS) or kept in OPT_OUT_PHRASES or "".join(words) in _STOP_WORDS:
            return kept or sentence.strip()
    found = _OPT_OUT.search(text)
    return found.group().strip() if found else _about_stopping(text)


def opt_in_phrase(folded: str, opted_out: bool) -> str | None:
    """The words of the reply that ask for texts again, or None: START or UNSTOP in any
    context, YES or SI from a number that opted out, or a plain request."""
    tokens = _WORD.findall(folded)
    if only(tokens, _START_WORDS) or (opted_out and only(tokens, _YES_WORDS)):
        return " ".join(t for t in tokens if t not in FILLERS)
    if _STARTS_WITH_START.match(folded):  # "START - sorry, my son hit stop"
        return "start"
    for sentence in _SENTENCES.split(folded):  # "Start please. new phone same number"
        words = _WORD.findall(sentence)
        if only([w for w in words if w not in _AGAIN], _START_WORDS):
            return "start"
    found = _OPT_IN.search(folded) or _REGRET.search(folded)
    return found.group().strip() if found else None
