"""The state of one patient's Records screen for providers: the records of one kind (held ones
included), one open record, and the quick-add form of that kind, which also corrects a record.

The patient comes from `?patient=` and every handler re-checks it through the services; record
ids come back as text. What the form holds is read from the submitted form and built into the
service's entry of the kind this screen shows (never a kind, a class or a field the browser
names), and the service's field errors are shown next to their fields. A patient outside the
provider's normal access shows the chart's break-glass form first."""

from __future__ import annotations

import uuid

import reflex as rx

from portal.backend.security.principal import NotFound, Principal, Role
from portal.backend.services import patient_chart, record_changes, records
from portal.backend.services.patient_access import BreakGlassNeeded
from portal.backend.services.record_entries import (
    DOCUMENT_LIMIT_BYTES,
    DocumentEntry,
    LabEntry,
    LabTestEntry,
    RecordInvalid,
)
from portal.backend.views import RECORD_KIND_LABELS, RecordDetail, RecordList
from portal.components.forms import record_id, text_of
from portal.pages.provider.chart_state import ask_for_break_glass
from portal.pages.provider.records_detail import COMMENT_LIMIT
from portal.pages.provider.records_fields import (
    ENTRY_OF_KIND,
    FIELDS,
    KIND_NAMES,
    TEST_FIELDS,
    TEST_LIMITS,
)
from portal.state.base import Screen, run_service, screen_state
from portal.state.session import signed_in

DOCUMENT_FILES = "record-document-file"
MAX_TESTS = 20
NOT_AVAILABLE = "That record is not available."
FIX_BELOW = "Some fields need a change; see the messages next to them."
FILE_REFUSED = (
    f"Choose one PDF, PNG or JPEG file of up to {DOCUMENT_LIMIT_BYTES // (1024 * 1024)} MB."
)


def test_row(values: dict[str, str] | None = None) -> dict[str, str]:
    """A lab test row of the form: its values and (empty) error texts."""
    values = values or {}
    return {name: values.get(name, "") for name in TEST_FIELDS} | {
        f"{name}_error": "" for name in TEST_FIELDS
    }


def blank_test() -> dict[str, str]:
    return test_row()


