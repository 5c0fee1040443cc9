"""Who is acting: the principal every service function takes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    PATIENT = "patient"
    PROVIDER = "provider"
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    """A signed-in user, built from a live server-side session row."""

    user_id: uuid.UUID
    role: Role
    tenant_id: uuid.UUID
    session_id: uuid.UUID
    patient_id: uuid.UUID | None = None
    provider_id: uuid.UUID | None = None


class NotFound(Exception):
    """The resource does not exist or is not the caller's; the two answer alike."""


class PermissionDenied(Exception):
    """The caller's role may not perform the action at all."""


def require_role(principal: Principal, *roles: Role) -> None:
    if principal.role not in roles:
        raise PermissionDenied(f"{principal.role} may not do this")
