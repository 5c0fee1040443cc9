"""The practice's accounts, for admins: who they are, whether they can sign in, their role,
their authenticator and their sessions. Deactivating, a change of role and an MFA reset end
every session; the practice always keeps an active admin.

Every action names the account by id, scoped to the admin's practice in the query (another
practice's id answers as missing), and is audited with `details` naming what changed, never a
value anyone typed."""

from __future__ import annotations

import uuid

from sqlalchemy import func, or_, select

from portal.backend import patient_index
from portal.backend.db import UnitOfWork
from portal.backend.models import (
    ACTIVE_APPOINTMENT_STATUSES,
    Appointment,
    CareTeamMember,
    Patient,
    Practice,
    Provider,
    RecoveryCode,
    User,
    UserSession,
    UserStatus,
)
from portal.backend.models.base import utcnow
from portal.backend.security.principal import NotFound, Principal, Role, require_role
from portal.backend.services.patient_query import matches_words
from portal.backend.services.patient_search import CANDIDATE_LIMIT, patients_named
from portal.backend.services.sessions import (
    end_all_sessions,
    end_session,
    recently_reauthenticated,
)
from portal.backend.services.sign_in import normalize_email
from portal.backend.views import AccountSessionLine, UserLine, UsersPage, local_moment

PAGE_SIZE = 50
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


class UsersRefused(Exception):
    """The change would leave the practice worse off; the message says why in plain words."""


def list_users(
    principal: Principal,
    *,
    role: str = "",
    status: str = "",
    query: str = "",
    after: str = "",
    uow: UnitOfWork,
) -> UsersPage:
    """A page of the practice's accounts, oldest first. Names are encrypted, so the list is
    ordered by when each account was made. `query` is a whole email address (blind index) or
    part of a name: staff names are matched on the providers' plain names (and the few admins'
    opened names), patients' through the hashed name pieces of `patient_search`."""
    require_role(principal, Role.ADMIN)
    if role and role not in set(Role):
        raise UsersRefused("Choose a role from the list.")
    if status and status not in set(UserStatus):
        raise UsersRefused("Choose a status from the list.")
    query = " ".join(query.split())[:200]
    words = _name_words(query) if query and "@" not in query else ()
    with uow:
        rows = uow.users.scoped(principal)
        if role:
            rows = rows.where(User.role == role)
        if status:
            rows = rows.where(User.status == status)
        if query and "@" in query:
            rows = rows.where(
                User.email_index == uow.keyring.blind_index("email", normalize_email(query))
            )
        elif words:
            rows = rows.where(User.id.in_(_named(uow, principal, words, role)))
        if after:
            last = uow.users.get_for(principal, _id_of(after))
            if last is None:
                raise NotFound
            rows = rows.where(
                or_(
                    User.created_at > last.created_at,
                    (User.created_at == last.created_at) & (User.id > last.id),
                )
            )
        users = uow.users.all(rows.order_by(User.created_at, User.id).limit(PAGE_SIZE + 1))
        shown = users[:PAGE_SIZE]
        sessions = _open_sessions(uow, [user.id for user in shown])
        zone = uow.session.get(Practice, principal.tenant_id).time_zone
        now = utcnow()
        uow.audit.record(
            principal,
            "user.list",
            resource_type="user",
            details=f"by={'email' if '@' in query else 'name' if words else 'none'}; "
            f"role={role or 'any'}; status={status or 'any'}; listed={len(shown)}",
        )
        uow.commit()
        return UsersPage(
            lines=[
                UserLine(
                    id=str(user.id),
                    name=user.display_name,
                    role=str(user.role),
                    status=str(user.status),
                    mfa_enrolled=user.mfa_enrolled_at is not None,
                    last_sign_in=(
                        local_moment(user.last_sign_in_at, zone) if user.last_sign_in_at else ""
                    ),
                    locked=user.locked_until is not None and user.locked_until > now,
                    open_sessions=sessions.get(user.id, 0),
                )
                for user in shown
            ],
            next_after=str(shown[-1].id) if len(users) > PAGE_SIZE else "",
        )


def deactivate(principal: Principal, user_id: uuid.UUID, *, uow: UnitOfWork) -> None:
    """The account can no longer sign in, and every session it has open ends now."""
    require_role(principal, Role.ADMIN)
    if user_id == principal.user_id:
        raise UsersRefused("You cannot deactivate your own account.")
    with uow:
        user = _user(uow, principal, user_id)
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
        user = _user(uow, principal, user_id)
        user.status = UserStatus.ACTIVE if user.password_hash else UserStatus.INVITED
        uow.audit.record(principal, "user.reactivate", resource_type="user", resource_id=user.id)
        uow.commit()


def end_sessions(principal: Principal, user_id: uuid.UUID, *, uow: UnitOfWork) -> int:
    """Sign the account out of every device; answers how many sessions ended."""
    require_role(principal, Role.ADMIN)
    with uow:
        user = _user(uow, principal, user_id)
        ended = end_all_sessions(uow, principal, "ended_by_admin", user_id=user.id)
        uow.audit.record(principal, "user.sessions.end", resource_type="user", resource_id=user.id)
        uow.commit()
        return ended


def change_role(principal: Principal, user_id: uuid.UUID, role: str, *, uow: UnitOfWork) -> None:
    """Make a provider an administrator or an administrator a provider. A patient account
    belongs to a patient's record, so it never changes role, nor does staff become a patient.
    The account's sessions end, so its next sign-in gets the new role's pages."""
    require_role(principal, Role.ADMIN)
    if role not in STAFF_ROLES:
        raise UsersRefused("Choose provider or administrator.")
    if user_id == principal.user_id:
        raise UsersRefused(
            "You cannot change your own role. Ask another administrator to change it."
        )
    with uow:
        user = _user(uow, principal, user_id)
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
        uow.commit()


