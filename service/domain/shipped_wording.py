"""The wording TouchBase ships, as templates (``domain.wording`` renders and checks them):
today's texts, word for word. See ``domain.texts`` for why each is worded as it is."""

from __future__ import annotations

from service.domain.vocabulary import TextKind

K = TextKind

SHIPPED: dict[str, dict[TextKind, str]] = {
    "en": {
        K.REMINDER: "Hi {first_name}, reminder of your appointment at {practice} on {when}. "
        "{reply_hint}",
        K.REMINDER_CAREGIVER: "Hi {first_name}, a reminder of {client_first_name}'s appointment "
        "at {practice} on {when}. {reply_hint}",
        K.CHECKIN: "Hi {first_name}, {practice} checking in. How is your pain today, from 0 "
        "(none) to 10 (worst)? {reply_hint}",
        K.CHECKIN_CAREGIVER: "Hi {first_name}, {practice} checking in. How is "
        "{client_first_name}'s pain today, from 0 (none) to 10 (worst)? {reply_hint}",
        K.REASK: "Sorry, please reply with one number from 0 (none) to 10 (worst).",
        K.REASK_CAREGIVER: "Sorry, for {client_first_name} please reply with one number from "
        "0 (none) to 10 (worst).",
        K.ACK_CONFIRM: "Thanks, you're confirmed.",
        K.ACK_CONFIRM_CAREGIVER: "Thanks, {client_first_name}'s appointment is confirmed.",
        K.ACK_RESCHEDULE: "Thanks. {practice} will be in touch to find a new time, or call "
        "{practice_phone}.",
        K.ACK_RESCHEDULE_CAREGIVER: "Thanks. {practice} will be in touch to find a new time "
        "for {client_first_name}, or call {practice_phone}.",
        K.ACK_PAIN: "Thanks, we've noted it.",
        K.ACK_PAIN_CAREGIVER: "Thanks, we've noted it for {client_first_name}.",
        K.ACK_OTHER: "Thanks, we got your message.",
        K.ACK_OTHER_CAREGIVER: "Thanks, we got your message about {client_first_name}.",
        K.HELP: "{practice}: appointment reminders and check-ins. Questions? Call "
        "{practice_phone}. Reply STOP to opt out.",
        K.OPT_IN: "You will get texts from {practice} again. Reply STOP to opt out.",
        K.OPT_OUT: "You won't get more texts from {practice}. Reply START to resubscribe.",
        K.REBOOKING: "Hi {first_name}, it's been a while since your last appointment at "
        "{practice}. {reply_hint}",
        K.MOVE_NOTICE: "Your appointment at {practice} is now {when} (was {was}). {reply_hint}",
        K.MOVE_NOTICE_CAREGIVER: "Hi {first_name}, {client_first_name}'s appointment at "
        "{practice} is now {when} (was {was}). {reply_hint}",
        K.CANCEL_NOTICE: "Your appointment at {practice} on {when} is cancelled. {reply_hint}",
        K.CANCEL_NOTICE_CAREGIVER: "Hi {first_name}, {client_first_name}'s appointment at "
        "{practice} on {when} is cancelled. {reply_hint}",
    },
    "es": {
        K.REMINDER: "Hola {first_name}, le recordamos su cita en {practice} el {when}. "
        "{reply_hint}",
        K.REMINDER_CAREGIVER: "Hola {first_name}, recordamos la cita de {client_first_name} en "
        "{practice} el {when}. {reply_hint}",
        K.CHECKIN: "Hola {first_name}, le saluda {practice}. Del 0 (nada) al 10 (el peor), "
        "¿qué nivel de dolor tiene hoy? {reply_hint}",
        K.CHECKIN_CAREGIVER: "Hola {first_name}, le saluda {practice}. Del 0 (nada) al 10 "
        "(el peor), ¿qué nivel de dolor tiene {client_first_name} hoy? {reply_hint}",
        K.REASK: "Perdone, responda solo con una cifra del 0 (nada) al 10 (el peor).",
        K.REASK_CAREGIVER: "Perdone, para {client_first_name} responda solo con una cifra del "
        "0 (nada) al 10 (el peor).",
        K.ACK_CONFIRM: "Gracias, su cita queda confirmada.",
        K.ACK_CONFIRM_CAREGIVER: "Gracias, la cita de {client_first_name} queda confirmada.",
        K.ACK_RESCHEDULE: "Gracias. Desde {practice} le escribiremos para buscar otra fecha, "
        "o llame al {practice_phone}.",
        K.ACK_RESCHEDULE_CAREGIVER: "Gracias. Desde {practice} le escribiremos para buscar "
        "otra fecha para {client_first_name}, o llame al {practice_phone}.",
        K.ACK_PAIN: "Gracias, lo hemos anotado.",
        K.ACK_PAIN_CAREGIVER: "Gracias, lo hemos anotado para {client_first_name}.",
        K.ACK_OTHER: "Gracias, hemos recibido su mensaje.",
        K.ACK_OTHER_CAREGIVER: "Gracias, hemos recibido su mensaje sobre {client_first_name}.",
        K.HELP: "{practice}: recordatorios de citas y seguimiento. ¿Preguntas? Llame al "
        "{practice_phone}. Responda STOP para darse de baja.",
        K.OPT_IN: "Vuelve a recibir mensajes de {practice}. Responda STOP para darse de baja.",
        K.OPT_OUT: "Ya no recibira mensajes de {practice}. Responda START para volver a "
        "recibirlos.",
        K.REBOOKING: "Hola {first_name}, hace tiempo que no le vemos en {practice}. {reply_hint}",
        K.MOVE_NOTICE: "Su cita en {practice} ahora es el {when} (antes el {was}). {reply_hint}",
        K.MOVE_NOTICE_CAREGIVER: "Hola {first_name}, la cita de {client_first_name} en "
        "{practice} ahora es el {when} (antes el {was}). {reply_hint}",
        K.CANCEL_NOTICE: "Su cita en {practice} del {when} queda cancelada. {reply_hint}",
        K.CANCEL_NOTICE_CAREGIVER: "Hola {first_name}, la cita de {client_first_name} en "
        "{practice} del {when} queda cancelada. {reply_hint}",
    },
}

# What each kind tells clients to reply, as the reply understanding reads it. The rebooking
# and cancellation hints offer the practice phone ("{call}"), left out when there is none.
HINTS: dict[str, dict[TextKind, str]] = {
    "en": {
        K.REMINDER: "Reply C to confirm or R to reschedule.",
        K.CHECKIN: "Reply with one number.",
        K.REBOOKING: "Reply R and we'll find a time{call}.",
        K.MOVE_NOTICE: "Reply C to confirm.",
        K.CANCEL_NOTICE: "Reply R and we'll find a new time{call}.",
    },
    "es": {
        K.REMINDER: "Responda C para confirmar o R para cambiar la fecha.",
        K.CHECKIN: "Responda solo con la cifra.",
        K.REBOOKING: "Responda R y le buscamos una fecha{call}.",
        K.MOVE_NOTICE: "Responda C para confirmar.",
        K.CANCEL_NOTICE: "Responda R y le buscamos otra fecha{call}.",
    },
}
CALL = {"en": ", or call {phone}", "es": ", o llame al {phone}"}
