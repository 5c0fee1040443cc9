"""Scheduling in Chromium, as a patient: book, add to calendar, reschedule, cancel outside the
cutoff and be refused inside it; and a freed earlier time offered from the waitlist and taken."""

from __future__ import annotations

import inspect
import re
import time
import uuid
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.backend import models
from portal.backend.models.base import utcnow
from portal.backend.services import clinic_schedule
from portal.backend.services.sessions import open_session
from portal.backend.views import local_day, local_time
from portal.pages.patient.appointments import AppointmentsState
from portal.pages.patient.booking import BookingState
from portal.pages.patient.messages import MessagesState, ThreadState
from tests.dates import practice_today
from tests.e2e.socket import call_handlers
from tests.e2e.test_shells import assert_accessible

BOOKER = "james.wilson@example.com"
WAITER = "aisha.mohammed@example.com"
OTHER = "robert.johnson@example.com"
PROVIDER = "dr.chen@riverside.example"
ZONE = "America/New_York"


def week_label(days_ahead: int) -> str:
    day = practice_today() + timedelta(days=days_ahead)
    return f"{day:%A} {day.day} {day:%B %Y}"


def open_details(page: Page, day_and_time: str) -> None:
    page.get_by_role("button", name=f"Details of the appointment on {day_and_time}").click()
    expect(page.get_by_role("dialog")).to_be_visible()


def test_a_patient_books_adds_to_calendar_reschedules_and_cancels(new_context):
    page = new_context(BOOKER).new_page()
    page.goto("/appointments/book", wait_until="networkidle")
    page.get_by_role("button", name=re.compile("^Follow-up visit")).click()
    page.get_by_role("button", name=re.compile("^Anyone on my care team")).click()
    later = page.get_by_role("button", name="Later week")
    for _ in range(3):  # weeks ahead, clear of the demo's own bookings near today
        later.click()
    expect(page.get_by_text(f"for the week from {week_label(21)}")).to_be_visible()
    times = page.get_by_role("region", name="Choose a day and time")
    times.get_by_role("button", name=re.compile(r" at \d{1,2}:\d{2} (AM|PM) with ")).first.click()
    review = page.get_by_role("region", name="Check and confirm")
    expect(review).to_contain_text("We are keeping this time for you until")
    expect(review).to_contain_text("Cancellation policy")
    assert_accessible(page)
    review.get_by_label("What is the visit for? (optional)").fill("Blood pressure check")
    review.get_by_role("button", name="Confirm booking").click()
    done = page.get_by_role("region", name="You are booked")
    expect(done).to_be_visible()
    day_and_time = done.get_by_text(re.compile(r" at \d{1,2}:\d{2} (AM|PM)$")).inner_text()
    with page.expect_download() as download:
        done.get_by_role("link", name="Add to my calendar (.ics file)").click()
    calendar = download.value.path().read_bytes()
    assert b"BEGIN:VCALENDAR" in calendar and b"Riverside Family Health" in calendar
    assert b"Blood pressure" not in calendar

    page.goto("/appointments", wait_until="networkidle")
    open_details(page, day_and_time)
    page.get_by_role("link", name="Reschedule").click()
    expect(page.get_by_role("heading", name="Reschedule an appointment")).to_be_visible()
    page.wait_for_load_state("networkidle")
    page.get_by_role("button", name="Later week").click()
    expect(page.get_by_text(f"for the week from {week_label(7)}")).to_be_visible()
    page.get_by_role("region", name="Choose a day and time").get_by_role(
        "button", name=re.compile(" with ")
    ).first.click()
    page.get_by_role("button", name="Move my appointment").click()
    moved = page.get_by_role("region", name="Your appointment is moved")
    expect(moved).to_be_visible()

    page.goto("/appointments", wait_until="networkidle")
    upcoming = page.get_by_role("region", name="Upcoming")
    expect(upcoming.get_by_text(day_and_time.replace(" at ", ", "))).to_have_count(0)
    upcoming.get_by_role("button", name=re.compile("^Details")).last.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Cancel this appointment").click()
    expect(dialog.get_by_role("alert")).to_contain_text("Please say briefly why")
    dialog.get_by_label("Why are you cancelling?").fill("Feeling better")
    dialog.get_by_role("button", name="Cancel this appointment").click()
    expect(page.get_by_role("status").filter(has_text="is cancelled")).to_be_visible()
    expect(page.get_by_role("region", name="Past and cancelled")).to_contain_text("Cancelled")


