"""The clinic's scheduling pages in Chromium: the provider's schedule (day and week, the
actions on an appointment, booking for a patient), working hours with time off and the preview,
the admins' visit types, holidays and reminder times, and who may open them."""

from __future__ import annotations

import inspect
import re
import uuid
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import func, select

from portal.backend.models import (
    Appointment,
    AppointmentStatus,
    AppointmentType,
    AvailabilityException,
    AvailabilityRule,
    Location,
    Patient,
    Practice,
    Provider,
)
from portal.backend.models.base import utcnow
from portal.pages.admin.scheduling_state import SchedulingSettingsState
from portal.pages.provider.hours_state import HoursState
from portal.pages.provider.schedule_state import BookingState, ScheduleState
from tests.dates import practice_today
from tests.e2e.conftest import watch
from tests.e2e.socket import call_handlers
from tests.e2e.test_attacks import PHI
from tests.e2e.test_shells import LOGINS, assert_accessible, at

SCHEDULE = "/provider/schedule"
HOURS = "/provider/hours"
SETTINGS = "/admin/scheduling"
PROVIDER_STATES = [ScheduleState, BookingState, HoursState]
# Whose session calls which handlers: none of them may change anything or return PHI.
OUTSIDERS = {
    "nobody": [*PROVIDER_STATES, SchedulingSettingsState],
    "patient": [*PROVIDER_STATES, SchedulingSettingsState],
    "admin": PROVIDER_STATES,
    "provider": [SchedulingSettingsState],
}


def open_page(new_context, role: str, path: str) -> tuple[Page, list[str]]:
    page = new_context(LOGINS[role]).new_page()
    problems = watch(page)
    page.goto(path, wait_until="networkidle")
    return page, problems


def birth_date(accounts, email: str) -> str:
    with accounts.database.unit_of_work() as uow:
        patient = uow.patients.first(
            select(Patient).where(Patient.user_id == accounts.user(email).id)
        )
        return patient.date_of_birth.isoformat()


def show_next_week(appointments: Locator) -> None:
    """Switch to next week's appointments, waiting for each view to arrive before going on."""
    appointments.get_by_role("button", name="Week", exact=True).click()
    days = appointments.get_by_role("heading", level=3)
    expect(days).to_have_count(7)
    monday = days.first.inner_text()
    appointments.get_by_role("button", name="Next week").click()
    expect(days.first).not_to_have_text(monday)


def booked_visits(accounts, first_day: date | None = None, days: int = 7) -> list[uuid.UUID]:
    """Dr. Chen's booked visits still to come (from `first_day` for `days` days), latest
    first."""
    with accounts.database.unit_of_work() as uow:
        provider = uow.session.exec(
            select(Provider).where(Provider.user_id == accounts.user(LOGINS["provider"]).id)
        ).scalar_one()
        zone = ZoneInfo(uow.session.get(Practice, provider.tenant_id).time_zone)
        query = select(Appointment.id).where(
            Appointment.provider_id == provider.id,
            Appointment.status == AppointmentStatus.BOOKED,
            Appointment.starts_at > utcnow(),
        )
        if first_day is not None:
            start = datetime.combine(first_day, time.min, tzinfo=zone)
            query = query.where(
                Appointment.starts_at >= start,
                Appointment.starts_at < start + timedelta(days=days),
            )
        return list(uow.session.exec(query.order_by(Appointment.starts_at.desc())).scalars())


def started_today(accounts) -> int:
    """How many of Dr. Chen's booked visits today have already started (the demo books some
    for the morning, so their "Mark missed" buttons show from then on)."""
    with accounts.database.unit_of_work() as uow:
        provider = uow.session.exec(
            select(Provider).where(Provider.user_id == accounts.user(LOGINS["provider"]).id)
        ).scalar_one()
        zone = ZoneInfo(uow.session.get(Practice, provider.tenant_id).time_zone)
        now = utcnow()
        midnight = datetime.combine(now.astimezone(zone).date(), time.min, tzinfo=zone)
        return uow.session.exec(
            select(func.count())
            .select_from(Appointment)
            .where(
                Appointment.provider_id == provider.id,
                Appointment.status == AppointmentStatus.BOOKED,
                Appointment.starts_at >= midnight,
                Appointment.starts_at <= now,
            )
        ).scalar_one()


