"""Medical records: patients read what has been released to them; providers enter, correct and
review records for the patients of their practice.

A record's clinical content is one encrypted JSON document (`MedicalRecord.content`); a lab
result's values are `LabComponent` rows, found across time by the blind index of their LOINC
code (or test name). Release: a record is visible to its patient from `released_at`; kinds the
practice holds for review (`Practice.records_held_for_review`) get it when a provider marks them
reviewed. Entering, correcting or releasing a record tells the patient, PHI-free, that
something new is there.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from portal.backend.availability import local_midnight
from portal.backend.db import UnitOfWork
from portal.backend.fhir import health_record_bundle
from portal.backend.models import (
    AuditEvent,
    LabComponent,
    MedicalRecord,
    Patient,
    Practice,
    Provider,
    RecordKind,
    User,
)
from portal.backend.models.base import utcnow
from portal.backend.notify import links
from portal.backend.notify.outbox import notify_patient, portal_link
from portal.backend.patient_index import words
from portal.backend.record_pdf import records_pdf
from portal.backend.security.principal import NotFound, Principal, Role, require_role
from portal.backend.services.files import FileDownload
from portal.backend.storage import UploadRefused, check_upload
from portal.backend.views import (
    FLAG_WORDS,
    RECORD_KIND_LABELS,
    AccessLine,
    AccessPage,
    Choice,
    Fact,
    LabValue,
    RecordDetail,
    RecordLine,
    RecordList,
    RecordSection,
    RecordsHome,
    TrendPoint,
    local_day,
    local_moment,
)

DOCUMENT_LIMIT_BYTES = 10 * 1024 * 1024
ACCESS_PAGE = 50
FLAGS = ("low", "high", "critical")
LAB_STATUSES = ("preliminary", "final", "corrected")
EMPTY_TEXT = {
    "lab_result": "Test results appear here once your care team releases them, usually within "
    "a few days of the test.",
    "visit_summary": "After each visit, your clinician's summary and instructions appear here.",
    "medication": "Medicines your care team prescribes or records for you appear here.",
    "immunization": "Vaccines given at the practice, or recorded by your care team, appear here.",
    "allergy": "Allergies your care team records appear here. Tell them about any allergy at "
    "your next visit or in a message.",
    "problem": "Health issues your clinician records, such as a diagnosis, appear here.",
    "document": "Letters, imaging reports and other documents your care team shares appear here.",
}
SORTS = ("newest", "oldest", "name")


class RecordInvalid(Exception):
    """An entry was refused; `errors` maps each form field to what is wrong with it."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


# --- what staff enter, as typed ---------------------------------------------------------------


@dataclass(frozen=True)
class LabTestEntry:
    name: str
    value: str
    unit: str = ""
    low: str = ""
    high: str = ""
    flag: str = ""
    loinc: str = ""


@dataclass(frozen=True)
class LabEntry:
    title: str
    collected_on: str
    status: str = "final"
    tests: list[LabTestEntry] = field(default_factory=list)


@dataclass(frozen=True)
class VisitEntry:
    title: str
    visit_on: str
    summary: str
    diagnoses: str = ""
    instructions: str = ""
    follow_up: str = ""


@dataclass(frozen=True)
class MedicationEntry:
    name: str
    dose: str
    route: str
    frequency: str
    started_on: str
    stopped_on: str = ""


@dataclass(frozen=True)
class ImmunizationEntry:
    vaccine: str
    given_on: str
    dose_number: str = ""
    lot: str = ""


@dataclass(frozen=True)
class AllergyEntry:
    substance: str
    reaction: str
    severity: str


@dataclass(frozen=True)
class ProblemEntry:
    condition: str
    onset_on: str
    status: str = "active"


@dataclass(frozen=True)
class DocumentEntry:
    title: str
    filename: str
    data: bytes
    dated_on: str = ""