def test_inside_the_cutoff_the_patient_is_told_to_call(new_context, portal_database, accounts):
    soon = utcnow().replace(microsecond=0) + timedelta(hours=3)
    user_id = accounts.user(BOOKER).id
    with portal_database.unit_of_work() as uow:
        patient = uow.session.exec(
            select(models.Patient).where(models.Patient.user_id == user_id)
        ).scalar_one()
        provider = uow.session.exec(  # not Dr. Chen, whose day the provider home test counts
            select(models.Provider).where(models.Provider.display_name == "Dr. Marcus Okafor")
        ).scalar_one()
        kind = uow.session.exec(
            select(models.AppointmentType).where(models.AppointmentType.name == "Video visit")
        ).scalar_one()
        uow.session.add(
            models.Appointment(
                tenant_id=patient.tenant_id,
                patient_id=patient.id,
                provider_id=provider.id,
                appointment_type_id=kind.id,
                starts_at=soon,
                ends_at=soon + timedelta(minutes=20),
                blocked_from=soon,
                blocked_until=soon + timedelta(minutes=20),
            )
        )
        uow.commit()
    page = new_context(BOOKER).new_page()
    page.goto("/appointments", wait_until="networkidle")
    page.get_by_role("region", name="Upcoming").get_by_role(
        "button", name=re.compile("^Details")
    ).first.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("can no longer be changed online")
    expect(dialog).to_contain_text("call the practice at (555) 010-2000")
    expect(dialog.get_by_role("button", name="Cancel this appointment")).to_have_count(0)
    expect(dialog.get_by_role("link", name="Reschedule")).to_have_count(0)


def _principal(database, email: str, accounts):
    user_id = accounts.user(email).id
    with database.unit_of_work() as uow:
        signed_in = open_session(uow, uow.session.get(models.User, user_id))
        uow.commit()
        return signed_in.principal


def test_a_freed_earlier_time_is_offered_to_the_waitlist_and_taken(
    new_context, portal_database, accounts
):
    provider = _principal(portal_database, PROVIDER, accounts)
    user_ids = {email: accounts.user(email).id for email in (WAITER, OTHER)}
    with portal_database.unit_of_work() as uow:
        kind = uow.session.exec(
            select(models.AppointmentType).where(models.AppointmentType.name == "Follow-up visit")
        ).scalar_one()
        patients = {
            email: uow.session.exec(
                select(models.Patient).where(models.Patient.user_id == user_id)
            ).scalar_one()
            for email, user_id in user_ids.items()
        }
    free = [
        datetime.fromisoformat(choice.starts_at)
        for day in clinic_schedule.times_for_patient(
            provider,
            kind.id,
            (utcnow() + timedelta(days=8)).date(),
            uow=portal_database.unit_of_work(),
        )
        for choice in day.slots
    ]
    freed, later = free[0], free[-1]
    for email, starts_at in ((OTHER, freed), (WAITER, later)):
        clinic_schedule.book_for_patient(
            provider, patients[email].id, kind.id, starts_at, uow=portal_database.unit_of_work()
        )
    with portal_database.unit_of_work() as uow:  # the provider is away until then
        for off_from, off_until in (
            (utcnow(), freed),
            (freed + timedelta(minutes=kind.duration_minutes), later),
        ):
            uow.session.add(
                models.AvailabilityException(
                    tenant_id=provider.tenant_id,
                    provider_id=provider.provider_id,
                    kind=models.ExceptionKind.TIME_OFF,
                    starts_at=off_from,
                    ends_at=off_until,
                    note="Leave",
                )
            )
        uow.commit()
        other_visit = uow.session.exec(
            select(models.Appointment.id).where(
                models.Appointment.patient_id == patients[OTHER].id,
                models.Appointment.starts_at == freed,
            )
        ).scalar_one()

    try:
        offer_and_take(new_context, portal_database, provider, patients, other_visit, freed, later)
    finally:
        with portal_database.unit_of_work() as uow:
            for leave in uow.session.exec(
                select(models.AvailabilityException).where(
                    models.AvailabilityException.note == "Leave"
                )
            ).scalars():
                uow.session.delete(leave)
            uow.commit()


