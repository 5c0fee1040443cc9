"""Records to download: a document record's file, one record or every record of a period as a
PDF, and the whole released record as a FHIR R4 Bundle. Each download is audited, and a patient
gets only what has been released to them.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta

from portal.backend.availability import local_midnight
from portal.backend.db import UnitOfWork
from portal.backend.fhir import health_record_bundle
from portal.backend.models import MedicalRecord, Patient, Practice, RecordKind
from portal.backend.models.base import utcnow
from portal.backend.record_pdf import records_pdf
from portal.backend.security.principal import NotFound, Principal, Role, require_role
from portal.backend.services.files import FileDownload
from portal.backend.services.patient_access import readable_patient
from portal.backend.services.record_access import (
    lab_components,
    practice_zone,
    provider_names,
    readable_record,
    visible_records,
)
from portal.backend.services.record_entries import RecordInvalid
from portal.backend.services.record_views import detail_view
from portal.backend.views import local_moment


def record_document(principal: Principal, record_id: uuid.UUID, *, uow: UnitOfWork) -> FileDownload:
    """The file of a document record, for its patient (once released) or staff who may read
    the patient (`patient_access`)."""
    require_role(principal, Role.PATIENT, Role.PROVIDER, Role.ADMIN)
    with uow:
        record = readable_record(uow, principal, record_id)
        if record.kind != RecordKind.DOCUMENT:
            raise NotFound
        uow.audit.record(
            principal,
            "record.download",
            resource_type="record",
            resource_id=record.id,
            patient_id=record.patient_id,
        )
        uow.commit()
        content = record.content
        link = uow.files.link(
            content["storage_key"],
            filename=content["filename"],
            content_type=content["content_type"],
        )
        data = None if link else uow.files.get(content["storage_key"])
        return FileDownload(content["filename"], content["content_type"], data, link)


def record_pdf(principal: Principal, record_id: uuid.UUID, *, uow: UnitOfWork) -> FileDownload:
    """One record as a PDF, for its patient (once released) or staff who may read the
    patient (`patient_access`)."""
    require_role(principal, Role.PATIENT, Role.PROVIDER, Role.ADMIN)
    with uow:
        record = readable_record(uow, principal, record_id)
        detail = detail_view(uow, principal, record)
        data = _pdf(uow, principal, record.patient_id, [detail], title=detail.title)
        uow.audit.record(
            principal,
            "record.pdf",
            resource_type="record",
            resource_id=record.id,
            patient_id=record.patient_id,
        )
        uow.commit()
        return FileDownload(f"{detail.kind_label} {detail.day}.pdf", "application/pdf", data)


def summary_pdf(principal: Principal, since: date, until: date, *, uow: UnitOfWork) -> FileDownload:
    """Every record the patient can see from `since` to `until` (practice days), by kind and
    newest first within each, as one PDF."""
    require_role(principal, Role.PATIENT)
    if since > until:
        raise RecordInvalid({"from": "The start date is after the end date."})
    with uow:
        zone = practice_zone(uow, principal)
        rows = uow.records.all(
            visible_records(uow, principal)
            .where(
                MedicalRecord.effective_at >= local_midnight(since, zone),
                MedicalRecord.effective_at < local_midnight(until + timedelta(days=1), zone),
            )
            .order_by(MedicalRecord.effective_at.desc())
        )
        order = list(RecordKind)
        rows.sort(key=lambda row: order.index(row.kind))
        details = [detail_view(uow, principal, row) for row in rows]
        period = f"{since:%-d %B %Y} to {until:%-d %B %Y}"
        data = _pdf(
            uow,
            principal,
            principal.patient_id,
            details,
            title=f"Health record summary, {period}",
            empty="There are no records in this period.",
        )
        uow.audit.record(
            principal,
            "record.pdf",
            resource_type="patient",
            resource_id=principal.patient_id,
            patient_id=principal.patient_id,
            details=f"{len(details)} records",
        )
        uow.commit()
        return FileDownload(f"Health record {since} to {until}.pdf", "application/pdf", data)


def health_record(principal: Principal, *, uow: UnitOfWork) -> FileDownload:
    """The patient's whole released record as a FHIR R4 Bundle (JSON)."""
    require_role(principal, Role.PATIENT)
    with uow:
        patient = readable_patient(uow, principal)
        practice = uow.session.get(Practice, principal.tenant_id)
        rows = uow.records.all(visible_records(uow, principal).order_by(MedicalRecord.effective_at))
        bundle = health_record_bundle(
            patient,
            rows,
            lab_components(uow, rows),
            provider_names(uow, principal.tenant_id),
            practice_slug=practice.slug,
            generated_at=utcnow(),
            read_file=uow.files.get,
        )
        uow.audit.record(
            principal,
            "record.export",
            resource_type="patient",
            resource_id=patient.id,
            patient_id=patient.id,
            details=f"{len(rows)} records",
        )
        uow.commit()
        return FileDownload(
            "Health record (FHIR).json",
            "application/fhir+json",
            json.dumps(bundle, separators=(",", ":")).encode(),
        )


def _pdf(uow, principal, patient_id, details, *, title: str, empty: str = "") -> bytes:
    practice = uow.session.get(Practice, principal.tenant_id)
    patient = uow.session.get(Patient, patient_id)
    return records_pdf(
        practice.name,
        f"{patient.full_name}, born {patient.date_of_birth:%-d %B %Y}",
        local_moment(utcnow(), practice.time_zone),
        details,
        title=title,
        empty=empty,
    )
