"""The gateways messages leave through, one per channel, chosen from the settings."""

from __future__ import annotations

import logging
from collections.abc import Callable

from service.config import Settings
from service.domain.vocabulary import Channel
from service.sms.gateway import Gateway, SentRecord, SimulatorGateway, TwilioGateway, same_text
from service.sms.voice_gateway import (
    SimulatedVoiceGateway,
    TwilioVoiceGateway,
    UnplaceableVoiceGateway,
    is_ours,
)

log = logging.getLogger(__name__)

# How a message of unknown outcome is recognised among what the provider holds for its
# number: a text by its words, a call by being any call not yet recorded (see voice_gateway).
MATCHERS: dict[Channel, Callable[[SentRecord, str], bool]] = {
    Channel.SMS: same_text,
    Channel.VOICE: is_ours,
}


def make_gateway(settings: Settings) -> Gateway:
    """Twilio when credentials are configured; otherwise the simulator, loudly."""
    if not settings.twilio_configured:
        log.warning("no Twilio credentials: texts are SIMULATED and never leave this machine")
        return SimulatorGateway()
    callback = f"{settings.public_base_url}/sms/status" if settings.public_base_url else None
    return TwilioGateway(
        account_sid=settings.twilio_account_sid or "",
        auth_token=settings.twilio_auth_token or "",
        from_number=settings.twilio_from_number,
        messaging_service_sid=settings.twilio_messaging_service_sid,
        api_base_url=settings.twilio_api_base_url,
        status_callback=callback,
    )


def make_voice_gateway(settings: Settings) -> Gateway:
    """Twilio when credentials are configured, with the caller number and the public URL
    calls need; the simulator without credentials. With credentials but without either,
    every call fails with the reason (the practice is alerted), never pretended."""
    if not settings.twilio_configured:
        log.warning("no Twilio credentials: calls are SIMULATED and never leave this machine")
        return SimulatedVoiceGateway()
    if not settings.twilio_from_number or not settings.public_base_url:
        missing = "TWILIO_FROM_NUMBER" if not settings.twilio_from_number else "PUBLIC_BASE_URL"
        log.warning("%s is not set: calls cannot be placed and will fail", missing)
        return UnplaceableVoiceGateway(f"{missing} is not set")
    return TwilioVoiceGateway(
        account_sid=settings.twilio_account_sid or "",
        auth_token=settings.twilio_auth_token or "",
        from_number=settings.twilio_from_number,
        public_base_url=settings.public_base_url,
        api_base_url=settings.twilio_api_base_url,
    )


def make_gateways(settings: Settings) -> dict[Channel, Gateway]:
    """The dispatcher's gateway for each channel (a new channel adds its gateway here)."""
    return {Channel.SMS: make_gateway(settings), Channel.VOICE: make_voice_gateway(settings)}
