"""Break-glass for admins: the review of every grant of the practice, and opening a patient's
chart in an emergency (found by last name and date of birth, with a reason).

The review lists grants newest first: who, which patient, the reason they gave, when and until
when, whether an admin has reviewed it, and how many audited events happened under it (those
whose details carry `break_glass=<grant id>`, see `patient_access`). Reading the list and
marking a grant reviewed are audited; an admin does not review their own grant.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from portal.backend.db import UnitOfWork
from portal.backend.models import AccessGrant, AuditEvent, Patient, Practice, User
from portal.backend.models.base import utcnow
from portal.backend.patient_index import name_dob_index
from portal.backend.security.principal import NotFound, Principal, Role, require_role
from portal.backend.services.patient_access import (
    BreakGlassRefused,
    EmergencyAccess,
    checked_reason,
    grant_access,
    grant_view,
)
from portal.backend.views import local_moment

REVIEW_LIMIT = 100
ROLE_WORDS = {"provider": "Provider", "admin": "Admin"}
_UNDER_GRANT = re.compile(r"break_glass=([0-9a-f-]{36})")


@dataclass(frozen=True)
class GrantLine:
    id: str
    staff: str
    staff_role: str
    patient: str
    patient_id: str
    reason: str
    granted: str
    until: str
    live: bool
    reviewed: bool
    reviewed_by: str
    reviewed_at: str
    accesses: int
    own: bool


@dataclass(frozen=True)
class GrantReview:
    lines: list[GrantLine]
    unreviewed: int


def grants_for_review(
    principal: Principal, *, unreviewed_only: bool = False, uow: UnitOfWork
) -> GrantReview:
    """The practice's grants, newest first (REVIEW_LIMIT at most), or only those no admin has
    reviewed yet; and how many are waiting for review."""
    require_role(principal, Role.ADMIN)
    with uow:
        zone = uow.session.get(Practice, principal.tenant_id).time_zone
        staff, reviewer = aliased(User), aliased(User)
        scoped = AccessGrant.tenant_id == principal.tenant_id
        query = (
            select(AccessGrant, staff, Patient, reviewer)
            .join(staff, staff.id == AccessGrant.user_id)
            .join(Patient, Patient.id == AccessGrant.patient_id)
            .outerjoin(reviewer, reviewer.id == AccessGrant.reviewed_by_user_id)
            .where(scoped)
            .order_by(AccessGrant.created_at.desc(), AccessGrant.id)
            .limit(REVIEW_LIMIT)
        )
        waiting = AccessGrant.reviewed_at.is_(None)
        if unreviewed_only:
            query = query.where(waiting)
        rows = uow.session.exec(query).all()
        unreviewed = uow.session.exec(
            select(func.count()).select_from(AccessGrant).where(scoped, waiting)
        ).scalar_one()
        accesses = _accesses(uow, principal, [grant for grant, *_ in rows])
        uow.audit.record(
            principal,
            "access_grant.list",
            resource_type="access_grant_list",
            details=f"filter={'unreviewed' if unreviewed_only else 'all'}; listed={len(rows)}",
        )
        for grant, *_ in rows:
            uow.audit.record(
                principal,
                "access_grant.read",
                resource_type="access_grant",
                resource_id=grant.id,
                patient_id=grant.patient_id,
            )
        uow.commit()
        now = utcnow()
        return GrantReview(
            lines=[
                GrantLine(
                    id=str(grant.id),
                    staff=user.display_name,
                    staff_role=ROLE_WORDS.get(str(user.role), str(user.role)),
                    patient=patient.full_name,
                    patient_id=str(patient.id),
                    reason=grant.reason,
                    granted=local_moment(grant.created_at, zone),
                    until=local_moment(grant.expires_at, zone),
                    live=grant.expires_at > now,
                    reviewed=grant.reviewed_at is not None,
                    reviewed_by=by.display_name if by else "",
                    reviewed_at=local_moment(grant.reviewed_at, zone) if grant.reviewed_at else "",
                    accesses=accesses[grant.id],
                    own=grant.user_id == principal.user_id,
                )
                for grant, user, patient, by in rows
            ],
            unreviewed=unreviewed,
        )


def mark_reviewed(principal: Principal, grant_id: uuid.UUID, *, uow: UnitOfWork) -> None:
    """An admin has looked at the grant and what was done under it. A grant of another
    practice, or a missing one, is NotFound; an admin's own grant is left to another admin."""
    require_role(principal, Role.ADMIN)
    with uow:
        grant = (
            uow.session.exec(
                select(AccessGrant).where(
                    AccessGrant.id == grant_id, AccessGrant.tenant_id == principal.tenant_id
                )
            )
            .scalars()
            .first()
        )
        if grant is None:
            raise NotFound
        if grant.user_id == principal.user_id:
            raise BreakGlassRefused({"grant": "Another admin reviews your own emergency access."})
        if grant.reviewed_at is None:
            grant.reviewed_at = utcnow()
            grant.reviewed_by_user_id = principal.user_id
            uow.audit.record(
                principal,
                "access_grant.review",
                resource_type="access_grant",
                resource_id=grant.id,
                patient_id=grant.patient_id,
            )
        uow.commit()


