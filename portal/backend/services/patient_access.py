"""Who may read which patient: the one gate for a patient's chart data, and break-glass.

Normal access: a patient reads their own chart. A provider reads the patients of their practice
who are on one of their care teams, or who have an appointment with them (whatever its status)
starting within the last RECENT_VISIT_DAYS days or later. Any other patient of the practice
raises `BreakGlassNeeded`; a patient of another practice, or one that does not exist, `NotFound`.

Break-glass: a provider who needs another patient of the practice, or an admin who needs any,
gives a reason in words (`break_glass`). The grant lasts BREAK_GLASS_MINUTES; while it lives the
gate lets the caller in and every audit event about the patient in that transaction carries
`break_glass=<grant id>` in its details. An admin reads under a grant and never writes: the
services that write admit providers only. The practice's admins review the grants
(`break_glass_review`).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import false, or_, select
from sqlalchemy.sql.elements import ColumnElement

from portal.backend.db import UnitOfWork
from portal.backend.models import AccessGrant, Appointment, CareTeamMember, Patient, Practice
from portal.backend.models.base import utcnow
from portal.backend.security.principal import NotFound, Principal, Role
from portal.backend.views import local_time

BREAK_GLASS_MINUTES = 60
RECENT_VISIT_DAYS = 730
REASON_MIN = 20
REASON_MAX = 1000
REASON_WORDS = 3
_WORD = re.compile(r"[^\W\d_]{2,}")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class BreakGlassNeeded(NotFound):
    """A patient of the caller's practice outside their normal access. A kind of `NotFound`,
    so a screen that does not offer break-glass answers as for a missing patient."""


class BreakGlassRefused(Exception):
    """The request cannot be granted as it is; `errors` says, per field, what to enter."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class EmergencyAccess:
    """A live break-glass grant: whose chart, and until when (the practice's time)."""

    grant_id: str
    patient_id: str
    until: str


# --- the gate -------------------------------------------------------------------------------


def own_patient(uow: UnitOfWork, principal: Principal) -> Patient:
    """The signed-in patient's own row; NotFound for anyone else."""
    patient = None
    if principal.role == Role.PATIENT and principal.patient_id is not None:
        patient = uow.patients.get_for(principal, principal.patient_id)
    if patient is None:
        raise NotFound
    return patient


def readable_patient(
    uow: UnitOfWork, principal: Principal, patient_id: uuid.UUID | None = None
) -> Patient:
    """The patient whose chart the caller may read now. A patient: themselves only (no id, or
    their own). A provider: a patient of normal access. Staff: any patient of the practice
    under a live grant of their own, flagged in the audit log from here on. A patient of the
    practice outside that raises `BreakGlassNeeded`, its refusal audited (and committed, as
    every caller asks the gate before it changes anything); anything else is NotFound."""
    if principal.role == Role.PATIENT:
        if patient_id not in (None, principal.patient_id):
            raise NotFound
        return own_patient(uow, principal)
    patient = uow.patients.get_for(principal, patient_id) if patient_id else None
    if patient is None:
        raise NotFound
    if principal.role == Role.PROVIDER and _normally_readable(uow, principal, patient.id):
        return patient
    grant = _live_grant(uow, principal, patient.id)
    if grant is None:
        uow.audit.record(
            principal,
            "patient.access",
            outcome="denied",
            resource_type="patient",
            resource_id=patient.id,
            patient_id=patient.id,
        )
        uow.commit()
        raise BreakGlassNeeded
    uow.audit.flag_break_glass(patient.id, grant.id)
    return patient


def emergency_access(uow: UnitOfWork, patient: Patient) -> EmergencyAccess | None:
    """The grant under which this transaction reads `patient` (after `readable_patient`), for
    the chart's banner; None under normal access."""
    grant_id = uow.audit.break_glass_grant(patient.id)
    if grant_id is None:
        return None
    return grant_view(uow, uow.session.get(AccessGrant, grant_id))


