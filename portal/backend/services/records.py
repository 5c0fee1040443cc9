"""Medical records to read: patients read what has been released to them; staff read every
record, held ones included, of a patient they may read (`patient_access`: a provider's own
patients, or anyone under a break-glass grant, read-only for admins); providers also list the
lab results waiting for their review.

A record's clinical content is one encrypted JSON document (`MedicalRecord.content`); a lab
result's values are `LabComponent` rows, found across time by the blind index of their LOINC
code (or test name). A record is visible to its patient from `released_at` (`record_changes`
sets it). What staff enter is in `record_entries`, the queries shared by the record services in
`record_access`, the views in `record_views`, and the downloads in `record_exports`.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import select

from portal.backend.availability import local_midnight
from portal.backend.db import UnitOfWork
from portal.backend.models import AuditEvent, MedicalRecord, Patient, RecordKind, User
from portal.backend.patient_index import words
from portal.backend.security.principal import NotFound, Principal, Role, require_role
from portal.backend.services.patient_access import normal_access, readable_patient
from portal.backend.services.record_access import (
    lab_components,
    parse_id,
    parse_instant,
    practice_zone,
    provider_names,
    readable_record,
    visible_records,
)
from portal.backend.services.record_views import (
    EMPTY_TEXT,
    access_words,
    detail_view,
    latest_text,
    line_view,
)
from portal.backend.views import (
    RECORD_KIND_LABELS,
    AccessLine,
    AccessPage,
    Choice,
    RecordDetail,
    RecordLine,
    RecordList,
    RecordSection,
    RecordsHome,
    local_moment,
)

ACCESS_PAGE = 50
SORTS = ("newest", "oldest", "name")


def records_home(
    principal: Principal, patient_id: uuid.UUID | None = None, *, uow: UnitOfWork
) -> RecordsHome:
    """One section per kind of record: how many the caller may see (a patient: their released
    records; staff, naming a patient they may read: all of them), and the newest."""
    require_role(principal, Role.PATIENT, Role.PROVIDER, Role.ADMIN)
    with uow:
        patient = readable_patient(uow, principal, patient_id)
        zone = practice_zone(uow, principal)
        rows = uow.records.all(
            visible_records(uow, principal, patient.id).order_by(MedicalRecord.effective_at.desc())
        )
        by_kind: dict[str, list[MedicalRecord]] = defaultdict(list)
        for row in rows:
            by_kind[row.kind].append(row)
        uow.audit.record(
            principal,
            "record.list",
            resource_type="patient",
            resource_id=patient.id,
            patient_id=patient.id,
        )
        uow.commit()
        return RecordsHome(
            [
                RecordSection(
                    kind=str(kind),
                    label=RECORD_KIND_LABELS[kind],
                    count=len(by_kind[kind]),
                    latest=latest_text(by_kind[kind], zone),
                    empty_text=EMPTY_TEXT[kind],
                )
                for kind in RecordKind
            ]
        )


def list_records(
    principal: Principal,
    kind: str,
    *,
    patient_id: uuid.UUID | None = None,
    search: str = "",
    provider_id: str = "",
    since: date | None = None,
    until: date | None = None,
    sort: str = "newest",
    uow: UnitOfWork,
) -> RecordList:
    """The records of one kind, filtered and sorted. A patient sees their released records;
    staff name the patient (`patient_id`) and see everything, held records included."""
    require_role(principal, Role.PATIENT, Role.PROVIDER, Role.ADMIN)
    try:
        kind = RecordKind(kind)
    except ValueError:
        raise NotFound from None
    with uow:
        patient = readable_patient(uow, principal, patient_id)
        zone = practice_zone(uow, principal)
        query = visible_records(uow, principal, patient.id).where(MedicalRecord.kind == kind)
        if provider_id:
            query = query.where(MedicalRecord.provider_id == parse_id(provider_id))
        if since:
            query = query.where(MedicalRecord.effective_at >= local_midnight(since, zone))
        if until:
            query = query.where(
                MedicalRecord.effective_at < local_midnight(until + timedelta(days=1), zone)
            )
        rows = uow.records.all(query)
        components = lab_components(uow, rows)
        if search.strip():
            wanted = words(search)
            rows = [
                row
                for row in rows
                if _matches(wanted, [row.title, *(c.test_name for c in components[row.id])])
            ]
        rows.sort(
            key=(lambda r: r.title.casefold()) if sort == "name" else (lambda r: r.effective_at),
            reverse=sort not in ("oldest", "name"),
        )
        providers = provider_names(uow, principal.tenant_id)
        uow.audit.record(
            principal,
            "record.list",
            resource_type="patient",
            resource_id=patient.id,
            patient_id=patient.id,
            details=str(kind),
        )
        uow.commit()
        return RecordList(
            kind=str(kind),
            label=RECORD_KIND_LABELS[kind],
            lines=[line_view(row, components[row.id], providers, zone) for row in rows],
            providers=[Choice(str(key), name) for key, name in providers.items()],
            empty_text=EMPTY_TEXT[kind],
        )


def record_detail(principal: Principal, record_id: uuid.UUID, *, uow: UnitOfWork) -> RecordDetail:
    """One record, with each lab value's range bar and its trend over the patient's released
    (for staff: all) results of the same test."""
    require_role(principal, Role.PATIENT, Role.PROVIDER, Role.ADMIN)
    with uow:
        record = readable_record(uow, principal, record_id)
        detail = detail_view(uow, principal, record)
        uow.audit.record(
            principal,
            "record.read",
            resource_type="record",
            resource_id=record.id,
            patient_id=record.patient_id,
        )
        uow.commit()
        return detail


def access_log(principal: Principal, *, before: str = "", uow: UnitOfWork) -> AccessPage:
    """Who at the practice viewed or changed the patient's record, newest first, in pages."""
    require_role(principal, Role.PATIENT)
    with uow:
        zone = practice_zone(uow, principal)
        query = (
            select(AuditEvent, User)
            .join(User, User.id == AuditEvent.actor_user_id)
            .where(
                AuditEvent.tenant_id == principal.tenant_id,
                AuditEvent.patient_id == principal.patient_id,
                AuditEvent.actor_role.in_([str(Role.PROVIDER), str(Role.ADMIN)]),
                AuditEvent.outcome == "success",
            )
            .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        )
        if before:
            query = query.where(AuditEvent.occurred_at < parse_instant(before))
        rows = uow.session.exec(query.limit(ACCESS_PAGE + 1)).all()
        uow.audit.record(
            principal,
            "access_log.read",
            resource_type="patient",
            resource_id=principal.patient_id,
            patient_id=principal.patient_id,
        )
        uow.commit()
        shown = rows[:ACCESS_PAGE]
        return AccessPage(
            [
                AccessLine(
                    when=local_moment(event.occurred_at, zone),
                    who=user.display_name,
                    role="Care team" if event.actor_role == Role.PROVIDER else "Practice staff",
                    what=access_words(event.action, event.resource_type),
                )
                for event, user in shown
            ],
            next_before=shown[-1][0].occurred_at.isoformat() if len(rows) > ACCESS_PAGE else "",
        )


