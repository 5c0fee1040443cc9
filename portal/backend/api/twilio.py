"""Twilio's callbacks: delivery reports and replies to the practice's number. Each request must
carry Twilio's signature over the public URL and parameters; anything else is refused and
logged, and changes nothing."""

from __future__ import annotations

import asyncio
import logging

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from portal.backend.config import settings
from portal.backend.services import call
from portal.backend.services.notifications import record_delivery_status, record_text_reply

logger = logging.getLogger("portal.webhooks")
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
PRIVATE = {"Cache-Control": "no-store"}


async def _signed_form(request: Request) -> dict[str, str] | None:
    config = settings()
    if config.sms_channel != "twilio":
        return None
    from twilio.request_validator import RequestValidator

    form = {key: str(value) for key, value in (await request.form()).items()}
    url = f"{config.public_url}{request.url.path}"
    signature = request.headers.get("X-Twilio-Signature", "")
    if not RequestValidator(config.twilio_auth_token).validate(url, form, signature):
        logger.warning(
            "refused a Twilio callback without a valid signature at %s", request.url.path
        )
        return None
    return form


async def status(request: Request) -> Response:
    form = await _signed_form(request)
    if form is None:
        return PlainTextResponse("Forbidden.", status_code=403, headers=PRIVATE)
    await asyncio.to_thread(
        call, record_delivery_status, form.get("MessageSid", ""), form.get("MessageStatus", "")
    )
    return PlainTextResponse("", status_code=204, headers=PRIVATE)


async def inbound(request: Request) -> Response:
    form = await _signed_form(request)
    if form is None:
        return PlainTextResponse("Forbidden.", status_code=403, headers=PRIVATE)
    await asyncio.to_thread(call, record_text_reply, form.get("From", ""), form.get("Body", ""))
    return Response(EMPTY_TWIML, media_type="application/xml", headers=PRIVATE)


ROUTES = [
    Route("/webhooks/twilio/status", status, methods=["POST"]),
    Route("/webhooks/twilio/inbound", inbound, methods=["POST"]),
]
