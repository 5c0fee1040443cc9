"""The notification outbox: one row per message to one recipient over one channel, with its
attempts, the recipients' preferences, and numbers that replied STOP."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from portal.backend.models.base import TenantTable, instant, phi


class Notification(TenantTable, table=True):
    """Templates take only non-PHI parameters; they are sealed anyway because a link may hold
    a single-use token. The recipient's address is contact information, so it is sealed too."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_due", "status", "due_at"),
        Index("ix_notifications_user_unread", "user_id", "channel", "read_at"),
    )

    user_id: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    recipient: str | None = phi()
    category: str = Field(max_length=32)
    channel: str = Field(max_length=16)
    template_id: str = Field(max_length=64)
    parameters: dict = phi("json", required=True)
    idempotency_key: str = Field(max_length=200, unique=True)
    status: str = Field(default="pending", max_length=16)
    suppressed_reason: str | None = Field(default=None, max_length=64)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=500)
    provider_message_id: str | None = Field(default=None, max_length=64, index=True)
    delivery_status: str | None = Field(default=None, max_length=16)
    due_at: datetime = instant()
    sent_at: datetime | None = instant(required=False)
    read_at: datetime | None = instant(required=False)
    created_at: datetime = instant()


class NotificationAttempt(TenantTable, table=True):
    """One try at sending; the error is kept by type only (its text could quote an address)."""

    __tablename__ = "notification_attempts"

    notification_id: uuid.UUID = Field(foreign_key="notifications.id", index=True)
    attempted_at: datetime = instant()
    outcome: str = Field(max_length=16)
    error: str | None = Field(default=None, max_length=64)


class NotificationPreference(TenantTable, table=True):
    """A person's choice for one category on one channel, where it differs from the default."""

    __tablename__ = "notification_preferences"
    __table_args__ = (UniqueConstraint("user_id", "category", "channel"),)

    user_id: uuid.UUID = Field(foreign_key="users.id", index=True)
    category: str = Field(max_length=32)
    channel: str = Field(max_length=16)
    enabled: bool


class SmsOptOut(SQLModel, table=True):
    """A number that texted STOP: no text goes to it until it texts START. Kept by keyed hash;
    not owned by a practice, because the sending number may serve several."""

    __tablename__ = "sms_opt_outs"

    phone_index: str = Field(primary_key=True, max_length=32)
    opted_out_at: datetime = instant()
