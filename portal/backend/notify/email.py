"""Email delivery: the dev mailbox (the embedded default), an SMTP server, or Amazon SES."""

from __future__ import annotations

import re
import smtplib
from email.message import EmailMessage
from typing import Any
from urllib.parse import unquote, urlsplit

from portal.backend import aws
from portal.backend.config import Settings

EMAIL = re.compile(r"[^@\s]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


def valid_email(address: str) -> bool:
    return len(address) <= 254 and EMAIL.fullmatch(address) is not None


class DevMailbox:
    """Sends nothing: a sent message stays readable on the admins' dev mailbox page, which
    exists in demo mode only."""

    def send(self, to: str, subject: str, text: str) -> str | None:
        return None


class SmtpEmail:
    """SMTP with STARTTLS (`smtp://`), TLS from the start (`smtps://`), or plain for a local
    relay (`smtp://…?tls=off`); credentials come from the URL."""

    def __init__(self, url: str, sender: str):
        parts = urlsplit(url)
        self.secure = parts.scheme == "smtps"
        self.starttls = not self.secure and "tls=off" not in parts.query
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.secure else 587)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.sender = sender

    def send(self, to: str, subject: str, text: str) -> str | None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, to, subject
        message.set_content(text)
        connect = smtplib.SMTP_SSL if self.secure else smtplib.SMTP
        with connect(self.host, self.port, timeout=30) as server:
            if self.starttls:
                server.starttls()
            if self.username:
                server.login(self.username, self.password or "")
            server.send_message(message)
        return None


class SesEmail:
    """Amazon SES through boto3 (the sender must be a verified identity)."""

    def __init__(self, ses: Any, sender: str):
        self.ses = ses
        self.sender = sender

    def send(self, to: str, subject: str, text: str) -> str | None:
        reply = self.ses.send_email(
            Source=self.sender,
            Destination={"ToAddresses": [to]},
            Message={"Subject": {"Data": subject}, "Body": {"Text": {"Data": text}}},
        )
        return reply["MessageId"]


def email_channel(config: Settings):
    if config.email_channel == "smtp":
        return SmtpEmail(config.smtp_url, config.email_sender)
    if config.email_channel == "ses":
        return SesEmail(aws.client("ses", config), config.email_sender)
    return DevMailbox()
