"""Creating accounts from the command line and by staff."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

from portal.backend.config import settings
from portal.backend.db import UnitOfWork
from portal.backend.models import Practice, User, UserStatus
from portal.backend.models.base import utcnow
from portal.backend.security.passwords import hash_password, password_problem
from portal.backend.security.principal import NotFound, Principal, Role, require_role
from portal.backend.services.sign_in import normalize_email
from portal.backend.services.users import patient_of
from portal.backend.views import local_moment


class AccountError(Exception):
    """The account cannot be created as asked; the message says why in plain words."""


def create_admin(
    *,
    email: str,
    name: str,
    password: str,
    practice_name: str | None,
    time_zone: str,
    uow: UnitOfWork,
) -> None:
    if "@" not in email or email.strip() != email or len(email) > 254:
        raise AccountError(f"'{email}' is not an email address.")
    if not name.strip():
        raise AccountError("The administrator needs a name.")
    problem = password_problem(password, name=name, email=email)
    if problem:
        raise AccountError(problem)
    with uow:
        practice = (
            uow.session.exec(select(Practice).order_by(Practice.created_at)).scalars().first()
        )
        if practice is None:
            if not practice_name:
                raise AccountError("There is no practice yet; name one with --practice-name.")
            try:
                ZoneInfo(time_zone)
            except (ZoneInfoNotFoundError, ValueError):
                raise AccountError(f"'{time_zone}' is not an IANA time zone.") from None
            slug = "".join(c if c.isalnum() else "-" for c in practice_name.lower()).strip("-")
            practice = uow.practices.add(
                Practice(
                    name=practice_name,
                    slug=slug[:64] or "practice",
                    time_zone=time_zone,
                    idle_timeout_minutes=settings().idle_timeout_minutes,
                )
            )
            uow.session.flush()
        email_index = uow.keyring.blind_index("email", normalize_email(email))
        if uow.users.first(select(User).where(User.email_index == email_index)):
            raise AccountError(f"An account with the email {email} already exists.")
        admin = uow.users.add(
            User(
                tenant_id=practice.id,
                role=Role.ADMIN,
                status=UserStatus.ACTIVE,
                email=email,
                email_index=email_index,
                display_name=name.strip(),
                password_hash=hash_password(password),
            )
        )
        uow.session.flush()
        uow.audit.record(
            None, "admin.create", tenant_id=practice.id, resource_type="user", resource_id=admin.id
        )
        uow.commit()


@dataclass(frozen=True)
class LockedAccount:
    id: str
    name: str
    role: str
    until: str


def locked_accounts(principal: Principal, *, uow: UnitOfWork) -> list[LockedAccount]:
    """Accounts of the practice locked after failed sign-ins, for an admin to review."""
    require_role(principal, Role.ADMIN)
    with uow:
        zone = uow.session.get(Practice, principal.tenant_id).time_zone
        rows = uow.users.all(
            uow.users.scoped(principal)
            .where(User.locked_until > utcnow())
            .order_by(User.locked_until)
        )
        return [
            LockedAccount(
                str(u.id), u.display_name, str(u.role), local_moment(u.locked_until, zone)
            )
            for u in rows
        ]


def unlock(principal: Principal, user_id: uuid.UUID, *, uow: UnitOfWork) -> None:
    """The account may try to sign in again now. A patient's unlock carries their patient id
    in the audit event, so filtering the log by the patient finds it."""
    require_role(principal, Role.ADMIN)
    with uow:
        user = uow.users.get_for(principal, user_id)
        if user is None:
            raise NotFound
        user.locked_until, user.failed_sign_ins = None, 0
        uow.audit.record(
            principal,
            "admin.unlock",
            resource_type="user",
            resource_id=user.id,
            patient_id=patient_of(uow, user),
        )
        uow.commit()