Entry = (
    LabEntry
    | VisitEntry
    | MedicationEntry
    | ImmunizationEntry
    | AllergyEntry
    | ProblemEntry
    | DocumentEntry
)
KIND_OF_ENTRY = {
    LabEntry: RecordKind.LAB_RESULT,
    VisitEntry: RecordKind.VISIT_SUMMARY,
    MedicationEntry: RecordKind.MEDICATION,
    ImmunizationEntry: RecordKind.IMMUNIZATION,
    AllergyEntry: RecordKind.ALLERGY,
    ProblemEntry: RecordKind.PROBLEM,
    DocumentEntry: RecordKind.DOCUMENT,
}
SEVERITIES = ("mild", "moderate", "severe")
PROBLEM_STATUSES = ("active", "resolved")


@dataclass
class _Checked:
    """An entry turned into what a record row holds, or the errors found on the way."""

    errors: dict[str, str] = field(default_factory=dict)
    title: str = ""
    content: dict = field(default_factory=dict)
    effective_on: date | None = None
    status: str = "final"
    tests: list[LabTestEntry] = field(default_factory=list)

    def text(self, name: str, value: str, label: str, *, limit: int, required: bool = True):
        value = value.strip()
        if required and not value:
            self.errors[name] = f"Enter the {label}."
        elif len(value) > limit:
            self.errors[name] = f"The {label} can be at most {limit} characters."
        return value

    def day(self, name: str, value: str, label: str, today: date, *, required: bool = True):
        value = value.strip()
        if not value:
            if required:
                self.errors[name] = f"Enter the {label}."
            return None
        try:
            day = date.fromisoformat(value)
        except ValueError:
            self.errors[name] = f"The {label} is not a date; use the date picker or YYYY-MM-DD."
            return None
        if day > today:
            self.errors[name] = f"The {label} cannot be in the future."
        elif day < today - timedelta(days=130 * 366):
            self.errors[name] = f"The {label} is too far in the past."
        return day

    def choice(self, name: str, value: str, allowed: tuple[str, ...], label: str) -> str:
        value = value.strip().lower()
        if value not in allowed:
            self.errors[name] = f"Choose the {label}."
        return value


def _check(entry: Entry, today: date) -> _Checked:
    """Validate an entry field by field; the errors name the form's fields."""
    checked = _Checked()
    match entry:
        case LabEntry():
            checked.title = checked.text("title", entry.title, "test or panel name", limit=120)
            checked.effective_on = checked.day(
                "collected_on", entry.collected_on, "collection date", today
            )
            checked.status = checked.choice("status", entry.status, LAB_STATUSES, "status")
            checked.tests = [test for test in entry.tests if any(vars(test).values())]
            if not checked.tests:
                checked.errors["tests"] = "Enter at least one test with its value."
            for position, test in enumerate(checked.tests):
                _check_test(checked, position, test)
        case VisitEntry():
            checked.title = checked.text("title", entry.title, "visit reason", limit=120)
            checked.effective_on = checked.day("visit_on", entry.visit_on, "visit date", today)
            checked.content = {
                "summary": checked.text("summary", entry.summary, "summary", limit=10_000),
                "diagnoses": [
                    line.strip() for line in entry.diagnoses.splitlines() if line.strip()
                ],
                "instructions": checked.text(
                    "instructions", entry.instructions, "instructions", limit=10_000, required=False
                ),
                "follow_up": checked.text(
                    "follow_up", entry.follow_up, "follow-up", limit=500, required=False
                ),
            }
            if len(entry.diagnoses) > 2000:
                checked.errors["diagnoses"] = "The diagnoses can be at most 2000 characters."
        case MedicationEntry():
            checked.title = checked.text("name", entry.name, "medicine's name", limit=120)
            started = checked.day("started_on", entry.started_on, "start date", today)
            stopped = checked.day(
                "stopped_on",
                entry.stopped_on,
                "stop date",
                today + timedelta(days=3650),
                required=False,
            )
            if started and stopped and stopped < started:
                checked.errors["stopped_on"] = "The stop date is before the start date."
            checked.effective_on = started
            checked.status = "stopped" if stopped and stopped <= today else "active"
            checked.content = {
                "dose": checked.text("dose", entry.dose, "dose", limit=80),
                "route": checked.text("route", entry.route, "route", limit=40),
                "frequency": checked.text("frequency", entry.frequency, "frequency", limit=80),
                "started_on": started.isoformat() if started else "",
                "stopped_on": stopped.isoformat() if stopped else "",
            }
        case ImmunizationEntry():
            checked.title = checked.text("vaccine", entry.vaccine, "vaccine", limit=120)
            checked.effective_on = checked.day("given_on", entry.given_on, "date given", today)
            dose = entry.dose_number.strip()
            if dose and not (dose.isdigit() and 1 <= int(dose) <= 20):
                checked.errors["dose_number"] = "The dose number is a whole number from 1 to 20."
            checked.content = {
                "dose_number": dose,
                "lot": checked.text("lot", entry.lot, "lot number", limit=40, required=False),
            }
        case AllergyEntry():
            checked.title = checked.text("substance", entry.substance, "substance", limit=120)
            checked.effective_on = today
            checked.content = {
                "reaction": checked.text("reaction", entry.reaction, "reaction", limit=200),
                "severity": checked.choice("severity", entry.severity, SEVERITIES, "severity"),
            }
        case ProblemEntry():
            checked.title = checked.text("condition", entry.condition, "condition", limit=120)
            checked.effective_on = checked.day("onset_on", entry.onset_on, "onset date", today)
            checked.status = checked.choice("status", entry.status, PROBLEM_STATUSES, "status")
        case DocumentEntry():
            checked.title = checked.text("title", entry.title, "document's title", limit=120)
            checked.effective_on = (
                checked.day("dated_on", entry.dated_on, "document date", today, required=False)
                or today
            )
            try:
                content_type = check_upload(entry.data, max_bytes=DOCUMENT_LIMIT_BYTES)
            except UploadRefused as refused:
                checked.errors["file"] = str(refused)
            else:
                checked.content = {
                    "filename": entry.filename.strip()[:200] or "document",
                    "content_type": content_type,
                    "size_bytes": len(entry.data),
                }
    return checked


