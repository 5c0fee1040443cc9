"""The care team's side of medical records in Chromium: a provider adds a lab result with two
tests for a patient (an error next to its field keeps everything typed), corrects a medication
from a prefilled form, uploads a document (one over the size limit is turned away in words,
keeping its title), and marks the result reviewed with a comment on the Results page. The
patient is told in the portal, and reads the result: its flag in words, its trend, the review,
and its PDF. A raw client calling these screens' handlers as a patient, or as a provider with
ids that name nothing, changes nothing."""

from __future__ import annotations

import inspect
import io
import re
import time
import uuid
from datetime import timedelta

from playwright.sync_api import Page, expect
from pypdf import PdfReader
from sqlalchemy import select

from portal.backend import models
from portal.backend.services import record_changes
from portal.backend.services.record_entries import DOCUMENT_LIMIT_BYTES, LabEntry, LabTestEntry
from portal.pages.provider.records_state import FILE_REFUSED, RecordsState
from portal.pages.provider.results_state import ResultsState
from tests.dates import practice_today
from tests.e2e.conftest import watch
from tests.e2e.socket import call_handlers
from tests.e2e.test_booking import _principal
from tests.e2e.test_records import download
from tests.e2e.test_shells import assert_accessible

PROVIDER = "dr.chen@riverside.example"
# A demo patient no other end-to-end test uses; Dr. Chen's appointments are left alone.
LAST_NAME, PATIENT = "Rossi", "Benjamin Rossi"
PATIENT_EMAIL = "benjamin.rossi@example.com"
ATTACKER = "mateo.hernandez@example.com"
PDF = b"%PDF-1.4\n% a referral letter\n%%EOF\n"


def patient_id(database) -> str:
    with database.unit_of_work() as uow:
        for patient in uow.session.exec(select(models.Patient)).scalars():
            if patient.legal_last_name == LAST_NAME:
                return str(patient.id)
    raise AssertionError(f"the demo has no patient named {PATIENT}")


def records_of(database, patient: str) -> list[tuple]:
    with database.unit_of_work() as uow:
        return sorted(
            (str(r.id), r.kind, r.title, r.status, r.reviewed_at, r.review_comment, r.updated_at)
            for r in uow.session.exec(
                select(models.MedicalRecord).where(
                    models.MedicalRecord.patient_id == uuid.UUID(patient)
                )
            ).scalars()
        )


def earlier_glucose(database, accounts, patient: str) -> None:
    """A glucose result from four months ago, so that the one entered today has a trend."""
    four_months_ago = (practice_today() - timedelta(days=120)).isoformat()
    entry = LabEntry(
        title="Fasting glucose",
        collected_on=four_months_ago,
        tests=[LabTestEntry("Glucose", "92", "mg/dL", "70", "99")],
    )
    provider = _principal(database, PROVIDER, accounts)
    record_changes.add_record(provider, uuid.UUID(patient), entry, uow=database.unit_of_work())


def told_in_the_portal(database, email: str, accounts) -> None:
    """Wait until the scheduler (every 3 seconds) has delivered the account's in-app notices."""
    user_id = accounts.user(email).id
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with database.unit_of_work() as uow:
            if not uow.session.exec(
                select(models.Notification.id).where(
                    models.Notification.user_id == user_id,
                    models.Notification.channel == "in_app",
                    models.Notification.status == "pending",
                )
            ).first():
                return
        time.sleep(0.5)
    raise AssertionError(f"the in-app notices of {email} were not delivered in 30 seconds")


def fill_test(page: Page, number: int, **values: str) -> None:
    for name, value in values.items():
        page.get_by_label(f"{name}, test {number}", exact=True).fill(value)


