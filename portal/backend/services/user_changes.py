"""Changes to the practice's accounts, for admins: deactivating and reactivating, a change of
role and an MFA reset. Deactivating, a change of role and an MFA reset end every session; the
practice always keeps an active admin; a change of role and an MFA reset are told to the person
(a notice without PHI, in the portal and by email, which they cannot turn off).

Every action names the account by id, scoped to the admin's practice in the query (another
practice's id answers as missing), and is audited with `details` naming what changed, never a
value anyone typed. The list, search and sessions of accounts are in `users`."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from portal.backend.db import UnitOfWork
from portal.backend.models import (
    ACTIVE_APPOINTMENT_STATUSES,
    Appointment,
    CareTeamMember,
    Provider,
    RecoveryCode,
    User,
    UserStatus,
)
from portal.backend.models.base import utcnow
from portal.backend.notify import links
from portal.backend.notify.outbox import notify_user, portal_link
from portal.backend.security.principal import Principal, Role, require_role
from portal.backend.services.sessions import end_all_sessions, recently_reauthenticated
from portal.backend.services.users import UsersRefused, account_of, patient_of

STAFF_ROLES = (Role.PROVIDER, Role.ADMIN)
# How the admin made sure the person asking for an MFA reset is the account's owner. Only the
# category is kept (in the audit event): a free-text note could hold PHI.
IDENTITY_CHECKS = {
    "callback": "Called back on the number on file",
    "in_person": "In person with photo ID",
    "video": "Video call with photo ID",
    "known_staff": "Colleague known to me in person (staff only)",
}
REAUTHENTICATION_NEEDED = "Confirm it's you with your password and a code first."


def deactivate(principal: Principal, user_id: uuid.UUID, *, uow: UnitOfWork) -> None:
    """The account can no longer sign in, and every session it has open ends now."""
    require_role(principal, Role.ADMIN)
    if user_id == principal.user_id:
        raise UsersRefused("You cannot deactivate your own account.")
    with uow:
        user = account_of(uow, principal, user_id)
        _keep_an_admin(
            uow, principal, user, "The practice needs at least one active administrator."
        )
        user.status = UserStatus.DEACTIVATED
        end_all_sessions(uow, principal, "deactivated", user_id=user.id)
        uow.audit.record(principal, "user.deactivate", resource_type="user", resource_id=user.id)
        uow.commit()


def reactivate(principal: Principal, user_id: uuid.UUID, *, uow: UnitOfWork) -> None:
    """The account may sign in again; one that never chose a password goes back to invited."""
    require_role(principal, Role.ADMIN)
    with uow:
        user = account_of(uow, principal, user_id)
        user.status = UserStatus.ACTIVE if user.password_hash else UserStatus.INVITED
        uow.audit.record(principal, "user.reactivate", resource_type="user", resource_id=user.id)
        uow.commit()


def change_role(principal: Principal, user_id: uuid.UUID, role: str, *, uow: UnitOfWork) -> None:
    """Make a provider an administrator or an administrator a provider. A patient account
    belongs to a patient's record, so it never changes role, nor does staff become a patient.
    The account's sessions end, so its next sign-in gets the new role's pages, and the person
    is told."""
    require_role(principal, Role.ADMIN)
    if role not in STAFF_ROLES:
        raise UsersRefused("Choose provider or administrator.")
    if user_id == principal.user_id:
        raise UsersRefused(
            "You cannot change your own role. Ask another administrator to change it."
        )
    with uow:
        user = account_of(uow, principal, user_id)
        if user.role == role:
            return  # already so: nothing to change (a second click, a stale screen)
        if user.role == Role.PATIENT:
            raise UsersRefused(
                "A patient's account belongs to their patient record and stays a patient "
                "account. To give this person a staff account, invite them as staff with "
                "another email address."
            )
        if user.role == Role.ADMIN:
            _keep_an_admin(
                uow,
                principal,
                user,
                "Changing the last admin's role is refused: the practice needs at least one "
                "active administrator. Make someone else an administrator first.",
            )
            provider = uow.session.exec(
                select(Provider).where(Provider.user_id == user.id)
            ).scalar_one_or_none()
            if provider is None:
                uow.providers.add(
                    Provider(
                        tenant_id=user.tenant_id,
                        user_id=user.id,
                        display_name=user.display_name[:200],
                    )
                )
        else:
            _no_clinical_work_left(uow, user)
        before, user.role = str(user.role), Role(role)
        ended = end_all_sessions(uow, principal, "role_changed", user_id=user.id)
        uow.audit.record(
            principal,
            "user.role.change",
            resource_type="user",
            resource_id=user.id,
            details=f"changed=role; from={before}; to={role}; sessions_ended={ended}",
        )
        notify_user(
            uow,
            user,
            "role_changed",
            {"link": portal_link(links.SIGN_IN)},
            event_key=f"role_changed:{user.id}:{utcnow().isoformat()}",
        )
        uow.commit()


def reset_mfa(
    principal: Principal, user_id: uuid.UUID, identity_check: str, *, uow: UnitOfWork
) -> None:
    """Someone lost their authenticator and their recovery codes: clear both, so they set up a
    new authenticator at their next sign-in (after their password), end their sessions and
    tell them. The admin must have re-authenticated within five minutes and say how they
    checked who was asking (`IDENTITY_CHECKS`); the category is audited."""
    require_role(principal, Role.ADMIN)
    if identity_check not in IDENTITY_CHECKS:
        raise UsersRefused("Choose how you confirmed who asked for the reset.")
    if user_id == principal.user_id:
        raise UsersRefused(
            "Reset your own authenticator on your Security page, or ask another administrator."
        )
    with uow:
        if not recently_reauthenticated(uow, principal):
            uow.audit.record(
                principal,
                "auth.reauthentication_missing",
                outcome="denied",
                resource_type="user",
                resource_id=user_id,
                details="for=user.mfa.reset",
            )
            uow.commit()
            raise UsersRefused(REAUTHENTICATION_NEEDED)
        user = account_of(uow, principal, user_id)
        if identity_check == "known_staff" and user.role == Role.PATIENT:
            raise UsersRefused(
                "Confirm a patient's identity by a call back, in person or by video."
            )
        now = utcnow()
        user.totp_secret = user.pending_totp_secret = None
        user.totp_last_step = None
        user.mfa_enrolled_at = None
        codes = uow.session.exec(
            select(RecoveryCode).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        ).scalars()
        for code in codes:
            code.used_at = now
        ended = end_all_sessions(uow, principal, "mfa_reset", user_id=user.id)
        uow.audit.record(
            principal,
            "user.mfa.reset",
            resource_type="user",
            resource_id=user.id,
            patient_id=patient_of(uow, user),
            details=f"identity_check={identity_check}; cleared=authenticator,recovery_codes; "
            f"sessions_ended={ended}",
        )
        notify_user(uow, user, "mfa_reset", {}, event_key=f"mfa_reset:{user.id}:{now.isoformat()}")
        uow.commit()


def _keep_an_admin(uow: UnitOfWork, principal: Principal, user: User, refusal: str) -> None:
    """Refuse when `user` is the practice's only active administrator."""
    if user.role != Role.ADMIN or user.status != UserStatus.ACTIVE:
        return
    admins = uow.users.all(
        uow.users.scoped(principal)
        .where(User.role == Role.ADMIN, User.status == UserStatus.ACTIVE)
        .with_for_update()
    )
    if all(admin.id == user.id for admin in admins):
        raise UsersRefused(refusal)


def _no_clinical_work_left(uow: UnitOfWork, user: User) -> None:
    """A provider becomes an administrator only once no patient depends on them: no care
    team (the inbox routes threads by team) and no upcoming visit."""
    provider = uow.session.exec(
        select(Provider).where(Provider.user_id == user.id)
    ).scalar_one_or_none()
    if provider is None:
        return
    teams = uow.session.exec(
        select(func.count())
        .select_from(CareTeamMember)
        .where(CareTeamMember.provider_id == provider.id)
    ).scalar_one()
    if teams:
        raise UsersRefused(
            f"{provider.display_name} is on {teams} care team{'s' if teams != 1 else ''}. "
            "Remove them from their care teams first (Care teams page), so their patients' "
            "messages still reach someone."
        )
    upcoming = uow.session.exec(
        select(func.count())
        .select_from(Appointment)
        .where(
            Appointment.provider_id == provider.id,
            Appointment.starts_at >= utcnow(),
            Appointment.status.in_(ACTIVE_APPOINTMENT_STATUSES),
        )
    ).scalar_one()
    if upcoming:
        raise UsersRefused(
            f"{provider.display_name} has {upcoming} upcoming "
            f"appointment{'s' if upcoming != 1 else ''}. Move or cancel them first."
        )