def awaiting_review(principal: Principal, *, uow: UnitOfWork) -> list[RecordLine]:
    """Lab results the provider ordered that nobody has reviewed yet, oldest first, of the
    patients they read normally (not those they reached by break-glass)."""
    require_role(principal, Role.PROVIDER)
    with uow:
        zone = practice_zone(uow, principal)
        rows = uow.session.exec(
            uow.records.scoped(principal)
            .add_columns(Patient)
            .join(Patient, Patient.id == MedicalRecord.patient_id)
            .where(
                MedicalRecord.kind == RecordKind.LAB_RESULT,
                MedicalRecord.reviewed_at.is_(None),
                MedicalRecord.provider_id == principal.provider_id,
                normal_access(principal, MedicalRecord.patient_id),
            )
            .order_by(MedicalRecord.effective_at)
            .limit(200)
        ).all()
        components = lab_components(uow, [record for record, _ in rows])
        providers = provider_names(uow, principal.tenant_id)
        for record, patient in rows:
            uow.audit.record(
                principal,
                "record.list",
                resource_type="record",
                resource_id=record.id,
                patient_id=patient.id,
            )
        uow.commit()
        return [
            line_view(
                record,
                components[record.id],
                providers,
                zone,
                patient=patient.full_name,
                patient_id=str(patient.id),
            )
            for record, patient in rows
        ]


def _matches(wanted: list[str], texts: list[str]) -> bool:
    haystack = " ".join(word for text in texts for word in words(text))
    return all(word in haystack for word in wanted)
