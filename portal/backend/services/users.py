"""The practice's accounts, for admins: the list (filtered, searched by email or by part of a
name), and each account's sessions, ended one by one or all at once. Changes to an account
(deactivation, role, MFA reset) are in `user_changes`.

Every action names the account by id, scoped to the admin's practice in the query (another
practice's id answers as missing), and is audited with `details` naming what changed, never a
value anyone typed."""

from __future__ import annotations

import uuid

from sqlalchemy import func, or_, select

from portal.backend import patient_index
from portal.backend.db import UnitOfWork
from portal.backend.models import Patient, Practice, Provider, User, UserSession, UserStatus
from portal.backend.models.base import utcnow
from portal.backend.security.principal import NotFound, Principal, Role, require_role
from portal.backend.services.patient_query import matches_words
from portal.backend.services.patient_search import CANDIDATE_LIMIT, patients_named
from portal.backend.services.sessions import end_all_sessions, end_session
from portal.backend.services.sign_in import normalize_email
from portal.backend.views import AccountSessionLine, UserLine, UsersPage, local_moment

PAGE_SIZE = 50


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


def end_sessions(principal: Principal, user_id: uuid.UUID, *, uow: UnitOfWork) -> int:
    """Sign the account out of every device; answers how many sessions ended."""
    require_role(principal, Role.ADMIN)
    with uow:
        user = account_of(uow, principal, user_id)
        ended = end_all_sessions(uow, principal, "ended_by_admin", user_id=user.id)
        uow.audit.record(principal, "user.sessions.end", resource_type="user", resource_id=user.id)
        uow.commit()
        return ended


def account_sessions(
    principal: Principal, user_id: uuid.UUID, *, uow: UnitOfWork
) -> list[AccountSessionLine]:
    """The account's open sessions, newest first: the device, when it signed in and when it
    was last seen (never the client's address)."""
    require_role(principal, Role.ADMIN)
    with uow:
        user = account_of(uow, principal, user_id)
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
            patient_id=patient_of(uow, user),
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
        user = account_of(uow, principal, user_id)
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
            patient_id=patient_of(uow, user),
            details=f"user={user.id}",
        )
        uow.commit()
        return True


def patient_of(uow: UnitOfWork, user: User) -> uuid.UUID | None:
    """The patient record of a patient's account (for the audit events about it)."""
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


def account_of(uow: UnitOfWork, principal: Principal, user_id: uuid.UUID) -> User:
    """An account of the admin's practice (scoped in the query); NotFound for any other."""
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
