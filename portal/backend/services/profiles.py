"""A patient's profile: reading it, and the changes that apply at once — contact details,
insurance (with card images) and emergency contacts.

Identity fields (legal first and last name, date of birth) change only through the practice's
review (`profile_changes`); the onboarding that collects the profile after the first sign-in is
`onboarding`. What a form sends is checked in `profile_checks`; the profile's view is built in
`profile_view`. Every change is audited with the NAMES of the fields it changed, never their
values. Search indexes follow every change of the preferred name, phone or email
(`patient_index.index_patient`).
"""

from __future__ import annotations

import uuid

from portal.backend.db import UnitOfWork
from portal.backend.models import Patient
from portal.backend.models.base import utcnow
from portal.backend.patient_index import index_patient
from portal.backend.security.principal import NotFound, Principal, Role, require_role
from portal.backend.services.files import FileDownload
from portal.backend.services.patient_access import own_patient, readable_patient
from portal.backend.services.profile_checks import (
    ContactDetails,
    EmergencyContact,
    InsuranceDetails,
    ProfileInvalid,
    checked_contact,
    checked_contact_details,
    checked_insurance,
)
from portal.backend.services.profile_view import contacts_of, profile_view
from portal.backend.storage import ImageRefused, UploadRefused, clean_image
from portal.backend.views import PatientProfile

CARD_LIMIT_BYTES = 10 * 1024 * 1024
CARD_MAX_PIXELS = 40_000_000
CARD_SIDES = ("front", "back")
CARD_REFUSALS = {
    "not_an_image": "Add a photo of the card: a PNG or JPEG image.",
    "unreadable": "This file is not a picture we can read. Add a PNG or JPEG photo.",
    "too_many_pixels": "The picture is too large; take a smaller photo.",
}
MAX_CONTACTS = 5


# --- reading --------------------------------------------------------------------------------


def my_profile(principal: Principal, *, uow: UnitOfWork) -> PatientProfile:
    """The signed-in patient's own profile."""
    require_role(principal, Role.PATIENT)
    return read_profile(principal, principal.patient_id, uow=uow)


def read_profile(principal: Principal, patient_id: uuid.UUID, *, uow: UnitOfWork) -> PatientProfile:
    """A patient's profile: the patient's own, or, for staff, a patient they may read
    (`patient_access`). Audited as a read of the patient's record; anything else is NotFound."""
    require_role(principal, Role.PATIENT, Role.PROVIDER, Role.ADMIN)
    with uow:
        patient = readable_patient(uow, principal, patient_id)
        uow.audit.record(
            principal,
            "profile.read",
            resource_type="patient",
            resource_id=patient.id,
            patient_id=patient.id,
        )
        uow.commit()
        return profile_view(uow, patient, principal.tenant_id)


# --- changes that apply at once -------------------------------------------------------------


def update_contact_details(
    principal: Principal, details: ContactDetails, *, uow: UnitOfWork
) -> PatientProfile:
    """Preferred name, sex, gender identity, pronouns, language, phone, email, address and the
    preferred way to be reached, all at once; refused field by field when any is wrong."""
    require_role(principal, Role.PATIENT)
    values = checked_contact_details(details)
    with uow:
        patient = own_patient(uow, principal)
        changed = [name for name, value in values.items() if getattr(patient, name) != value]
        for name in changed:
            setattr(patient, name, values[name])
        if changed:
            patient.updated_at = utcnow()
            if {"phone", "email", "preferred_name"} & set(changed):
                index_patient(uow, patient)
            uow.audit.record(
                principal,
                "profile.update",
                resource_type="patient",
                resource_id=patient.id,
                patient_id=patient.id,
                details=",".join(sorted(changed)),
            )
        uow.commit()
        return profile_view(uow, patient, principal.tenant_id)


def save_insurance(
    principal: Principal, details: InsuranceDetails, *, uow: UnitOfWork
) -> PatientProfile:
    """The patient's insurance plan (card images are kept)."""
    require_role(principal, Role.PATIENT)
    values = checked_insurance(details)
    with uow:
        patient = own_patient(uow, principal)
        current = dict(patient.insurance or {})
        changed = sorted(k for k, v in values.items() if current.get(k, "") != v)
        if changed:
            patient.insurance = {**current, **values}
            _audit_write(uow, principal, patient, "profile.insurance.update", changed)
        uow.commit()
        return profile_view(uow, patient, principal.tenant_id)


def remove_insurance(principal: Principal, *, uow: UnitOfWork) -> PatientProfile:
    """No insurance on file any more (self-pay); the card images are deleted too."""
    require_role(principal, Role.PATIENT)
    with uow:
        patient = own_patient(uow, principal)
        insurance = patient.insurance or {}
        keys = [insurance[f"{side}_key"] for side in CARD_SIDES if insurance.get(f"{side}_key")]
        if patient.insurance:
            patient.insurance = None
            _audit_write(uow, principal, patient, "profile.insurance.remove", ["insurance"])
        uow.commit()
        for key in keys:
            uow.files.delete(key)
        return profile_view(uow, patient, principal.tenant_id)


