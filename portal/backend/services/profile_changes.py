"""Identity changes, asked for by the patient and decided by the care team.

The identity fields (legal first and last name, date of birth) do not change at once: the
patient asks for the change (`ProfileChange`, shown as "pending review"), and a provider who
reads the patient normally (`patient_access.normal_access`: their care teams, their
appointments) applies or declines it with a reason; the patient is told, PHI-free, either way.
Every step is audited with the NAMES of the fields asked for, never their values; applying a
change re-indexes the patient for search (`patient_index.index_patient`).
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select

from portal.backend.db import UnitOfWork
from portal.backend.models import Patient, Practice, ProfileChange, ProfileChangeStatus
from portal.backend.models.base import utcnow
from portal.backend.notify import links
from portal.backend.notify.outbox import notify_patient, portal_link
from portal.backend.patient_index import index_patient
from portal.backend.security.principal import NotFound, Principal, Role, require_role
from portal.backend.services.patient_access import normal_access, own_patient
from portal.backend.services.profile_checks import CONTROL, ProfileInvalid, checked_identity
from portal.backend.services.profile_view import (
    IDENTITY_LABELS,
    change_line,
    identity_of,
    profile_view,
)
from portal.backend.views import PatientProfile, ProfileChangeLine

# --- asked for by the patient ---------------------------------------------------------------


def request_identity_change(
    principal: Principal,
    legal_first_name: str,
    legal_last_name: str,
    date_of_birth: str,
    *,
    uow: UnitOfWork,
) -> PatientProfile:
    """Ask the practice to change the legal name or date of birth. Only fields that differ from
    the record are asked for; a newer request replaces a pending one."""
    require_role(principal, Role.PATIENT)
    values = checked_identity(legal_first_name, legal_last_name, date_of_birth)
    with uow:
        patient = own_patient(uow, principal)
        current = identity_of(patient)
        requested = {k: v for k, v in values.items() if current[k] != v}
        if not requested:
            raise ProfileInvalid(
                {"legal_first_name": "These are already your details: change what is wrong."}
            )
        pending = (
            uow.session.exec(
                select(ProfileChange)
                .where(
                    ProfileChange.tenant_id == principal.tenant_id,
                    ProfileChange.patient_id == patient.id,
                    ProfileChange.status == ProfileChangeStatus.PENDING,
                )
                .with_for_update()
            )
            .scalars()
            .first()
        )
        if pending is None:
            pending = ProfileChange(tenant_id=principal.tenant_id, patient_id=patient.id)
            uow.session.add(pending)
        pending.requested_values = requested
        pending.submitted_at = utcnow()
        uow.session.flush()
        uow.audit.record(
            principal,
            "profile.change.request",
            resource_type="profile_change",
            resource_id=pending.id,
            patient_id=patient.id,
            details=",".join(sorted(requested)),
        )
        uow.commit()
        return profile_view(uow, patient, principal.tenant_id)


def withdraw_identity_change(principal: Principal, *, uow: UnitOfWork) -> PatientProfile:
    """The patient's pending request is declined on their own word."""
    require_role(principal, Role.PATIENT)
    with uow:
        patient = own_patient(uow, principal)
        pending = _pending_of(uow, principal, patient.id)
        if pending is None:
            raise NotFound
        pending.status = ProfileChangeStatus.DECLINED
        pending.decided_at = utcnow()
        pending.decided_by_user_id = principal.user_id
        pending.decline_reason = "You withdrew this request."
        uow.audit.record(
            principal,
            "profile.change.withdraw",
            resource_type="profile_change",
            resource_id=pending.id,
            patient_id=patient.id,
        )
        uow.commit()
        return profile_view(uow, patient, principal.tenant_id)


# --- decided by the care team ---------------------------------------------------------------


