"""Records as the pages and PDFs show them: a line of a list, a record in detail with its facts in
words, each lab value with its flag, reference range, range bar and trend; each kind's
empty-state sentence; an audit event in the patient's words.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from portal.backend.db import UnitOfWork
from portal.backend.models import LabComponent, MedicalRecord, RecordKind
from portal.backend.security.principal import Principal
from portal.backend.services.record_access import (
    lab_components,
    parse_instant,
    practice_zone,
    provider_names,
    visible_records,
)
from portal.backend.services.record_entries import parse_number
from portal.backend.views import (
    FLAG_WORDS,
    RECORD_KIND_LABELS,
    Fact,
    LabValue,
    RecordDetail,
    RecordLine,
    TrendPoint,
    local_day,
    local_time,
)

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


def range_bar(value: str, low: str | None, high: str | None) -> tuple[int, int, int]:
    """(marker, range start, range end) as percents of a bar that shows the reference range
    with room on both sides; (-1, 0, 0) when there is nothing numeric to draw."""
    number, low_n, high_n = parse_number(value), parse_number(low), parse_number(high)
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
    number = parse_number(component.value)
    low, high = parse_number(component.reference_low), parse_number(component.reference_high)
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


def latest_text(records: list[MedicalRecord], zone: str) -> str:
    """The newest of `records` (newest first) as "title, day"; empty for none."""
    return f"{records[0].title}, {local_day(records[0].effective_at, zone)}" if records else ""


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
    "break_glass": "Asked for emergency access to",
}
ACCESS_OBJECTS = {
    "record": "a record in your chart",
    "patient": "your chart",
    "conversation": "your messages",
    "message": "your messages",
    "attachment": "a file you shared",
    "appointment": "your appointments",
    "access_grant": "a record of emergency access to your chart",
}


def access_words(action: str, resource_type: str | None) -> str:
    """An audit action in the patient's words: "record.read" on a record → "Viewed a record in
    your chart"."""
    verb = ACCESS_VERBS.get(action.rsplit(".", 1)[-1], "Worked on")
    return f"{verb} {ACCESS_OBJECTS.get(resource_type or '', 'your chart')}"


def line_view(
    record: MedicalRecord,
    components: list[LabComponent],
    providers: dict,
    zone: str,
    *,
    patient: str = "",
    patient_id: str = "",
) -> RecordLine:
    """A record as one line of a list; on the review list, with the patient's name and id."""
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


def detail_view(uow: UnitOfWork, principal: Principal, record: MedicalRecord) -> RecordDetail:
    """A record in detail, each lab value with its range bar and its trend over the results
    the caller may read."""
    zone = practice_zone(uow, principal)
    providers = provider_names(uow, principal.tenant_id)
    components = lab_components(uow, [record])[record.id]
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
        visible_records(uow, principal, record.patient_id)
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
        number = parse_number(component.value)
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

    def moment(value: str | None) -> str:
        instant = parse_instant(value) if value else None
        return f"{local_day(instant, zone)}, {local_time(instant, zone)}" if instant else ""

    match record.kind:
        case RecordKind.LAB_RESULT:
            facts = [
                (
                    "Collected",
                    moment(content.get("collected_at")) or local_day(record.effective_at, zone),
                ),
                ("Resulted", moment(content.get("resulted_at"))),
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
