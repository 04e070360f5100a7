"""The gateways messages leave through, one per channel, chosen from the settings."""

from __future__ import annotations

import logging

from service.config import Settings
from service.domain.vocabulary import Channel
from service.sms.gateway import Gateway, SimulatorGateway, TwilioGateway

log = logging.getLogger(__name__)


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


def make_gateways(settings: Settings) -> dict[Channel, Gateway]:
    """The dispatcher's gateway for each channel (a new channel adds its gateway here)."""
    return {Channel.SMS: make_gateway(settings)}
