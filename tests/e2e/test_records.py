"""Medical records in Chromium, as the demo patient (three lipid panels): the records home, the
test results list searched and filtered, a result with each value's flag in words, range bar
and trend (chart and table), downloads of one record, a summary and the FHIR file through the
page's own session, and who viewed the record, page by page. A raw client calling the records
screens' handlers with another patient's record gets what a nonexistent id gets."""

from __future__ import annotations

import inspect
import json
import re
import uuid

from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.backend import models
from portal.backend.demo import DEMO_PATIENT_EMAIL
from portal.backend.services import records
from portal.backend.services.records import ACCESS_PAGE
from portal.backend.views import FLAG_WORDS
from portal.pages.patient.records_state import (
    AccessLogState,
    RecordDetailState,
    RecordListState,
    RecordsHomeState,
)
from tests.e2e.socket import call_handlers
from tests.e2e.test_booking import _principal
from tests.e2e.test_shells import assert_accessible

PATIENT = DEMO_PATIENT_EMAIL
# On the demo patient's care team (Heart and Vascular): he reads her chart without break-glass.
PROVIDER = "dr.okafor@riverside.example"
IN_RANGE = "In the normal range"


def download(page: Page, link_name: str | re.Pattern) -> tuple[str, bytes]:
    """Fetch a download link's address with the page's own session: content type and body."""
    link = page.get_by_role("link", name=link_name)
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("download", re.compile(".*"))
    reply = page.request.get(link.get_attribute("href"))
    assert reply.status == 200, f"{link.get_attribute('href')} answered {reply.status}"
    assert reply.headers.get("cache-control") == "no-store"
    return reply.headers["content-type"], reply.body()


