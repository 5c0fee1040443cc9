"""How a patient's profile reads (`PatientProfile`), for the patient and for the care team, and
how an identity change request reads (`ProfileChangeLine`): built from the rows inside the
caller's unit of work, after the caller has scoped and audited the read. Shared by the profile,
its identity changes and the onboarding.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import date

from sqlalchemy import select

from portal.backend.db import UnitOfWork
from portal.backend.models import Patient, Practice, ProfileChange, ProfileChangeStatus
from portal.backend.services.profile_checks import (
    CONTACT_METHOD_LABELS,
    GENDER_LABELS,
    RELATIONSHIP_LABELS,
    SEX_LABELS,
)
from portal.backend.views import (
    EmergencyContactLine,
    InsuranceView,
    PatientProfile,
    ProfileChangeLine,
    RequestedChange,
    local_moment,
)

RECENT_DECISIONS = 3
STATUS_LABELS = {
    ProfileChangeStatus.PENDING: "Pending review",
    ProfileChangeStatus.APPLIED: "Applied",
    ProfileChangeStatus.DECLINED: "Declined",
}
IDENTITY_LABELS = {
    "legal_first_name": "Legal first name",
    "legal_last_name": "Legal last name",
    "date_of_birth": "Date of birth",
}


def profile_view(uow: UnitOfWork, patient: Patient, tenant_id: uuid.UUID) -> PatientProfile:
    """The patient's profile with their latest identity change requests."""
    zone = uow.session.get(Practice, tenant_id).time_zone
    changes = (
        uow.session.exec(
            select(ProfileChange)
            .where(ProfileChange.tenant_id == tenant_id, ProfileChange.patient_id == patient.id)
            .order_by(ProfileChange.submitted_at.desc())
            .limit(RECENT_DECISIONS + 1)
        )
        .scalars()
        .all()
    )
    address = patient.address or {}
    insurance = patient.insurance or {}
    has_plan = bool(insurance.get("payer") or insurance.get("member_id"))
    relationship = insurance.get("relationship", "") or ""
    return PatientProfile(
        patient_id=str(patient.id),
        medical_record_number=patient.medical_record_number,
        legal_first_name=patient.legal_first_name,
        legal_last_name=patient.legal_last_name,
        preferred_name=patient.preferred_name or "",
        date_of_birth=patient.date_of_birth.isoformat(),
        date_of_birth_text=_birth_text(patient.date_of_birth.isoformat()),
        sex=patient.sex or "",
        sex_label=SEX_LABELS.get(patient.sex or "", (patient.sex or "").capitalize()),
        gender_identity=patient.gender_identity or "",
        gender_identity_label=GENDER_LABELS.get(patient.gender_identity or "", ""),
        pronouns=patient.pronouns or "",
        preferred_language=patient.preferred_language or "",
        phone=patient.phone or "",
        email=patient.email or "",
        address_line1=address.get("line1", ""),
        address_line2=address.get("line2", ""),
        city=address.get("city", ""),
        region=address.get("state", ""),
        postal_code=address.get("postal_code", ""),
        address_text=", ".join(
            part
            for part in (
                address.get("line1"),
                address.get("line2"),
                address.get("city"),
                " ".join(p for p in (address.get("state"), address.get("postal_code")) if p),
            )
            if part
        ),
        contact_method=patient.contact_method or "",
        contact_method_label=CONTACT_METHOD_LABELS.get(patient.contact_method or "", ""),
        insurance=InsuranceView(
            payer=insurance.get("payer", ""),
            member_id=insurance.get("member_id", ""),
            group_number=insurance.get("group_number", ""),
            subscriber=insurance.get("subscriber", ""),
            relationship=relationship,
            relationship_label=RELATIONSHIP_LABELS.get(relationship, relationship.capitalize()),
            front_image=_card_path(patient, "front"),
            back_image=_card_path(patient, "back"),
        )
        if has_plan or insurance.get("front_key") or insurance.get("back_key")
        else None,
        emergency_contacts=[
            EmergencyContactLine(
                id=c["id"],
                name=str(c.get("name", "")),
                relationship=str(c.get("relationship", "")),
                phone=str(c.get("phone", "")),
                may_share=bool(c.get("may_share")),
            )
            for c in contacts_of(patient)
        ],
        identity_requests=[
            change_line(change, patient, zone)
            for change in changes
            if change.status == ProfileChangeStatus.PENDING or change.decided_at is not None
        ][:RECENT_DECISIONS],
        onboarding_step=patient.onboarding_step or "",
        onboarding_finished=patient.onboarding_finished_at is not None,
    )


def change_line(change: ProfileChange, patient: Patient, zone: str) -> ProfileChangeLine:
    """An identity change request beside what the record holds now, times in `zone`."""
    current = identity_of(patient)
    requested = change.requested_values or {}

    def shown(name: str, value: str) -> str:
        return _birth_text(value) if name == "date_of_birth" and value else value

    return ProfileChangeLine(
        id=str(change.id),
        patient_id=str(patient.id),
        patient=patient.full_name,
        submitted=local_moment(change.submitted_at, zone),
        status=str(change.status),
        status_label=STATUS_LABELS[ProfileChangeStatus(change.status)],
        changes=[
            RequestedChange(label, shown(name, current[name]), shown(name, requested[name]))
            for name, label in IDENTITY_LABELS.items()
            if name in requested
        ],
        decided=local_moment(change.decided_at, zone) if change.decided_at else "",
        decline_reason=change.decline_reason or "",
    )


def identity_of(patient: Patient) -> dict[str, str]:
    """The identity fields as the record holds them, in the form a request asks for them."""
    return {
        "legal_first_name": patient.legal_first_name,
        "legal_last_name": patient.legal_last_name,
        "date_of_birth": patient.date_of_birth.isoformat(),
    }


def contacts_of(patient: Patient) -> list[dict]:
    """The emergency contacts, each with an id (contacts stored without one get an id derived
    from their content, stable until they change; it is stored on the next write)."""
    contacts = []
    for contact in patient.emergency_contacts or []:
        if not isinstance(contact, dict):
            continue
        if not contact.get("id"):
            digest = hashlib.sha256(
                f"{patient.id}|{contact.get('name')}|{contact.get('phone')}".encode()
            ).hexdigest()
            contact = {**contact, "id": digest[:32]}
        contacts.append(dict(contact))
    return contacts


def _birth_text(value: str) -> str:
    born = date.fromisoformat(value)
    return f"{born.day} {born:%B %Y}"


def _card_path(patient: Patient, side: str) -> str:
    key = (patient.insurance or {}).get(f"{side}_key")
    if not key:
        return ""
    version = hashlib.sha256(key.encode()).hexdigest()[:10]
    return f"/files/insurance/{patient.id}/{side}?v={version}"
