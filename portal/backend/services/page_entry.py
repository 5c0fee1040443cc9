"""What the guard of every signed-in page needs, in one unit of work: the session checked (as
activity), the practice's brand, and the shell's unread counts."""

from __future__ import annotations

from dataclasses import dataclass

from portal.backend.db import UnitOfWork
from portal.backend.security.principal import Principal
from portal.backend.services import branding, notifications, sessions
from portal.backend.services.branding import Brand
from portal.backend.services.notifications import UnreadCounts


@dataclass(frozen=True)
class PageEntry:
    principal: Principal | None  # None: no live session
    brand: Brand | None = None
    unread: UnreadCounts | None = None


def enter_page(token: str, *, uow: UnitOfWork) -> PageEntry:
    with uow:
        principal = sessions.resolve_session(token, uow=uow)
        if principal is None:
            return PageEntry(None)
        return PageEntry(
            principal,
            branding.brand(principal.tenant_id, uow=uow),
            notifications.unread_counts(principal, uow=uow),
        )