@screen_state
class RecordsState(Screen):
    loaded: bool = False
    missing: bool = False
    patient_id: str = ""
    patient_name: str = ""
    emergency_until: str = ""
    needs_reason: bool = False
    reason_error: str = ""
    kind: str = "lab_result"
    listing: RecordList | None = None
    detail: RecordDetail | None = None
    # The form: its starting values (a correction's), its lab test rows, the errors by field.
    correcting: str = ""
    correcting_title: str = ""
    values: dict[str, str] = {}
    tests: list[dict[str, str]] = []
    errors: dict[str, str] = {}
    form_error: str = ""
    message: str = ""
    form_key: int = 0
    pending: bool = False
    # The document form's text fields (an upload event carries only its files).
    document_title: str = ""
    document_day: str = ""
    comment: str = ""
    comment_error: str = ""
    _patient: uuid.UUID | None = None

    @rx.event
    async def load(self):
        self.reset()
        principal = await signed_in(self, Role.PROVIDER)
        if principal is None:
            return
        wanted = self.router.url.query_parameters.get("patient", "")
        try:
            await self._open(principal, record_id(wanted[:40]))
        except NotFound:
            self.missing = True
        self.loaded = True

    async def _open(self, principal: Principal, patient: uuid.UUID) -> None:
        """The patient's name and records, or the break-glass form when they are closed."""
        try:
            header = await run_service(self, patient_chart.chart_header, principal, patient)
        except BreakGlassNeeded:
            self._patient, self.needs_reason = patient, True
            return
        self._patient, self.patient_id, self.patient_name = patient, str(patient), header.name
        self.emergency_until, self.needs_reason = header.emergency_until, False
        self.tests = [blank_test(), blank_test()]
        await self._refresh(principal)

    @rx.event
    async def break_glass(self, form_data: dict):
        """Open the records in an emergency, for the reason typed."""
        principal = await signed_in(self, Role.PROVIDER)
        if principal is None or self._patient is None or not self.needs_reason:
            return
        self.pending = True
        yield
        try:
            self.reason_error = await ask_for_break_glass(self, principal, self._patient, form_data)
            if not self.reason_error:
                await self._open(principal, self._patient)
        except NotFound:
            self.needs_reason, self.missing = False, True
        finally:
            self.pending = False

    async def _refresh(self, principal: Principal) -> None:
        try:
            self.listing = await run_service(
                self, records.list_records, principal, self.kind, patient_id=self._patient
            )
        except BreakGlassNeeded:
            self.listing, self.detail, self.needs_reason = None, None, True
        except NotFound:
            self.listing, self.missing = None, True

    async def _principal(self) -> Principal | None:
        """The signed-in provider, when this screen shows a patient's records."""
        principal = await signed_in(self, Role.PROVIDER)
        readable = self._patient is not None and not self.needs_reason
        return principal if principal is not None and readable else None

    def _clear_form(self) -> None:
        self.correcting, self.correcting_title, self.values = "", "", {}
        self.tests = [blank_test(), blank_test()]
        self.errors, self.form_error = {}, ""
        self.document_title = self.document_day = ""
        self.form_key += 1

    @rx.event
    async def show_kind(self, kind: str):
        principal = await self._principal()
        if principal is None or kind not in RECORD_KIND_LABELS:
            return
        self.kind, self.detail, self.message = kind, None, ""
        self._clear_form()
        await self._refresh(principal)

    @rx.event
    async def open_record(self, wanted: str):
        principal = await self._principal()
        if principal is None:
            return
        self.message, self.comment, self.comment_error = "", "", ""
        try:
            self.detail = await run_service(
                self, records.record_detail, principal, self._listed(wanted)
            )
        except NotFound:
            self.detail, self.message = None, NOT_AVAILABLE

    def _listed(self, wanted: str) -> uuid.UUID:
        """The id of a record on the list in view; any other id is not found."""
        if self.listing is None or not any(line.id == wanted for line in self.listing.lines):
            raise NotFound
        return record_id(wanted)

    @rx.event
    def close_record(self):
        self.detail, self.comment, self.comment_error = None, "", ""

    @rx.event
    async def start_correction(self, wanted: str):
        principal = await self._principal()
        if principal is None:
            return
        try:
            entry = await run_service(
                self, record_changes.correction_entry, principal, self._listed(wanted)
            )
        except NotFound:
            self.message = NOT_AVAILABLE
            return
        self._clear_form()
        self.message = ""
        if isinstance(entry, LabEntry):
            self.values = {"title": entry.title, "collected_on": entry.collected_on}
            self.values["status"] = entry.status
            self.tests = [
                test_row({name: getattr(test, name) for name in TEST_FIELDS})
                for test in entry.tests
            ] or [blank_test()]
        else:
            self.values = {name: getattr(entry, name) for name, *_ in FIELDS[self.kind]}
        self.correcting = wanted
        self.correcting_title = next(line.title for line in self.listing.lines if line.id == wanted)

    @rx.event
    def cancel_correction(self):
        self._clear_form()

    @rx.event
    def add_test(self):
        if len(self.tests) < MAX_TESTS:
            self.tests = [*self.tests, blank_test()]

    @rx.event
    def remove_test(self, position: str):
        index = int(position) if str(position).isdigit() else -1
        if 0 <= index < len(self.tests) and len(self.tests) > 1:
            self.tests = [row for at, row in enumerate(self.tests) if at != index]

    @rx.event
    def typed_test(self, position: str, name: str, value: str):
        index = int(position) if str(position).isdigit() else -1
        if 0 <= index < len(self.tests) and name in TEST_FIELDS and isinstance(value, str):
            rows = list(self.tests)
            rows[index] = {**rows[index], name: value[: TEST_LIMITS[name] + 20]}
            self.tests = rows

    @rx.event
    async def save(self, form_data: dict):
        """Add the entry typed in the form, or correct the record being corrected."""
        principal = await self._principal()
        if principal is None or self.kind == "document":
            return
        self.message, self.pending = "", True
        yield
        positions: list[int] = []
        if self.kind == "lab_result":
            entry, positions = self._lab_entry(form_data)
        else:
            entry = ENTRY_OF_KIND[self.kind](
                **{
                    name: text_of(form_data, name, limit + 20)
                    for name, _, _, limit in FIELDS[self.kind]
                }
            )
        try:
            if self.correcting:
                await run_service(
                    self,
                    record_changes.correct_record,
                    principal,
                    self._listed(self.correcting),
                    entry,
                )
            else:
                await run_service(self, record_changes.add_record, principal, self._patient, entry)
        except RecordInvalid as invalid:
            self._show_errors(invalid.errors, positions)
            return
        except NotFound:
            self.form_error = NOT_AVAILABLE
            return
        finally:
            self.pending = False
        what = KIND_NAMES[self.kind]
        title = getattr(entry, ENTRY_TITLE.get(self.kind, "title")).strip()
        if self.correcting:
            self.message = f"Corrected the {what} {title}."
        else:
            tests = f" with {len(positions)} tests" if len(positions) > 1 else ""
            self.message = f"Added the {what} {title}{tests} for {self.patient_name}."
        self._clear_form()
        self.detail = None
        await self._refresh(principal)

    def _lab_entry(self, form_data: dict) -> tuple[LabEntry, list[int]]:
        """The lab result typed: its test rows (what the form sent, which the rows mirror),
        leaving out empty rows, and the row of each test, to put errors next to their row."""
        rows, positions = [], []
        for index in range(len(self.tests)):
            typed = {
                name: text_of(form_data, f"test-{index}-{name}", TEST_LIMITS[name] + 20).strip()
                for name in TEST_FIELDS
            }
            if any(typed.values()):
                rows.append(LabTestEntry(**typed))
                positions.append(index)
            self.tests[index] = test_row(typed)
        entry = LabEntry(
            title=text_of(form_data, "title", 140),
            collected_on=text_of(form_data, "collected_on", 30),
            status=text_of(form_data, "status", 20),
            tests=rows,
        )
        return entry, positions

    def _show_errors(self, errors: dict[str, str], positions: list[int]) -> None:
        shown: dict[str, str] = {}
        rows = [test_row(row) for row in self.tests]
        for key, text in errors.items():
            parts = key.split(".")
            if parts[0] == "tests" and len(parts) == 3 and parts[1].isdigit():
                at = int(parts[1])
                row = positions[at] if at < len(positions) else 0
                if row < len(rows) and parts[2] in TEST_FIELDS:
                    rows[row][f"{parts[2]}_error"] = text
            else:
                shown[key] = text
        self.tests, self.errors, self.form_error = rows, shown, FIX_BELOW

    @rx.event
    def typed_document(self, name: str, value: str):
        value = value[:200] if isinstance(value, str) else ""
        if name == "title":
            self.document_title = value
        elif name == "dated_on":
            self.document_day = value[:20]

    @rx.event
    def document_rejected(self):
        self.errors, self.form_error = {"file": FILE_REFUSED}, FIX_BELOW

    @rx.event
    async def upload_document(self, files: list[rx.UploadFile]):
        principal = await self._principal()
        if principal is None or self.kind != "document":
            return
        self.message, self.pending = "", True
        yield
        if len(files) != 1:
            self.pending = False
            self.errors, self.form_error = {"file": FILE_REFUSED}, FIX_BELOW
            return
        # One byte past the limit is enough for the service to refuse in its own words.
        data = await files[0].read(DOCUMENT_LIMIT_BYTES + 1)
        entry = DocumentEntry(
            title=self.document_title,
            filename=(files[0].name or "document")[:200],
            data=data,
            dated_on=self.document_day,
        )
        try:
            await run_service(self, record_changes.add_record, principal, self._patient, entry)
        except RecordInvalid as invalid:
            self.errors, self.form_error = invalid.errors, FIX_BELOW
            return
        except NotFound:
            self.form_error = NOT_AVAILABLE
            return
        finally:
            self.pending = False
        self.message = f"Added the document {entry.title.strip()} for {self.patient_name}."
        self._clear_form()
        await self._refresh(principal)
        yield rx.clear_selected_files(DOCUMENT_FILES)

    @rx.event
    def typed_comment(self, value: str):
        self.comment = value[: COMMENT_LIMIT + 1000] if isinstance(value, str) else ""

    @rx.event
    async def mark_reviewed(self, form_data: dict):
        principal = await self._principal()
        if principal is None or self.detail is None:
            return
        comment = text_of(form_data, "comment", COMMENT_LIMIT + 1000)
        self.comment, self.comment_error = comment, ""
        try:
            await run_service(
                self, record_changes.mark_reviewed, principal, self._listed(self.detail.id), comment
            )
        except RecordInvalid as invalid:
            self.comment_error = invalid.errors.get("comment", str(invalid))
            return
        except NotFound:
            self.detail, self.message = None, NOT_AVAILABLE
            return
        self.message = f"Marked reviewed: {self.detail.title}, {self.detail.day}."
        self.detail = await run_service(
            self, records.record_detail, principal, record_id(self.detail.id)
        )
        self.comment = ""
        await self._refresh(principal)


# The field of each kind's entry that names it in messages.
ENTRY_TITLE = {
    "medication": "name",
    "immunization": "vaccine",
    "allergy": "substance",
    "problem": "condition",
}
