"""The clinic's side of scheduling: calendar, approvals, check-in, missed visits, late
cancellations, booking on a patient's behalf, working hours, and the admin's settings."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from portal.backend import clock, models
from portal.backend.models.base import utcnow
from portal.backend.security.principal import NotFound, PermissionDenied
from portal.backend.services import clinic_schedule, scheduling
from portal.backend.services.clinic_schedule import ScheduleInvalid
from portal.backend.services.scheduling import BookingRefused

ZONE = ZoneInfo("America/New_York")


def uow(practice):
    return practice.database.unit_of_work()


def days_ahead(days: int) -> date:
    return (utcnow().astimezone(ZONE) + timedelta(days=days)).date()


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZONE).astimezone(UTC)


def row(practice, appointment_id) -> models.Appointment:
    with uow(practice) as work:
        return work.session.get(models.Appointment, appointment_id)


def provider_books(practice, who: str, starts_at: datetime) -> uuid.UUID:
    patient = practice.patient_a if who == "patient_a" else practice.patient_b
    clinic_schedule.book_for_patient(
        practice.principal("provider"),
        patient.id,
        practice.appointment_type_id,
        starts_at,
        "Check-up",
        uow=uow(practice),
    )
    with uow(practice) as work:
        return work.session.exec(
            select(models.Appointment.id).where(models.Appointment.starts_at == starts_at)
        ).scalar_one()


def test_calendar_shows_the_week_with_patient_names(practice):
    provider = practice.principal("provider")
    booked = provider_books(practice, "patient_b", at(days_ahead(2), 9))
    week = clinic_schedule.clinic_calendar(provider, days_ahead(0), 7, uow=uow(practice))
    assert len(week.days) == 7
    lines = [line for day in week.days for line in day.lines]
    assert str(booked) in [line.id for line in lines]
    assert "Bob Beta" in [line.patient for line in lines]


def test_requests_are_approved_or_declined_with_a_reason(practice):
    with uow(practice) as work:
        work.session.get(
            models.AppointmentType, practice.appointment_type_id
        ).requires_approval = True
        work.commit()
    patient = practice.principal("patient_b")
    held = scheduling.hold_time(
        patient,
        practice.appointment_type_id,
        practice.provider.id,
        at(days_ahead(4), 9),
        uow=uow(practice),
    )
    card = scheduling.confirm_hold(patient, uuid.UUID(held.id), uow=uow(practice))
    provider = practice.principal("provider")
    assert clinic_schedule.clinic_calendar(provider, days_ahead(0), uow=uow(practice)).requests == 1
    with pytest.raises(BookingRefused, match="why"):
        clinic_schedule.decline_request(provider, uuid.UUID(card.id), " ", uow=uow(practice))
    clinic_schedule.approve_request(provider, uuid.UUID(card.id), uow=uow(practice))
    assert row(practice, uuid.UUID(card.id)).status == models.AppointmentStatus.BOOKED
    with pytest.raises(BookingRefused, match="not waiting"):
        clinic_schedule.approve_request(provider, uuid.UUID(card.id), uow=uow(practice))


def test_check_in_and_missed_visits_record_who_caused_them(practice):
    provider = practice.principal("provider")
    with pytest.raises(BookingRefused, match="whose time has come"):
        clinic_schedule.mark_missed(provider, practice.appointment_a, "patient", uow=uow(practice))
    clock.travel(timedelta(days=3, hours=1))
    clinic_schedule.mark_missed(provider, practice.appointment_a, "patient", uow=uow(practice))
    missed = row(practice, practice.appointment_a)
    assert (missed.status, missed.caused_by) == (models.AppointmentStatus.NO_SHOW, "patient")
    calendar = clinic_schedule.clinic_calendar(
        provider, utcnow().astimezone(ZONE).date(), uow=uow(practice)
    )
    assert calendar.attendance[0].what == "Missed (patient)"


def test_clinic_cancellation_inside_the_cutoff_is_recorded_as_late(practice):
    provider = practice.principal("provider")
    first_free = clinic_schedule.times_for_patient(
        provider, practice.appointment_type_id, days_ahead(0), uow=uow(practice)
    )[0].slots[0]
    soon = provider_books(practice, "patient_a", datetime.fromisoformat(first_free.starts_at))
    with pytest.raises(BookingRefused, match="patient or the clinic"):
        clinic_schedule.cancel_for_patient(provider, soon, "Ill", "nobody", uow=uow(practice))
    clinic_schedule.cancel_for_patient(provider, soon, "Doctor ill", "clinic", uow=uow(practice))
    cancelled = row(practice, soon)
    assert cancelled.late_cancellation and cancelled.caused_by == "clinic"
    calendar = clinic_schedule.clinic_calendar(provider, days_ahead(0), uow=uow(practice))
    assert "Late cancellation (clinic)" in [line.what for line in calendar.attendance]


def test_moving_on_a_patients_behalf_keeps_the_same_appointment(practice):
    provider = practice.principal("provider")
    booked = provider_books(practice, "patient_b", at(days_ahead(4), 9))
    clinic_schedule.move_for_patient(provider, booked, at(days_ahead(4), 14), uow=uow(practice))
    assert row(practice, booked).starts_at == at(days_ahead(4), 14)


def test_finding_a_patient_by_last_name_and_birth_date(practice):
    matches = clinic_schedule.find_patient(
        practice.principal("provider"), " BETA ", date(1970, 1, 2), uow=uow(practice)
    )
    assert [m.name for m in matches] == ["Bob Beta"]
    with pytest.raises(ScheduleInvalid):
        clinic_schedule.find_patient(
            practice.principal("provider"), "", date(1970, 1, 2), uow=uow(practice)
        )


def test_time_off_counts_the_appointments_it_covers_and_the_preview_follows(practice):
    provider = practice.principal("provider")
    day = days_ahead(5)
    provider_books(practice, "patient_b", at(day, 10))
    before = clinic_schedule.working_hours(provider, uow=uow(practice))
    assert [line.weekday for line in before.hours][:1] == ["Monday"]
    affected = clinic_schedule.add_exception(
        provider, "time_off", day, time(9), time(17), "Conference", uow=uow(practice)
    )
    assert affected == 1
    after = clinic_schedule.working_hours(provider, uow=uow(practice))
    (time_off,) = after.exceptions
    assert time_off.kind == "Time off" and time_off.note == "Conference"
    assert len(after.preview) == len(before.preview) - 1
    clinic_schedule.remove_exception(provider, uuid.UUID(time_off.id), uow=uow(practice))
    assert clinic_schedule.working_hours(provider, uow=uow(practice)).exceptions == []


def test_working_hours_refuse_bad_times_and_overlaps(practice):
    provider = practice.principal("provider")
    for args, message in (
        ((0, time(12), time(9)), "after the start"),
        ((7, time(9), time(12)), "day of the week"),
        ((0, time(8), time(10)), "overlap"),
    ):
        with pytest.raises(ScheduleInvalid, match=message):
            clinic_schedule.add_hours(
                provider, *args, practice.location_id, days_ahead(0), uow=uow(practice)
            )
    clinic_schedule.add_hours(
        provider, 0, time(18), time(20), practice.location_id, days_ahead(0), uow=uow(practice)
    )
    hours = clinic_schedule.working_hours(provider, uow=uow(practice)).hours
    evening = next(line for line in hours if line.hours == "6:00 PM to 8:00 PM")
    clinic_schedule.remove_hours(provider, uuid.UUID(evening.id), uow=uow(practice))
    assert "6:00 PM to 8:00 PM" not in [
        line.hours for line in clinic_schedule.working_hours(provider, uow=uow(practice)).hours
    ]


def test_an_extra_clinic_needs_a_location(practice):
    with pytest.raises(ScheduleInvalid, match="where"):
        clinic_schedule.add_exception(
            practice.principal("provider"),
            "extra_clinic",
            days_ahead(3),
            time(18),
            time(20),
            uow=uow(practice),
        )


def test_another_providers_and_patients_ids_answer_as_missing(practice, database):
    from tests.integration.factories import build_practice

    other = build_practice(database, slug="other-practice")
    provider = practice.principal("provider")
    for attempt in (
        lambda: clinic_schedule.approve_request(provider, other.appointment_a, uow=uow(practice)),
        lambda: clinic_schedule.check_in(provider, other.appointment_b, uow=uow(practice)),
        lambda: clinic_schedule.cancel_for_patient(
            provider, other.appointment_a, "x", "clinic", uow=uow(practice)
        ),
        lambda: clinic_schedule.book_for_patient(
            provider,
            other.patient_a.id,
            practice.appointment_type_id,
            at(days_ahead(4), 9),
            uow=uow(practice),
        ),
        lambda: clinic_schedule.add_hours(
            provider, 0, time(18), time(19), other.location_id, days_ahead(0), uow=uow(practice)
        ),
    ):
        with pytest.raises(NotFound):
            attempt()


def test_admin_settings_validate_and_save(practice):
    admin = practice.principal("admin")
    values = {
        "name": "Annual physical",
        "modality": "in_person",
        "bookable_by": "established",
        "duration_minutes": "40",
        "buffer_before_minutes": "0",
        "buffer_after_minutes": "10",
        "slot_interval_minutes": "20",
        "minimum_notice_minutes": "1440",
        "booking_horizon_days": "120",
        "max_future_bookings": "1",
        "cancellation_cutoff_hours": "48",
        "policy_text": "48 hours' notice, please.",
        "preparation_text": "Fast for 8 hours.",
        "requires_approval": True,
    }
    with pytest.raises(ScheduleInvalid, match="The length must be a whole number"):
        clinic_schedule.save_visit_type(
            admin, None, {**values, "duration_minutes": "forty"}, uow=uow(practice)
        )
    with pytest.raises(ScheduleInvalid, match="between 5 and 240"):
        clinic_schedule.save_visit_type(
            admin, None, {**values, "slot_interval_minutes": "1"}, uow=uow(practice)
        )
    created = clinic_schedule.save_visit_type(admin, None, values, uow=uow(practice))
    settings = clinic_schedule.scheduling_settings(admin, uow=uow(practice))
    saved = next(row for row in settings.visit_types if row.id == created)
    assert (saved.duration_minutes, saved.bookable_by, saved.requires_approval) == (
        40,
        "established",
        True,
    )
    clinic_schedule.add_holiday(admin, days_ahead(10), days_ahead(11), "Retreat", uow=uow(practice))
    (holiday,) = clinic_schedule.scheduling_settings(admin, uow=uow(practice)).holidays
    assert holiday.note == "Retreat" and " to " in holiday.when
    with pytest.raises(ScheduleInvalid):
        clinic_schedule.save_reminder_times(admin, "tomorrow", uow=uow(practice))
    clinic_schedule.save_reminder_times(admin, "60, 2880", uow=uow(practice))
    assert (
        clinic_schedule.scheduling_settings(admin, uow=uow(practice)).reminder_minutes_before
        == "2880,60"
    )


def test_patients_cannot_call_clinic_services(practice):
    patient = practice.principal("patient_a")
    with pytest.raises(PermissionDenied):
        clinic_schedule.clinic_calendar(patient, days_ahead(0), uow=uow(practice))
    with pytest.raises(PermissionDenied):
        clinic_schedule.scheduling_settings(practice.principal("provider"), uow=uow(practice))
