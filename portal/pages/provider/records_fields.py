"""What each kind of record's quick-add form asks for: the fields of the service's entry, in
order, with their labels, input kind and length limit, and the lab result's test rows."""

from __future__ import annotations

from portal.backend.services.record_entries import (
    FLAGS,
    LAB_STATUSES,
    PROBLEM_STATUSES,
    SEVERITIES,
    AllergyEntry,
    ImmunizationEntry,
    LabEntry,
    MedicationEntry,
    ProblemEntry,
    VisitEntry,
)

# name, label, input ("text", "date", "area" or a tuple of choices), limit
Field = tuple[str, str, str | tuple[str, ...], int]

FIELDS: dict[str, list[Field]] = {
    "lab_result": [
        ("title", "Test or panel name", "text", 120),
        ("collected_on", "Collection date", "date", 10),
        ("status", "Status", LAB_STATUSES, 20),
    ],
    "visit_summary": [
        ("title", "Reason for the visit", "text", 120),
        ("visit_on", "Visit date", "date", 10),
        ("summary", "Summary", "area", 10_000),
        ("diagnoses", "Diagnoses (one per line, optional)", "area", 2000),
        ("instructions", "Instructions for the patient (optional)", "area", 10_000),
        ("follow_up", "Follow-up (optional)", "text", 500),
    ],
    "medication": [
        ("name", "Medicine", "text", 120),
        ("dose", "Dose", "text", 80),
        ("route", "How it is taken", "text", 40),
        ("frequency", "How often", "text", 80),
        ("started_on", "Start date", "date", 10),
        ("stopped_on", "Stop date (optional; a change of medicine)", "date", 10),
    ],
    "immunization": [
        ("vaccine", "Vaccine", "text", 120),
        ("given_on", "Date given", "date", 10),
        ("dose_number", "Dose number (optional)", "text", 2),
        ("lot", "Lot number (optional)", "text", 40),
    ],
    "allergy": [
        ("substance", "Substance", "text", 120),
        ("reaction", "Reaction", "text", 200),
        ("severity", "Severity", SEVERITIES, 20),
    ],
    "problem": [
        ("condition", "Condition", "text", 120),
        ("onset_on", "Onset date", "date", 10),
        ("status", "Status", PROBLEM_STATUSES, 20),
    ],
    "document": [
        ("title", "Document title", "text", 120),
        ("dated_on", "Document date (optional)", "date", 10),
    ],
}
ENTRY_OF_KIND = {
    "lab_result": LabEntry,
    "visit_summary": VisitEntry,
    "medication": MedicationEntry,
    "immunization": ImmunizationEntry,
    "allergy": AllergyEntry,
    "problem": ProblemEntry,
}
KIND_NAMES = {
    "lab_result": "lab result",
    "visit_summary": "visit summary",
    "medication": "medication",
    "immunization": "immunization",
    "allergy": "allergy",
    "problem": "health issue",
    "document": "document",
}
# A lab test row: its fields, their labels and limits.
TEST_FIELDS = ("name", "value", "unit", "low", "high", "flag", "loinc")
TEST_LABELS = {
    "name": "Test",
    "value": "Value",
    "unit": "Unit",
    "low": "Low limit",
    "high": "High limit",
    "flag": "Flag",
    "loinc": "LOINC (optional)",
}
TEST_LIMITS = {"name": 120, "value": 40, "unit": 20, "low": 20, "high": 20, "flag": 10, "loinc": 12}
FLAG_CHOICES = [("", "No flag"), *[(flag, flag.capitalize()) for flag in FLAGS]]