def normal_access(principal: Principal, patient_column) -> ColumnElement[bool]:
    """SQL: the patient in `patient_column` is one the caller reads without break-glass (for
    lists such as the results to review)."""
    if principal.role == Role.PATIENT:
        return patient_column == principal.patient_id
    if principal.role != Role.PROVIDER:
        return false()
    on_team = (
        select(Patient.id)
        .where(
            Patient.tenant_id == principal.tenant_id,
            Patient.care_team_id.in_(care_teams_of(principal)),
        )
        .correlate(None)
    )
    seen = (
        select(Appointment.patient_id)
        .where(
            Appointment.tenant_id == principal.tenant_id,
            Appointment.provider_id == principal.provider_id,
            Appointment.starts_at >= utcnow() - timedelta(days=RECENT_VISIT_DAYS),
        )
        .correlate(None)
    )
    return or_(patient_column.in_(on_team), patient_column.in_(seen))


def care_teams_of(principal: Principal):
    """The ids of the care teams the provider is a member of, as a subquery."""
    return select(CareTeamMember.care_team_id).where(
        CareTeamMember.provider_id == principal.provider_id
    )


def _normally_readable(uow: UnitOfWork, principal: Principal, patient_id: uuid.UUID) -> bool:
    found = uow.session.exec(
        select(Patient.id).where(Patient.id == patient_id, normal_access(principal, Patient.id))
    ).first()
    return found is not None


def _live_grant(uow: UnitOfWork, principal: Principal, patient_id: uuid.UUID) -> AccessGrant | None:
    return (
        uow.session.exec(
            select(AccessGrant)
            .where(
                AccessGrant.tenant_id == principal.tenant_id,
                AccessGrant.user_id == principal.user_id,
                AccessGrant.patient_id == patient_id,
                AccessGrant.expires_at > utcnow(),
            )
            .order_by(AccessGrant.expires_at.desc())
            .limit(1)
        )
        .scalars()
        .first()
    )


# --- break-glass ----------------------------------------------------------------------------


def break_glass(
    principal: Principal, patient_id: uuid.UUID, reason: str, *, uow: UnitOfWork
) -> EmergencyAccess:
    """Open a patient of the practice outside normal access for BREAK_GLASS_MINUTES, for the
    reason given (kept encrypted, never logged). A provider or an admin only; while a grant
    for the patient is live, asking again returns it."""
    if principal.role not in (Role.PROVIDER, Role.ADMIN):
        raise NotFound
    text = checked_reason(reason)
    with uow:
        patient = uow.patients.get_for(principal, patient_id)
        if patient is None:
            raise NotFound
        grant = grant_access(uow, principal, patient, text)
        uow.commit()
        return grant_view(uow, grant)


def grant_access(
    uow: UnitOfWork, principal: Principal, patient: Patient, reason: str
) -> AccessGrant:
    """The caller's live grant for `patient`, or a new one for the (checked) reason, audited
    as `patient.break_glass`; inside the caller's transaction."""
    live = _live_grant(uow, principal, patient.id)
    if live is not None:
        return live
    now = utcnow()
    grant = AccessGrant(
        tenant_id=principal.tenant_id,
        user_id=principal.user_id,
        patient_id=patient.id,
        reason=reason,
        created_at=now,
        expires_at=now + timedelta(minutes=BREAK_GLASS_MINUTES),
    )
    uow.session.add(grant)
    uow.session.flush()
    uow.audit.record(
        principal,
        "patient.break_glass",
        resource_type="patient",
        resource_id=patient.id,
        patient_id=patient.id,
        details=f"grant={grant.id}; minutes={BREAK_GLASS_MINUTES}",
    )
    return grant


def checked_reason(reason: str) -> str:
    """The reason, trimmed; refused in plain words when it is missing or says too little."""
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        problem = "Give the reason you need this patient's chart now."
    elif _CONTROL.search(text):
        problem = "Remove the special characters from the reason."
    elif len(text) > REASON_MAX:
        problem = f"The reason can be at most {REASON_MAX} characters."
    elif len(text) < REASON_MIN or len(_WORD.findall(text)) < REASON_WORDS:
        problem = (
            f"Say in a few words why you need this chart now (at least {REASON_MIN} "
            "characters), for example: patient collapsed in the waiting room, need allergies."
        )
    else:
        return text
    raise BreakGlassRefused({"reason": problem})


def grant_view(uow: UnitOfWork, grant: AccessGrant) -> EmergencyAccess:
    """A grant as the screens show it."""
    zone = uow.session.get(Practice, grant.tenant_id).time_zone
    return EmergencyAccess(
        grant_id=str(grant.id),
        patient_id=str(grant.patient_id),
        until=local_time(grant.expires_at, zone),
    )
