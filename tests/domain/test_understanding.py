"""Real-world SMS replies, in English and Spanish, read into intents and pain scores."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, NamedTuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.domain import texts
from service.domain.understanding import INTENTS, Intent, Understanding, understand

Expecting = Literal["checkin", "reminder"] | None


class Reply(NamedTuple):
    """One row: what the client sent, in what context, and what it must mean."""

    body: str
    expecting: Expecting
    opted_out: bool
    intent: Intent
    pain: int | None = None
    reask: bool = False


def _row(
    body: str,
    intent: Intent,
    pain: int | None = None,
    *,
    after: Expecting = None,
    opted_out: bool = False,
    reask: bool = False,
) -> Reply:
    return Reply(body, after, opted_out, intent, pain, reask)


CHECKIN: Expecting = "checkin"
REMINDER: Expecting = "reminder"
REMINDER_TEXT = (
    "Hi Sam, reminder of your appointment at Bright Path on Thu Mar 4, 9:00 AM. "
    "Reply C to confirm or R to reschedule."
)
CHECKIN_TEXT = (
    "Hi Sam, Bright Path checking in. How is your pain today, from 0 (none) to 10 (worst)? "
    "Reply with one number."
)
HELP_ANSWER = (
    "Bright Path: appointment reminders and check-ins. Questions? Call +16175550100. "
    "Reply STOP to opt out."
)

TABLE: list[Reply] = [
    # Carrier opt-out keywords: alone, any case, any punctuation or emoji, in any context.
    _row("STOP", "opt_out"),
    _row("Stop.", "opt_out"),
    _row(" STOP!!", "opt_out"),
    _row("stop 🛑", "opt_out"),
    _row("stop", "opt_out", after=CHECKIN),
    _row("STOP", "opt_out", after=REMINDER),
    _row("STOP", "opt_out", opted_out=True),
    _row("STOPALL", "opt_out"),
    _row("stop all", "opt_out"),
    _row("Unsubscribe", "opt_out"),
    _row("CANCEL", "opt_out", after=REMINDER),
    _row("cancel.", "opt_out"),
    _row("End", "opt_out"),
    _row("QUIT", "opt_out"),
    _row("revoke", "opt_out"),
    _row("OPTOUT", "opt_out"),
    _row("opt out", "opt_out"),
    _row("Opt-Out", "opt_out"),
    _row("STOP STOP STOP", "opt_out"),
    _row("\u200bstop\u200b", "opt_out"),
    # Plain-words revocations (FCC 2024: any reasonable means), English.
    _row("Stop please", "opt_out"),
    _row("please stop", "opt_out", after=CHECKIN),
    _row("stop it", "opt_out"),
    _row("stop, thank you", "opt_out"),
    _row("I said STOP", "opt_out"),
    _row("7. STOP", "opt_out", after=CHECKIN),
    _row("please stop texting me", "opt_out"),
    _row("Stop sending me these messages", "opt_out"),
    _row("no more messages", "opt_out"),
    _row("No more texts pls", "opt_out", after=REMINDER),
    _row("take me off your list", "opt_out"),
    _row("Remove me from your list", "opt_out"),
    _row("don't text me anymore", "opt_out"),
    _row("Dont text me", "opt_out"),
    _row("don\u2019t message me again", "opt_out"),
    _row("I don't want these texts anymore", "opt_out"),
    _row("unsubscribe me please", "opt_out"),
    _row("I want to opt out", "opt_out"),
    _row("I revoke my consent", "opt_out"),
    _row("cancel the reminders", "opt_out"),
    _row("i want unsubscribe", "opt_out"),
    _row("This is her mom, please stop texting this number", "opt_out"),
    # Plain-words revocations, Spanish.
    _row("deja de enviarme mensajes", "opt_out"),
    _row("Dejen de mandarme mensajes", "opt_out"),
    _row("no me manden más mensajes", "opt_out"),
    _row("No me envíen mensajes", "opt_out"),
    _row("ya no quiero mensajes", "opt_out"),
    _row("Ya no quiero recibir más mensajes", "opt_out"),
    _row("no más mensajes", "opt_out"),
    _row("BAJA", "opt_out"),
    _row("Baja por favor", "opt_out"),
    _row("darme de baja", "opt_out"),
    _row("PARAR", "opt_out"),
    _row("basta ya", "opt_out"),
    _row("quítenme de la lista", "opt_out"),
    _row("Déjame en paz", "opt_out"),
    # Ordinary talk that merely contains a stop word is never a stop.
    _row("I can't stop thinking how good the massage was", "other"),
    _row("the pain won't stop", "other", after=CHECKIN, reask=True),
    _row("the pain never stops", "other", after=CHECKIN, reask=True),
    _row("stop by at 3?", "other"),
    _row("stop by at 3?", "other", after=CHECKIN, reask=True),
    _row("don't cancel my appointment", "other"),
    _row("I don't want to cancel my appointment", "other"),
    _row("I dont want to unsubscribe", "other"),
    _row("can we end early", "other"),
    _row("Don't stop the reminders, they help", "other"),
    _row("the bus stop is far from your office", "other"),
    _row("I'm quitting my job lol", "other"),
    _row("el dolor no para", "other", after=CHECKIN, reask=True),
    _row("para mañana?", "other"),
    _row("I'll stop in to pay", "other"),
    _row("my back pain ended after the session", "other"),
    # Opt-in: START/UNSTOP in any context; YES/SI only from an opted-out number.
    _row("START", "opt_in", opted_out=True),
    _row("start", "opt_in"),
    _row("START!", "opt_in", after=CHECKIN),
    _row("Unstop", "opt_in", opted_out=True),
    _row("YES", "opt_in", opted_out=True),
    _row("yes", "opt_in", after=REMINDER, opted_out=True),
    _row("Yes please", "opt_in", opted_out=True),
    _row("Sí", "opt_in", opted_out=True),
    _row("si", "opt_in", opted_out=True),
    # Other assent from an opted-out number is not consent, and nobody may text it again.
    _row("ok", "other", opted_out=True),
    _row("C", "other", after=REMINDER, opted_out=True),
    _row("Y", "other", opted_out=True),
    _row("hello?", "other", after=CHECKIN, opted_out=True),
    _row("15", "other", after=CHECKIN, opted_out=True),
    _row("7", "pain", 7, after=CHECKIN, opted_out=True),
    # Help.
    _row("HELP", "help"),
    _row("help!", "help", after=CHECKIN),
    _row("Help?", "help"),
    _row("INFO", "help"),
    _row("info.", "help", after=REMINDER),
    _row("AYUDA", "help"),
    _row("ayuda por favor", "help"),
    _row("help me my neck hurts so much", "other"),
    # Confirm after a reminder (or with no context).
    _row("C", "confirm", after=REMINDER),
    _row("c", "confirm"),
    _row("C.", "confirm", after=REMINDER),
    _row("Y", "confirm", after=REMINDER),
    _row("y", "confirm"),
    _row("yes", "confirm", after=REMINDER),
    _row("Yes!", "confirm"),
    _row("YES", "confirm", after=REMINDER),
    _row("yep", "confirm", after=REMINDER),
    _row("Yeah", "confirm"),
    _row("confirm", "confirm", after=REMINDER),
    _row("Confirmed", "confirm"),
    _row("ok", "confirm", after=REMINDER),
    _row("OK!", "confirm"),
    _row("okay", "confirm", after=REMINDER),
    _row("Ok thanks", "confirm", after=REMINDER),
    _row("👍", "confirm", after=REMINDER),
    _row("👍🏽", "confirm"),
    _row("see you then", "confirm", after=REMINDER),
    _row("See u then!", "confirm"),
    _row("I'll be there", "confirm", after=REMINDER),
    _row("ill be there", "confirm"),
    _row("Yes, I\u2019ll be there", "confirm", after=REMINDER),
    _row("sí", "confirm", after=REMINDER),
    _row("si", "confirm"),
    _row("Si gracias", "confirm", after=REMINDER),
    _row("claro que sí", "confirm", after=REMINDER),
    _row("confirmo", "confirm", after=REMINDER),
    _row("Confirmado", "confirm"),
    _row("ahí estaré", "confirm", after=REMINDER),
    _row("Ahi estare", "confirm"),
    _row("nos vemos", "confirm", after=REMINDER),
    _row("de acuerdo", "confirm"),
    # After a check-in: C and appointment words still confirm; generic assent gave no number.
    _row("C", "confirm", after=CHECKIN),
    _row("see you then", "confirm", after=CHECKIN),
    _row("I'll be there at 3", "confirm", after=CHECKIN),
    _row("Y", "other", after=CHECKIN, reask=True),
    _row("yes", "other", after=CHECKIN, reask=True),
    _row("ok", "other", after=CHECKIN, reask=True),
    _row("👍", "other", after=CHECKIN, reask=True),
    _row("sí", "other", after=CHECKIN, reask=True),
    # Reschedule, English and Spanish; "running late" needs the front desk too.
    _row("R", "reschedule", after=REMINDER),
    _row("r", "reschedule"),
    _row("R.", "reschedule", after=CHECKIN),
    _row("reschedule", "reschedule", after=REMINDER),
    _row("Reschedule please", "reschedule"),
    _row("can't make it", "reschedule", after=REMINDER),
    _row("cant make it", "reschedule"),
    _row("I can\u2019t make it tomorrow", "reschedule", after=REMINDER),
    _row("Sorry I can't", "reschedule", after=REMINDER),
    _row("I won't be able to make it", "reschedule"),
    _row("need to move", "reschedule", after=REMINDER),
    _row("I need to move my appointment", "reschedule"),
    _row("can we move it", "reschedule", after=REMINDER),
    _row("Can we move it to Friday?", "reschedule"),
    _row("different time?", "reschedule"),
    # Asking for another day is a request to the front desk, even right after a check-in.
    _row("Can I come Friday instead?", "reschedule", after=CHECKIN),
    _row("could we come tomorrow", "reschedule", after=REMINDER),
    _row("Thursday instead?", "reschedule"),
    _row("running late", "reschedule", after=REMINDER),
    _row("Running 10 min late", "reschedule"),
    _row("10 min late", "reschedule", after=REMINDER),
    _row("cancel my appointment", "reschedule"),
    _row("cancel please", "reschedule", after=REMINDER),
    _row("no puedo", "reschedule", after=REMINDER),
    _row("No puedo ir mañana", "reschedule"),
    _row("cambiar la cita", "reschedule", after=REMINDER),
    _row("quiero cambiar la cita por favor", "reschedule"),
    _row("reprogramar", "reschedule", after=REMINDER),
    _row("Necesito reprogramar", "reschedule"),
    _row("otro día por favor", "reschedule"),
    _row("voy tarde", "reschedule", after=REMINDER),
    _row("Cancelar", "reschedule", after=REMINDER),
    _row("cancelar la cita", "reschedule"),
    _row("no puedo dormir", "other", after=CHECKIN, reask=True),
    # Pain scores: bare numbers after a check-in or with no context.
    _row("7", "pain", 7, after=CHECKIN),
    _row("7", "pain", 7),
    _row("10!!", "pain", 10, after=CHECKIN),
    _row("0", "pain", 0, after=CHECKIN),
    _row("0 no pain", "pain", 0, after=CHECKIN),
    _row("5 😩", "pain", 5, after=CHECKIN),
    _row("7️⃣", "pain", 7, after=CHECKIN),
    _row("\uff17", "pain", 7, after=CHECKIN),  # fullwidth digit seven
    _row("🔟", "pain", 10, after=CHECKIN),
    _row("a 7", "pain", 7, after=CHECKIN),
    _row("A 7.", "pain", 7),
    _row("about a 4", "pain", 4, after=CHECKIN),
    _row("abt 4", "pain", 4, after=CHECKIN),
    _row("around 5", "pain", 5, after=CHECKIN),
    _row("maybe a 3", "pain", 3, after=CHECKIN),
    _row("like a 6", "pain", 6, after=CHECKIN),
    _row("im at a 5", "pain", 5, after=CHECKIN),
    _row("I'm a 6 today", "pain", 6, after=CHECKIN),
    _row("its a 3", "pain", 3, after=CHECKIN),
    _row("8 today, my neck is bad", "pain", 8, after=CHECKIN),
    _row("8 (her mom typing) rough night", "pain", 8, after=CHECKIN),
    _row("neck is bad today, 8", "pain", 8, after=CHECKIN),
    _row("My back hurts, 7", "pain", 7, after=CHECKIN),
    _row("Yes 7", "pain", 7, after=CHECKIN),
    _row("nonstop pain 8", "pain", 8, after=CHECKIN),
    # Ranges count as their higher end.
    _row("6-7", "pain", 7, after=CHECKIN),
    _row("6 - 7", "pain", 7, after=CHECKIN),
    _row("6 to 7", "pain", 7, after=CHECKIN),
    _row("5 or 6", "pain", 6, after=CHECKIN),
    _row("six to seven", "pain", 7, after=CHECKIN),
    _row("6 o 7", "pain", 7, after=CHECKIN),
    _row("6 a 7", "pain", 7, after=CHECKIN),
    # Number words, English and Spanish, accents and common misspellings.
    _row("seven", "pain", 7, after=CHECKIN),
    _row("SEVEN!", "pain", 7),
    _row("sevn", "pain", 7, after=CHECKIN),
    _row("fve", "pain", 5, after=CHECKIN),
    _row("zero", "pain", 0, after=CHECKIN),
    _row("one", "pain", 1, after=CHECKIN),
    _row("two", "pain", 2, after=CHECKIN),
    _row("three", "pain", 3, after=CHECKIN),
    _row("four", "pain", 4, after=CHECKIN),
    _row("five", "pain", 5, after=CHECKIN),
    _row("eight", "pain", 8, after=CHECKIN),
    _row("nine", "pain", 9, after=CHECKIN),
    _row("ten", "pain", 10, after=CHECKIN),
    _row("siete", "pain", 7, after=CHECKIN),
    _row("cero", "pain", 0, after=CHECKIN),
    _row("uno", "pain", 1, after=CHECKIN),
    _row("dós", "pain", 2, after=CHECKIN),
    _row("tres", "pain", 3, after=CHECKIN),
    _row("cuatro", "pain", 4, after=CHECKIN),
    _row("sinco", "pain", 5, after=CHECKIN),
    _row("séis", "pain", 6, after=CHECKIN),
    _row("Séis", "pain", 6),
    _row("ocho", "pain", 8, after=CHECKIN),
    _row("nueve", "pain", 9, after=CHECKIN),
    _row("diez", "pain", 10, after=CHECKIN),
    # Spanish phrasing.
    _row("dolor 5", "pain", 5, after=CHECKIN),
    _row("Dolor: 5", "pain", 5),
    _row("como un 3", "pain", 3, after=CHECKIN),
    _row("un 8", "pain", 8, after=CHECKIN),
    _row("Mi dolor es un 7", "pain", 7, after=CHECKIN),
    _row("mas o menos un 5", "pain", 5, after=CHECKIN),
    _row("hoy un 4", "pain", 4, after=CHECKIN),
    _row("8 de 10", "pain", 8, after=CHECKIN),
    _row("me duele como un 8", "pain", 8, after=CHECKIN),
    _row("sin dolor", "pain", 0, after=CHECKIN),
    # A pain word or "/10" makes it a score whatever the context.
    _row("7/10", "pain", 7, after=CHECKIN),
    _row("7 / 10", "pain", 7, after=REMINDER),
    _row("7 out of 10", "pain", 7, after=REMINDER),
    _row("pain 6", "pain", 6, after=REMINDER),
    _row("Pain: 6", "pain", 6, after=CHECKIN),
    _row("my pain is 9", "pain", 9, after=REMINDER),
    _row("my pain is 9", "pain", 9),
    _row("pain is at a 6 today", "pain", 6, after=REMINDER),
    _row("Hurts like a 9", "pain", 9, after=REMINDER),
    _row("dolor 5", "pain", 5, after=REMINDER),
    _row("no pain", "pain", 0, after=CHECKIN),
    _row("no pain today!", "pain", 0, after=REMINDER),
    _row("pain free today", "pain", 0),
    # After a reminder a bare number is ambiguous: not a score, not asked again.
    _row("7", "other", after=REMINDER),
    _row("15", "other", after=REMINDER),
    _row("8 today, my neck is bad", "other", after=REMINDER),
    # Out of range, decimal, percent, negative: never guessed, the client is asked again.
    _row("15", "other", after=CHECKIN, reask=True),
    _row("15", "other", reask=True),
    _row("11", "other", after=CHECKIN, reask=True),
    _row("100", "other", after=CHECKIN, reask=True),
    _row("70%", "other", after=CHECKIN, reask=True),
    _row("70 %", "other", after=CHECKIN, reask=True),
    _row("-3", "other", after=CHECKIN, reask=True),
    _row("6.5", "other", after=CHECKIN, reask=True),
    _row("6,5", "other", after=CHECKIN, reask=True),
    _row("12 today", "other", after=CHECKIN, reask=True),
    _row("my pain is 15", "other", after=REMINDER, reask=True),
    _row("pain 11/10 lol", "other", after=REMINDER, reask=True),
    _row("back 7 neck 5", "other", after=CHECKIN, reask=True),
    # No number where one was asked for.
    _row("", "other", after=CHECKIN, reask=True),
    _row("   ", "other", after=CHECKIN, reask=True),
    _row("not great", "other", after=CHECKIN, reask=True),
    _row("bad day", "other", after=CHECKIN, reask=True),
    _row("mal", "other", after=CHECKIN, reask=True),
    _row("the one on my left side is worse", "other", after=CHECKIN, reask=True),
    _row("the pain dies down after a day", "other", after=CHECKIN, reask=True),
    _row("see you at 3", "confirm", after=CHECKIN),
    # Anything else is other, kept as a note, not asked again.
    _row("", "other"),
    _row("  ", "other", after=REMINDER),
    _row("hello", "other"),
    _row("thanks", "other", after=REMINDER),
    _row("Thank you!", "other"),
    _row("what time is my appointment?", "other", after=REMINDER),
    _row("Is there parking?", "other"),
    _row("¿A qué hora es mi cita?", "other", after=REMINDER),
    _row("I'm 5 min away", "other"),
    _row("no", "other", after=REMINDER),
    # The cases the outside corpus found, each in the class it stands for.
    _row("never text this phone again", "opt_out"),
    _row("this is the wrong number, stop", "opt_out", after=REMINDER),
    _row("remove this number from your list", "opt_out", after=CHECKIN),
    _row("please don't text this number anymore", "opt_out"),
    _row("how do I stop getting these?", "opt_out"),
    _row("no me manden más mensajes por favor", "opt_out"),
    _row("número equivocado", "opt_out"),
    _row("don't stop the sessions, they help", "other", after=REMINDER),
    _row("my pain won't stop, 8", "pain", 8, after=CHECKIN),
    _row("end of the week works", "other"),
    _row("nine out of ten", "pain", 9, after=CHECKIN),
    _row("he's at 9 today, rough night", "pain", 9, after=CHECKIN),
    _row("somewhere between 4 and 5", "pain", 5, after=CHECKIN),
    _row("6-ish", "pain", 6, after=CHECKIN),
    _row("eihgt", "pain", 8, after=CHECKIN),  # one edit from a number word
    _row("nine, its a bit better than yesterday", "pain", 9, after=CHECKIN),
    _row("was 9 yesterday, 6 today", "pain", 6, after=CHECKIN),
    _row("entre 5 y 6", "pain", 6, after=CHECKIN),
    _row("está en 6", "pain", 6, after=CHECKIN),
    _row("I'm fine", "other", after=CHECKIN, reask=True),
    _row("yes he'll be there", "confirm", after=REMINDER),
    _row("she will be there", "confirm", after=REMINDER),
    _row("no podemos ir", "reschedule", after=REMINDER),
    _row("no vamos a poder, está enfermo", "reschedule", after=REMINDER),
    _row("cambiar para el viernes", "reschedule", after=REMINDER),
    _row("¿se puede pasar a la tarde?", "reschedule", after=REMINDER),
    _row("please text me again", "opt_in", opted_out=True),
    _row("quiero volver a recibir mensajes", "opt_in", opted_out=True),
    # Reactions: their meaning is the reaction and what it reacts to, never the quote.
    _row(f"Liked \u201c{HELP_ANSWER}\u201d", "other"),
    _row(f"Liked \u201c{CHECKIN_TEXT}\u201d", "other", after=CHECKIN, reask=True),
    _row(f"Loved \u201c{REMINDER_TEXT}\u201d", "confirm", after=REMINDER),
    _row(f'Reacted 👍 to "{REMINDER_TEXT}"', "confirm", after=REMINDER),
    _row("Le gustó \u201cHola Sam, le recordamos su cita en Bright…\u201d", "confirm"),
    _row(f"Laughed at \u201c{REMINDER_TEXT}\u201d", "other", after=REMINDER),
    _row("Removed a like from \u201cThanks, you're confirmed.\u201d", "other"),
]


@pytest.mark.parametrize("reply", TABLE, ids=[f"{r.body!r}-{r.expecting}" for r in TABLE])
def test_it_reads_each_real_world_reply(reply: Reply) -> None:
    result = understand(reply.body, expecting=reply.expecting, opted_out=reply.opted_out)
    assert (result.intent, result.pain, result.reask) == (reply.intent, reply.pain, reply.reask)


def test_the_table_covers_at_least_170_replies_in_both_languages() -> None:
    assert len(TABLE) >= 170
    assert len({(r.body, r.expecting, r.opted_out) for r in TABLE}) == len(TABLE)


@pytest.mark.parametrize(
    ("body", "note"),
    [
        ("8 today, my neck is bad", "today, my neck is bad"),
        ("0 no pain", "no pain"),
        ("7/10 today", "today"),
        ("Mi dolor es un 7, gracias", "gracias"),
        ("Dolor 5, la espalda está peor", "la espalda está peor"),
        ("neck is bad, about a 6", "neck is bad"),
        ("Séis... me duele la espalda", "me duele la espalda"),
        ("10!!", None),
        ("7 🙂", None),
    ],
)
def test_it_reads_a_pain_score_and_keeps_the_rest_as_a_note(body: str, note: str | None) -> None:
    result = understand(body, expecting="checkin")
    assert result.intent == "pain"
    assert result.note == note


@pytest.mark.parametrize(
    ("body", "expecting"),
    [("  Is parking free?  ", None), ("15", "checkin"), ("Can we move it to Friday?", None)],
)
def test_it_keeps_the_original_text_as_the_note(body: str, expecting: Expecting) -> None:
    assert understand(body, expecting=expecting).note == body.strip()


def test_it_reads_a_pain_score() -> None:
    assert understand("7", expecting="checkin") == Understanding("pain", pain=7)


def test_it_never_mistakes_ordinary_talk_for_a_stop() -> None:
    for body in ("stop by at 3?", "the pain won't stop", "can we end early", "I quit sugar"):
        assert understand(body).intent != "opt_out", body


@pytest.mark.parametrize(
    ("body", "expecting", "quiet", "sure"),
    [
        (f"Liked \u201c{HELP_ANSWER}\u201d", None, True, True),  # asks for nothing
        (f"Emphasized \u201c{REMINDER_TEXT}\u201d", "reminder", False, True),  # confirms
        ("see you at 3?", "reminder", False, False),  # a question: a person decides
        ("see you then", "checkin", False, False),  # nothing to confirm after a check-in
        ("C", "checkin", False, True),
        (f"Disliked \u201c{REMINDER_TEXT}\u201d", "reminder", False, True),  # for a person
        ("7", None, False, True),
    ],
)
def test_it_says_how_sure_it_is(body: str, expecting: Expecting, quiet: bool, sure: bool) -> None:
    result = understand(body, expecting=expecting)
    assert (result.quiet, result.sure) == (quiet, sure)
    assert result.reason  # every reading says why, in one line
    assert "\n" not in result.reason and len(result.reason) <= 200


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("please stop texting me", 'opt-out: "stop texting"'),
        ("7", 'pain 7: "7" (the first thing said)'),
        ("pain is eihgt", 'pain 8: "pain is eight" (the first thing said)'),
        ("R", 'reschedule: "R"'),
        (f"Liked \u201c{HELP_ANSWER}\u201d", "reaction: positive on our text: asks for nothing"),
    ],
)
def test_it_explains_each_reading_in_one_line(body: str, reason: str) -> None:
    assert understand(body, expecting="checkin").reason == reason


def test_a_quoted_original_is_not_read_as_the_reply() -> None:
    body = f"Yes!\n> {REMINDER_TEXT}"
    assert understand(body, expecting="reminder", answered=REMINDER_TEXT).intent == "confirm"
    quoted_stop = f"ok see you\n\n{HELP_ANSWER}"
    assert understand(quoted_stop, answered=HELP_ANSWER).intent != "opt_out"


def test_it_lists_the_seven_intents() -> None:
    assert INTENTS == ("pain", "confirm", "reschedule", "opt_out", "opt_in", "help", "other")


def test_it_refuses_an_understanding_that_breaks_its_own_rules() -> None:
    with pytest.raises(ValueError):
        Understanding("pain")
    with pytest.raises(ValueError):
        Understanding("pain", pain=11)
    with pytest.raises(ValueError):
        Understanding("other", pain=3)


_EXPECTING = st.sampled_from([None, "checkin", "reminder"])
_NOISY_TEXT = st.one_of(
    st.text(max_size=200),
    st.text(max_size=1600, min_size=1500),
    st.text(alphabet=st.characters(categories=["Cc", "Cf", "So", "Sk", "Mn"]), max_size=80),
    st.text(alphabet="שלום مرحبا 7 stop a-/.,%😀\u200f\u202e\n\t", max_size=300),
    st.lists(st.sampled_from(["stop", "pain", "a", "6", "at", "no", " ", "-", "/10"])).map(
        " ".join
    ),
)


@settings(max_examples=300, deadline=None)
@given(body=_NOISY_TEXT, expecting=_EXPECTING, opted_out=st.booleans())
def test_it_never_raises_and_always_returns_a_valid_intent(
    body: str, expecting: Expecting, opted_out: bool
) -> None:
    result = understand(body, expecting=expecting, opted_out=opted_out)
    assert result.intent in INTENTS
    assert (result.pain is not None) == (result.intent == "pain")
    assert result.pain is None or 0 <= result.pain <= 10
    assert not result.reask or (result.intent == "other" and not opted_out)
    assert result.note is None or result.note.strip()


@given(
    keyword=st.sampled_from(["stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke"]),
    cases=st.lists(st.booleans(), min_size=12, max_size=12),
    before=st.text(alphabet=" \t.!¡?*🛑✋", max_size=4),
    after=st.text(alphabet=" \t.!?*🛑✋😡", max_size=4),
    expecting=_EXPECTING,
    opted_out=st.booleans(),
)
def test_it_reads_a_carrier_keyword_as_a_stop_whatever_its_case_and_punctuation(
    keyword: str,
    cases: list[bool],
    before: str,
    after: str,
    expecting: Expecting,
    opted_out: bool,
) -> None:
    cased = "".join(c.upper() if up else c for c, up in zip(keyword, cases, strict=False))
    body = before + cased + after
    assert understand(body, expecting=expecting, opted_out=opted_out).intent == "opt_out"


@given(score=st.integers(0, 10), tail=st.text(alphabet=" .!?😣", max_size=4))
def test_it_reads_every_score_from_zero_to_ten(score: int, tail: str) -> None:
    assert understand(f"{score}{tail}", expecting="checkin") == Understanding("pain", pain=score)


_CAREGIVER_WHEN = datetime(2027, 3, 4, 9, 0)


def _cut(text: str, words: int) -> str:
    """The first words of a text, as a phone quotes a long one."""
    return " ".join(text.split()[:words]) + "…"


@pytest.mark.parametrize(
    ("reaction", "quote", "intent", "reask"),
    [
        (
            "Liked",
            texts.reminder("en", "Bright Path", "Rosa", _CAREGIVER_WHEN, about="Maria"),
            "confirm",
            False,
        ),
        (
            "Loved",
            _cut(texts.reminder("en", "Bright Path", "Rosa", _CAREGIVER_WHEN, about="Maria"), 7),
            "confirm",
            False,
        ),
        (
            "Le gustó",
            _cut(texts.reminder("es", "Bright Path", "Rosa", _CAREGIVER_WHEN, about="Maria"), 6),
            "confirm",
            False,
        ),
        (
            "Liked",
            _cut(texts.checkin("en", "Bright Path", "Rosa", about="Maria"), 10),
            "other",
            True,
        ),
        (
            "Liked",
            _cut(texts.checkin("en", "Bright Path", "Rosa", about="Mary Ann"), 11),
            "other",
            True,
        ),
        ("Le gustó", texts.checkin("es", "Bright Path", "Rosa", about="Maria"), "other", True),
    ],
)
def test_a_reaction_to_a_caregivers_text_is_known_by_its_words(
    reaction: str, quote: str, intent: Intent, reask: bool
) -> None:
    # Nothing tells what it answers (a shared phone, a late reply): the quote's words must.
    meaning = understand(f"{reaction} \u201c{quote}\u201d")
    assert (meaning.intent, meaning.reask, meaning.quiet) == (intent, reask, False)


_MOVED_TO = datetime(2027, 3, 5, 11, 0)
_ROSA = {"first_name": "Rosa", "about": "Maria"}


def _moved(language: str, **names: str) -> str:
    return texts.move_notice(language, "Bright Path", _MOVED_TO, _CAREGIVER_WHEN, **names)


def _cancelled(language: str, **names: str) -> str:
    return texts.cancel_notice(language, "Bright Path", _CAREGIVER_WHEN, "(617) 555-0100", **names)


@pytest.mark.parametrize(
    ("reaction", "quote", "intent", "quiet"),
    [
        ("Liked", _moved("en"), "confirm", False),
        ("Le gustó", _moved("es"), "confirm", False),
        ("Liked", _moved("en", **_ROSA), "confirm", False),
        ("Loved", _cut(_moved("en", **_ROSA), 12), "confirm", False),  # "...is now Fri Mar 5,…"
        ("Le gustó", _moved("es", **_ROSA), "confirm", False),
        ("Le encantó", _cut(_moved("es", **_ROSA), 12), "confirm", False),
        ("Liked", _moved("en", first_name="Rosa", about="Mary Ann"), "confirm", False),
        ("Disliked", _moved("en", **_ROSA), "other", False),  # for a person
        ("Liked", _cancelled("en"), "other", True),  # a cancellation asks for no yes
        ("Liked", _cancelled("en", **_ROSA), "other", True),
        ("Le gustó", _cancelled("es", **_ROSA), "other", True),
    ],
)
def test_a_reaction_to_a_notice_is_known_by_its_words(
    reaction: str, quote: str, intent: Intent, quiet: bool
) -> None:
    # A move notice asks for a C like a reminder, to the client or to a caregiver.
    meaning = understand(f"{reaction} \u201c{quote}\u201d")
    assert (meaning.intent, meaning.reask, meaning.quiet) == (intent, False, quiet)


_OPT_OUT_PHRASES = [
    "STOP",
    "stop texting me",
    "never text this phone again",
    "wrong number",
    "remove this number from your list",
    "please unsubscribe me",
    "no me manden más mensajes",
    "dejen de escribirme",
]
_AROUND = st.lists(
    st.sampled_from(
        ["Hi", "Thanks for everything", "Sam is doing ok", "🙏", "see you", "R", "C", "10", "7"]
    ),
    max_size=3,
).map(". ".join)


@settings(max_examples=200, deadline=None)
@given(
    phrase=st.sampled_from(_OPT_OUT_PHRASES),
    before=_AROUND,
    after=_AROUND,
    expecting=_EXPECTING,
    opted_out=st.booleans(),
)
def test_text_around_an_opt_out_never_hides_it(
    phrase: str, before: str, after: str, expecting: Expecting, opted_out: bool
) -> None:
    body = ". ".join(part for part in (before, phrase, after) if part)
    assert understand(body, expecting=expecting, opted_out=opted_out).intent == "opt_out"


_REACTIONS = st.sampled_from(
    ["Liked", "Loved", "Emphasized", "Disliked", "Laughed at", "Questioned", "Le gustó"]
)
_QUOTED = {"reminder": REMINDER_TEXT, "checkin": CHECKIN_TEXT, "other": HELP_ANSWER}


@settings(max_examples=300, deadline=None)
@given(
    reaction=_REACTIONS,
    kind=st.sampled_from(sorted(_QUOTED)),
    # Words that could spell no marker of our own texts ("0 (none) to 10" needs brackets).
    junk=st.text(alphabet="STOPstopRC10 wrongnumber,.!?7/", max_size=60),
    expecting=_EXPECTING,
)
def test_words_inside_a_reactions_quote_never_count(
    reaction: str, kind: str, junk: str, expecting: Expecting
) -> None:
    quote = _QUOTED[kind]
    plain = understand(f"{reaction} \u201c{quote}\u201d", expecting=expecting)
    noisy = understand(f"{reaction} \u201c{quote} {junk}\u201d", expecting=expecting)
    assert noisy == plain
    assert noisy.intent not in ("opt_out", "opt_in", "pain", "reschedule", "help")
