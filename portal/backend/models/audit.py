"""The append-only, hash-chained audit log. Events name resources by id, never by content."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, SmallInteger
from sqlmodel import Field, SQLModel

from portal.backend.models.base import instant, new_id


class AuditEvent(SQLModel, table=True):
    """One event of one of several parallel hash chains (`chain`), numbered from 1 in each."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_tenant_time", "tenant_id", "occurred_at"),
        Index("ix_audit_events_patient_time", "patient_id", "occurred_at"),
    )

    chain: int = Field(sa_column=Column(SmallInteger, primary_key=True, autoincrement=False))
    sequence: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    id: uuid.UUID = Field(default_factory=new_id, unique=True)
    tenant_id: uuid.UUID | None = Field(default=None, foreign_key="practices.id")
    occurred_at: datetime = instant()
    actor_user_id: uuid.UUID | None = None
    actor_role: str | None = Field(default=None, max_length=16)
    patient_id: uuid.UUID | None = None
    action: str = Field(max_length=64)
    resource_type: str | None = Field(default=None, max_length=32)
    resource_id: str | None = Field(default=None, max_length=64)
    outcome: str = Field(max_length=16)
    client_hash: str | None = Field(default=None, max_length=64)
    request_id: str | None = Field(default=None, max_length=64)
    # What else the event names, never values: e.g. the profile fields a change touched.
    details: str | None = Field(default=None, max_length=400)
    previous_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)