def upload_insurance_card(
    principal: Principal, side: str, data: bytes, *, uow: UnitOfWork
) -> PatientProfile:
    """A photo or scan of one side of the insurance card: a PNG or JPEG (checked by its bytes
    with Pillow), at most 10 MB. Stored re-encoded, without the photo's metadata (a phone's
    picture carries where it was taken), in the encrypted file store."""
    require_role(principal, Role.PATIENT)
    if side not in CARD_SIDES:
        raise NotFound
    image, content_type = card_image(data)
    with uow:
        patient = own_patient(uow, principal)
        insurance = dict(patient.insurance or {})
        old_key = insurance.get(f"{side}_key")
        insurance[f"{side}_key"] = uow.files.put(image, content_type)
        insurance[f"{side}_type"] = content_type
        patient.insurance = insurance
        _audit_write(uow, principal, patient, "profile.insurance.card", [f"{side}_card"])
        uow.commit()
        if old_key:
            uow.files.delete(old_key)
        return profile_view(uow, patient, principal.tenant_id)


def remove_insurance_card(principal: Principal, side: str, *, uow: UnitOfWork) -> PatientProfile:
    require_role(principal, Role.PATIENT)
    if side not in CARD_SIDES:
        raise NotFound
    with uow:
        patient = own_patient(uow, principal)
        insurance = dict(patient.insurance or {})
        old_key = insurance.pop(f"{side}_key", None)
        insurance.pop(f"{side}_type", None)
        if old_key:
            patient.insurance = insurance
            _audit_write(uow, principal, patient, "profile.insurance.card_remove", [f"{side}_card"])
        uow.commit()
        if old_key:
            uow.files.delete(old_key)
        return profile_view(uow, patient, principal.tenant_id)


def save_emergency_contact(
    principal: Principal, contact_id: str, contact: EmergencyContact, *, uow: UnitOfWork
) -> PatientProfile:
    """Add a contact (`contact_id` "") or change one of the patient's own (NotFound for any
    other id)."""
    require_role(principal, Role.PATIENT)
    values = checked_contact(contact)
    with uow:
        patient = own_patient(uow, principal)
        contacts = contacts_of(patient)
        if contact_id:
            position = next((i for i, c in enumerate(contacts) if c["id"] == contact_id), None)
            if position is None:
                raise NotFound
            old = contacts[position]
            changed = sorted(k for k, v in values.items() if old.get(k) != v)
            contacts[position] = {**old, **values}
            action = "profile.emergency_contact.update"
        else:
            if len(contacts) >= MAX_CONTACTS:
                raise ProfileInvalid(
                    {"name": f"You can keep up to {MAX_CONTACTS} emergency contacts."}
                )
            contacts.append({"id": uuid.uuid4().hex, **values})
            changed = sorted(values)
            action = "profile.emergency_contact.add"
        if changed:
            patient.emergency_contacts = contacts
            _audit_write(uow, principal, patient, action, changed)
        uow.commit()
        return profile_view(uow, patient, principal.tenant_id)


def remove_emergency_contact(
    principal: Principal, contact_id: str, *, uow: UnitOfWork
) -> PatientProfile:
    require_role(principal, Role.PATIENT)
    with uow:
        patient = own_patient(uow, principal)
        contacts = contacts_of(patient)
        kept = [c for c in contacts if c["id"] != contact_id]
        if len(kept) == len(contacts):
            raise NotFound
        patient.emergency_contacts = kept
        _audit_write(uow, principal, patient, "profile.emergency_contact.remove", ["contact"])
        uow.commit()
        return profile_view(uow, patient, principal.tenant_id)


# --- insurance card images ------------------------------------------------------------------


def download_insurance_card(
    principal: Principal, patient_id: uuid.UUID, side: str, *, uow: UnitOfWork
) -> FileDownload:
    """One side of a patient's insurance card, for the patient or staff who may read the
    patient (`patient_access`); anything else (another patient, a patient outside normal
    access without a grant, a missing image) answers as missing."""
    with uow:
        row = None
        if side in CARD_SIDES:
            try:
                row = readable_patient(uow, principal, patient_id)
            except NotFound:
                row = None
        key = (row.insurance or {}).get(f"{side}_key") if row is not None else None
        if key is None:
            uow.audit.record(
                principal,
                "insurance_card.download",
                outcome="denied",
                resource_type="patient",
                resource_id=patient_id,
            )
            uow.commit()
            raise NotFound
        content_type = row.insurance.get(f"{side}_type", "image/png")
        uow.audit.record(
            principal,
            "insurance_card.download",
            resource_type="patient",
            resource_id=row.id,
            patient_id=row.id,
            details=side,
        )
        uow.commit()
        extension = "png" if content_type == "image/png" else "jpg"
        filename = f"insurance-card-{side}.{extension}"
        link = uow.files.link(key, filename=filename, content_type=content_type)
        return FileDownload(filename, content_type, None if link else uow.files.get(key), link)


def card_image(data: bytes) -> tuple[bytes, str]:
    """The image re-encoded without metadata, and its type; refused in plain words when it is
    too large, not a PNG or JPEG, or cannot be read as an image."""
    try:
        return clean_image(data, max_bytes=CARD_LIMIT_BYTES, max_pixels=CARD_MAX_PIXELS)
    except ImageRefused as refused:
        raise ProfileInvalid({"card": CARD_REFUSALS[refused.reason]}) from None
    except UploadRefused as refused:
        raise ProfileInvalid({"card": str(refused)}) from None


# --- helpers --------------------------------------------------------------------------------


def _audit_write(
    uow: UnitOfWork, principal: Principal, patient: Patient, action: str, fields: list[str]
) -> None:
    patient.updated_at = utcnow()
    uow.audit.record(
        principal,
        action,
        resource_type="patient",
        resource_id=patient.id,
        patient_id=patient.id,
        details=",".join(fields),
    )
