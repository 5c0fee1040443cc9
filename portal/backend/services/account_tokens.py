"""Single-use tokens for links and sign-in steps: the browser gets the token, the database its
SHA-256; issuing a new one for the same purpose retires the user's earlier ones."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from portal.backend.db import UnitOfWork
from portal.backend.models import AccountToken, TokenPurpose, User
from portal.backend.models.base import utcnow
from portal.backend.security.tokens import new_token, token_hash


def issue(
    uow: UnitOfWork,
    user: User,
    purpose: TokenPurpose,
    lifetime: timedelta,
    *,
    created_by: uuid.UUID | None = None,
    retire_earlier: bool = True,
) -> tuple[str, AccountToken]:
    now = utcnow()
    if retire_earlier:
        for earlier in uow.session.exec(
            select(AccountToken).where(
                AccountToken.user_id == user.id,
                AccountToken.purpose == purpose,
                AccountToken.used_at.is_(None),
            )
        ).scalars():
            earlier.used_at = now
    token = new_token()
    row = AccountToken(
        tenant_id=user.tenant_id,
        user_id=user.id,
        purpose=purpose,
        token_hash=token_hash(token),
        expires_at=now + lifetime,
        created_by_user_id=created_by,
    )
    uow.session.add(row)
    uow.session.flush()
    return token, row


def redeem(
    uow: UnitOfWork, token: str, purpose: TokenPurpose
) -> tuple[AccountToken, User] | tuple[None, None]:
    """The unexpired, unused token row and its user, or (None, None)."""
    row = (
        uow.session.exec(
            select(AccountToken).where(
                AccountToken.token_hash == token_hash(token),
                AccountToken.purpose == purpose,
                AccountToken.used_at.is_(None),
                AccountToken.expires_at > utcnow(),
            )
        )
        .scalars()
        .first()
    )
    user = uow.session.get(User, row.user_id) if row else None
    return (row, user) if row and user else (None, None)
