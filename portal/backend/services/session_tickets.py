"""Session tickets: how a signed-in browser gets its session cookie without any page script
ever holding the session token.

A sign-in opens the session on the server (`sessions.open_session`), but its first token never
leaves the service. The page gets a ticket instead — single-use, valid for a minute, stored
only as its SHA-256 in `account_tokens` (purpose `session_ticket`, so any worker can redeem it)
— and posts it to `/auth/session` (portal/backend/api/session_cookie.py). Redeeming it mints
the session's token anew and hands it over in an `HttpOnly` cookie, the only place it is ever
sent. The ticket names its session, so it can start no other.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select, update

from portal.backend.db import UnitOfWork
from portal.backend.models import (
    AccountToken,
    Practice,
    TokenPurpose,
    User,
    UserSession,
    UserStatus,
)
from portal.backend.models.base import utcnow
from portal.backend.security.principal import NotFound, Principal
from portal.backend.security.tokens import new_token, token_hash
from portal.backend.services.sessions import SignedIn, idle_timeout, principal_of

TICKET_LIFETIME = timedelta(seconds=60)


def issue_ticket(principal: Principal, *, uow: UnitOfWork) -> str:
    """A ticket for the caller's own session, while that session is live."""
    with uow:
        if _live(uow, principal.session_id, principal.user_id) is None:
            raise NotFound
        ticket = f"{principal.session_id.hex}.{new_token()}"
        uow.session.add(
            AccountToken(
                tenant_id=principal.tenant_id,
                user_id=principal.user_id,
                purpose=TokenPurpose.SESSION_TICKET,
                token_hash=token_hash(ticket),
                expires_at=utcnow() + TICKET_LIFETIME,
            )
        )
        uow.audit.record(
            principal,
            "auth.session_ticket",
            resource_type="session",
            resource_id=principal.session_id,
        )
        uow.commit()
        return ticket


def redeem_ticket(ticket: str, *, uow: UnitOfWork) -> SignedIn | None:
    """The session's new token and principal, once per ticket; None for a ticket that is
    unknown, spent, expired or whose session has ended."""
    with uow:
        now = utcnow()
        row = (
            uow.session.exec(
                select(AccountToken).where(
                    AccountToken.token_hash == token_hash(ticket),
                    AccountToken.purpose == TokenPurpose.SESSION_TICKET,
                )
            )
            .scalars()
            .first()
        )
        refusal = _spend(uow, row, now)
        live = None if refusal else _live(uow, _session_of(ticket), row.user_id)
        if live is None:
            uow.audit.record(
                None,
                "auth.session_cookie",
                outcome=refusal or "session_ended",
                tenant_id=row.tenant_id if row else None,
                actor_user_id=row.user_id if row else None,
            )
            uow.commit()
            return None
        session, user = live
        token = new_token()
        session.token_hash = token_hash(token)
        session.last_seen_at = now
        principal = principal_of(uow, user, session)
        uow.audit.record(
            principal, "auth.session_cookie", resource_type="session", resource_id=session.id
        )
        uow.commit()
        return SignedIn(token, principal)


def _spend(uow: UnitOfWork, row: AccountToken | None, now) -> str | None:
    """Mark the ticket used in one conditional UPDATE, so that two redemptions racing on any
    workers cannot both pass; the reason for a refusal, or None."""
    if row is None:
        return "unknown"
    if row.expires_at <= now:
        return "expired"
    spent = uow.session.execute(
        update(AccountToken)
        .where(AccountToken.id == row.id, AccountToken.used_at.is_(None))
        .values(used_at=now)
    ).rowcount
    return None if spent == 1 else "reused"


def _session_of(ticket: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(hex=ticket.partition(".")[0])
    except ValueError:
        return None


def _live(
    uow: UnitOfWork, session_id: uuid.UUID | None, user_id: uuid.UUID
) -> tuple[UserSession, User] | None:
    """The session and its active user, unless it has ended or passed its idle or absolute
    limit (those are ended, with their reason, by the next check or the sweep)."""
    if session_id is None:
        return None
    row = uow.session.exec(
        select(UserSession, User, Practice.idle_timeout_minutes)
        .join(User, User.id == UserSession.user_id)
        .join(Practice, Practice.id == UserSession.tenant_id)
        .where(
            UserSession.id == session_id,
            UserSession.user_id == user_id,
            UserSession.ended_at.is_(None),
        )
    ).first()
    if row is None:
        return None
    session, user, idle_minutes = row
    now = utcnow()
    if (
        session.expires_at <= now
        or session.last_seen_at + idle_timeout(idle_minutes) <= now
        or user.status != UserStatus.ACTIVE
    ):
        return None
    return session, user
