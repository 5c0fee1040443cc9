"""The admins' audit log, practice settings and analytics pages in Chromium; and every handler
of their states called over the websocket by a patient and by a provider: nothing changes,
nothing is read, nothing leaks."""

from __future__ import annotations

import inspect

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from portal.backend import models
from portal.backend.demo import DEMO_PATIENT_EMAIL
from portal.backend.demo.people import PATIENTS
from portal.pages.admin.analytics_state import AnalyticsState
from portal.pages.admin.audit_state import AuditState
from portal.pages.admin.settings_state import PracticeSettingsState
from tests.e2e.conftest import watch
from tests.e2e.socket import call_handlers
from tests.e2e.test_shells import LOGINS, assert_accessible, at

PROVIDER = "dr.chen@riverside.example"
PHI = [last for _first, last, *_ in PATIENTS if len(last) >= 6] + [DEMO_PATIENT_EMAIL]
ADMIN_ACTIONS = (
    "audit.read",
    "audit.export",
    "audit.verify",
    "practice.settings.read",
    "practice.settings.save",
    "analytics.read",
)


def demo_patient(accounts) -> models.Patient:
    with accounts.database.unit_of_work() as uow:
        return uow.session.exec(
            select(models.Patient).where(
                models.Patient.user_id == accounts.user(DEMO_PATIENT_EMAIL).id
            )
        ).scalar_one()


def test_an_admin_filters_the_log_for_a_patient_verifies_it_and_exports_it(new_context, accounts):
    patient = demo_patient(accounts)
    maria = new_context(DEMO_PATIENT_EMAIL).new_page()
    maria.goto("/")  # her home page is a read of her record: an event about her
    expect(maria.get_by_role("heading", level=1)).to_contain_text("Hello, Maria")

    page = new_context(LOGINS["admin"]).new_page()
    problems = watch(page)
    page.goto("/admin/audit")
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit log")
    expect(page.get_by_role("navigation").get_by_role("link", name="Audit log")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Patient's last name").fill(patient.legal_last_name)
    page.get_by_label("Patient's date of birth").fill(patient.date_of_birth.isoformat())
    page.get_by_role("button", name="Search").click()
    rows = page.get_by_role("table").locator("tbody tr")
    expect(rows.filter(has_not_text="Maria Garcia")).to_have_count(0)  # only her events
    expect(rows.filter(has_text="home.read").first).to_contain_text("Patient")

    export = page.get_by_role("link", name="Download these events as CSV")
    href = export.get_attribute("href")
    assert f"patient={patient.id}" in href
    assert patient.legal_last_name not in href and str(patient.date_of_birth) not in href
    download = page.request.get(href)
    assert download.status == 200
    assert download.headers["cache-control"] == "no-store"
    assert "Maria Garcia" in download.text() and "home.read" in download.text()

    page.get_by_role("button", name="Verify integrity").click()
    expect(page.get_by_role("status").filter(has_text="The audit log is intact")).to_be_visible()
    assert_accessible(page)
    assert not problems, "the browser reported errors:\n" + "\n".join(problems)


def test_settings_refuse_an_idle_timeout_of_two_minutes_in_words(new_context, portal_database):
    page = new_context(LOGINS["admin"]).new_page()
    problems = watch(page)
    page.goto("/admin/settings")
    expect(page.get_by_role("heading", level=1)).to_have_text("Practice settings")
    timeout = page.get_by_label("Idle timeout (minutes)")
    expect(timeout).to_have_value("15")
    assert_accessible(page)
    timeout.fill("2")
    page.get_by_role("button", name="Save settings").click()
    message = "The idle timeout must be between 15 and 30 minutes."
    expect(page.get_by_text(message)).to_be_visible()
    expect(timeout).to_have_attribute("aria-invalid", "true")
    expect(timeout).to_have_value("2")  # the form keeps what was typed
    expect(page.get_by_role("link", name="Visit types")).to_have_attribute(
        "href", "/admin/scheduling#visit-types"
    )
    assert_accessible(page)
    with portal_database.unit_of_work() as uow:
        minutes = uow.session.exec(select(models.Practice.idle_timeout_minutes)).scalars().all()
    assert minutes == [15]
    assert not problems, "the browser reported errors:\n" + "\n".join(problems)


def test_the_analytics_page_draws_its_charts_with_tables_beside_them(new_context):
    page = new_context(LOGINS["admin"]).new_page()
    problems = watch(page)
    page.goto("/admin/analytics")
    expect(page.get_by_role("heading", level=1)).to_have_text("Analytics")
    charts = page.get_by_role("img", name="The same figures are in the table that follows")
    expect(charts).to_have_count(4)
    expect(page.locator(".recharts-wrapper")).to_have_count(4)
    expect(page.locator(".recharts-bar-rectangle").first).to_be_visible()
    expect(
        page.get_by_role("table", name="Appointments booked per week by visit type")
    ).to_be_visible()
    expect(page.get_by_role("table", name="Enrolled in two-step sign-in (MFA)")).to_contain_text(
        "Everyone"
    )
    assert [marker for marker in PHI if marker in page.content()] == []
    assert_accessible(page)
    assert not problems, "the browser reported errors:\n" + "\n".join(problems)


def test_only_admins_open_these_pages(new_context, portal_url):
    patient = new_context(DEMO_PATIENT_EMAIL).new_page()
    for path in ("/admin/audit", "/admin/settings", "/admin/analytics"):
        patient.goto(path)
        expect(patient).to_have_url(at(portal_url, "/"))


HARMFUL = {
    "form_data": {
        "name": "Mallory's Practice",
        "time_zone": "UTC",
        "idle_timeout_minutes": "30",
        "message_response_hours": "1",
        "patient_self_registration": "on",
        "held_lab_result": "on",
        "email": DEMO_PATIENT_EMAIL,
        "last_name": "Garcia",
        "birth_date": "1968-01-01",
    },
}


def snapshot(database) -> tuple:
    with database.unit_of_work() as uow:
        practice = uow.session.exec(select(models.Practice)).scalars().one()
        audited = uow.session.exec(
            select(func.count())
            .select_from(models.AuditEvent)
            .where(models.AuditEvent.action.in_(ADMIN_ACTIONS))
        ).scalar_one()
        return (
            practice.name,
            practice.time_zone,
            practice.idle_timeout_minutes,
            practice.patient_self_registration,
            practice.message_response_hours,
            practice.records_held_for_review,
            audited,
        )


@pytest.mark.parametrize("who", ["patient", "provider"])
def test_admin_handlers_do_nothing_for_patients_and_providers(
    portal_url, accounts, portal_database, who
):
    email = DEMO_PATIENT_EMAIL if who == "patient" else PROVIDER
    events = []
    for state in (AuditState, PracticeSettingsState, AnalyticsState):
        for name, handler in state.event_handlers.items():
            if name == "setvar":
                continue
            parameters = list(inspect.signature(handler.fn).parameters)[1:]
            events.append(
                (f"{state.get_full_name()}.{name}", {p: HARMFUL.get(p, "x") for p in parameters})
            )
    before = snapshot(portal_database)
    replies = call_handlers(
        portal_url,
        events,
        session_token=accounts.session_token(email),
        path="/admin/audit",
    )
    assert snapshot(portal_database) == before
    assert any(f'"role_rx_state_": "{who}"' in reply for reply in replies)  # it ran signed in
    assert [marker for marker in PHI if any(marker in reply for reply in replies)] == []
    assert not any("The audit log is" in reply for reply in replies)
