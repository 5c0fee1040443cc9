"""Authenticator apps and recovery codes: setting one up, checking a code exactly once."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select, update

from portal.backend.db import UnitOfWork
from portal.backend.models import Practice, RecoveryCode, User
from portal.backend.models.base import utcnow
from portal.backend.security import totp

WRONG_CODE = "That code is not right. Check the six digits in your authenticator app."


class CodeRejected(Exception):
    """The confirming code did not match the new authenticator."""

    def __init__(self) -> None:
        super().__init__(WRONG_CODE)


@dataclass(frozen=True)
class AuthenticatorSetup:
    secret: str
    qr_code: str
    account: str


def new_authenticator(uow: UnitOfWork, user: User) -> AuthenticatorSetup:
    """A new secret, kept as pending until a code from it is confirmed; an authenticator the
    user already has keeps working meanwhile."""
    secret = totp.new_secret()
    user.pending_totp_secret = secret
    issuer = uow.session.get(Practice, user.tenant_id).name
    uri = totp.provisioning_uri(secret, account=user.email, issuer=issuer)
    return AuthenticatorSetup(totp.readable_secret(secret), totp.qr_code(uri), user.email)


def confirm_authenticator(uow: UnitOfWork, user: User, code: str) -> list[str]:
    """Make the pending secret the user's authenticator once a code from it matches; returns
    ten new recovery codes (the old ones stop working)."""
    if user.pending_totp_secret is None:
        raise CodeRejected
    step = totp.matching_step(user.pending_totp_secret, code)
    if step is None:
        raise CodeRejected
    user.totp_secret, user.pending_totp_secret = user.pending_totp_secret, None
    user.totp_last_step = step
    user.mfa_enrolled_at = utcnow()
    uow.audit.record(
        None,
        "auth.mfa_enrolled",
        tenant_id=user.tenant_id,
        actor_user_id=user.id,
        resource_type="user",
        resource_id=user.id,
    )
    return replace_recovery_codes(uow, user)


def verify_second_factor(uow: UnitOfWork, user: User, code: str) -> bool:
    if totp.looks_like_recovery_code(code):
        return _use_recovery_code(uow, user, code)
    step = totp.matching_step(user.totp_secret or "", code)
    if step is None:
        return False
    # Accept each time step once: the row changes only if this step is newer than the last.
    accepted = uow.session.execute(
        update(User)
        .where(User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    ).rowcount
    return accepted == 1


def replace_recovery_codes(uow: UnitOfWork, user: User) -> list[str]:
    now = utcnow()
    for old in uow.session.exec(
        select(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    ).scalars():
        old.used_at = now
    codes = totp.new_recovery_codes()
    for code in codes:
        uow.session.add(
            RecoveryCode(tenant_id=user.tenant_id, user_id=user.id, code_hash=_code_hash(uow, code))
        )
    uow.audit.record(
        None,
        "auth.recovery_codes_issued",
        tenant_id=user.tenant_id,
        actor_user_id=user.id,
        resource_type="user",
        resource_id=user.id,
    )
    return codes


def _use_recovery_code(uow: UnitOfWork, user: User, code: str) -> bool:
    used = uow.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _code_hash(uow, code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if used:
        uow.audit.record(
            None,
            "auth.recovery_code_used",
            tenant_id=user.tenant_id,
            actor_user_id=user.id,
            resource_type="user",
            resource_id=user.id,
        )
    return used == 1


def _code_hash(uow: UnitOfWork, code: str) -> str:
    return uow.keyring.blind_index("recovery-code", totp.normalize_recovery_code(code))
