"""The practice's accounts, for admins: who they are, whether they can sign in, and their
sessions. Deactivating ends every session; the practice always keeps an active admin."""

from __future__ import annotations

import uuid

from sqlalchemy import func, or_, select

from portal.backend.db import UnitOfWork
from portal.backend.models import Practice, User, UserSession, UserStatus
from portal.backend.models.base import utcnow
from portal.backend.security.principal import NotFound, Principal, Role, require_role
from portal.backend.services.sessions import end_all_sessions
from portal.backend.services.sign_in import normalize_email
from portal.backend.views import UserLine, UsersPage, local_moment

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
    ordered by when each account was made and searched only by exact email (blind index)."""
    require_role(principal, Role.ADMIN)
    if role and role not in set(Role):
        raise UsersRefused("Choose a role from the list.")
    if status and status not in set(UserStatus):
        raise UsersRefused("Choose a status from the list.")
    query = query.strip()
    if query and "@" not in query:
        raise UsersRefused("Search by the person's full email address.")
    with uow:
        rows = uow.users.scoped(principal)
        if role:
            rows = rows.where(User.role == role)
        if status:
            rows = rows.where(User.status == status)
        if query:
            rows = rows.where(
                User.email_index == uow.keyring.blind_index("email", normalize_email(query))
            )
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
        uow.audit.record(principal, "user.list", resource_type="user")
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
        if user.role == Role.ADMIN and user.status == UserStatus.ACTIVE:
            admins = uow.users.all(
                uow.users.scoped(principal)
                .where(User.role == Role.ADMIN, User.status == UserStatus.ACTIVE)
                .with_for_update()
            )
            if all(admin.id == user.id for admin in admins):
                raise UsersRefused("The practice needs at least one active administrator.")
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