def pending_changes(principal: Principal, *, uow: UnitOfWork) -> list[ProfileChangeLine]:
    """The identity change requests waiting for review of the patients the provider reads
    normally, oldest first."""
    require_role(principal, Role.PROVIDER)
    with uow:
        rows = uow.session.exec(
            select(ProfileChange, Patient)
            .join(Patient, Patient.id == ProfileChange.patient_id)
            .where(
                ProfileChange.tenant_id == principal.tenant_id,
                Patient.tenant_id == principal.tenant_id,
                ProfileChange.status == ProfileChangeStatus.PENDING,
                normal_access(principal, ProfileChange.patient_id),
            )
            .order_by(ProfileChange.submitted_at, ProfileChange.id)
            .limit(200)
        ).all()
        zone = uow.session.get(Practice, principal.tenant_id).time_zone
        uow.audit.record(principal, "profile.change.list", resource_type="profile_change")
        uow.commit()
        return [change_line(change, patient, zone) for change, patient in rows]


def apply_change(principal: Principal, change_id: uuid.UUID, *, uow: UnitOfWork) -> None:
    """Apply a pending request to the patient's record; the patient is told."""
    require_role(principal, Role.PROVIDER)
    with uow:
        change, patient = _pending_for_staff(uow, principal, change_id)
        for name, value in change.requested_values.items():
            if name == "date_of_birth":
                patient.date_of_birth = date.fromisoformat(value)
            elif name in IDENTITY_LABELS:
                setattr(patient, name, value)
        patient.updated_at = utcnow()
        index_patient(uow, patient)
        change.status = ProfileChangeStatus.APPLIED
        change.decided_at = utcnow()
        change.decided_by_user_id = principal.user_id
        uow.audit.record(
            principal,
            "profile.change.apply",
            resource_type="profile_change",
            resource_id=change.id,
            patient_id=patient.id,
            details=",".join(sorted(change.requested_values)),
        )
        notify_patient(
            uow,
            patient.id,
            "profile_change_applied",
            {"link": portal_link(links.PROFILE)},
            event_key=f"profile_change:{change.id}",
        )
        uow.commit()


def decline_change(
    principal: Principal, change_id: uuid.UUID, reason: str, *, uow: UnitOfWork
) -> None:
    """Decline a pending request with a reason the patient reads in their profile (the
    notification itself only says that there is an answer)."""
    require_role(principal, Role.PROVIDER)
    reason = CONTROL.sub(" ", reason or "").strip()
    if not reason:
        raise ProfileInvalid({"reason": "Say why, so the patient knows what to do next."})
    if len(reason) > 500:
        raise ProfileInvalid({"reason": "Keep the reason under 500 characters."})
    with uow:
        change, patient = _pending_for_staff(uow, principal, change_id)
        change.status = ProfileChangeStatus.DECLINED
        change.decided_at = utcnow()
        change.decided_by_user_id = principal.user_id
        change.decline_reason = reason
        uow.audit.record(
            principal,
            "profile.change.decline",
            resource_type="profile_change",
            resource_id=change.id,
            patient_id=patient.id,
            details=",".join(sorted(change.requested_values)),
        )
        notify_patient(
            uow,
            patient.id,
            "profile_change_declined",
            {"link": portal_link(links.PROFILE)},
            event_key=f"profile_change:{change.id}",
        )
        uow.commit()


# --- helpers --------------------------------------------------------------------------------


def _pending_of(uow: UnitOfWork, principal: Principal, patient_id: uuid.UUID):
    return (
        uow.session.exec(
            select(ProfileChange).where(
                ProfileChange.tenant_id == principal.tenant_id,
                ProfileChange.patient_id == patient_id,
                ProfileChange.status == ProfileChangeStatus.PENDING,
            )
        )
        .scalars()
        .first()
    )


def _pending_for_staff(
    uow: UnitOfWork, principal: Principal, change_id: uuid.UUID
) -> tuple[ProfileChange, Patient]:
    row = uow.session.exec(
        select(ProfileChange, Patient)
        .join(Patient, Patient.id == ProfileChange.patient_id)
        .where(
            ProfileChange.id == change_id,
            ProfileChange.tenant_id == principal.tenant_id,
            Patient.tenant_id == principal.tenant_id,
            ProfileChange.status == ProfileChangeStatus.PENDING,
            normal_access(principal, ProfileChange.patient_id),
        )
        .with_for_update(of=ProfileChange)
    ).first()
    if row is None:
        raise NotFound
    return row[0], row[1]