def test_a_provider_enters_and_reviews_records_and_the_patient_reads_the_result(
    new_context, portal_database, accounts, tmp_path
):
    patient = patient_id(portal_database)
    earlier_glucose(portal_database, accounts, patient)  # before the browser's session opens
    page = new_context(PROVIDER).new_page()
    problems = watch(page)
    page.goto(f"/provider/patients/chart?patient={patient}", wait_until="networkidle")
    page.get_by_role("link", name="Open records").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Records of {PATIENT}")
    expect(page.get_by_role("link", name="Back to the chart")).to_have_attribute(
        "href", re.compile(f"patient={patient}")
    )
    expect(page.get_by_role("button", name="Test results")).to_have_attribute(
        "aria-pressed", "true"
    )
    assert_accessible(page)

    # A lab result with two tests; a third row is added and removed again.
    form = page.get_by_role("region", name="Add a lab result")
    form.get_by_label("Test or panel name").fill("Basic metabolic panel")
    tomorrow = (practice_today() + timedelta(days=1)).isoformat()
    form.get_by_label("Collection date").fill(tomorrow)
    fill_test(page, 1, Test="Glucose", Value="1O4", Unit="mg/dL")  # a letter O
    fill_test(page, 1, **{"Low limit": "70", "High limit": "99"})
    fill_test(page, 2, Test="Sodium", Value="139", Unit="mmol/L")
    fill_test(page, 2, **{"Low limit": "abc", "High limit": "145"})
    form.get_by_role("button", name="Add a test").click()
    expect(page.get_by_label("Test, test 3", exact=True)).to_be_visible()
    page.get_by_role("button", name="Remove test 3").click()
    expect(page.get_by_label("Test, test 3", exact=True)).to_have_count(0)
    form.get_by_role("button", name="Add the lab result").click()

    date_field = form.get_by_label("Collection date")
    expect(date_field).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#lab_result-collected_on-error")).to_have_text(
        "The collection date cannot be in the future."
    )
    low = page.get_by_label("Low limit, test 2", exact=True)
    expect(low).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#test-1-low-error")).to_have_text(
        "A range limit is a number, such as 3.5."
    )
    value = page.get_by_label("Value, test 1", exact=True)
    expect(value).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#test-0-value-error")).to_contain_text(
        "The value is not a number, but mg/dL needs one"
    )
    expect(form.get_by_label("Test or panel name")).to_have_value("Basic metabolic panel")
    expect(date_field).to_have_value(tomorrow)
    expect(value).to_have_value("1O4")
    expect(page.get_by_label("Test, test 2", exact=True)).to_have_value("Sodium")
    assert_accessible(page)
    assert [
        r for r in records_of(portal_database, patient) if r[2] == "Basic metabolic panel"
    ] == []

    date_field.fill(practice_today().isoformat())
    value.fill("104")
    low.fill("135")
    form.get_by_role("button", name="Add the lab result").click()
    expect(page.get_by_role("status").filter(has_text="Added")).to_have_text(
        f"Added the lab result Basic metabolic panel with 2 tests for {PATIENT}."
    )
    listed = page.get_by_role("region", name="Test results")
    row = listed.get_by_role("row").filter(has_text="Basic metabolic panel")
    expect(row).to_contain_text("2 tests, 1 outside the range")
    expect(row).to_contain_text("Not reviewed")
    expect(form.get_by_label("Test or panel name")).to_have_value("")  # a fresh form

    # A medication, then corrected from its prefilled form with a stop date (a change).
    page.get_by_role("button", name="Medications").click()
    form = page.get_by_role("region", name="Add a medication")
    started = (practice_today() - timedelta(days=60)).isoformat()
    for label, value in (
        ("Medicine", "Lisinopril"),
        ("Dose", "10 mg"),
        ("How it is taken", "by mouth"),
        ("How often", "once a day"),
        ("Start date", started),
    ):
        form.get_by_label(label, exact=True).fill(value)
    form.get_by_role("button", name="Add the medication").click()
    expect(page.get_by_role("status").filter(has_text="Added")).to_contain_text(
        "Added the medication Lisinopril"
    )
    page.get_by_role("button", name=re.compile("^Correct Lisinopril")).click()
    form = page.get_by_role("region", name="Correct a record")
    expect(form.get_by_label("Medicine", exact=True)).to_have_value("Lisinopril")
    expect(form.get_by_label("Start date")).to_have_value(started)
    form.get_by_label("Dose", exact=True).fill("20 mg")
    form.get_by_label(re.compile("^Stop date")).fill(practice_today().isoformat())
    form.get_by_role("button", name="Save the correction").click()
    expect(page.get_by_role("status").filter(has_text="Corrected")).to_have_text(
        "Corrected the medication Lisinopril."
    )
    row = page.get_by_role("region", name="Medications").get_by_role(
        "row", name=re.compile("Lisinopril")
    )
    expect(row).to_contain_text("20 mg by mouth once a day")

    # A document.
    page.get_by_role("button", name="Documents").click()
    form = page.get_by_role("region", name="Add a document")
    form.get_by_label("Document title").fill("Referral letter")
    too_large = tmp_path / "scan.pdf"
    too_large.write_bytes(PDF.ljust(DOCUMENT_LIMIT_BYTES + 1, b" "))
    form.locator("input[type=file]").set_input_files(str(too_large))
    expect(page.locator("#document-file-error")).to_have_text(FILE_REFUSED)
    expect(form.get_by_text("Chosen: scan.pdf")).to_have_count(0)
    expect(form.get_by_label("Document title")).to_have_value("Referral letter")
    letter = tmp_path / "referral.pdf"
    letter.write_bytes(PDF)
    form.locator("input[type=file]").set_input_files(str(letter))
    expect(form.get_by_text("Chosen: referral.pdf")).to_be_visible()
    form.get_by_role("button", name="Upload the document").click()
    expect(page.get_by_role("status").filter(has_text="Added")).to_have_text(
        f"Added the document Referral letter for {PATIENT}."
    )
    expect(page.get_by_role("region", name="Documents")).to_contain_text("referral.pdf")
    assert_accessible(page)

    # The result waits on the Results page; reviewed with a comment, it leaves the list.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Results").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Results to review")
    waiting = page.get_by_role("region", name="Waiting for review")
    line = waiting.get_by_role("row").filter(has_text=PATIENT).filter(has_text="Basic metabolic")
    expect(line).to_have_count(1)
    expect(line).to_contain_text("Outside the range")
    page.mouse.move(0, 0)  # a hovered navigation link is paler than AA allows (the shell's)
    assert_accessible(page)
    line.get_by_role("button", name=re.compile("^Open Basic metabolic panel")).click()
    detail = page.get_by_role("region", name="Basic metabolic panel")
    expect(detail).to_contain_text("Glucose")
    expect(detail).to_contain_text("Above the normal range")
    expect(detail).to_contain_text("70 to 99 mg/dL")
    comment = "Slightly high glucose; please repeat fasting."
    detail.get_by_label("Comment for the patient (optional)").fill(comment)
    expect(detail.get_by_text(f"{len(comment)} of 2,000 characters")).to_be_visible()
    assert_accessible(page)
    detail.get_by_role("button", name="Mark reviewed").click()
    expect(page.get_by_role("status").filter(has_text="Marked reviewed")).to_contain_text(
        "Marked reviewed: Basic metabolic panel"
    )
    expect(line).to_have_count(0)
    [reviewed] = [
        r for r in records_of(portal_database, patient) if r[2] == "Basic metabolic panel"
    ]
    assert reviewed[4] is not None and reviewed[5] == comment
    assert not problems, "the browser reported errors:\n" + "\n".join(problems)
    the_patient_reads_the_new_result(new_context, portal_database, accounts, comment)