def _check_test(checked: _Checked, position: int, test: LabTestEntry) -> None:
    prefix = f"tests.{position}."
    checked.text(prefix + "name", test.name, "test name", limit=120)
    checked.text(prefix + "value", test.value, "value", limit=40)
    for name, value, label, limit in (
        ("unit", test.unit, "unit", 20),
        ("loinc", test.loinc, "LOINC code", 12),
    ):
        checked.text(prefix + name, value, label, limit=limit, required=False)
    for name, value in (("low", test.low), ("high", test.high)):
        if value.strip() and _number(value) is None:
            checked.errors[prefix + name] = "A range limit is a number, such as 3.5."
    low, high = _number(test.low), _number(test.high)
    if low is not None and high is not None and low > high:
        checked.errors[prefix + "high"] = "The upper limit is below the lower limit."
    if test.flag.strip() and test.flag.strip().lower() not in FLAGS:
        checked.errors[prefix + "flag"] = "Choose low, high, critical or no flag."


def _number(text: str | None) -> float | None:
    try:
        return float(text.strip()) if text else None
    except ValueError:
        return None


# --- range bars -------------------------------------------------------------------------------


def range_bar(value: str, low: str | None, high: str | None) -> tuple[int, int, int]:
    """(marker, range start, range end) as percents of a bar that shows the reference range
    with room on both sides; (-1, 0, 0) when there is nothing numeric to draw."""
    number, low_n, high_n = _number(value), _number(low), _number(high)
    if number is None or (low_n is None and high_n is None):
        return -1, 0, 0
    if low_n is None:
        low_n = 0.0 if high_n > 0 else high_n - abs(high_n)
    if high_n is None:
        high_n = low_n * 2 if low_n > 0 else low_n + 1
    span = (high_n - low_n) or 1.0
    start = min(low_n - span / 2, number)
    end = max(high_n + span / 2, number)
    if low_n == 0.0 and start < 0 <= number:
        start = 0.0

    def at(x: float) -> int:
        return round(100 * (x - start) / (end - start))

    return at(number), at(low_n), at(high_n)


