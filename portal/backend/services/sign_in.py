"""Signing in: a password, then a code from an authenticator app or a recovery code.

The first step always leads to the second, whether or not the email and password were right,
so neither the first step's answer nor its timing reveals which accounts exist, which password
is right or which account is locked; the second step fails with one message for all of them.
Five consecutive failures (of either step) lock the account for 15 minutes and email its owner;
a client address with too many recent failures is refused for a while, whatever the account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm.attributes import set_committed_value

from portal.backend.db import UnitOfWork
from portal.backend.models import (
    AccountToken,
    SignInAttempt,
    TokenPurpose,
    User,
    UserStatus,
)
from portal.backend.models.base import utcnow
from portal.backend.notify.outbox import enqueue_email
from portal.backend.security.passwords import MAX_LENGTH, verify_password
from portal.backend.security.principal import Principal
from portal.backend.security.tokens import new_token
from portal.backend.services import account_tokens, mfa
from portal.backend.services.sessions import open_session

FAILURES_BEFORE_LOCKOUT = 5
LOCKOUT = timedelta(minutes=15)
CHALLENGE_LIFETIME = timedelta(minutes=5)
ADDRESS_WINDOW = timedelta(minutes=15)
ADDRESS_FAILURES_ALLOWED = 30

SIGN_IN_FAILED = (
    "We could not sign you in. Check your email address, password and code, and try again. "
    "After five failed attempts an account is locked for 15 minutes."
)
TOO_MANY_ATTEMPTS = (
    "There have been too many failed sign-ins from your network. Wait 15 minutes and try again."
)
CHALLENGE_EXPIRED = "Signing in took too long. Start again with your email and password."


class SignInFailed(Exception):
    """Any failure of either step; the message never says which part was wrong."""

    def __init__(self, message: str = SIGN_IN_FAILED):
        super().__init__(message)


@dataclass(frozen=True)
class Challenge:
    """The second step: `token` proves the first step happened; `enroll` means the account has
    no authenticator yet and must set one up before it can sign in."""

    token: str
    enroll: bool = False


def normalize_email(email: str) -> str:
    return email.strip().lower()


def begin_sign_in(email: str, password: str, *, client: str | None, uow: UnitOfWork) -> Challenge:
    """Check the password; always answer with a challenge (a decoy when anything was wrong)."""
    with uow:
        client_hash = _client_hash(uow, client)
        if _address_is_blocked(uow, client_hash):
            uow.audit.record(None, "auth.sign_in", outcome="rate_limited")
            uow.commit()
            raise SignInFailed(TOO_MANY_ATTEMPTS)
        email_index = uow.keyring.blind_index("email", normalize_email(email))
        user = uow.users.first(select(User).where(User.email_index == email_index))
        candidate = password if len(password) <= MAX_LENGTH else ""
        matches, new_hash = verify_password(candidate, user.password_hash if user else None)
        usable = user is not None and user.status == UserStatus.ACTIVE and not _locked(user)
        if not (usable and matches):
            if user is not None:
                _count_failure(uow, user)
            _record_attempt(uow, client_hash, succeeded=False)
            uow.audit.record(
                None,
                "auth.password",
                outcome="failure",
                tenant_id=user.tenant_id if user else None,
                actor_user_id=user.id if user else None,
            )
            uow.commit()
            return Challenge(new_token())  # a decoy: no row, so no code will ever pass
        if new_hash:
            user.password_hash = new_hash
        token, _ = account_tokens.issue(
            uow, user, TokenPurpose.SIGN_IN, CHALLENGE_LIFETIME, retire_earlier=False
        )
        uow.audit.record(None, "auth.password", tenant_id=user.tenant_id, actor_user_id=user.id)
        uow.commit()
        return Challenge(token, enroll=user.mfa_enrolled_at is None)


def complete_sign_in(
    challenge: str, code: str, *, client: str | None, device: str, uow: UnitOfWork
) -> Principal:
    """The second step: a TOTP code (accepted once) or an unused recovery code. The session
    opens here; the browser gets its token through a ticket (services/session_tickets.py)."""
    with uow:
        client_hash = _client_hash(uow, client)
        if _address_is_blocked(uow, client_hash):
            uow.audit.record(None, "auth.mfa", outcome="rate_limited")
            uow.commit()
            raise SignInFailed(TOO_MANY_ATTEMPTS)
        row, user = _pending(uow, challenge)
        if user is None or user.mfa_enrolled_at is None:
            _record_attempt(uow, client_hash, succeeded=False)
            uow.audit.record(
                None,
                "auth.mfa",
                outcome="no_challenge" if row is None else "failure",
                tenant_id=user.tenant_id if user else None,
                actor_user_id=user.id if user else None,
            )
            uow.commit()
            raise SignInFailed
        if _locked(user) or not mfa.verify_second_factor(uow, user, code):
            _count_failure(uow, user)
            _record_attempt(uow, client_hash, succeeded=False)
            uow.audit.record(
                None, "auth.mfa", outcome="failure", tenant_id=user.tenant_id, actor_user_id=user.id
            )
            uow.commit()
            raise SignInFailed
        row.used_at = utcnow()
        user.failed_sign_ins = 0
        _record_attempt(uow, client_hash, succeeded=True)
        principal = open_session(uow, user, device=device).principal
        uow.commit()
        return principal


def start_enrollment(challenge: str, *, uow: UnitOfWork) -> mfa.AuthenticatorSetup:
    """For an account without an authenticator: a new secret to scan, kept until confirmed."""
    with uow:
        _, user = _pending(uow, challenge)
        if user is None or user.mfa_enrolled_at is not None:
            raise SignInFailed(CHALLENGE_EXPIRED)
        setup = mfa.new_authenticator(uow, user)
        uow.commit()
        return setup


def finish_enrollment(
    challenge: str, code: str, *, client: str | None, device: str, uow: UnitOfWork
) -> tuple[list[str], Principal]:
    """Confirm the new authenticator with one code; returns the recovery codes (shown once)
    and the principal of the new session."""
    with uow:
        row, user = _pending(uow, challenge)
        if user is None or user.mfa_enrolled_at is not None:
            raise SignInFailed(CHALLENGE_EXPIRED)
        codes = mfa.confirm_authenticator(uow, user, code)
        row.used_at = utcnow()
        user.failed_sign_ins = 0
        _record_attempt(uow, _client_hash(uow, client), succeeded=True)
        principal = open_session(uow, user, device=device).principal
        uow.commit()
        return codes, principal


def _pending(uow: UnitOfWork, challenge: str) -> tuple[AccountToken | None, User | None]:
    row, user = account_tokens.redeem(uow, challenge, TokenPurpose.SIGN_IN)
    if user is not None and user.status != UserStatus.ACTIVE:
        return row, None
    return row, user


def _locked(user: User) -> bool:
    return user.locked_until is not None and user.locked_until > utcnow()


def _count_failure(uow: UnitOfWork, user: User) -> None:
    if _locked(user):
        return
    # One atomic increment in the database: failures sent in parallel each count (adding to
    # the value read earlier lost them on PostgreSQL), and the row stays locked until commit.
    users = User.__table__
    uow.session.execute(
        users.update()
        .where(users.c.id == user.id)
        .values(failed_sign_ins=users.c.failed_sign_ins + 1)
    )
    failures = uow.session.execute(
        select(users.c.failed_sign_ins).where(users.c.id == user.id)
    ).scalar_one()
    set_committed_value(user, "failed_sign_ins", failures)
    if failures >= FAILURES_BEFORE_LOCKOUT:
        user.failed_sign_ins = 0
        user.locked_until = utcnow() + LOCKOUT
        uow.audit.record(
            None,
            "auth.lockout",
            tenant_id=user.tenant_id,
            actor_user_id=user.id,
            resource_type="user",
            resource_id=user.id,
        )
        enqueue_email(
            uow,
            tenant_id=user.tenant_id,
            user_id=user.id,
            to=user.email,
            template_id="account_locked",
            parameters={"minutes": str(int(LOCKOUT.total_seconds() // 60))},
            idempotency_key=f"account_locked:{user.id}:{user.locked_until.isoformat()}",
        )


def _client_hash(uow: UnitOfWork, client: str | None) -> str:
    return uow.keyring.blind_index("client-address", client or "unknown")


def _address_is_blocked(uow: UnitOfWork, client_hash: str) -> bool:
    failures = uow.session.exec(
        select(func.count())
        .select_from(SignInAttempt)
        .where(
            SignInAttempt.client_hash == client_hash,
            SignInAttempt.succeeded.is_(False),
            SignInAttempt.attempted_at > utcnow() - ADDRESS_WINDOW,
        )
    ).scalar_one()
    return failures >= ADDRESS_FAILURES_ALLOWED


def _record_attempt(uow: UnitOfWork, client_hash: str, *, succeeded: bool) -> None:
    uow.session.add(SignInAttempt(client_hash=client_hash, succeeded=succeeded))
