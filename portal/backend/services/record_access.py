"""The queries every record service shares: the patient and the records the caller may read, a
lab result's values, the practice's providers and time zone.

A patient reads their own released records; staff read every record, held ones included, of a
patient they may read (`patient_access.readable_patient`: normal access, or break-glass).
Anything else raises `NotFound`, exactly like what does not exist.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime

from sqlalchemy import select

from portal.backend.db import UnitOfWork
from portal.backend.models import LabComponent, MedicalRecord, Practice, Provider, RecordKind
from portal.backend.models.base import utcnow
from portal.backend.security.principal import NotFound, Principal, Role
from portal.backend.services.patient_access import readable_patient


def visible_records(uow: UnitOfWork, principal: Principal, patient_id: uuid.UUID | None = None):
    """The records the caller may read: a patient's own released ones, or all of one patient
    for staff (who passed `readable_patient` for that patient)."""
    query = uow.records.scoped(principal)
    if principal.role == Role.PATIENT:
        return query.where(
            MedicalRecord.released_at.is_not(None), MedicalRecord.released_at <= utcnow()
        )
    return query.where(MedicalRecord.patient_id == patient_id)


def readable_record(uow: UnitOfWork, principal: Principal, record_id: uuid.UUID) -> MedicalRecord:
    """One record the caller may read: a patient's own released one, or for staff one of a
    patient they may read (`readable_patient`, so a read under a grant is flagged). Anything
    else is audited as denied and raises NotFound (`BreakGlassNeeded` for a patient of the
    practice outside normal access, audited by the gate)."""
    query = uow.records.scoped(principal).where(MedicalRecord.id == record_id)
    if principal.role == Role.PATIENT:
        query = visible_records(uow, principal).where(MedicalRecord.id == record_id)
    record = uow.records.first(query)
    if record is not None and principal.role != Role.PATIENT:
        readable_patient(uow, principal, record.patient_id)
    if record is None:
        uow.audit.record(
            principal,
            "record.read",
            outcome="denied",
            resource_type="record",
            resource_id=record_id,
        )
        uow.commit()
        raise NotFound
    return record


def lab_components(uow: UnitOfWork, records: list[MedicalRecord]) -> dict:
    """The values of each lab result among `records`, in their order, by record id."""
    by_record: dict[uuid.UUID, list[LabComponent]] = defaultdict(list)
    ids = [r.id for r in records if r.kind == RecordKind.LAB_RESULT]
    if ids:
        for component in uow.session.exec(
            select(LabComponent)
            .where(LabComponent.record_id.in_(ids))
            .order_by(LabComponent.position)
        ).scalars():
            by_record[component.record_id].append(component)
    return by_record


def provider_names(uow: UnitOfWork, tenant_id: uuid.UUID) -> dict[uuid.UUID, str]:
    """Every provider of the practice by id, as "name, credentials"."""
    rows = uow.session.exec(
        select(Provider.id, Provider.display_name, Provider.credentials)
        .where(Provider.tenant_id == tenant_id)
        .order_by(Provider.display_name)
    ).all()
    return {
        key: f"{name}, {credentials}" if credentials else name for key, name, credentials in rows
    }


def practice_zone(uow: UnitOfWork, principal: Principal) -> str:
    """The practice's time zone, in which days are shown and dates are read."""
    return uow.session.get(Practice, principal.tenant_id).time_zone


def parse_id(text: str) -> uuid.UUID:
    """An id sent as text; unreadable text is NotFound, like an id that does not exist."""
    try:
        return uuid.UUID(text)
    except ValueError:
        raise NotFound from None


def parse_instant(text: str) -> datetime:
    """An ISO instant sent as text; unreadable text is NotFound."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise NotFound from None