def the_patient_reads_the_new_result(new_context, database, accounts, comment: str) -> None:
    """Told in the portal, the patient finds the result, its flag in words, its trend (chart
    and table), the review with its comment, and downloads its PDF."""
    told_in_the_portal(database, PATIENT_EMAIL, accounts)
    page = new_context(PATIENT_EMAIL).new_page()
    problems = watch(page)
    page.goto("/", wait_until="networkidle")
    page.get_by_role("link", name=re.compile(r"^Notifications, \d+ unread")).click()
    latest = page.get_by_role("region", name="Latest")
    expect(latest.get_by_role("listitem").first).to_contain_text("A new result is available")
    assert_accessible(page)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Records").click()
    page.get_by_role("link", name="See all test results").click()
    line = page.get_by_role("list", name="Test results").get_by_role("listitem").first
    expect(line).to_contain_text("Basic metabolic panel")
    expect(line.get_by_text("Outside the range", exact=True)).to_be_visible()
    page.mouse.move(0, 0)  # a hovered navigation link is paler than AA allows (the shell's)
    assert_accessible(page)
    line.get_by_role("link", name="Basic metabolic panel").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Basic metabolic panel")
    expect(page.get_by_text("Reviewed by Dr. Amelia Chen, MD")).to_be_visible()
    expect(page.get_by_text(comment)).to_be_visible()
    glucose = page.locator(".lab-value").filter(has=page.get_by_role("heading", name="Glucose"))
    expect(glucose.locator(".lab-flag")).to_have_text("Above the normal range")
    expect(glucose.get_by_text("Normal range: 70 to 99 mg/dL")).to_be_visible()
    expect(glucose.locator(".trend-chart svg").first).to_be_visible()
    glucose.get_by_text("Show as table").click()
    trend = glucose.get_by_role("table", name="Glucose over time")
    expect(trend.get_by_role("row")).to_have_count(3)  # a header, four months ago and today
    expect(trend.get_by_role("row").last).to_contain_text("104 mg/dL")
    assert_accessible(page)

    kind, body = download(page, "Download PDF")
    assert kind.startswith("application/pdf")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(body)).pages)
    for expected in ("Basic metabolic panel", "Glucose", "104 mg/dL", "Above the normal range"):
        assert expected in text, expected
    assert not problems, "the browser reported errors:\n" + "\n".join(problems)