def arrange(accounts, appointment_id: uuid.UUID, **values) -> None:
    with accounts.database.unit_of_work() as uow:
        appointment = uow.session.get(Appointment, appointment_id)
        for name, value in values.items():
            setattr(appointment, name, value)
        uow.commit()


def test_the_provider_sees_todays_appointments_and_the_week(new_context):
    page, problems = open_page(new_context, "provider", SCHEDULE)
    expect(page.get_by_role("heading", level=1)).to_have_text("Schedule")
    appointments = page.get_by_role("region", name="Appointments")
    expect(appointments.get_by_role("heading", level=3)).to_have_count(1)
    # a header and at least the demo's six appointments
    expect(appointments.get_by_role("row").nth(6)).to_be_visible()
    expect(appointments.get_by_role("rowheader").first).to_contain_text(" to ")
    assert_accessible(page)

    appointments.get_by_role("button", name="Week", exact=True).click()
    expect(appointments.get_by_role("button", name="Week", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(appointments.get_by_role("heading", level=3)).to_have_count(7)
    monday = appointments.get_by_role("heading", level=3).first
    expect(monday).to_contain_text("Monday")
    this_week = monday.inner_text()
    appointments.get_by_role("button", name="Next week").click()
    expect(monday).not_to_have_text(this_week)
    appointments.get_by_role("button", name="Today").click()
    appointments.get_by_role("button", name="Day", exact=True).click()
    expect(appointments.get_by_role("heading", level=3)).to_have_count(1)
    expect(appointments.get_by_role("row").nth(6)).to_be_visible()
    expect(page.get_by_role("region", name="Late cancellations and missed visits")).to_be_visible()
    assert not problems


def test_cancelling_asks_who_caused_it_and_keeps_the_reason(new_context):
    page, problems = open_page(new_context, "provider", SCHEDULE)
    appointments = page.get_by_role("region", name="Appointments")
    show_next_week(appointments)
    appointments.get_by_role("button", name=re.compile("^Cancel: ")).first.click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading")).to_have_text("Cancel the appointment")
    dialog.get_by_label("Reason, for the patient's record").fill("The patient is travelling")
    dialog.get_by_role("button", name="Cancel the appointment").click()
    expect(dialog.get_by_role("alert")).to_contain_text("Say whether the patient or the clinic")
    expect(dialog.get_by_label("Reason, for the patient's record")).to_have_value(
        "The patient is travelling"
    )
    dialog.get_by_role("radio", name="The patient").click()
    dialog.get_by_role("button", name="Cancel the appointment").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(appointments.get_by_role("status")).to_contain_text("Cancelled:")
    expect(appointments.get_by_text("Cancelled", exact=True).first).to_be_visible()
    assert not problems


def test_the_provider_moves_an_appointment_to_a_free_time(new_context):
    page, problems = open_page(new_context, "provider", SCHEDULE)
    appointments = page.get_by_role("region", name="Appointments")
    show_next_week(appointments)
    appointments.get_by_role("button", name=re.compile("^Reschedule: ")).first.click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading")).to_have_text("Move the appointment")
    dialog.get_by_role("button", name="Move to the chosen time").click()
    expect(dialog.get_by_role("alert")).to_have_text("Choose one of the free times.")
    dialog.get_by_role("radio").first.click()
    assert_accessible(page)
    dialog.get_by_role("button", name="Move to the chosen time").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(appointments.get_by_role("status")).to_contain_text("New time:")
    assert not problems


def test_requests_are_approved_or_declined_with_a_reason(new_context, accounts):
    today = practice_today()
    next_monday = today + timedelta(days=7 - today.weekday())
    for visit in booked_visits(accounts, next_monday)[:2]:
        arrange(accounts, visit, status=AppointmentStatus.REQUESTED)
    page, problems = open_page(new_context, "provider", SCHEDULE)
    expect(page.get_by_text("requests waiting for approval")).to_be_visible()
    appointments = page.get_by_role("region", name="Appointments")
    show_next_week(appointments)
    approve = appointments.get_by_role("button", name=re.compile("^Approve: "))
    expect(approve).to_have_count(2)
    expect(appointments.get_by_text("Requested", exact=True)).to_have_count(2)
    approve.first.click()
    expect(appointments.get_by_role("status")).to_contain_text("Approved:")
    expect(approve).to_have_count(1)

    appointments.get_by_role("button", name=re.compile("^Decline: ")).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Decline the request").click()
    expect(dialog.get_by_role("alert")).to_contain_text("Say briefly why")
    dialog.get_by_label("Reason, for the patient's record").fill("Dr. Chen is away that day")
    dialog.get_by_role("button", name="Decline the request").click()
    expect(appointments.get_by_role("status")).to_contain_text("Declined:")
    expect(approve).to_have_count(0)
    assert not problems


def test_visits_are_checked_in_or_marked_missed_with_who_caused_it(new_context, accounts):
    now = utcnow()
    for minutes, visit in enumerate(booked_visits(accounts)[-2:], start=1):
        started, ended = now - timedelta(minutes=minutes + 1), now - timedelta(minutes=minutes)
        arrange(
            accounts,
            visit,
            starts_at=started,
            ends_at=ended,
            blocked_from=started,
            blocked_until=ended,
        )
    started = started_today(accounts)
    page, problems = open_page(new_context, "provider", SCHEDULE)
    appointments = page.get_by_role("region", name="Appointments")
    missed = appointments.get_by_role("button", name=re.compile("^Mark missed: "))
    expect(missed).to_have_count(started)
    appointments.get_by_role("button", name=re.compile("^Check in: ")).first.click()
    expect(appointments.get_by_role("status")).to_contain_text("Checked in:")
    expect(appointments.get_by_text("Arrived", exact=True)).to_have_count(1)
    expect(missed).to_have_count(started - 1)

    missed.last.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Mark missed").click()
    expect(dialog.get_by_role("alert")).to_contain_text("Say whether the patient or the clinic")
    dialog.get_by_role("radio", name="The patient did not come").click()
    dialog.get_by_role("button", name="Mark missed").click()
    expect(appointments.get_by_role("status")).to_contain_text("Recorded as missed:")
    expect(appointments.get_by_text("Missed (patient)", exact=True)).to_be_visible()
    attendance = page.get_by_role("region", name="Late cancellations and missed visits")
    expect(attendance.get_by_role("row", name=re.compile("Missed \\(patient\\)"))).to_have_count(1)
    assert_accessible(page)
    assert not problems


def test_the_provider_books_for_a_patient_found_by_name_and_birth_date(new_context, accounts):
    page, problems = open_page(new_context, "provider", SCHEDULE)
    panel = page.get_by_role("region", name="Book for a patient")
    panel.get_by_label("Last name").fill("Wilson")
    panel.get_by_label("Date of birth").fill("1900-01-01")
    panel.get_by_role("button", name="Find the patient").click()
    expect(panel.get_by_role("alert")).to_contain_text("No patient of the practice")
    expect(panel.get_by_label("Last name")).to_have_value("Wilson")

    panel.get_by_label("Date of birth").fill(birth_date(accounts, "james.wilson@example.com"))
    panel.get_by_role("button", name="Find the patient").click()
    panel.get_by_role("button", name="Choose James Wilson").click()
    expect(panel).to_contain_text("Booking for James Wilson")
    panel.get_by_label("Kind of visit").select_option(label="Follow-up visit")
    later = practice_today() + timedelta(days=10)  # not today: the home page counts it
    panel.get_by_label("First day to look at").fill(later.isoformat())
    panel.get_by_role("button", name="Show free times").click()
    panel.get_by_role("radio").first.click()
    panel.get_by_label("Reason for the visit (optional)").fill("Blood pressure check")
    panel.get_by_role("button", name="Book the appointment").click()
    expect(panel.get_by_role("status")).to_contain_text("Booked: Follow-up visit for James Wilson")
    expect(panel.get_by_label("Last name")).to_have_value("")
    assert not problems


def test_time_off_changes_the_preview_and_can_be_removed(new_context):
    page, problems = open_page(new_context, "provider", HOURS)
    expect(page.get_by_role("heading", level=1)).to_have_text("Working hours")
    preview = page.get_by_role("region", name="Free times in the next two weeks")
    first_day = preview.get_by_role("rowheader").first
    expect(first_day).to_be_visible()
    day_name = first_day.inner_text()
    day = datetime.strptime(day_name, "%A %d %B %Y").date()
    assert_accessible(page)

    changes = page.get_by_role("region", name="Time off and extra clinics")
    changes.get_by_label("What", exact=True).select_option("time_off")
    changes.get_by_label("Day", exact=True).fill(day.isoformat())
    changes.get_by_label("From").fill("00:00")
    changes.get_by_label("Until").fill("23:59")
    changes.get_by_label("Note (optional)").fill("Conference")
    changes.get_by_role("button", name="Add", exact=True).click()
    expect(changes.get_by_role("status")).to_contain_text("Time off added.")
    expect(preview.get_by_role("rowheader", name=day_name, exact=True)).to_have_count(0)
    expect(changes.get_by_role("row", name=re.compile("Conference"))).to_have_count(1)
    expect(changes.get_by_label("Note (optional)")).to_have_value("")

    changes.get_by_role("button", name=re.compile("^Remove Time off")).click()
    expect(changes.get_by_role("status")).to_have_text("Removed.")
    expect(preview.get_by_role("rowheader", name=day_name, exact=True)).to_have_count(1)
    assert not problems


def test_an_end_before_the_start_is_refused_and_what_was_typed_stays(new_context):
    page, problems = open_page(new_context, "provider", HOURS)
    changes = page.get_by_role("region", name="Time off and extra clinics")
    next_week = (practice_today() + timedelta(days=7)).isoformat()
    changes.get_by_label("Day", exact=True).fill(next_week)
    changes.get_by_label("From").fill("14:00")
    changes.get_by_label("Until").fill("13:00")
    changes.get_by_label("Note (optional)").fill("Dentist")
    changes.get_by_role("button", name="Add", exact=True).click()
    expect(changes.get_by_role("alert")).to_have_text("The end time must be after the start time.")
    expect(changes.get_by_label("From")).to_have_value("14:00")
    expect(changes.get_by_label("Until")).to_have_value("13:00")
    expect(changes.get_by_label("Until")).to_have_attribute("aria-invalid", "true")
    expect(changes.get_by_label("Day", exact=True)).to_have_value(next_week)
    expect(changes.get_by_label("Note (optional)")).to_have_value("Dentist")

    weekly = page.get_by_role("region", name="Weekly hours")
    weekly.get_by_label("Start").fill("18:00")
    weekly.get_by_label("End").fill("17:00")
    weekly.get_by_role("button", name="Add these hours").click()
    expect(weekly.get_by_role("alert")).to_have_text("The end time must be after the start time.")
    expect(weekly.get_by_label("Start")).to_have_value("18:00")
    assert not problems


def test_the_admin_creates_a_visit_type_and_adds_a_holiday(new_context):
    page, problems = open_page(new_context, "admin", SETTINGS)
    expect(page.get_by_role("heading", level=1)).to_have_text("Scheduling")
    kinds = page.get_by_role("region", name="Visit types")
    kinds.get_by_role("button", name="New visit type").click()
    kinds.get_by_label("Name", exact=True).fill("Travel vaccination")
    kinds.get_by_label("How", exact=True).select_option("in_person")
    kinds.get_by_label("Length (minutes)").fill("1")
    kinds.get_by_role("button", name="Save the visit type").click()
    expect(kinds.get_by_role("alert")).to_have_text("The length must be between 5 and 480.")
    expect(kinds.get_by_label("Name", exact=True)).to_have_value("Travel vaccination")
    assert_accessible(page)
    kinds.get_by_label("Length (minutes)").fill("20")
    kinds.get_by_role("button", name="Save the visit type").click()
    expect(kinds.get_by_role("status")).to_have_text("Saved: Travel vaccination.")
    expect(kinds.get_by_role("row", name=re.compile("^Travel vaccination"))).to_contain_text(
        "20 min"
    )

    holidays = page.get_by_role("region", name="Holidays")
    first_day = (practice_today() + timedelta(days=200)).isoformat()
    holidays.get_by_label("Name").fill("Founders' Day")
    holidays.get_by_label("First day").fill(first_day)
    holidays.get_by_role("button", name="Add the holiday").click()
    expect(holidays.get_by_role("status")).to_contain_text("Holiday added")
    expect(holidays.get_by_role("row", name=re.compile("^Founders' Day"))).to_have_count(1)

    reminders = page.get_by_role("region", name="Reminders")
    times = reminders.get_by_label("Reminder times (minutes before the visit)")
    times.fill("a day before")
    reminders.get_by_role("button", name="Save reminder times").click()
    expect(reminders.get_by_role("alert")).to_contain_text("whole minutes")
    expect(times).to_have_value("a day before")
    times.fill("1440,60")
    reminders.get_by_role("button", name="Save reminder times").click()
    expect(reminders.get_by_role("status")).to_have_text("Reminder times saved.")
    assert not problems


def test_only_the_right_role_opens_the_clinic_pages(new_context, portal_url):
    page = new_context(LOGINS["patient"]).new_page()
    for path in (SCHEDULE, HOURS, SETTINGS):
        page.goto(path)
        expect(page).to_have_url(at(portal_url, "/"))
        expect(page.get_by_role("heading", level=1)).to_contain_text("Hello, Maria")
    provider = new_context(LOGINS["provider"]).new_page()
    provider.goto(SETTINGS)
    expect(provider).to_have_url(at(portal_url, "/provider"))
    admin = new_context(LOGINS["admin"]).new_page()
    admin.goto(SCHEDULE)
    expect(admin).to_have_url(at(portal_url, "/admin"))


def clinic_rows(database) -> dict[str, set]:
    with database.unit_of_work() as uow:
        queries = {
            "appointments": select(Appointment.id, Appointment.status, Appointment.starts_at),
            "hours": select(AvailabilityRule.id, AvailabilityRule.effective_until),
            "exceptions": select(AvailabilityException.id),
            "visit types": select(AppointmentType.id, AppointmentType.name, AppointmentType.active),
            "reminders": select(Practice.id, Practice.reminder_minutes_before),
        }
        return {name: set(map(tuple, uow.session.exec(q).all())) for name, q in queries.items()}


def harmful_events(accounts, states: list) -> list[tuple[str, dict]]:
    """Every handler of `states`, called with real ids and a form that would change things."""
    tomorrow = (practice_today() + timedelta(days=1)).isoformat()
    with accounts.database.unit_of_work() as uow:

        def first(column) -> str:
            return str(uow.session.exec(select(column)).scalars().first())

        ids = {
            "appointment_id": str(booked_visits(accounts)[0]),
            "patient_id": first(Patient.id),
            "visit_type_id": first(AppointmentType.id),
            "rule_id": first(AvailabilityRule.id),
            "exception_id": first(AvailabilityException.id),
            "holiday_id": first(AvailabilityException.id),
            "action": "cancel",
            "starts_at": f"{tomorrow}T15:00:00+00:00",
        }
        location = first(Location.id)
    form = {
        "reason": "x",
        "caused_by": "clinic",
        "last_name": "Wilson",
        "date_of_birth": "1952-01-01",
        "visit_type": ids["visit_type_id"],
        "week_from": tomorrow,
        "starts_at": ids["starts_at"],
        "weekday": "0",
        "hours_start": "00:00",
        "hours_end": "23:00",
        "hours_location": location,
        "hours_from": tomorrow,
        "exception_kind": "time_off",
        "exception_day": tomorrow,
        "exception_start": "00:00",
        "exception_end": "23:59",
        "name": "Mallory's visit",
        "modality": "video",
        "bookable_by": "all",
        "duration_minutes": "30",
        "holiday_first": tomorrow,
        "holiday_name": "Closed",
        "reminder_minutes": "1",
    }
    events = []
    for state in states:
        for name, handler in state.event_handlers.items():
            if name == "setvar":  # refused outright by the portal's middleware
                continue
            parameters = list(inspect.signature(handler.fn).parameters)[1:]
            payload = {p: form if p == "form_data" else ids.get(p, "") for p in parameters}
            events.append((f"{state.get_full_name()}.{name}", payload))
    return events


@pytest.mark.parametrize("who", list(OUTSIDERS))
def test_clinic_handlers_do_nothing_for_anyone_else(portal_url, accounts, portal_database, who):
    events = harmful_events(accounts, OUTSIDERS[who])
    token = accounts.session_token(LOGINS[who]) if who in LOGINS else ""
    before = clinic_rows(portal_database)
    replies = call_handlers(portal_url, events, session_token=token, path=SCHEDULE)
    assert clinic_rows(portal_database) == before
    assert replies
    assert [marker for marker in PHI if any(marker in reply for reply in replies)] == []
    if who in LOGINS:  # the session was live, so the role check is what refused
        assert any(f'"role_rx_state_": "{who}"' in reply for reply in replies)
