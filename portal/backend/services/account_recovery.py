"""Forgotten passwords: an emailed single-use link (30 minutes; a newer one replaces it). A
new password ends every session, and signing in afterwards still needs the second factor."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal.backend.db import UnitOfWork
from portal.backend.models import AccountToken, TokenPurpose, User, UserStatus
from portal.backend.models.base import utcnow
from portal.backend.notify import links
from portal.backend.notify.outbox import enqueue_email, portal_link
from portal.backend.security.passwords import hash_password, password_problem
from portal.backend.services import account_tokens
from portal.backend.services.sessions import end_all_sessions
from portal.backend.services.sign_in import normalize_email

RESET_LIFETIME = timedelta(minutes=30)
LINK_INVALID = "This link has expired or was already used. Ask for a new one."


class ResetRefused(Exception):
    """The reset cannot go ahead; the message says why."""


def request_password_reset(email: str, *, uow: UnitOfWork) -> None:
    """Email a reset link if an active account uses this address; the caller's answer is the
    same either way."""
    with uow:
        email_index = uow.keyring.blind_index("email", normalize_email(email))
        user = uow.users.first(select(User).where(User.email_index == email_index))
        if user is None or user.status != UserStatus.ACTIVE:
            uow.audit.record(None, "password_reset.request", outcome="no_account")
            uow.commit()
            return
        token, row = account_tokens.issue(uow, user, TokenPurpose.PASSWORD_RESET, RESET_LIFETIME)
        enqueue_email(
            uow,
            tenant_id=user.tenant_id,
            user_id=user.id,
            to=user.email,
            template_id="password_reset",
            idempotency_key=f"password_reset:{row.id}",
            parameters={
                "link": portal_link(links.RESET_PASSWORD, token=token),
                "minutes": str(int(RESET_LIFETIME.total_seconds() // 60)),
            },
        )
        uow.audit.record(
            None, "password_reset.request", tenant_id=user.tenant_id, actor_user_id=user.id
        )
        uow.commit()


def check_reset_link(token: str, *, uow: UnitOfWork) -> None:
    with uow:
        _reset(uow, token)


def reset_password(token: str, password: str, *, uow: UnitOfWork) -> None:
    with uow:
        row, user = _reset(uow, token)
        problem = password_problem(password, name=user.display_name, email=user.email)
        if problem:
            raise ResetRefused(problem)
        user.password_hash = hash_password(password)
        user.password_changed_at = row.used_at = utcnow()
        end_all_sessions(uow, None, "password_changed", user_id=user.id)
        uow.audit.record(
            None,
            "password_reset.complete",
            tenant_id=user.tenant_id,
            actor_user_id=user.id,
            resource_type="user",
            resource_id=user.id,
        )
        uow.commit()


def _reset(uow: UnitOfWork, token: str) -> tuple[AccountToken, User]:
    row, user = account_tokens.redeem(uow, token, TokenPurpose.PASSWORD_RESET)
    if row is None or user.status != UserStatus.ACTIVE:
        uow.audit.record(None, "password_reset.open", outcome="invalid_link")
        uow.commit()
        raise ResetRefused(LINK_INVALID)
    return row, user
