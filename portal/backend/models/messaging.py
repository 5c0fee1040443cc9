"""Secure conversations between a patient and their care team."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String
from sqlmodel import Field

from portal.backend.models.base import TenantTable, instant, phi


class ConversationCategory(StrEnum):
    MEDICAL_QUESTION = "medical_question"
    APPOINTMENT = "appointment"
    PRESCRIPTION = "prescription"
    BILLING = "billing"
    OTHER = "other"


class Conversation(TenantTable, table=True):
    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_patient_last", "patient_id", "last_message_at"),
        Index("ix_conversations_team_last", "care_team_id", "last_message_at"),
        Index("ix_conversations_team_waiting", "care_team_id", "waiting_since"),
    )

    patient_id: uuid.UUID = Field(foreign_key="patients.id")
    care_team_id: uuid.UUID = Field(foreign_key="care_teams.id")
    assigned_provider_id: uuid.UUID | None = Field(default=None, foreign_key="providers.id")
    subject: str = phi(required=True)
    category: ConversationCategory = Field(sa_type=String(24))
    status: str = Field(default="open", max_length=16)
    last_message_at: datetime = instant()
    # Since when the patient has been waiting for the care team's answer (their first message
    # after the team's last one); empty once the team has replied.
    waiting_since: datetime | None = instant(required=False)
    created_at: datetime = instant()


class Message(TenantTable, table=True):
    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_conversation_sent", "conversation_id", "sent_at"),
        Index("ix_messages_unread", "conversation_id", "from_patient", "read_at"),
    )

    conversation_id: uuid.UUID = Field(foreign_key="conversations.id")
    sender_user_id: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    from_patient: bool
    body: str = phi(required=True)
    sent_at: datetime = instant()
    read_at: datetime | None = instant(required=False)
    read_by_user_id: uuid.UUID | None = Field(default=None, foreign_key="users.id")


class Attachment(TenantTable, table=True):
    __tablename__ = "attachments"

    message_id: uuid.UUID = Field(foreign_key="messages.id", index=True)
    storage_key: str = Field(max_length=128)
    content_type: str = Field(max_length=64)
    size_bytes: int
    filename: str = phi(required=True)
    # A small PNG preview of an image, made on the server and stored encrypted like the file.
    thumbnail_key: str | None = Field(default=None, max_length=128)
    created_at: datetime = instant()