def _flag(component: LabComponent) -> str:
    """The stored flag, or one derived from the range when the lab sent none."""
    if component.flag:
        return component.flag
    number = _number(component.value)
    low, high = _number(component.reference_low), _number(component.reference_high)
    if number is None:
        return ""
    if low is not None and number < low:
        return "low"
    if high is not None and number > high:
        return "high"
    return ""


def _reference(component: LabComponent) -> str:
    low, high, unit = component.reference_low, component.reference_high, component.unit or ""
    if low and high:
        text = f"{low} to {high}"
    elif high:
        text = f"below {high}"
    elif low:
        text = f"above {low}"
    else:
        return "No reference range"
    return f"{text} {unit}".strip()


# --- patients ---------------------------------------------------------------------------------


def records_home(
    principal: Principal, patient_id: uuid.UUID | None = None, *, uow: UnitOfWork
) -> RecordsHome:
    """One section per kind of record: how many the caller may see (a patient: their released
    records; a provider, naming the patient: all of them), and the newest."""
    require_role(principal, Role.PATIENT, Role.PROVIDER)
    with uow:
        patient = _patient(uow, principal, patient_id)
        zone = _zone(uow, principal)
        rows = uow.records.all(
            _visible(uow, principal, patient.id).order_by(MedicalRecord.effective_at.desc())
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
                    latest=_latest(by_kind[kind], zone),
                    empty_text=EMPTY_TEXT[kind],
                )
                for kind in RecordKind
            ]
        )


def _latest(records: list[MedicalRecord], zone: str) -> str:
    return f"{records[0].title}, {local_day(records[0].effective_at, zone)}" if records else ""


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
    """The records of one kind, filtered and sorted. A patient sees their released records; a
    provider names the patient (`patient_id`) and sees everything, held records included."""
    require_role(principal, Role.PATIENT, Role.PROVIDER)
    try:
        kind = RecordKind(kind)
    except ValueError:
        raise NotFound from None
    with uow:
        patient = _patient(uow, principal, patient_id)
        zone = _zone(uow, principal)
        query = _visible(uow, principal, patient.id).where(MedicalRecord.kind == kind)
        if provider_id:
            query = query.where(MedicalRecord.provider_id == _uuid(provider_id))
        if since:
            query = query.where(MedicalRecord.effective_at >= local_midnight(since, zone))
        if until:
            query = query.where(
                MedicalRecord.effective_at < local_midnight(until + timedelta(days=1), zone)
            )
        rows = uow.records.all(query)
        components = _components(uow, rows)
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
        providers = _provider_names(uow, principal.tenant_id)
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
            lines=[_line(row, components[row.id], providers, zone) for row in rows],
            providers=[Choice(str(key), name) for key, name in providers.items()],
            empty_text=EMPTY_TEXT[kind],
        )


def record_detail(principal: Principal, record_id: uuid.UUID, *, uow: UnitOfWork) -> RecordDetail:
    """One record, with each lab value's range bar and its trend over the patient's released
    (for a provider: all) results of the same test."""
    require_role(principal, Role.PATIENT, Role.PROVIDER)
    with uow:
        record = _record(uow, principal, record_id)
        detail = _detail(uow, principal, record)
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
        zone = _zone(uow, principal)
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
            query = query.where(AuditEvent.occurred_at < _instant(before))
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


ACCESS_VERBS = {
    "read": "Viewed",
    "list": "Viewed",
    "open": "Viewed",
    "search": "Found",
    "create": "Added",
    "correct": "Corrected",
    "update": "Changed",
    "review": "Reviewed",
    "pdf": "Downloaded",
    "download": "Downloaded",
}
ACCESS_OBJECTS = {
    "record": "a record in your chart",
    "patient": "your chart",
    "conversation": "your messages",
    "message": "your messages",
    "attachment": "a file you shared",
    "appointment": "your appointments",
}


def access_words(action: str, resource_type: str | None) -> str:
    """An audit action in the patient's words: "record.read" on a record → "Viewed a record in
    your chart"."""
    verb = ACCESS_VERBS.get(action.rsplit(".", 1)[-1], "Worked on")
    return f"{verb} {ACCESS_OBJECTS.get(resource_type or '', 'your chart')}"


# --- providers --------------------------------------------------------------------------------


