"""The patient list and chart in Chromium, as Dr. Chen: find a demo patient by date of birth,
open their chart, switch tabs; an unknown patient id answers "not found"; the URL carries only
an opaque id; a patient is kept out, and the handlers called by hand give no one else PHI.
Read-only: it uses a patient (Eleanor Price, invited, no account) that no other test changes."""

from __future__ import annotations

import inspect
import re
import uuid

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.backend import models
from portal.pages.provider.chart_state import ChartState
from portal.pages.provider.patients_state import PatientsState
from tests.e2e.conftest import watch
from tests.e2e.socket import call_handlers
from tests.e2e.test_shells import LOGINS, assert_accessible, at

PROVIDER = "dr.chen@riverside.example"
PATIENTS = "/provider/patients"
FIRST, LAST = "Eleanor", "Price"


def demo_patient(accounts) -> models.Patient:
    with accounts.database.unit_of_work() as uow:
        return next(
            patient
            for patient in uow.session.exec(select(models.Patient)).scalars()
            if (patient.legal_first_name, patient.legal_last_name) == (FIRST, LAST)
        )


def test_a_provider_finds_a_patient_by_date_of_birth_and_reads_the_chart(
    new_context, portal_url, accounts
):
    patient = demo_patient(accounts)
    born = patient.date_of_birth
    page = new_context(PROVIDER).new_page()
    problems = watch(page)
    page.goto("/provider")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Patients").click()
    expect(page).to_have_url(at(portal_url, PATIENTS))
    expect(page.get_by_role("heading", level=1)).to_have_text("Patients")
    expect(page.get_by_text("Search for a patient")).to_be_visible()

    search = page.get_by_label("Find a patient")
    search.fill(f"{born:%m/%d/%Y}")
    page.get_by_role("button", name="Search").click()
    row = page.get_by_role("row").filter(has_text=f"{FIRST} {LAST}")
    # The first search of a freshly started server waits for its start-up jobs.
    expect(row).to_have_count(1, timeout=20_000)
    expect(row).to_contain_text(patient.medical_record_number)
    expect(page.get_by_text(re.compile(r"matche?s? this date of birth"))).to_be_visible()
    assert_accessible(page)

    search.fill("zzqx")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("No patients match")).to_be_visible()
    search.fill("1968-02-30")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("alert")).to_contain_text("YYYY-MM-DD")

    search.fill(f"{LAST} {born.isoformat()}")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=f"{FIRST} {LAST}").click()
    expect(page).to_have_url(re.compile(rf"/provider/patients/chart/?\?patient={patient.id}$"))
    assert LAST not in page.url and born.isoformat() not in page.url
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{FIRST} {LAST}")
    expect(page.get_by_text(patient.medical_record_number)).to_be_visible()
    expect(page.get_by_role("tab", name="Summary")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_text("Upcoming appointments")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("tab", name="Appointments").click()
    expect(page.get_by_role("region", name="Past and cancelled")).to_be_visible()
    page.get_by_role("tab", name="Messages").click()
    expect(
        page.get_by_role("link", name="Show this patient's threads in the inbox")
    ).to_have_attribute("href", re.compile(str(patient.id)))
    page.get_by_role("tab", name="Records").click()
    expect(page.get_by_role("row").filter(has_text="Test results")).to_be_visible()
    expect(page.get_by_role("link", name="Open records")).to_have_attribute(
        "href", re.compile(str(patient.id))
    )
    page.get_by_role("tab", name="Profile").click()
    profile = page.get_by_role("region", name="Demographics")
    expect(profile).to_contain_text(f"{FIRST} {LAST}")
    expect(profile).to_contain_text(f"{born.day} {born:%B %Y}")
    assert_accessible(page)
    assert not problems, problems

    with accounts.database.unit_of_work() as uow:
        tabs = uow.session.exec(
            select(models.AuditEvent.details).where(
                models.AuditEvent.action == "patient.chart.read",
                models.AuditEvent.patient_id == patient.id,
            )
        ).scalars()
        tabs = set(tabs)
    assert {"tab=header", "tab=summary", "tab=appointments", "tab=messages"} <= tabs


def test_an_unknown_patient_id_answers_not_found(new_context):
    page = new_context(PROVIDER).new_page()
    for wanted in (uuid.uuid4(), "not-an-id"):
        page.goto(f"{PATIENTS}/chart?patient={wanted}")
        expect(page.get_by_role("heading", level=1)).to_have_text("This patient was not found")


def test_a_patient_is_sent_back_to_their_own_home(new_context, portal_url, accounts):
    page = new_context(LOGINS["patient"]).new_page()
    page.goto(f"{PATIENTS}/chart?patient={demo_patient(accounts).id}")
    expect(page).to_have_url(at(portal_url, "/"))
    expect(page.get_by_text(LAST)).to_have_count(0)


@pytest.mark.parametrize("who", ["nobody", "patient", "admin"])
def test_list_and_chart_handlers_give_no_one_else_phi(portal_url, accounts, who):
    patient = demo_patient(accounts)
    form = {"query": f"{patient.date_of_birth:%m/%d/%Y}", "upcoming": "yes"}
    events = []
    for state in (PatientsState, ChartState):
        for name, handler in state.event_handlers.items():
            if name == "setvar":  # refused outright by the portal's middleware
                continue
            parameters = list(inspect.signature(handler.fn).parameters)[1:]
            payload = {p: form if p == "form_data" else "profile" for p in parameters}
            events.append((f"{state.get_full_name()}.{name}", payload))
    token = accounts.session_token(LOGINS[who]) if who in LOGINS else ""
    replies = call_handlers(
        portal_url,
        events,
        session_token=token,
        path=f"{PATIENTS}/chart",
        query={"patient": str(patient.id)},
    )
    assert replies
    for secret in (LAST, patient.medical_record_number, patient.date_of_birth.isoformat()):
        assert not any(secret in reply for reply in replies), secret
