"""A patient's record as a FHIR R4 Bundle ("Download my health record").

One `collection` Bundle: the Patient, each lab result as a DiagnosticReport with one Observation
per value, visit summaries as Encounters, and MedicationStatement, Immunization,
AllergyIntolerance, Condition and DocumentReference resources (documents inline, base64).
Resources reference each other by `urn:uuid:` full URLs, so the file stands alone. Tests
validate it with the `fhir.resources` models of R4B (R4 with errata; these resources are the
same in both).
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable
from datetime import date, datetime

from portal.backend.models import LabComponent, MedicalRecord, Patient, RecordKind
from portal.backend.services.record_entries import parse_number

LOINC = "http://loinc.org"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
INTERPRETATION_CODES = {"low": ("L", "Low"), "high": ("H", "High"), "critical": ("AA", "Critical")}
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
ALLERGY_STATUS = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
CONDITION_STATUS = "http://terminology.hl7.org/CodeSystem/condition-clinical"
GENDERS = {"female": "female", "f": "female", "male": "male", "m": "male", "other": "other"}


def health_record_bundle(
    patient: Patient,
    records: list[MedicalRecord],
    components: dict,
    provider_names: dict,
    *,
    practice_slug: str,
    generated_at: datetime,
    read_file: Callable[[str], bytes],
) -> dict:
    """The Bundle as JSON-ready dicts. `components` maps a lab result's id to its values;
    `read_file` opens a document's stored file."""
    subject = {"reference": f"urn:uuid:{patient.id}"}
    resources = [_patient(patient, practice_slug)]
    for record in records:
        match record.kind:
            case RecordKind.LAB_RESULT:
                observations = [
                    _observation(component, record, subject)
                    for component in components.get(record.id, [])
                ]
                resources.append(_report(record, subject, observations, provider_names))
                resources.extend(observations)
            case RecordKind.VISIT_SUMMARY:
                resources.append(_encounter(record, subject))
            case RecordKind.MEDICATION:
                resources.append(_medication(record, subject))
            case RecordKind.IMMUNIZATION:
                resources.append(_immunization(record, subject))
            case RecordKind.ALLERGY:
                resources.append(_allergy(record, subject))
            case RecordKind.PROBLEM:
                resources.append(_condition(record, subject))
            case RecordKind.DOCUMENT:
                resources.append(_document(record, subject, read_file))
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": generated_at.isoformat(),
        "entry": [
            {"fullUrl": f"urn:uuid:{resource.pop('_id')}", "resource": resource}
            for resource in resources
        ],
    }


def _patient(patient: Patient, practice_slug: str) -> dict:
    names = [
        {
            "use": "official",
            "family": patient.legal_last_name,
            "given": [patient.legal_first_name],
        }
    ]
    if patient.preferred_name:
        names.append({"use": "usual", "given": [patient.preferred_name]})
    resource = {
        "_id": patient.id,
        "resourceType": "Patient",
        "identifier": [
            {
                "type": {"text": "Medical record number"},
                "system": f"urn:portal:{practice_slug}:mrn",
                "value": patient.medical_record_number,
            }
        ],
        "name": names,
        "birthDate": patient.date_of_birth.isoformat(),
        "gender": GENDERS.get((patient.sex or "").strip().lower(), "unknown"),
        "telecom": [
            {"system": system, "value": value}
            for system, value in (("phone", patient.phone), ("email", patient.email))
            if value
        ],
    }
    address = patient.address or {}
    if address:
        resource["address"] = [
            {
                "line": [line for line in (address.get("line1"), address.get("line2")) if line],
                "city": address.get("city") or None,
                "state": address.get("state") or None,
                "postalCode": address.get("postal_code") or None,
            }
        ]
    return _without_empty(resource)


def _report(record, subject, observations, provider_names) -> dict:
    content = record.content
    return _without_empty(
        {
            "_id": record.id,
            "resourceType": "DiagnosticReport",
            "status": _lab_status(record),
            "category": [_category("laboratory")],
            "code": {"text": record.title},
            "subject": subject,
            "effectiveDateTime": content.get("collected_at") or _day(record.effective_at),
            "issued": content.get("resulted_at") or record.created_at.isoformat(),
            "performer": [{"display": provider_names[record.provider_id]}]
            if record.provider_id in provider_names
            else [],
            "result": [{"reference": f"urn:uuid:{o['_id']}"} for o in observations],
            "conclusion": record.review_comment,
        }
    )


def _observation(component: LabComponent, record: MedicalRecord, subject: dict) -> dict:
    code = {"text": component.test_name}
    if component.loinc_code:
        code["coding"] = [
            {"system": LOINC, "code": component.loinc_code, "display": component.test_name}
        ]
    resource = {
        "_id": component.id,
        "resourceType": "Observation",
        "status": _lab_status(record),
        "category": [_category("laboratory")],
        "code": code,
        "subject": subject,
        "effectiveDateTime": record.content.get("collected_at") or _day(record.effective_at),
    }
    number = parse_number(component.value)
    if number is None:
        resource["valueString"] = component.value
    else:
        resource["valueQuantity"] = _quantity(number, component.unit)
    reference = {
        bound: _quantity(value, component.unit)
        for bound, value in (
            ("low", parse_number(component.reference_low)),
            ("high", parse_number(component.reference_high)),
        )
        if value is not None
    }
    if reference:
        resource["referenceRange"] = [reference]
    if component.flag in INTERPRETATION_CODES:
        code_value, display = INTERPRETATION_CODES[component.flag]
        resource["interpretation"] = [
            {"coding": [{"system": INTERPRETATION, "code": code_value, "display": display}]}
        ]
    return resource


