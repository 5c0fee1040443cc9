"""Break-glass in Chromium: Dr. Chen (Family Medicine team only) opens the chart of a Heart-team
patient who has no appointment with her; the chart is closed behind the break-glass form, a
blank or too short reason is refused and announced (what was typed stays), a reason opens it
with the emergency banner. The admin sees the grant on the break-glass review and marks it
reviewed, then opens the same chart read-only in an emergency. Axe is clean on every page."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from portal.backend import models
from portal.backend.demo import DEMO_PATIENT_EMAIL
from portal.backend.demo.people import CARE_TEAMS
from tests.e2e.conftest import watch
from tests.e2e.test_shells import LOGINS, assert_accessible

PROVIDER = "dr.chen@riverside.example"
REASON = "Covering the walk-in clinic: the patient fainted and I need the medication list."


def patient_outside_chens_care(database, chen_user_id) -> models.Patient:
    """A Heart-team patient (not the demo patient) who has never had an appointment with Dr.
    Chen and for whom she holds no grant."""
    with database.unit_of_work() as uow:
        chen = uow.session.exec(
            select(models.Provider.id).where(models.Provider.user_id == chen_user_id)
        ).scalar_one()
        seen = select(models.Appointment.patient_id).where(models.Appointment.provider_id == chen)
        granted = select(models.AccessGrant.patient_id).where(
            models.AccessGrant.user_id == chen_user_id
        )
        demo_patient = select(models.User.id).where(
            models.User.email_index == uow.keyring.blind_index("email", DEMO_PATIENT_EMAIL)
        )
        return (
            uow.session.exec(
                select(models.Patient)
                .join(models.CareTeam, models.CareTeam.id == models.Patient.care_team_id)
                .where(
                    models.CareTeam.name == CARE_TEAMS["heart"],
                    models.Patient.id.not_in(seen),
                    models.Patient.id.not_in(granted),
                    models.Patient.user_id.not_in(demo_patient),
                )
            )
            .scalars()
            .first()
        )


def test_a_provider_breaks_the_glass_and_the_admin_reviews_it(
    new_context, accounts, portal_database
):
    chen = accounts.user(PROVIDER)
    patient = patient_outside_chens_care(portal_database, chen.id)
    name = f"{patient.preferred_name or patient.legal_first_name} {patient.legal_last_name}"

    page = new_context(PROVIDER).new_page()
    problems = watch(page)
    page.goto(f"/provider/patients/chart?patient={patient.id}", wait_until="networkidle")
    expect(page.get_by_role("heading", level=1)).to_have_text("Emergency access")
    expect(page.get_by_text("is not on your care teams and has no appointment")).to_be_visible()
    expect(page.get_by_text(patient.medical_record_number)).to_have_count(0)
    assert_accessible(page)

    reason = page.get_by_label("Reason for emergency access")
    opening = page.get_by_role("button", name="Open the chart in an emergency")
    opening.click()
    expect(page.get_by_role("alert")).to_contain_text("Give the reason")
    expect(reason).to_have_attribute("aria-invalid", "true")
    reason.fill("need it now")
    opening.click()
    expect(page.get_by_role("alert")).to_contain_text("at least 20 characters")
    expect(reason).to_have_value("need it now")
    assert_accessible(page)

    reason.fill(REASON)
    opening.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    expect(page.get_by_role("note")).to_contain_text(re.compile(r"Emergency access until \d"))
    expect(page.get_by_text(patient.medical_record_number)).to_be_visible()
    assert_accessible(page)
    assert not problems, problems

    with portal_database.unit_of_work() as uow:
        grant = uow.session.exec(
            select(models.AccessGrant).where(
                models.AccessGrant.user_id == chen.id,
                models.AccessGrant.patient_id == patient.id,
            )
        ).scalar_one()
        reads = uow.session.exec(
            select(models.AuditEvent.details).where(
                models.AuditEvent.actor_user_id == chen.id,
                models.AuditEvent.patient_id == patient.id,
                models.AuditEvent.action == "patient.chart.read",
            )
        ).scalars()
        assert {details.split("; ")[-1] for details in reads} == {f"break_glass={grant.id}"}
    assert grant.reason == REASON

    admin = new_context(LOGINS["admin"]).new_page()
    problems = watch(admin)
    admin.goto("/admin/break-glass", wait_until="networkidle")
    expect(admin.get_by_role("heading", level=1)).to_have_text("Break-glass review")
    row = admin.get_by_role("row").filter(has_text=REASON)
    expect(row).to_contain_text("Dr. Amelia Chen")
    expect(row).to_contain_text(name)
    expect(row).to_contain_text("Open now")
    assert_accessible(admin)
    row.get_by_role("button", name=f"Mark reviewed: Dr. Amelia Chen's access to {name}").click()
    expect(admin.get_by_role("status").filter(has_text="Reviewed:")).to_be_visible()
    expect(row).to_contain_text("Reviewed by Jordan Blake")

    emergency = admin.get_by_role("region", name="Open a patient's chart in an emergency")
    emergency.get_by_label(re.compile("^Last name")).fill(patient.legal_last_name)
    emergency.get_by_label(re.compile("^Date of birth")).fill(patient.date_of_birth.isoformat())
    emergency.get_by_label("Reason for emergency access").fill(
        "The patient's daughter reports a billing error on the last visit; checking it."
    )
    emergency.get_by_role("button", name="Open the chart read-only").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text(name)
    expect(admin.get_by_role("note")).to_contain_text("Emergency access until")
    expect(admin.get_by_role("tab")).to_have_count(3)  # no Summary, no Messages
    expect(admin.get_by_role("tab", name="Appointments")).to_have_attribute("aria-selected", "true")
    expect(admin.get_by_role("button", name=re.compile("Add|Correct|Mark reviewed"))).to_have_count(
        0
    )
    admin.get_by_role("tab", name="Profile").click()
    expect(admin.get_by_role("region", name="Demographics")).to_contain_text(name)
    assert_accessible(admin)
    assert not problems, problems
