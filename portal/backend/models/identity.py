"""People who sign in, and their server-side sessions."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String
from sqlmodel import Field, SQLModel

from portal.backend.models.base import TenantTable, instant, new_id, phi
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
    pending_totp_secret: str | None = phi()
    totp_last_step: int | None = None
    mfa_enrolled_at: datetime | None = instant(required=False)
    failed_sign_ins: int = 0
    locked_until: datetime | None = instant(required=False)
    last_sign_in_at: datetime | None = instant(required=False)
    password_changed_at: datetime | None = instant(required=False)
    mobile_phone: str | None = phi()
    texts_at_night: bool = False
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
    device: str = Field(default="", max_length=100)
    reauthenticated_at: datetime | None = instant(required=False)


class RecoveryCode(TenantTable, table=True):
    """One of a user's single-use recovery codes; only its keyed hash is stored."""

    __tablename__ = "recovery_codes"

    user_id: uuid.UUID = Field(foreign_key="users.id", index=True)
    code_hash: str = Field(max_length=64)
    used_at: datetime | None = instant(required=False)
    created_at: datetime = instant()


class TokenPurpose(StrEnum):
    INVITATION = "invitation"
    PASSWORD_RESET = "password_reset"  # noqa: S105  (a purpose, not a password)
    SIGN_IN = "sign_in"
    SESSION_TICKET = "session_ticket"


class AccountToken(TenantTable, table=True):
    """A single-use link, sign-in step or session ticket; the browser gets the token, the
    database its hash."""

    __tablename__ = "account_tokens"
    __table_args__ = (Index("ix_account_tokens_user_purpose", "user_id", "purpose"),)

    user_id: uuid.UUID = Field(foreign_key="users.id")
    purpose: TokenPurpose = Field(sa_type=String(16))
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = instant()
    expires_at: datetime = instant()
    used_at: datetime | None = instant(required=False)
    failures: int = 0
    created_by_user_id: uuid.UUID | None = Field(default=None, foreign_key="users.id")


class SignInAttempt(SQLModel, table=True):
    """Every sign-in step's outcome by client address, for the per-address rate limit. Not
    owned by a practice: the address is known before the account is."""

    __tablename__ = "sign_in_attempts"
    __table_args__ = (Index("ix_sign_in_attempts_client_time", "client_hash", "attempted_at"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    client_hash: str = Field(max_length=64)
    succeeded: bool
    attempted_at: datetime = instant()