def test_a_patient_reads_a_lab_result_with_its_range_and_trend(new_context):
    page = new_context(PATIENT).new_page()
    page.goto("/", wait_until="networkidle")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Records").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Medical records")
    results = page.get_by_role("region", name="Test results")
    expect(results).to_contain_text("Newest: Lipid panel")
    page.mouse.move(0, 0)  # a hovered navigation link is drawn in light grey (the shell's)
    assert_accessible(page)

    results.get_by_role("link", name="See all test results").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Test results")
    lines = page.get_by_role("list", name="Test results").get_by_role("listitem")
    expect(lines.filter(has_text="Lipid panel")).to_have_count(3)
    for line in lines.all():  # a flagged result says so in words, beside its icon
        flagged = "outside the range" in line.inner_text()  # the summary's words
        expect(line.get_by_text("Outside the range", exact=True)).to_have_count(int(flagged))
    assert_accessible(page)

    filters = page.get_by_role("region", name="Search and filter")
    filters.get_by_label("Search by test or medicine name").fill("LDL")
    filters.get_by_role("button", name="Search").click()
    expect(page.get_by_role("status").filter(has_text="shown")).to_have_text("3 records shown.")
    filters.get_by_label("Search by test or medicine name").fill("glucose")
    filters.get_by_role("button", name="Search").click()
    expect(page.get_by_text("Nothing matches")).to_be_visible()
    filters.get_by_label("From", exact=True).fill("2026-02-01")
    filters.get_by_label("To", exact=True).fill("2026-01-01")
    filters.get_by_role("button", name="Search").click()
    expect(filters.get_by_role("alert")).to_have_text(re.compile("last day is before the first"))
    expect(filters.get_by_label("To", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(filters.get_by_label("From", exact=True)).to_have_value("2026-02-01")  # kept as typed
    filters.get_by_role("button", name="Clear").click()
    expect(lines.filter(has_text="Lipid panel")).to_have_count(3)
    expect(filters.get_by_role("alert")).to_have_count(0)

    lines.first.get_by_role("link", name="Lipid panel").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lipid panel")
    expect(page.get_by_role("region", name="Details")).to_contain_text("Collected")
    values = page.get_by_role("region", name="Your results").locator(".lab-value")
    expect(values).to_have_count(4)
    for value in values.all():
        expect(value.locator(".range-bar")).to_have_count(1)
        expect(value.locator(".range-bar")).to_have_attribute("aria-hidden", "true")
        words = value.locator(".lab-flag").inner_text().strip()
        assert words in {IN_RANGE, *FLAG_WORDS.values()}, words
    ldl = values.filter(has=page.get_by_role("heading", name="LDL cholesterol"))
    expect(ldl.get_by_text("Normal range: below 100 mg/dL")).to_be_visible()
    expect(ldl.locator(".trend-chart svg").first).to_be_visible()
    ldl.get_by_text("Show as table").click()
    trend = ldl.get_by_role("table", name="LDL cholesterol over time")
    expect(trend.get_by_role("row")).to_have_count(4)  # a header and three results
    expect(trend.get_by_role("columnheader")).to_have_text(["Date", "Value"])
    assert_accessible(page)

    kind, body = download(page, "Download PDF")
    assert kind.startswith("application/pdf") and body.startswith(b"%PDF")

    page.get_by_role("link", name="← All test results").click()
    page.get_by_role("link", name="← All records").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Medical records")
    kind, body = download(page, "Download my health record (FHIR file)")
    assert "json" in kind
    assert json.loads(body)["resourceType"] == "Bundle"

    downloads = page.get_by_role("region", name="Download my health record")
    downloads.get_by_label("First day").fill("2026-03-01")
    downloads.get_by_label("Last day").fill("2025-03-01")
    downloads.get_by_role("button", name="Prepare the summary").click()
    expect(downloads.get_by_role("alert")).to_have_text(re.compile("last day is before the first"))
    expect(downloads.get_by_label("Last day")).to_have_value("2025-03-01")
    downloads.get_by_label("Last day").fill("2026-12-31")
    downloads.get_by_role("button", name="Prepare the summary").click()
    expect(downloads.get_by_role("alert")).to_have_count(0)
    kind, body = download(page, re.compile("^Download the summary, 1 March 2026 to 31 December"))
    assert kind.startswith("application/pdf") and body.startswith(b"%PDF")


def test_records_fit_a_phone_screen(new_context):
    page = new_context(PATIENT, viewport={"width": 360, "height": 740}).new_page()
    for path in ("/records", "/records/list?kind=lab_result"):
        page.goto(path, wait_until="networkidle")
        expect(page.get_by_role("main").get_by_role("region").first).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
    page.get_by_role("list", name="Test results").get_by_role("link").first.click()
    expect(page.locator(".lab-value")).to_have_count(4)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_a_document_record_downloads_its_file(new_context):
    page = new_context(PATIENT).new_page()
    page.goto("/records/list?kind=document", wait_until="networkidle")
    expect(page.get_by_role("heading", level=1)).to_have_text("Documents")
    page.get_by_role("list", name="Documents").get_by_role("link").first.click()
    kind, body = download(page, "Download the document")
    assert kind.startswith("application/pdf") and body.startswith(b"%PDF")


def test_unknown_kinds_and_ids_get_a_friendly_not_found(new_context):
    page = new_context(PATIENT).new_page()
    page.goto("/records/list?kind=secrets", wait_until="networkidle")
    expect(page.get_by_text("This list is not available")).to_be_visible()
    page.goto("/records/detail?id=not-an-id", wait_until="networkidle")
    expect(page.get_by_text("This record is not available")).to_be_visible()
    page.goto(f"/records/detail?id={uuid.uuid4()}", wait_until="networkidle")
    expect(page.get_by_text("This record is not available")).to_be_visible()


def test_the_patient_sees_who_viewed_the_record_page_by_page(
    new_context, portal_database, accounts
):
    patient = _patient(portal_database, accounts.user(PATIENT).id)
    with portal_database.unit_of_work() as uow:
        record_id = uow.session.exec(
            select(models.MedicalRecord.id).where(models.MedicalRecord.patient_id == patient.id)
        ).first()[0]
    provider = _principal(portal_database, PROVIDER, accounts)
    for _ in range(ACCESS_PAGE + 1):
        records.record_detail(provider, record_id, uow=portal_database.unit_of_work())

    page = new_context(PATIENT).new_page()
    page.goto("/records", wait_until="networkidle")
    page.get_by_role("link", name="See who viewed my record").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Who viewed my record")
    rows = page.get_by_role("table").get_by_role("row")
    expect(rows).to_have_count(ACCESS_PAGE + 1)  # a header and one page
    expect(rows.nth(1)).to_contain_text("Viewed a record in your chart")
    expect(rows.nth(1)).to_contain_text("Care team")
    assert_accessible(page)
    page.get_by_role("button", name="Show older").click()
    expect(rows).not_to_have_count(ACCESS_PAGE + 1)
    assert rows.count() > ACCESS_PAGE + 1


def _patient(database, user_id) -> models.Patient:
    with database.unit_of_work() as uow:
        return uow.session.exec(
            select(models.Patient).where(models.Patient.user_id == user_id)
        ).scalar_one()


def _detail_delta(replies: list[str]) -> list[dict]:
    """What the server told the client about the record screen's state."""
    name = RecordDetailState.get_full_name()
    found = []
    for reply in replies:
        delta = json.loads(reply).get("delta", {})
        if name in delta:
            found.append(delta[name])
    return found


def test_records_handlers_answer_for_another_patients_record_as_for_none(
    portal_url, accounts, portal_database
):
    """Every handler of the patient's records screens, called by the demo patient with another
    patient's record and clinician ids: the answer is the one a made-up id gets, nothing of the
    other record comes back, nothing changes."""
    me = accounts.user(PATIENT).id
    with portal_database.unit_of_work() as uow:
        theirs = [
            (record, patient)
            for record, patient in uow.session.exec(
                select(models.MedicalRecord, models.Patient)
                .join(models.Patient, models.Patient.id == models.MedicalRecord.patient_id)
                .where(
                    models.Patient.user_id != me,
                    models.MedicalRecord.kind == models.RecordKind.LAB_RESULT,
                )
            ).all()
            if record.title != "Lipid panel"  # the demo patient has only lipid panels
        ]
        record, patient = theirs[0]
        secrets = [record.title, patient.legal_last_name] + [
            component.test_name
            for component in uow.session.exec(
                select(models.LabComponent).where(models.LabComponent.record_id == record.id)
            ).scalars()
        ]
        victim = (str(record.id), str(record.provider_id))

    def snapshot() -> list:
        with portal_database.unit_of_work() as uow:
            return sorted(
                (str(r.id), r.title, r.status, str(r.reviewed_at), str(r.updated_at))
                for r in uow.session.exec(
                    select(models.MedicalRecord).where(
                        models.MedicalRecord.patient_id == patient.id
                    )
                ).scalars()
            )

    harmful = {
        "search": "panel",
        "provider": victim[1],
        "since": "2000-01-01",
        "until": "2100-01-01",
        "sort": "name",
        "summary_from": "2000-01-01",
        "summary_to": "2100-01-01",
        "id": victim[0],
        "patient_id": str(patient.id),
    }
    events = []
    for state in (RecordsHomeState, RecordListState, RecordDetailState, AccessLogState):
        for name, handler in state.event_handlers.items():
            if name == "setvar":
                continue
            parameters = list(inspect.signature(handler.fn).parameters)[1:]
            payload = {p: harmful if p == "form_data" else victim[0] for p in parameters}
            events.append((f"{state.get_full_name()}.{name}", payload))
    before = snapshot()
    session_token = accounts.session_token(PATIENT)
    replies = call_handlers(
        portal_url,
        events,
        session_token=session_token,
        path="/records/detail",
        query={"id": victim[0], "kind": "lab_result"},
    )
    made_up = call_handlers(
        portal_url,
        [(f"{RecordDetailState.get_full_name()}.load", {})],
        session_token=session_token,
        path="/records/detail",
        query={"id": str(uuid.uuid4()), "kind": "lab_result"},
    )
    assert snapshot() == before
    assert any('"role_rx_state_": "patient"' in reply for reply in replies)  # it ran signed in
    assert [s for s in secrets if any(s in reply for reply in replies)] == []
    answer = _detail_delta(replies)[-1]
    assert answer == _detail_delta(made_up)[-1]
    assert answer["missing_rx_state_"] is True and answer["record_rx_state_"] is None