def offer_and_take(new_context, portal_database, provider, patients, other_visit, freed, later):
    page = new_context(WAITER).new_page()
    page.goto("/appointments", wait_until="networkidle")
    open_details(page, f"{local_day(later, ZONE)} at {local_time(later, ZONE)}")
    page.get_by_role("button", name="Offer me an earlier time if one opens").click()
    expect(page.get_by_role("status").filter(has_text="You are on the waitlist")).to_be_visible()

    clinic_schedule.cancel_for_patient(
        provider, other_visit, "Patient moved away", "patient", uow=portal_database.unit_of_work()
    )
    offers = page.get_by_role("region", name="Earlier times for you")
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline and not offers.count():
        time.sleep(2)  # the waitlist job runs every 10 seconds
        page.reload(wait_until="networkidle")
    expect(offers).to_contain_text("An earlier time is free")
    offers.get_by_role("button", name="Take the earlier time").click()
    expect(page.get_by_role("status").filter(has_text="your appointment is now on")).to_be_visible()
    with portal_database.unit_of_work() as uow:
        mine = uow.session.exec(
            select(models.Appointment).where(
                models.Appointment.patient_id == patients[WAITER].id,
                models.Appointment.status == models.AppointmentStatus.BOOKED,
                models.Appointment.starts_at == freed,
            )
        ).scalar_one()
        assert mine.starts_at.astimezone(UTC) == freed


def test_patient_handlers_do_nothing_with_another_patients_ids(
    portal_url, accounts, portal_database
):
    """Every handler of the patient's scheduling and messaging screens, called by one patient
    with another patient's appointment, hold and thread ids: nothing changes, nothing leaks."""
    victim = accounts.user(OTHER).id
    with portal_database.unit_of_work() as uow:
        patient = uow.session.exec(
            select(models.Patient).where(models.Patient.user_id == victim)
        ).scalar_one()
        theirs = {
            "appointment_id": str(
                uow.session.exec(
                    select(models.Appointment.id).where(models.Appointment.patient_id == patient.id)
                ).first()[0]
            ),
            "hold_id": str(uuid.uuid4()),
            "card_id": str(uuid.uuid4()),
        }
        thread = (
            uow.session.exec(
                select(models.Conversation).where(models.Conversation.patient_id == patient.id)
            )
            .scalars()
            .first()
        )
        secrets = [patient.legal_last_name, thread.subject if thread else patient.legal_last_name]

    def snapshot() -> tuple:
        with portal_database.unit_of_work() as uow:
            return (
                sorted(
                    (str(a.id), a.status, a.starts_at.isoformat())
                    for a in uow.session.exec(
                        select(models.Appointment).where(
                            models.Appointment.patient_id == patient.id
                        )
                    ).scalars()
                ),
                len(uow.session.exec(select(models.WaitlistEntry.id)).all()),
                len(uow.session.exec(select(models.Message.id)).all()),
            )

    events = []
    for state in (AppointmentsState, BookingState, MessagesState, ThreadState):
        for name, handler in state.event_handlers.items():
            parameters = list(inspect.signature(handler.fn).parameters)[1:]
            if name == "setvar" or "files" in parameters:  # uploads go through /_upload
                continue
            payload = {
                p: theirs.get(p, theirs["appointment_id"] if "id" in p else "x") for p in parameters
            }
            events.append((f"{state.get_full_name()}.{name}", payload))
    before = snapshot()
    replies = call_handlers(
        portal_url,
        events,
        session_token=accounts.session_token(BOOKER),
        path="/messages/thread",
        query={"id": str(thread.id) if thread else theirs["card_id"]},
    )
    assert snapshot() == before
    assert any('"role_rx_state_": "patient"' in reply for reply in replies)  # it ran signed in
    assert [s for s in secrets if any(s in reply for reply in replies)] == []