def emergency_open(
    principal: Principal, last_name: str, date_of_birth: str, reason: str, *, uow: UnitOfWork
) -> EmergencyAccess:
    """An admin opens a patient's chart in an emergency: the one patient of the practice with
    this last name and date of birth (YYYY-MM-DD), for the reason given. Refused field by
    field in plain words; read-only, like any admin access."""
    require_role(principal, Role.ADMIN)
    errors: dict[str, str] = {}
    last_name = last_name.strip() if isinstance(last_name, str) else ""
    if not last_name:
        errors["last_name"] = "Enter the patient's last name."
    born = None
    try:
        born = date.fromisoformat(date_of_birth.strip())
    except (AttributeError, ValueError):
        errors["date_of_birth"] = "Enter the date of birth as YYYY-MM-DD, for example 1968-04-12."
    try:
        text = checked_reason(reason)
    except BreakGlassRefused as refused:
        errors.update(refused.errors)
    if errors:
        raise BreakGlassRefused(errors)
    with uow:
        matches = uow.patients.all(
            uow.patients.scoped(principal)
            .where(Patient.name_dob_index == name_dob_index(uow, last_name, born))
            .limit(2)
        )
        if len(matches) != 1:
            uow.audit.record(
                principal,
                "patient.lookup",
                outcome="not_found" if not matches else "ambiguous",
                resource_type="patient",
            )
            uow.commit()
            raise BreakGlassRefused(
                {
                    "last_name": "No patient of the practice has this last name and date of "
                    "birth. Check both against the patient's documents."
                    if not matches
                    else "More than one patient has this last name and date of birth. Ask "
                    "a clinician of the practice to open the right chart."
                }
            )
        access = grant_view(uow, grant_access(uow, principal, matches[0], text))
        uow.commit()
        return access


def _accesses(uow: UnitOfWork, principal: Principal, grants: list[AccessGrant]) -> Counter:
    """How many audit events each grant covers, read from the events' details."""
    counts: Counter = Counter()
    if not grants:
        return counts
    rows = uow.session.exec(
        select(AuditEvent.details).where(
            AuditEvent.tenant_id == principal.tenant_id,
            AuditEvent.patient_id.in_({grant.patient_id for grant in grants}),
            AuditEvent.actor_user_id.in_({grant.user_id for grant in grants}),
            AuditEvent.occurred_at >= min(grant.created_at for grant in grants),
            AuditEvent.details.like("%break_glass=%"),
        )
    ).scalars()
    for details in rows:
        for found in _UNDER_GRANT.findall(details):
            counts[uuid.UUID(found)] += 1
    return counts
