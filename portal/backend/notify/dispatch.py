"""Sending due notifications (the scheduler runs this every few seconds in every worker).

Rows are claimed with FOR UPDATE SKIP LOCKED on PostgreSQL (SQLite has one writer), so several
workers never send the same message. A failed send is retried with growing delays, up to
`MAX_ATTEMPTS`; the error kept is its type, never its text (which could quote an address)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal.backend.db import UnitOfWork
from portal.backend.models import Notification
from portal.backend.models.base import utcnow
from portal.backend.notify.email import EmailChannel
from portal.backend.notify.templates import TEMPLATES

MAX_ATTEMPTS = 5
BATCH = 50


def dispatch_due(*, email: EmailChannel, uow: UnitOfWork) -> int:
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
        due = uow.session.exec(query).scalars().all()
        sent = 0
        for notification in due:
            subject, text = TEMPLATES[notification.template_id].render(**notification.parameters)
            notification.attempts += 1
            try:
                email.send(notification.recipient, subject, text)
            except Exception as error:
                notification.last_error = type(error).__name__
                if notification.attempts >= MAX_ATTEMPTS:
                    notification.status = "failed"
                else:
                    notification.due_at = utcnow() + timedelta(minutes=2**notification.attempts)
                continue
            notification.status, notification.sent_at = "sent", utcnow()
            sent += 1
        uow.commit()
        return sent
