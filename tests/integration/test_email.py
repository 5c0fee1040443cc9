"""Account emails leave through the outbox: over SMTP to a real local server (aiosmtpd), with
retries; in demo mode admins read them on the dev mailbox page."""

from __future__ import annotations

import socket
from datetime import timedelta
from email import message_from_string, policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from portal.backend import clock, models
from portal.backend.config import settings
from portal.backend.notify.dispatch import MAX_ATTEMPTS, Channels, dispatch_due
from portal.backend.notify.email import SmtpEmail
from portal.backend.notify.sms import DevMailboxSms
from portal.backend.security.principal import NotFound, PermissionDenied
from portal.backend.services import account_recovery
from portal.backend.services.mailbox import dev_mailbox


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], str]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, envelope.rcpt_tos, envelope.content.decode()))
        return "250 OK"


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, f"smtp://127.0.0.1:{port}?tls=off"
    controller.stop()


def queue_reset(practice) -> None:
    account_recovery.request_password_reset(
        practice.emails["patient_a"], uow=practice.database.unit_of_work()
    )


def test_queued_mail_is_delivered_over_smtp_once(practice, smtp_server):
    inbox, url = smtp_server
    queue_reset(practice)
    email = Channels(SmtpEmail(url, "Riverside <portal@riverside.example>"), DevMailboxSms())
    assert dispatch_due(channels=email, uow=practice.database.unit_of_work()) == 1
    assert dispatch_due(channels=email, uow=practice.database.unit_of_work()) == 0
    [(sender, recipients, content)] = inbox.messages
    message = message_from_string(content, policy=policy.default)
    assert sender == "portal@riverside.example"
    assert recipients == [practice.emails["patient_a"]]
    assert message["Subject"] == "Choose a new password"
    body = message.get_content()
    assert "/reset-password?token=" in body
    assert "ZZCANARY" not in body


class Flaky:
    def __init__(self, failures: int) -> None:
        self.failures, self.sent = failures, 0

    def send(self, to: str, subject: str, text: str) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionRefusedError("smtp down")
        self.sent += 1
        return None


def test_a_failing_send_is_retried_with_growing_delays(practice):
    queue_reset(practice)
    channel = Flaky(failures=2)
    channels = Channels(channel, DevMailboxSms())
    uow = practice.database.unit_of_work
    assert dispatch_due(channels=channels, uow=uow()) == 0
    assert dispatch_due(channels=channels, uow=uow()) == 0  # not due again yet
    for _ in range(2):
        clock.travel(timedelta(minutes=10))
        dispatch_due(channels=channels, uow=uow())
    with uow() as unit:
        [mail] = unit.session.exec(select(models.Notification)).scalars().all()
        assert (mail.status, mail.attempts) == ("sent", 3)
        history = unit.session.exec(
            select(models.NotificationAttempt.outcome, models.NotificationAttempt.error).order_by(
                models.NotificationAttempt.attempted_at
            )
        ).all()
    assert [tuple(row) for row in history] == [
        ("failed", "ConnectionRefusedError"),
        ("failed", "ConnectionRefusedError"),
        ("sent", None),
    ]
    assert channel.sent == 1


def test_a_send_that_keeps_failing_is_marked_failed(practice):
    queue_reset(practice)
    channels = Channels(Flaky(failures=MAX_ATTEMPTS + 5), DevMailboxSms())
    for _ in range(MAX_ATTEMPTS + 2):
        dispatch_due(channels=channels, uow=practice.database.unit_of_work())
        clock.travel(timedelta(hours=2))
    with practice.database.unit_of_work() as uow:
        [mail] = uow.session.exec(select(models.Notification)).scalars().all()
        assert (mail.status, mail.attempts) == ("failed", MAX_ATTEMPTS)


def test_the_dev_mailbox_is_for_admins_in_demo_mode_only(practice, monkeypatch):
    queue_reset(practice)
    uow = practice.database.unit_of_work
    with pytest.raises(NotFound):
        dev_mailbox(practice.principal("admin"), uow=uow())
    monkeypatch.setenv("PORTAL_DEMO", "1")
    settings.cache_clear()
    [mail] = dev_mailbox(practice.principal("admin"), uow=uow())
    assert mail.recipient == practice.emails["patient_a"]
    assert mail.subject == "Choose a new password" and "/reset-password?token=" in mail.text
    with pytest.raises(PermissionDenied):
        dev_mailbox(practice.principal("patient_a"), uow=uow())
