"""Server-side sessions: opening one after a full sign-in, turning a browser's token back into a
principal on every event, idle and absolute expiry, and the user's list of devices."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, select, update

from portal.backend.config import settings
from portal.backend.db import UnitOfWork
from portal.backend.models import Patient, Practice, Provider, User, UserSession, UserStatus
from portal.backend.models.base import utcnow
from portal.backend.security.principal import NotFound, Principal, Role
from portal.backend.security.tokens import new_token, token_hash
from portal.backend.views import local_moment

MAX_SESSIONS_PER_USER = 3
LAST_SEEN_RESOLUTION = timedelta(seconds=30)
REAUTHENTICATION_LIFETIME = timedelta(minutes=5)


@dataclass(frozen=True)
class SignedIn:
    token: str
    principal: Principal


@dataclass(frozen=True)
class SessionCheck:
    """A session's state without counting the check as activity."""

    principal: Principal | None
    idle_seconds_left: int
    idle_timeout_seconds: int = 0


@dataclass(frozen=True)
class Device:
    id: str
    description: str
    signed_in: str
    last_active: str
    current: bool


def open_session(uow: UnitOfWork, user: User, *, device: str = "") -> SignedIn:
    """A new session with a new token (never an old one re-used); the user's oldest sessions
    end so at most `MAX_SESSIONS_PER_USER` stay open."""
    now = utcnow()
    token = new_token()
    session = uow.sessions.add(
        UserSession(
            tenant_id=user.tenant_id,
            user_id=user.id,
            token_hash=token_hash(token),
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=settings().absolute_session_hours),
            device=device[:100],
        )
    )
    uow.session.flush()
    principal = principal_of(uow, user, session)
    open_sessions = uow.sessions.all(
        select(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .order_by(UserSession.created_at.desc(), UserSession.id)
    )
    for old in open_sessions[MAX_SESSIONS_PER_USER:]:
        end_session(uow, principal, old, "session_limit")
    user.last_sign_in_at = now
    uow.audit.record(principal, "auth.sign_in", resource_type="session", resource_id=session.id)
    return SignedIn(token, principal)


def resolve_session(token: str, *, uow: UnitOfWork) -> Principal | None:
    """The principal of a live session, counting this as activity; ends a timed-out one."""
    return _check(token, uow=uow, touch=True).principal


def check_session(token: str, *, uow: UnitOfWork) -> SessionCheck:
    """Like `resolve_session`, but a check is not activity: an idle tab polling for its own
    timeout must not keep itself alive."""
    return _check(token, uow=uow, touch=False)


# Checked on every event, so in one round trip and without loading the user's row (whose PHI
# columns would be decrypted on load): the session, what the principal needs, the idle limit.
_LIVE_SESSION = (
    select(
        UserSession,
        User.role,
        User.status,
        Practice.idle_timeout_minutes,
        Patient.id.label("patient_id"),
        Provider.id.label("provider_id"),
    )
    .join(User, User.id == UserSession.user_id)
    .join(Practice, Practice.id == UserSession.tenant_id)
    .outerjoin(Patient, (Patient.user_id == User.id) & (User.role == Role.PATIENT))
    .outerjoin(Provider, (Provider.user_id == User.id) & (User.role == Role.PROVIDER))
    .where(UserSession.token_hash == bindparam("token_hash"), UserSession.ended_at.is_(None))
)


def _check(token: str, *, uow: UnitOfWork, touch: bool) -> SessionCheck:
    if not token:
        return SessionCheck(None, 0)
    with uow:
        row = uow.session.exec(_LIVE_SESSION, params={"token_hash": token_hash(token)}).first()
        if row is None:
            return SessionCheck(None, 0)
        session, role, status, idle_minutes, patient_id, provider_id = row
        now = utcnow()
        idle_limit = idle_timeout(idle_minutes)
        reason = None
        if session.expires_at <= now:
            reason = "absolute_timeout"
        elif session.last_seen_at + idle_limit <= now:
            reason = "idle_timeout"
        elif status != UserStatus.ACTIVE:
            reason = "deactivated"
        principal = Principal(
            user_id=session.user_id,
            role=Role(role),
            tenant_id=session.tenant_id,
            session_id=session.id,
            patient_id=patient_id,
            provider_id=provider_id,
        )
        if reason:
            end_session(uow, principal, session, reason)
            uow.commit()
            return SessionCheck(None, 0)
        if touch and now - session.last_seen_at >= LAST_SEEN_RESOLUTION:
            session.last_seen_at = now
            uow.commit()
        left = session.last_seen_at + idle_limit - now if not touch else idle_limit
        return SessionCheck(principal, int(left.total_seconds()), int(idle_limit.total_seconds()))


def keep_alive(principal: Principal, *, uow: UnitOfWork) -> None:
    """The person chose to stay signed in: their session counts as active from now."""
    with uow:
        session = _own_session(uow, principal, principal.session_id)
        session.last_seen_at = utcnow()
        uow.commit()


def sign_out(principal: Principal, *, uow: UnitOfWork) -> None:
    with uow:
        session = uow.session.get(UserSession, principal.session_id)
        if session is not None and session.ended_at is None:
            end_session(uow, principal, session, "signed_out")
            uow.commit()


def devices(principal: Principal, *, uow: UnitOfWork) -> list[Device]:
    """The caller's open sessions, newest first, the current one marked."""
    with uow:
        zone = uow.session.get(Practice, principal.tenant_id).time_zone
        rows = uow.sessions.all(
            select(UserSession)
            .where(UserSession.user_id == principal.user_id, UserSession.ended_at.is_(None))
            .order_by(UserSession.created_at.desc())
        )
        return [
            Device(
                id=str(row.id),
                description=row.device or "Unknown browser",
                signed_in=local_moment(row.created_at, zone),
                last_active=local_moment(row.last_seen_at, zone),
                current=row.id == principal.session_id,
            )
            for row in rows
        ]


def sign_out_device(principal: Principal, session_id: uuid.UUID, *, uow: UnitOfWork) -> None:
    """End one of the caller's own sessions; another user's id answers as a missing one."""
    with uow:
        session = _own_session(uow, principal, session_id)
        end_session(uow, principal, session, "signed_out_elsewhere")
        uow.commit()


def sign_out_everywhere_else(principal: Principal, *, uow: UnitOfWork) -> int:
    with uow:
        ended = end_all_sessions(uow, principal, "signed_out_elsewhere", keep=principal.session_id)
        uow.commit()
        return ended


def end_all_sessions(
    uow: UnitOfWork,
    principal: Principal | None,
    reason: str,
    *,
    user_id: uuid.UUID | None = None,
    keep: uuid.UUID | None = None,
) -> int:
    """End every open session of a user (password or MFA change, deactivation)."""
    owner = user_id or principal.user_id
    query = select(UserSession).where(UserSession.user_id == owner, UserSession.ended_at.is_(None))
    if keep is not None:
        query = query.where(UserSession.id != keep)
    sessions = uow.sessions.all(query)
    for session in sessions:
        end_session(uow, principal, session, reason)
    return len(sessions)


def end_expired_sessions(*, uow: UnitOfWork) -> int:
    """End every session past its absolute or idle limit (the scheduler runs this)."""
    now = utcnow()
    with uow:
        rows = uow.session.exec(
            select(UserSession, Practice.idle_timeout_minutes)
            .join(Practice, Practice.id == UserSession.tenant_id)
            .where(UserSession.ended_at.is_(None))
        ).all()
        expired = [
            (session, "absolute_timeout" if session.expires_at <= now else "idle_timeout")
            for session, minutes in rows
            if session.expires_at <= now or session.last_seen_at + idle_timeout(minutes) <= now
        ]
        for session, reason in expired:
            ended = uow.session.execute(
                update(UserSession)
                .where(UserSession.id == session.id, UserSession.ended_at.is_(None))
                .values(ended_at=now, end_reason=reason)
            ).rowcount
            if ended:
                uow.audit.record(
                    None,
                    f"auth.session_{reason}",
                    tenant_id=session.tenant_id,
                    actor_user_id=session.user_id,
                    resource_type="session",
                    resource_id=session.id,
                )
        uow.commit()
        return len(expired)


def mark_reauthenticated(uow: UnitOfWork, principal: Principal) -> None:
    _own_session(uow, principal, principal.session_id).reauthenticated_at = utcnow()


def recently_reauthenticated(uow: UnitOfWork, principal: Principal) -> bool:
    session = _own_session(uow, principal, principal.session_id)
    moment = session.reauthenticated_at
    return moment is not None and utcnow() - moment <= REAUTHENTICATION_LIFETIME


def idle_timeout(practice_minutes: int) -> timedelta:
    return timedelta(minutes=practice_minutes)


def end_session(
    uow: UnitOfWork, principal: Principal | None, session: UserSession, reason: str
) -> None:
    session.ended_at = utcnow()
    session.end_reason = reason
    uow.audit.record(
        principal,
        f"auth.session_{reason}",
        resource_type="session",
        resource_id=session.id,
        tenant_id=session.tenant_id,
        actor_user_id=session.user_id,
    )


def principal_of(uow: UnitOfWork, user: User, session: UserSession) -> Principal:
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


def _own_session(uow: UnitOfWork, principal: Principal, session_id: uuid.UUID) -> UserSession:
    session = uow.sessions.first(
        select(UserSession).where(
            UserSession.id == session_id,
            UserSession.user_id == principal.user_id,
            UserSession.ended_at.is_(None),
        )
    )
    if session is None:
        raise NotFound
    return session