def handler_events(ids: dict[str, str]) -> list[tuple[str, dict]]:
    """Every handler of both screens with the given ids and a complete, valid lab form."""
    lab_form = {
        "title": "Injected panel",
        "collected_on": practice_today().isoformat(),
        "status": "final",
        "test-0-name": "Glucose",
        "test-0-value": "90",
        "comment": "Injected comment",
    }
    events = []
    for state in (ResultsState, RecordsState):
        for name, handler in state.event_handlers.items():
            parameters = list(inspect.signature(handler.fn).parameters)[1:]
            if name == "setvar" or "files" in parameters:  # uploads go through /_upload
                continue
            payload = {
                p: lab_form if p == "form_data" else ids.get(p, ids["record"]) for p in parameters
            }
            events.append((f"{state.get_full_name()}.{name}", payload))
    return events


def test_record_handlers_refuse_patients_and_ids_that_name_nothing(
    portal_url, accounts, portal_database
):
    patient = patient_id(portal_database)
    theirs = records_of(portal_database, patient)
    real = theirs[0][0] if theirs else str(uuid.uuid4())
    before = records_of(portal_database, patient)
    with portal_database.unit_of_work() as uow:
        total = len(uow.session.exec(select(models.MedicalRecord.id)).all())

    as_patient = call_handlers(
        portal_url,
        handler_events({"record": real, "kind": "lab_result", "name": "name", "value": "x"}),
        session_token=accounts.session_token(ATTACKER),
        path="/provider/records",
        query={"patient": patient},
    )
    assert any('"role_rx_state_": "patient"' in reply for reply in as_patient)  # signed in
    assert not [reply for reply in as_patient if LAST_NAME in reply]

    nothing = str(uuid.uuid4())
    as_provider = call_handlers(
        portal_url,
        handler_events({"record": nothing, "kind": "lab_result", "name": "name", "value": "x"}),
        session_token=accounts.session_token(PROVIDER),
        path="/provider/records",
        query={"patient": nothing},
    )
    assert any('"missing_rx_state_": true' in reply for reply in as_provider)
    assert records_of(portal_database, patient) == before
    with portal_database.unit_of_work() as uow:
        assert len(uow.session.exec(select(models.MedicalRecord.id)).all()) == total
