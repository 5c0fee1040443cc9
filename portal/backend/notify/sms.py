"""Text messages: the dev mailbox (the embedded default) or Twilio, and phone numbers."""

from __future__ import annotations

import re

from portal.backend.config import Settings

TWILIO_API = "https://api.twilio.com"


def normalize_phone(text: str) -> str | None:
    """A phone number in E.164 form (+15550134421), or None if it cannot be one. Numbers of ten
    digits are taken as North American."""
    stripped = text.strip()
    digits = re.sub(r"[\s().-]", "", stripped)
    if digits.startswith("+"):
        number = digits[1:]
        return f"+{number}" if number.isdigit() and 8 <= len(number) <= 15 else None
    if not digits.isdigit():
        return None
    if len(digits) == 10 and digits[0] not in "01":
        return f"+1{digits}"
    if len(digits) == 11 and digits[0] == "1" and digits[1] not in "01":
        return f"+{digits}"
    return None


class DevMailboxSms:
    """Sends nothing: the message stays readable on the dev mailbox page in demo mode."""

    def send(self, to: str, subject: str, text: str) -> str | None:
        return None


class TwilioSms:
    """Twilio's Python client; its status callbacks come back to /webhooks/twilio/status."""

    def __init__(self, config: Settings, status_callback: str):
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        api_url = config.twilio_api_url

        class Redirected(TwilioHttpClient):
            """Sends the API calls to PORTAL_TWILIO_API_URL (a local stand-in) when it is set."""

            def request(self, method, url, *args, **kwargs):
                if api_url:
                    url = url.replace(TWILIO_API, api_url.rstrip("/"), 1)
                return super().request(method, url, *args, **kwargs)

        self.client = Client(
            config.twilio_account_sid, config.twilio_auth_token, http_client=Redirected(timeout=30)
        )
        self.sender = config.twilio_from
        self.status_callback = status_callback

    def send(self, to: str, subject: str, text: str) -> str | None:
        message = self.client.messages.create(
            to=to, from_=self.sender, body=text, status_callback=self.status_callback
        )
        return message.sid


def sms_channel(config: Settings):
    if config.sms_channel == "twilio":
        return TwilioSms(config, f"{config.public_url}/webhooks/twilio/status")
    return DevMailboxSms()
