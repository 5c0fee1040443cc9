"""People who sign in, and their server-side sessions."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String
from sqlmodel import Field

from portal.backend.models.base import TenantTable, instant, phi
from portal.backend.security.principal import Role


class UserStatus(StrEnum):
    INVITED = "invited"
    ACTIVE = "active"
    DEACTIVATED = "deactivated"


class User(TenantTable, table=True):
    __tablename__ = "users"

    role: Role = Field(sa_type=String(16))
    status: UserStatus = Field(default=UserStatus.ACTIVE, sa_type=String(16))
    email: str = phi(required=True)
    email_index: str = Field(max_length=32, unique=True)
    display_name: str = phi(required=True)
    password_hash: str | None = Field(default=None, max_length=255)
    totp_secret: str | None = phi()
    totp_last_step: int | None = None
    failed_sign_ins: int = 0
    locked_until: datetime | None = instant(required=False)
    last_sign_in_at: datetime | None = instant(required=False)
    created_at: datetime = instant()


class UserSession(TenantTable, table=True):
    """A signed-in browser. The browser holds the token; only its SHA-256 is stored."""

    __tablename__ = "user_sessions"
    __table_args__ = (Index("ix_user_sessions_user_active", "user_id", "ended_at"),)

    user_id: uuid.UUID = Field(foreign_key="users.id")
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = instant()
    last_seen_at: datetime = instant()
    expires_at: datetime = instant()
    ended_at: datetime | None = instant(required=False)
    end_reason: str | None = Field(default=None, max_length=32)
    client_hash: str | None = Field(default=None, max_length=64)
