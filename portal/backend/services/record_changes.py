"""Medical records that providers enter, correct and review for the patients they may read
(`patient_access`: their own patients, or another of the practice's under break-glass).

An entry is checked field by field (`record_entries`) before anything is stored. Release: a
record is visible to its patient from `released_at`, set at once unless the practice holds its
kind for review (`Practice.records_held_for_review`), and then set when a provider marks it
reviewed. Entering, correcting or releasing a record tells the patient, PHI-free, that
something new is there.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from portal.backend.db import UnitOfWork
from portal.backend.models import LabComponent, MedicalRecord, Practice, RecordKind
from portal.backend.models.base import utcnow
from portal.backend.notify import links
from portal.backend.notify.outbox import notify_patient, portal_link
from portal.backend.patient_index import words
from portal.backend.security.principal import NotFound, Principal, Role, require_role
from portal.backend.services.patient_access import readable_patient
from portal.backend.services.record_access import (
    lab_components,
    practice_zone,
    provider_names,
    readable_record,
)
from portal.backend.services.record_entries import (
    KIND_OF_ENTRY,
    LAB_STATUSES,
    AllergyEntry,
    Checked,
    DocumentEntry,
    Entry,
    ImmunizationEntry,
    LabEntry,
    LabTestEntry,
    MedicationEntry,
    ProblemEntry,
    RecordInvalid,
    VisitEntry,
    check_entry,
)


def add_record(
    principal: Principal, patient_id: uuid.UUID, entry: Entry, *, uow: UnitOfWork
) -> str:
    """Enter a record for a patient the provider may read; returns its id. The patient is told when
    it is released (at once, unless the practice holds its kind for review)."""
    require_role(principal, Role.PROVIDER)
    with uow:
        patient = readable_patient(uow, principal, patient_id)
        practice = uow.session.get(Practice, principal.tenant_id)
        checked = check_entry(entry, _today(practice))
        if checked.errors:
            raise RecordInvalid(checked.errors)
        kind = KIND_OF_ENTRY[type(entry)]
        now = utcnow()
        record = uow.records.add(
            MedicalRecord(
                tenant_id=principal.tenant_id,
                patient_id=patient.id,
                kind=kind,
                title=checked.title,
                content=checked.content,
                status=checked.status,
                provider_id=principal.provider_id,
                effective_at=_effective_at(checked.effective_on, practice, now),
                released_at=None if _held(practice, kind) else now,
            )
        )
        uow.session.flush()
        _store_details(uow, record, checked, entry)
        uow.audit.record(
            principal,
            "record.create",
            resource_type="record",
            resource_id=record.id,
            patient_id=patient.id,
            details=str(kind),
        )
        if record.released_at:
            _tell_patient(uow, practice, record, "new")
        uow.commit()
        return str(record.id)


def correct_record(
    principal: Principal, record_id: uuid.UUID, entry: Entry, *, uow: UnitOfWork
) -> None:
    """Replace a record's content with a corrected entry of the same kind; a released lab
    result becomes "corrected" and the patient is told."""
    require_role(principal, Role.PROVIDER)
    with uow:
        record = readable_record(uow, principal, record_id)
        if KIND_OF_ENTRY.get(type(entry)) != record.kind or isinstance(entry, DocumentEntry):
            raise NotFound
        practice = uow.session.get(Practice, principal.tenant_id)
        checked = check_entry(entry, _today(practice))
        if checked.errors:
            raise RecordInvalid(checked.errors)
        record.title = checked.title
        record.content = checked.content
        record.status = (
            "corrected"
            if record.kind == RecordKind.LAB_RESULT and record.released_at
            else checked.status
        )
        record.effective_at = _effective_at(checked.effective_on, practice, record.effective_at)
        record.updated_at = utcnow()
        uow.session.execute(
            LabComponent.__table__.delete().where(LabComponent.record_id == record.id)
        )
        _store_details(uow, record, checked, entry)
        uow.audit.record(
            principal,
            "record.correct",
            resource_type="record",
            resource_id=record.id,
            patient_id=record.patient_id,
            details=str(record.kind),
        )
        if record.released_at:
            _tell_patient(uow, practice, record, f"corrected:{record.updated_at.isoformat()}")
        uow.commit()


def correction_entry(principal: Principal, record_id: uuid.UUID, *, uow: UnitOfWork) -> Entry:
    """A record as the entry that would make it again, every field as a form shows it: what a
    correction form starts from. Documents are not corrected (a new one is added)."""
    require_role(principal, Role.PROVIDER)
    with uow:
        record = readable_record(uow, principal, record_id)
        if record.kind == RecordKind.DOCUMENT:
            raise NotFound
        zone = practice_zone(uow, principal)
        content = record.content
        on = record.effective_at.astimezone(ZoneInfo(zone)).date().isoformat()
        match record.kind:
            case RecordKind.LAB_RESULT:
                entry = LabEntry(
                    title=record.title,
                    collected_on=on,
                    status=record.status if record.status in LAB_STATUSES else "final",
                    tests=[
                        LabTestEntry(
                            name=c.test_name,
                            value=c.value,
                            unit=c.unit or "",
                            low=c.reference_low or "",
                            high=c.reference_high or "",
                            flag=c.flag or "",
                            loinc=c.loinc_code or "",
                        )
                        for c in lab_components(uow, [record])[record.id]
                    ],
                )
            case RecordKind.VISIT_SUMMARY:
                entry = VisitEntry(
                    title=record.title,
                    visit_on=on,
                    summary=content.get("summary", ""),
                    diagnoses="\n".join(content.get("diagnoses", [])),
                    instructions=content.get("instructions", ""),
                    follow_up=content.get("follow_up", ""),
                )
            case RecordKind.MEDICATION:
                entry = MedicationEntry(
                    name=record.title,
                    dose=content.get("dose", ""),
                    route=content.get("route", ""),
                    frequency=content.get("frequency", ""),
                    started_on=content.get("started_on", ""),
                    stopped_on=content.get("stopped_on", ""),
                )
            case RecordKind.IMMUNIZATION:
                entry = ImmunizationEntry(
                    vaccine=record.title,
                    given_on=on,
                    dose_number=content.get("dose_number", ""),
                    lot=content.get("lot", ""),
                )
            case RecordKind.ALLERGY:
                entry = AllergyEntry(
                    substance=record.title,
                    reaction=content.get("reaction", ""),
                    severity=content.get("severity", ""),
                )
            case _:
                entry = ProblemEntry(condition=record.title, onset_on=on, status=record.status)
        uow.audit.record(
            principal,
            "record.read",
            resource_type="record",
            resource_id=record.id,
            patient_id=record.patient_id,
            details="correction",
        )
        uow.commit()
        return entry


def mark_reviewed(
    principal: Principal, record_id: uuid.UUID, comment: str = "", *, uow: UnitOfWork
) -> None:
    """The provider has reviewed the record; a held record is released with it, and the
    comment is shown to the patient beside "Reviewed by"."""
    require_role(principal, Role.PROVIDER)
    comment = comment.strip()
    if len(comment) > 2000:
        raise RecordInvalid({"comment": "The comment can be at most 2000 characters."})
    with uow:
        record = readable_record(uow, principal, record_id)
        practice = uow.session.get(Practice, principal.tenant_id)
        record.reviewed_at = utcnow()
        record.reviewed_by_provider_id = principal.provider_id
        record.review_comment = comment or None
        newly_released = record.released_at is None
        if newly_released:
            record.released_at = record.reviewed_at
        uow.audit.record(
            principal,
            "record.review",
            resource_type="record",
            resource_id=record.id,
            patient_id=record.patient_id,
        )
        if newly_released:
            _tell_patient(uow, practice, record, "new")
        uow.commit()


def _store_details(uow: UnitOfWork, record: MedicalRecord, checked: Checked, entry) -> None:
    """What a record keeps beside its content: a lab's values (its collection day is
    `effective_at`; no time of day is entered, so none is kept), a document's file."""
    if isinstance(entry, LabEntry):
        record.content = {
            "resulted_at": utcnow().isoformat(),
            "ordering_provider": provider_names(uow, record.tenant_id).get(record.provider_id, ""),
        }
        for position, test in enumerate(checked.tests):
            key = test.loinc.strip() or f"name:{' '.join(words(test.name))}"
            uow.session.add(
                LabComponent(
                    tenant_id=record.tenant_id,
                    record_id=record.id,
                    position=position,
                    test_name=test.name.strip(),
                    loinc_code=test.loinc.strip() or None,
                    value=test.value.strip(),
                    unit=test.unit.strip() or None,
                    reference_low=test.low.strip() or None,
                    reference_high=test.high.strip() or None,
                    flag=test.flag.strip().lower() or None,
                    test_index=uow.keyring.blind_index("lab_test", key),
                )
            )
    elif isinstance(entry, DocumentEntry):
        record.content = {
            **checked.content,
            "storage_key": uow.files.put(entry.data, checked.content["content_type"]),
        }


def _tell_patient(uow: UnitOfWork, practice: Practice, record: MedicalRecord, what: str) -> None:
    notify_patient(
        uow,
        record.patient_id,
        "new_result",
        {"practice": practice.name, "link": portal_link(links.RECORDS)},
        event_key=f"record:{record.id}:{what}",
    )


def _held(practice: Practice, kind: RecordKind) -> bool:
    return str(kind) in {k.strip() for k in practice.records_held_for_review.split(",")}


def _effective_at(day: date | None, practice: Practice, default: datetime) -> datetime:
    """A date entered in the practice's zone as an instant: noon that day (no time of day is
    asked for), or `default` when the entry has no date."""
    if day is None:
        return default
    return datetime.combine(day, time(12), ZoneInfo(practice.time_zone))


def _today(practice: Practice) -> date:
    return utcnow().astimezone(ZoneInfo(practice.time_zone)).date()
