"""What staff enter for a record, as typed, and how it is checked.

Each kind of record has an entry of strings as the form holds them (`LabEntry` with its
`LabTestEntry` rows, `VisitEntry`, `MedicationEntry`, `ImmunizationEntry`, `AllergyEntry`,
`ProblemEntry`, `DocumentEntry`). `check_entry` checks one field by field and turns it into what
a record row holds; its errors name the form's fields, and `RecordInvalid` carries them back to
the form. Nothing here reads or writes the database.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

from portal.backend.models import RecordKind
from portal.backend.storage import UploadRefused, check_upload

DOCUMENT_LIMIT_BYTES = 10 * 1024 * 1024
FLAGS = ("low", "high", "critical")
LAB_STATUSES = ("preliminary", "final", "corrected")
SEVERITIES = ("mild", "moderate", "severe")
PROBLEM_STATUSES = ("active", "resolved")


class RecordInvalid(Exception):
    """An entry was refused; `errors` maps each form field to what is wrong with it."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


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


@dataclass
class Checked:
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


def check_entry(entry: Entry, today: date) -> Checked:
    """Validate an entry field by field; the errors name the form's fields."""
    checked = Checked()
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


def _check_test(checked: Checked, position: int, test: LabTestEntry) -> None:
    prefix = f"tests.{position}."
    checked.text(prefix + "name", test.name, "test name", limit=120)
    checked.text(prefix + "value", test.value, "value", limit=40)
    for name, value, label, limit in (
        ("unit", test.unit, "unit", 20),
        ("loinc", test.loinc, "LOINC code", 12),
    ):
        checked.text(prefix + name, value, label, limit=limit, required=False)
    if test.value.strip() and test.unit.strip() and parse_number(test.value) is None:
        checked.errors[prefix + "value"] = (
            f"The value is not a number, but {test.unit.strip()} needs one, such as 5.4. "
            "For a result in words, such as negative, leave the unit empty."
        )
    for name, value in (("low", test.low), ("high", test.high)):
        if value.strip() and parse_number(value) is None:
            checked.errors[prefix + name] = "A range limit is a number, such as 3.5."
    low, high = parse_number(test.low), parse_number(test.high)
    if low is not None and high is not None and low > high:
        checked.errors[prefix + "high"] = "The upper limit is below the lower limit."
    if test.flag.strip() and test.flag.strip().lower() not in FLAGS:
        checked.errors[prefix + "flag"] = "Choose low, high, critical or no flag."


def parse_number(text: str | None) -> float | None:
    """A finite number as typed (a value or a range limit), or None when it is not one."""
    try:
        number = float(text.strip()) if text else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None