def add_record(
    principal: Principal, patient_id: uuid.UUID, entry: Entry, *, uow: UnitOfWork
) -> str:
    """Enter a record for a patient of the practice; returns its id. The patient is told when
    it is released (at once, unless the practice holds its kind for review)."""
    require_role(principal, Role.PROVIDER)
    with uow:
        patient = _patient(uow, principal, patient_id)
        practice = uow.session.get(Practice, principal.tenant_id)
        checked = _check(entry, _today(practice))
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
        record = _record(uow, principal, record_id)
        if KIND_OF_ENTRY.get(type(entry)) != record.kind or isinstance(entry, DocumentEntry):
            raise NotFound
        practice = uow.session.get(Practice, principal.tenant_id)
        checked = _check(entry, _today(practice))
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
        record = _record(uow, principal, record_id)
        if record.kind == RecordKind.DOCUMENT:
            raise NotFound
        zone = _zone(uow, principal)
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
                        for c in _components(uow, [record])[record.id]
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
        record = _record(uow, principal, record_id)
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


def awaiting_review(principal: Principal, *, uow: UnitOfWork) -> list[RecordLine]:
    """Lab results the provider ordered that nobody has reviewed yet, oldest first."""
    require_role(principal, Role.PROVIDER)
    with uow:
        zone = _zone(uow, principal)
        rows = uow.session.exec(
            uow.records.scoped(principal)
            .add_columns(Patient)
            .join(Patient, Patient.id == MedicalRecord.patient_id)
            .where(
                MedicalRecord.kind == RecordKind.LAB_RESULT,
                MedicalRecord.reviewed_at.is_(None),
                MedicalRecord.provider_id == principal.provider_id,
            )
            .order_by(MedicalRecord.effective_at)
            .limit(200)
        ).all()
        components = _components(uow, [record for record, _ in rows])
        providers = _provider_names(uow, principal.tenant_id)
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
            _line(
                record,
                components[record.id],
                providers,
                zone,
                patient=patient.full_name,
                patient_id=str(patient.id),
            )
            for record, patient in rows
        ]


# --- downloads ----------------------------------------------------------------------------------


