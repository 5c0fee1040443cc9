"""Changing what protects or reaches an account: password, authenticator, recovery codes, the
mobile number for texts. Each change needs a fresh re-authentication (password and code, within
five minutes), and a new password or authenticator ends every session of the account."""

from __future__ import annotations

from portal.backend.db import UnitOfWork
from portal.backend.models import User
from portal.backend.models.base import utcnow
from portal.backend.notify.sms import normalize_phone
from portal.backend.security.passwords import hash_password, password_problem, verify_password
from portal.backend.security.principal import NotFound, Principal
from portal.backend.services import mfa
from portal.backend.services.sessions import (
    end_all_sessions,
    mark_reauthenticated,
    recently_reauthenticated,
)

REAUTHENTICATION_FAILED = "That password or code is not right."
REAUTHENTICATION_NEEDED = "Confirm it's you with your password and a code first."


class ChangeRefused(Exception):
    """The change cannot go ahead; the message says why."""


def reauthenticate(principal: Principal, password: str, code: str, *, uow: UnitOfWork) -> None:
    with uow:
        user = _user(uow, principal)
        matches, _ = verify_password(password, user.password_hash)
        if not (matches and mfa.verify_second_factor(uow, user, code)):
            uow.audit.record(principal, "auth.reauthenticate", outcome="failure")
            uow.commit()
            raise ChangeRefused(REAUTHENTICATION_FAILED)
        mark_reauthenticated(uow, principal)
        uow.audit.record(principal, "auth.reauthenticate")
        uow.commit()


def change_password(principal: Principal, password: str, *, uow: UnitOfWork) -> None:
    with uow:
        user = _reauthenticated_user(uow, principal)
        problem = password_problem(password, name=user.display_name, email=user.email)
        if problem:
            raise ChangeRefused(problem)
        user.password_hash = hash_password(password)
        user.password_changed_at = utcnow()
        end_all_sessions(uow, principal, "password_changed")
        uow.audit.record(
            principal, "auth.password_changed", resource_type="user", resource_id=user.id
        )
        uow.commit()


def new_recovery_codes(principal: Principal, *, uow: UnitOfWork) -> list[str]:
    with uow:
        user = _reauthenticated_user(uow, principal)
        codes = mfa.replace_recovery_codes(uow, user)
        uow.commit()
        return codes


def start_new_authenticator(principal: Principal, *, uow: UnitOfWork) -> mfa.AuthenticatorSetup:
    with uow:
        setup = mfa.new_authenticator(uow, _reauthenticated_user(uow, principal))
        uow.commit()
        return setup


def finish_new_authenticator(principal: Principal, code: str, *, uow: UnitOfWork) -> list[str]:
    """The new authenticator replaces the old one; every session ends, this one too."""
    with uow:
        user = _reauthenticated_user(uow, principal)
        try:
            codes = mfa.confirm_authenticator(uow, user, code)
        except mfa.CodeRejected as rejection:
            raise ChangeRefused(str(rejection)) from None
        end_all_sessions(uow, principal, "mfa_changed")
        uow.commit()
        return codes


def set_mobile_phone(principal: Principal, phone: str, *, uow: UnitOfWork) -> str | None:
    """The number texts go to (empty removes it); returns it as stored, in E.164 form."""
    number = normalize_phone(phone) if phone.strip() else None
    if phone.strip() and number is None:
        raise ChangeRefused(
            "That mobile number does not look right. Enter it with its area code, for example "
            "(555) 013-4421, or with + and the country code."
        )
    with uow:
        user = _reauthenticated_user(uow, principal)
        user.mobile_phone = number
        uow.audit.record(
            principal, "auth.mobile_phone_changed", resource_type="user", resource_id=user.id
        )
        uow.commit()
        return number


def _user(uow: UnitOfWork, principal: Principal) -> User:
    user = uow.session.get(User, principal.user_id)
    if user is None or user.tenant_id != principal.tenant_id:
        raise NotFound
    return user


def _reauthenticated_user(uow: UnitOfWork, principal: Principal) -> User:
    if not recently_reauthenticated(uow, principal):
        uow.audit.record(principal, "auth.reauthentication_missing", outcome="denied")
        uow.commit()
        raise ChangeRefused(REAUTHENTICATION_NEEDED)
    return _user(uow, principal)
