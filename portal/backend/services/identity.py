"""Signing in and out, and turning a browser's session token back into a principal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from portal.backend.config import settings
from portal.backend.db import UnitOfWork
from portal.backend.models import Patient, Provider, User, UserSession, UserStatus
from portal.backend.models.base import utcnow
from portal.backend.security.passwords import MAX_LENGTH, verify_password
from portal.backend.security.principal import Principal, Role
from portal.backend.security.tokens import new_token, token_hash

SIGN_IN_REFUSED = "That email and password do not match an account. Check both and try again."
LAST_SEEN_RESOLUTION = timedelta(seconds=30)


class SignInRefused(Exception):
    """Wrong email, wrong password or an unusable account: all answer the same."""

    def __init__(self) -> None:
        super().__init__(SIGN_IN_REFUSED)


@dataclass(frozen=True)
class SignedIn:
    token: str
    principal: Principal


def normalize_email(email: str) -> str:
    return email.strip().lower()


def sign_in(email: str, password: str, *, uow: UnitOfWork) -> SignedIn:
    """Check a password and open a new server-side session (a fresh token every time)."""
    with uow:
        email_index = uow.keyring.blind_index("email", normalize_email(email))
        user = uow.users.first(select(User).where(User.email_index == email_index))
        # An oversized password cannot match; hashing it anyway would let it tie up the CPU.
        candidate = password if len(password) <= MAX_LENGTH else ""
        matches, new_hash = verify_password(candidate, user.password_hash if user else None)
        if user is None or not matches or user.status != UserStatus.ACTIVE:
            uow.audit.record(
                None,
                "auth.sign_in",
                outcome="failure",
                tenant_id=user.tenant_id if user else None,
                actor_user_id=user.id if user else None,
            )
            uow.commit()
            raise SignInRefused
        if new_hash:
            user.password_hash = new_hash
        token = new_token()
        now = utcnow()
        session = uow.sessions.add(
            UserSession(
                tenant_id=user.tenant_id,
                user_id=user.id,
                token_hash=token_hash(token),
                created_at=now,
                last_seen_at=now,
                expires_at=now + timedelta(hours=settings().absolute_session_hours),
            )
        )
        user.last_sign_in_at = now
        user.failed_sign_ins = 0
        principal = _principal(uow, user, session)
        uow.audit.record(principal, "auth.sign_in", resource_type="session", resource_id=session.id)
        uow.commit()
        return SignedIn(token, principal)


def resolve_session(token: str, *, uow: UnitOfWork) -> Principal | None:
    """The principal of a live session, or None; ends a session that has timed out."""
    if not token:
        return None
    with uow:
        row = uow.session.exec(
            select(UserSession, User)
            .join(User, User.id == UserSession.user_id)
            .where(UserSession.token_hash == token_hash(token), UserSession.ended_at.is_(None))
        ).first()
        if row is None:
            return None
        session, user = row
        now = utcnow()
        idle_limit = timedelta(minutes=settings().idle_timeout_minutes)
        reason = None
        if session.expires_at <= now:
            reason = "absolute_timeout"
        elif session.last_seen_at + idle_limit <= now:
            reason = "idle_timeout"
        elif user.status != UserStatus.ACTIVE:
            reason = "deactivated"
        principal = _principal(uow, user, session)
        if reason:
            _end(uow, principal, session, reason)
            uow.commit()
            return None
        if now - session.last_seen_at >= LAST_SEEN_RESOLUTION:
            session.last_seen_at = now
            uow.commit()
        return principal


def sign_out(principal: Principal, *, uow: UnitOfWork) -> None:
    with uow:
        session = uow.session.get(UserSession, principal.session_id)
        if session is not None and session.ended_at is None:
            _end(uow, principal, session, "signed_out")
            uow.commit()


def _end(uow: UnitOfWork, principal: Principal, session: UserSession, reason: str) -> None:
    session.ended_at = utcnow()
    session.end_reason = reason
    uow.audit.record(
        principal, f"auth.session_{reason}", resource_type="session", resource_id=session.id
    )


def _principal(uow: UnitOfWork, user: User, session: UserSession) -> Principal:
    patient_id = provider_id = None
    if user.role == Role.PATIENT:
        patient_id = uow.session.exec(
            select(Patient.id).where(Patient.user_id == user.id)
        ).scalar_one_or_none()
    elif user.role == Role.PROVIDER:
        provider_id = uow.session.exec(
            select(Provider.id).where(Provider.user_id == user.id)
        ).scalar_one_or_none()
    return Principal(
        user_id=user.id,
        role=Role(user.role),
        tenant_id=user.tenant_id,
        session_id=session.id,
        patient_id=patient_id,
        provider_id=provider_id,
    )