def _encounter(record: MedicalRecord, subject: dict) -> dict:
    content = record.content
    parts = [
        ("Summary", content.get("summary", "")),
        ("Diagnoses", "; ".join(content.get("diagnoses", []))),
        ("Instructions", content.get("instructions", "")),
        ("Follow-up", content.get("follow_up", "")),
    ]
    narrative = "".join(
        f"<p><b>{label}:</b> {html.escape(text)}</p>" for label, text in parts if text
    )
    return _without_empty(
        {
            "_id": record.id,
            "resourceType": "Encounter",
            "status": "finished",
            "class": {"system": ACT_CODE, "code": "AMB", "display": "ambulatory"},
            "subject": subject,
            "period": {"start": record.effective_at.isoformat()},
            "reasonCode": [{"text": record.title}]
            + [{"text": diagnosis} for diagnosis in content.get("diagnoses", [])],
            "text": {
                "status": "generated",
                "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{narrative}</div>',
            }
            if narrative
            else None,
        }
    )


def _medication(record: MedicalRecord, subject: dict) -> dict:
    content = record.content
    dosage = " ".join(
        part
        for part in (content.get("dose"), content.get("route"), content.get("frequency"))
        if part
    )
    return _without_empty(
        {
            "_id": record.id,
            "resourceType": "MedicationStatement",
            "status": "stopped" if record.status == "stopped" else "active",
            "medicationCodeableConcept": {"text": record.title},
            "subject": subject,
            "effectivePeriod": {
                "start": content.get("started_on") or None,
                "end": content.get("stopped_on") or None,
            },
            "dosage": [{"text": dosage, "route": {"text": content.get("route")}}] if dosage else [],
        }
    )


def _immunization(record: MedicalRecord, subject: dict) -> dict:
    content = record.content
    dose = content.get("dose_number", "")
    return _without_empty(
        {
            "_id": record.id,
            "resourceType": "Immunization",
            "status": "completed",
            "vaccineCode": {"text": record.title},
            "patient": subject,
            "occurrenceDateTime": _day(record.effective_at),
            "lotNumber": content.get("lot") or None,
            "protocolApplied": [{"doseNumberPositiveInt": int(dose)}] if dose.isdigit() else [],
        }
    )


def _allergy(record: MedicalRecord, subject: dict) -> dict:
    content = record.content
    reaction = {"manifestation": [{"text": content.get("reaction") or "Reaction"}]}
    if content.get("severity") in ("mild", "moderate", "severe"):
        reaction["severity"] = content["severity"]
    return {
        "_id": record.id,
        "resourceType": "AllergyIntolerance",
        "clinicalStatus": {"coding": [{"system": ALLERGY_STATUS, "code": "active"}]},
        "code": {"text": record.title},
        "patient": subject,
        "recordedDate": record.created_at.isoformat(),
        "reaction": [reaction],
    }


def _condition(record: MedicalRecord, subject: dict) -> dict:
    status = "resolved" if record.status == "resolved" else "active"
    return {
        "_id": record.id,
        "resourceType": "Condition",
        "clinicalStatus": {"coding": [{"system": CONDITION_STATUS, "code": status}]},
        "code": {"text": record.title},
        "subject": subject,
        "onsetDateTime": _day(record.effective_at),
    }


def _document(record: MedicalRecord, subject: dict, read_file) -> dict:
    content = record.content
    data = read_file(content["storage_key"])
    return {
        "_id": record.id,
        "resourceType": "DocumentReference",
        "status": "current",
        "subject": subject,
        "date": record.created_at.isoformat(),
        "description": record.title,
        "content": [
            {
                "attachment": {
                    "contentType": content["content_type"],
                    "title": content.get("filename") or record.title,
                    "size": len(data),
                    "data": base64.b64encode(data).decode(),
                }
            }
        ],
    }


def _lab_status(record: MedicalRecord) -> str:
    return record.status if record.status in ("preliminary", "final", "corrected") else "final"


def _category(code: str) -> dict:
    return {"coding": [{"system": OBSERVATION_CATEGORY, "code": code}]}


def _quantity(value: float, unit: str | None) -> dict:
    return {"value": value, "unit": unit} if unit else {"value": value}


def _day(instant: datetime) -> str:
    return date(instant.year, instant.month, instant.day).isoformat()


def _without_empty(resource: dict) -> dict:
    """FHIR forbids empty values: drop None, empty strings, lists and dicts, recursively."""

    def keep(value) -> bool:
        return value not in (None, "", [], {})

    cleaned = {}
    for key, value in resource.items():
        if isinstance(value, dict):
            value = _without_empty(value)
        elif isinstance(value, list):
            value = [_without_empty(v) if isinstance(v, dict) else v for v in value]
            value = [v for v in value if keep(v)]
        if keep(value):
            cleaned[key] = value
    return cleaned
