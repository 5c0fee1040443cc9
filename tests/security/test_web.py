"""Formula injection into the audit export, open redirects after sign-in, and the booking race
(two patients confirming one time on parallel connections), against the running portal."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.backend import models
from portal.backend.security.principal import Principal, Role
from portal.backend.services import scheduling
from portal.pages.patient.booking import BookingState
from tests.e2e.socket import in_thread
from tests.security.conftest import DEMO_ADMIN, PASSWORD
from tests.security.harness import connect, emit, forget_failed_sign_ins, router
from tests.security.test_downloads import get

FORMULAS = ['=HYPERLINK("http://evil.example","x")', "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3"]


def test_formulas_typed_by_a_patient_are_inert_in_the_audit_export(
    portal_url, portal_database, new_patient, accounts
):
    person = new_patient(FORMULAS[0], FORMULAS[1])
    with portal_database.unit_of_work() as uow:
        patient = uow.session.get(models.Patient, person.patient_id)
        patient.preferred_name = FORMULAS[2]
        uow.commit()
    token = accounts.session_token(person.email)
    assert get(portal_url, "/files/records/health-record.json", token).status == 200
    export = get(
        portal_url,
        f"/files/audit-log.csv?patient={person.patient_id}",
        accounts.session_token(DEMO_ADMIN),
    )
    assert export.status == 200
    rows = list(csv.reader(io.StringIO(export.body.decode("utf-8-sig"))))
    cells = [cell for row in rows[1:] for cell in row]
    assert any("HYPERLINK" in cell or "SUM" in cell for cell in cells), "the name was exported"
    dangerous = [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert dangerous == []


REDIRECTS = [
    "https://evil.example/",
    "//evil.example/",
    "/\\evil.example/",
    "javascript:alert(document.domain)",
    "https:evil.example",
]


@pytest.mark.parametrize("target", REDIRECTS)
def test_signing_in_never_leaves_for_a_next_address(
    target, new_context, portal_url, portal_database, new_patient, canary_traces
):
    forget_failed_sign_ins(portal_database)
    person = new_patient("Nora", "Nextpage")
    page = new_context().new_page()
    canary_traces.follow(page)
    for name in ("next", "redirect", "return_to", "continue"):
        page.goto(f"/sign-in?{name}={target}", wait_until="networkidle")
    page.get_by_label("Email address").fill(person.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Code from your authenticator app").fill(person.code())
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Nora")
    page.wait_for_load_state("networkidle")
    assert page.url.startswith(portal_url), page.url
    visited = [url for url in canary_traces.urls if url.startswith(("http:", "https:"))]
    assert not [url for url in visited if not url.startswith(portal_url)]


def _free_time(portal_database, patient: models.Patient, user_id: uuid.UUID):
    principal = Principal(user_id, Role.PATIENT, patient.tenant_id, uuid.uuid4(), patient.id)
    options = scheduling.booking_options(principal, uow=portal_database.unit_of_work())
    for kind in options.visit_types:
        for provider in options.providers:
            choice = scheduling.first_available(
                principal,
                uuid.UUID(kind.id),
                uuid.UUID(provider.id),
                uow=portal_database.unit_of_work(),
            )
            if choice is not None:
                return kind.id, choice
    pytest.fail("no free time to race for")


def test_two_patients_confirming_one_time_in_parallel_get_one_booking(
    portal_url, portal_database, new_patient, accounts
):
    racers = [new_patient("Rita", "Racer"), new_patient("Remy", "Racer")]
    with portal_database.unit_of_work() as uow:
        first = uow.session.get(models.Patient, racers[0].patient_id)
    visit_type_id, slot = _free_time(portal_database, first, racers[0].user_id)
    name = BookingState.get_full_name()

    async def book(person) -> None:
        client = await connect(portal_url, session_token=accounts.session_token(person.email))
        route = router("/appointments/book")
        await emit(client, f"{name}.load", {}, route)
        await emit(client, f"{name}.choose_type", {"visit_type_id": visit_type_id}, route)
        await asyncio.sleep(1.5)
        await emit(
            client,
            f"{name}.choose_time",
            {"provider_id": slot.provider_id, "starts_at": slot.starts_at},
            route,
        )
        await emit(client, f"{name}.confirm", {"form_data": {"reason": "race"}}, route)
        await asyncio.sleep(4)
        await client.disconnect()

    async def race() -> None:
        await asyncio.gather(*(book(person) for person in racers))

    in_thread(race())
    with portal_database.unit_of_work() as uow:
        booked = (
            uow.session.exec(
                select(models.Appointment).where(
                    models.Appointment.patient_id.in_([p.patient_id for p in racers]),
                    models.Appointment.status == models.AppointmentStatus.BOOKED,
                )
            )
            .scalars()
            .all()
        )
    assert len(booked) == 1
