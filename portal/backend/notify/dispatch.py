"""Sending due notifications (the scheduler runs this every few seconds in every worker).

Rows are claimed with FOR UPDATE SKIP LOCKED on PostgreSQL (SQLite has one writer), so several
workers never send the same message. Every try is recorded; a failure is retried with growing
delays up to `MAX_ATTEMPTS`, then marked failed for admins to see. Texts wait out the quiet
hours (21:00 to 08:00 in the practice's time zone) unless the person asked for texts at night,
and a number that replied STOP gets nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import select

from portal.backend.db import UnitOfWork
from portal.backend.models import Notification, NotificationAttempt, Practice, SmsOptOut, User
from portal.backend.models.base import utcnow
from portal.backend.notify.templates import TEMPLATES

MAX_ATTEMPTS = 5
BATCH = 50
QUIET_FROM, QUIET_UNTIL = time(21, 0), time(8, 0)


class Channel(Protocol):
    def send(self, to: str, subject: str, text: str) -> str | None:
        """Deliver the message; returns the provider's message id, if it gives one."""
        ...


@dataclass
class Channels:
    email: Channel
    sms: Channel
    by_name: dict[str, Channel] = field(init=False)

    def __post_init__(self) -> None:
        self.by_name = {"email": self.email, "sms": self.sms}


def dispatch_due(*, channels: Channels, uow: UnitOfWork) -> int:
    """Send what is due; returns how many were sent."""
    with uow:
        query = (
            select(Notification)
            .where(Notification.status == "pending", Notification.due_at <= utcnow())
            .order_by(Notification.due_at)
            .limit(BATCH)
        )
        if uow.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        sent = 0
        for notification in uow.session.exec(query).scalars().all():
            sent += _dispatch(uow, channels, notification)
        uow.commit()
        return sent


def _dispatch(uow: UnitOfWork, channels: Channels, notification: Notification) -> int:
    if notification.channel == "in_app":
        notification.status, notification.sent_at = "sent", utcnow()
        return 1
    if notification.channel == "sms":
        held = _hold_for_quiet_hours(uow, notification)
        if held:
            notification.due_at = held
            return 0
        if _opted_out(uow, notification.recipient):
            notification.status, notification.suppressed_reason = "suppressed", "replied STOP"
            return 0
    subject, text = TEMPLATES[notification.template_id].render(**notification.parameters)
    notification.attempts += 1
    try:
        provider_id = channels.by_name[notification.channel].send(
            notification.recipient, subject, text
        )
    except Exception as error:
        notification.last_error = type(error).__name__
        _attempt(uow, notification, "failed", notification.last_error)
        if notification.attempts >= MAX_ATTEMPTS:
            notification.status = "failed"
        else:
            notification.due_at = utcnow() + timedelta(minutes=2**notification.attempts)
        return 0
    notification.status, notification.sent_at = "sent", utcnow()
    notification.provider_message_id = provider_id
    _attempt(uow, notification, "sent", None)
    return 1


def _attempt(uow: UnitOfWork, notification: Notification, outcome: str, error: str | None) -> None:
    uow.session.add(
        NotificationAttempt(
            tenant_id=notification.tenant_id,
            notification_id=notification.id,
            outcome=outcome,
            error=error,
        )
    )


def _hold_for_quiet_hours(uow: UnitOfWork, notification: Notification) -> datetime | None:
    """When a text falls in the quiet hours, the morning it should wait for; else None."""
    user = uow.session.get(User, notification.user_id) if notification.user_id else None
    if user is not None and user.texts_at_night:
        return None
    zone = ZoneInfo(uow.session.get(Practice, notification.tenant_id).time_zone)
    local = utcnow().astimezone(zone)
    if QUIET_UNTIL <= local.time() < QUIET_FROM:
        return None
    morning = local.date() + timedelta(days=1 if local.time() >= QUIET_FROM else 0)
    return datetime.combine(morning, QUIET_UNTIL, tzinfo=zone)


def _opted_out(uow: UnitOfWork, phone: str | None) -> bool:
    return uow.session.get(SmsOptOut, opt_out_key(uow, phone or "")) is not None


def opt_out_key(uow: UnitOfWork, phone: str) -> str:
    """The keyed hash an opted-out number is kept by (numbers are E.164)."""
    return uow.keyring.blind_index("sms-opt-out", phone)