def reset_mfa(
    principal: Principal, user_id: uuid.UUID, identity_check: str, *, uow: UnitOfWork
) -> None:
    """Someone lost their authenticator and their recovery codes: clear both, so they set up a
    new authenticator at their next sign-in (after their password), and end their sessions.
    The admin must have re-authenticated within five minutes and say how they checked who was
    asking (`IDENTITY_CHECKS`); the category is audited."""
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
        user = _user(uow, principal, user_id)
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
            patient_id=_patient_of(uow, user),
            details=f"identity_check={identity_check}; cleared=authenticator,recovery_codes; "
            f"sessions_ended={ended}",
        )
        uow.commit()


def account_sessions(
    principal: Principal, user_id: uuid.UUID, *, uow: UnitOfWork
) -> list[AccountSessionLine]:
    """The account's open sessions, newest first: the device, when it signed in and when it
    was last seen (never the client's address)."""
    require_role(principal, Role.ADMIN)
    with uow:
        user = _user(uow, principal, user_id)
        zone = uow.session.get(Practice, principal.tenant_id).time_zone
        rows = uow.sessions.all(
            select(UserSession)
            .where(
                UserSession.tenant_id == principal.tenant_id,
                UserSession.user_id == user.id,
                UserSession.ended_at.is_(None),
            )
            .order_by(UserSession.created_at.desc(), UserSession.id)
        )
        uow.audit.record(
            principal,
            "user.sessions.read",
            resource_type="user",
            resource_id=user.id,
            patient_id=_patient_of(uow, user),
        )
        uow.commit()
        return [
            AccountSessionLine(
                id=str(row.id),
                device=row.device or "Unknown browser",
                started=local_moment(row.created_at, zone),
                last_seen=local_moment(row.last_seen_at, zone),
            )
            for row in rows
        ]


def end_account_session(
    principal: Principal, user_id: uuid.UUID, session_id: uuid.UUID, *, uow: UnitOfWork
) -> bool:
    """End one session of the account; False when it had already ended (nothing to do)."""
    require_role(principal, Role.ADMIN)
    with uow:
        user = _user(uow, principal, user_id)
        session = uow.sessions.first(
            select(UserSession).where(
                UserSession.id == session_id,
                UserSession.user_id == user.id,
                UserSession.tenant_id == principal.tenant_id,
            )
        )
        if session is None:
            raise NotFound
        if session.ended_at is not None:
            return False
        end_session(uow, principal, session, "ended_by_admin")
        uow.audit.record(
            principal,
            "user.session.end",
            resource_type="session",
            resource_id=session.id,
            patient_id=_patient_of(uow, user),
            details=f"user={user.id}",
        )
        uow.commit()
        return True


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


def _patient_of(uow: UnitOfWork, user: User) -> uuid.UUID | None:
    if user.role != Role.PATIENT:
        return None
    return uow.session.exec(
        select(Patient.id).where(Patient.user_id == user.id)
    ).scalar_one_or_none()


def _name_words(query: str) -> tuple[str, ...]:
    words = tuple(patient_index.words(query))
    if not words or any(ch.isdigit() for word in words for ch in word):
        raise UsersRefused("Search by part of a name (letters only) or by the whole email address.")
    if not any(len(word) >= patient_index.PIECE for word in words) and any(
        len(word) < 2 for word in words
    ):
        raise UsersRefused("Type at least three letters of the name.")
    return words


def _named(uow: UnitOfWork, principal: Principal, words: tuple[str, ...], role: str) -> list:
    """Ids of the practice's accounts whose names hold every typed word."""
    ids: list[uuid.UUID] = []
    if role in ("", Role.PATIENT):
        patients, too_many = patients_named(uow, principal.tenant_id, words)
        if too_many:
            raise UsersRefused(
                f"More than {CANDIDATE_LIMIT:,} patients match. Type more of the name."
            )
        if patients:
            ids += uow.session.exec(
                select(Patient.user_id).where(
                    Patient.id.in_(patients), Patient.user_id.is_not(None)
                )
            ).scalars()
    if role in ("", Role.PROVIDER):
        providers = uow.session.exec(
            select(Provider.user_id, Provider.display_name).where(
                Provider.tenant_id == principal.tenant_id, Provider.user_id.is_not(None)
            )
        ).all()
        ids += [
            user_id
            for user_id, name in providers
            if matches_words(words, patient_index.words(name))
        ]
    if role in ("", Role.ADMIN):  # few, and their names are opened only to match
        admins = uow.users.all(uow.users.scoped(principal).where(User.role == Role.ADMIN))
        ids += [
            admin.id
            for admin in admins
            if matches_words(words, patient_index.words(admin.display_name))
        ]
    return ids


def _user(uow: UnitOfWork, principal: Principal, user_id: uuid.UUID) -> User:
    user = uow.users.get_for(principal, user_id)
    if user is None:
        raise NotFound
    return user


def _id_of(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound from None


def _open_sessions(uow: UnitOfWork, user_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    if not user_ids:
        return {}
    counts = uow.session.exec(
        select(UserSession.user_id, func.count())
        .where(UserSession.user_id.in_(user_ids), UserSession.ended_at.is_(None))
        .group_by(UserSession.user_id)
    ).all()
    return dict(counts)
