"""The notification outbox: one row per message to one recipient over one channel."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field

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
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=500)
    due_at: datetime = instant()
    sent_at: datetime | None = instant(required=False)
    read_at: datetime | None = instant(required=False)
    created_at: datetime = instant()