def record_document(principal: Principal, record_id: uuid.UUID, *, uow: UnitOfWork) -> FileDownload:
    """The file of a document record, for its patient (once released) or a provider."""
    require_role(principal, Role.PATIENT, Role.PROVIDER)
    with uow:
        record = _record(uow, principal, record_id)
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
    """One record as a PDF, for its patient (once released) or a provider."""
    require_role(principal, Role.PATIENT, Role.PROVIDER)
    with uow:
        record = _record(uow, principal, record_id)
        detail = _detail(uow, principal, record)
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
        zone = _zone(uow, principal)
        rows = uow.records.all(
            _visible(uow, principal)
            .where(
                MedicalRecord.effective_at >= local_midnight(since, zone),
                MedicalRecord.effective_at < local_midnight(until + timedelta(days=1), zone),
            )
            .order_by(MedicalRecord.effective_at.desc())
        )
        order = list(RecordKind)
        rows.sort(key=lambda row: order.index(row.kind))
        details = [_detail(uow, principal, row) for row in rows]
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
        patient = _patient(uow, principal)
        practice = uow.session.get(Practice, principal.tenant_id)
        rows = uow.records.all(_visible(uow, principal).order_by(MedicalRecord.effective_at))
        bundle = health_record_bundle(
            patient,
            rows,
            _components(uow, rows),
            _provider_names(uow, principal.tenant_id),
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


# --- inside -----------------------------------------------------------------------------------


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


def _patient(uow: UnitOfWork, principal: Principal, patient_id: uuid.UUID | None = None):
    patient = uow.patients.get_for(principal, patient_id or principal.patient_id)
    if patient is None:
        raise NotFound
    return patient


def _visible(uow: UnitOfWork, principal: Principal, patient_id: uuid.UUID | None = None):
    """The records the caller may read: a patient's own released ones, or all of one patient
    of the practice for a provider."""
    query = uow.records.scoped(principal)
    if principal.role == Role.PATIENT:
        return query.where(
            MedicalRecord.released_at.is_not(None), MedicalRecord.released_at <= utcnow()
        )
    return query.where(MedicalRecord.patient_id == patient_id)


def _record(uow: UnitOfWork, principal: Principal, record_id: uuid.UUID) -> MedicalRecord:
    query = uow.records.scoped(principal).where(MedicalRecord.id == record_id)
    if principal.role == Role.PATIENT:
        query = _visible(uow, principal).where(MedicalRecord.id == record_id)
    record = uow.records.first(query)
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


def _components(uow: UnitOfWork, records: list[MedicalRecord]) -> dict:
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


def _matches(wanted: list[str], texts: list[str]) -> bool:
    haystack = " ".join(word for text in texts for word in words(text))
    return all(word in haystack for word in wanted)


def _provider_names(uow: UnitOfWork, tenant_id: uuid.UUID) -> dict[uuid.UUID, str]:
    rows = uow.session.exec(
        select(Provider.id, Provider.display_name, Provider.credentials)
        .where(Provider.tenant_id == tenant_id)
        .order_by(Provider.display_name)
    ).all()
    return {
        key: f"{name}, {credentials}" if credentials else name for key, name, credentials in rows
    }


def _line(
    record: MedicalRecord,
    components: list[LabComponent],
    providers: dict,
    zone: str,
    *,
    patient: str = "",
    patient_id: str = "",
) -> RecordLine:
    content = record.content
    flagged = False
    match record.kind:
        case RecordKind.LAB_RESULT:
            outside = sum(1 for c in components if _flag(c))
            flagged = outside > 0
            summary = f"{len(components)} test{'s' * (len(components) != 1)}" + (
                f", {outside} outside the range" if outside else ", all in range"
            )
        case RecordKind.MEDICATION:
            summary = " ".join(
                part
                for part in (content.get("dose"), content.get("route"), content.get("frequency"))
                if part
            )
        case RecordKind.ALLERGY:
            summary = f"{content.get('reaction', '')} ({content.get('severity', '')})"
        case RecordKind.VISIT_SUMMARY:
            summary = ", ".join(content.get("diagnoses", [])) or "Visit summary"
        case RecordKind.IMMUNIZATION:
            dose = content.get("dose_number")
            summary = f"Dose {dose}" if dose else "Vaccine given"
        case RecordKind.DOCUMENT:
            summary = content.get("filename", "")
        case _:
            summary = record.status.capitalize()
    if patient:
        summary = f"{patient}: {summary}"
    return RecordLine(
        id=str(record.id),
        kind=str(record.kind),
        title=record.title,
        day=local_day(record.effective_at, zone),
        provider=providers.get(record.provider_id, ""),
        summary=summary,
        status=record.status,
        flagged=flagged,
        reviewed=record.reviewed_at is not None,
        released=record.released_at is not None,
        patient_id=patient_id,
    )


def _detail(uow: UnitOfWork, principal: Principal, record: MedicalRecord) -> RecordDetail:
    zone = _zone(uow, principal)
    providers = _provider_names(uow, principal.tenant_id)
    components = _components(uow, [record])[record.id]
    trends = _trends(uow, principal, record, components, zone)
    return RecordDetail(
        id=str(record.id),
        kind=str(record.kind),
        kind_label=RECORD_KIND_LABELS[record.kind],
        title=record.title,
        day=local_day(record.effective_at, zone),
        provider=providers.get(record.provider_id, ""),
        status=record.status,
        facts=_facts(record, zone),
        lab_values=[_lab_value(c, trends.get(c.test_index, [])) for c in components],
        reviewed_by=providers.get(record.reviewed_by_provider_id, "") if record.reviewed_at else "",
        review_comment=record.review_comment or "",
        released=record.released_at is not None,
        has_document=record.kind == RecordKind.DOCUMENT,
    )


def _lab_value(component: LabComponent, trend: list[TrendPoint]) -> LabValue:
    flag = _flag(component)
    marker, start, end = range_bar(
        component.value, component.reference_low, component.reference_high
    )
    return LabValue(
        id=str(component.id),
        test_name=component.test_name,
        value=component.value,
        unit=component.unit or "",
        reference=_reference(component),
        flag=flag,
        flag_words=FLAG_WORDS.get(flag, "In the normal range" if marker >= 0 else ""),
        marker_at=marker,
        range_from=start,
        range_to=end,
        trend=trend if len(trend) > 1 else [],
    )


def _trends(uow, principal, record, components, zone) -> dict[str, list[TrendPoint]]:
    """The same tests' numeric values over time, oldest first, in one query."""
    indexes = {c.test_index for c in components}
    if not indexes:
        return {}
    rows = uow.session.exec(
        _visible(uow, principal, record.patient_id)
        .add_columns(LabComponent)
        .join(LabComponent, LabComponent.record_id == MedicalRecord.id)
        .where(
            MedicalRecord.patient_id == record.patient_id,
            LabComponent.test_index.in_(indexes),
        )
        .order_by(MedicalRecord.effective_at)
    ).all()
    trends: dict[str, list[TrendPoint]] = defaultdict(list)
    for past, component in rows:
        number = _number(component.value)
        if number is not None:
            trends[component.test_index].append(
                TrendPoint(
                    day=local_day(past.effective_at, zone),
                    value=number,
                    text=f"{component.value} {component.unit or ''}".strip(),
                )
            )
    return trends


def _facts(record: MedicalRecord, zone: str) -> list[Fact]:
    content = record.content

    def day(value: str | None) -> str:
        return f"{date.fromisoformat(value):%-d %B %Y}" if value else ""

    match record.kind:
        case RecordKind.LAB_RESULT:
            facts = [
                (
                    "Collected",
                    local_moment(_instant(content["collected_at"]), zone)
                    if content.get("collected_at")
                    else local_day(record.effective_at, zone),
                ),
                (
                    "Resulted",
                    local_moment(_instant(content["resulted_at"]), zone)
                    if content.get("resulted_at")
                    else "",
                ),
                ("Ordered by", content.get("ordering_provider", "")),
                ("Status", record.status.capitalize()),
            ]
        case RecordKind.VISIT_SUMMARY:
            facts = [
                ("Summary", content.get("summary", "")),
                ("Diagnoses", "; ".join(content.get("diagnoses", []))),
                ("Instructions", content.get("instructions", "")),
                ("Follow-up", content.get("follow_up", "")),
            ]
        case RecordKind.MEDICATION:
            facts = [
                ("Dose", content.get("dose", "")),
                ("How to take it", content.get("route", "")),
                ("How often", content.get("frequency", "")),
                ("Started", day(content.get("started_on"))),
                ("Stopped", day(content.get("stopped_on"))),
                ("Status", record.status.capitalize()),
            ]
        case RecordKind.IMMUNIZATION:
            facts = [
                ("Given", local_day(record.effective_at, zone)),
                ("Dose number", content.get("dose_number", "")),
                ("Lot", content.get("lot", "")),
            ]
        case RecordKind.ALLERGY:
            facts = [
                ("Reaction", content.get("reaction", "")),
                ("Severity", content.get("severity", "").capitalize()),
            ]
        case RecordKind.PROBLEM:
            facts = [
                ("Since", local_day(record.effective_at, zone)),
                ("Status", record.status.capitalize()),
            ]
        case _:
            facts = [
                ("File", content.get("filename", "")),
                ("Dated", local_day(record.effective_at, zone)),
            ]
    return [Fact(label, value) for label, value in facts if value]


def _store_details(uow: UnitOfWork, record: MedicalRecord, checked: _Checked, entry) -> None:
    """What a record keeps beside its content: a lab's values, a document's file."""
    if isinstance(entry, LabEntry):
        record.content = {
            "collected_at": record.effective_at.isoformat(),
            "resulted_at": utcnow().isoformat(),
            "ordering_provider": _provider_names(uow, record.tenant_id).get(record.provider_id, ""),
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


def _zone(uow: UnitOfWork, principal: Principal) -> str:
    return uow.session.get(Practice, principal.tenant_id).time_zone


def _uuid(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise NotFound from None


def _instant(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise NotFound from None
