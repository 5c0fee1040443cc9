"""Booking, rescheduling, cancelling and the waitlist, through the service layer, on SQLite and
PostgreSQL: the rules a patient meets and the ids they may not touch."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import event, select

from portal.backend import clock, models
from portal.backend.models.base import utcnow
from portal.backend.security.principal import NotFound, PermissionDenied, Principal, Role
from portal.backend.services import scheduling
from portal.backend.services.scheduling import BookingRefused, SlotTaken
from tests.integration.factories import add_clinician, time_off

ZONE = ZoneInfo("America/New_York")


def uow(practice):
    return practice.database.unit_of_work()


def days_ahead(days: int) -> date:
    return (utcnow().astimezone(ZONE) + timedelta(days=days)).date()


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZONE).astimezone(UTC)


def book(practice, who: str, starts_at: datetime, reason: str = "") -> models.Appointment:
    principal = practice.principal(who)
    held = scheduling.hold_time(
        principal, practice.appointment_type_id, practice.provider.id, starts_at, uow=uow(practice)
    )
    card = scheduling.confirm_hold(principal, uuid.UUID(held.id), reason, uow=uow(practice))
    return appointment(practice, uuid.UUID(card.id))


def appointment(practice, appointment_id: uuid.UUID) -> models.Appointment:
    with uow(practice) as work:
        return work.session.get(models.Appointment, appointment_id)


def notifications(practice, template_id: str) -> list[models.Notification]:
    with uow(practice) as work:
        return list(
            work.session.exec(
                select(models.Notification).where(models.Notification.template_id == template_id)
            ).scalars()
        )


def test_search_offers_working_hours_minus_booked_time(practice):
    day = days_ahead(5)
    taken = book(practice, "patient_b", at(day, 10))
    search = scheduling.find_times(
        practice.principal("patient_a"),
        practice.appointment_type_id,
        None,
        day,
        days=1,
        uow=uow(practice),
    )
    (only_day,) = search.days
    times = [choice.time for choice in only_day.slots]
    assert times[0] == "9:00 AM" and times[-1] == "4:30 PM"
    assert "10:00 AM" not in times and "10:15 AM" not in times and "9:45 AM" not in times
    assert "10:30 AM" in times
    assert only_day.slots[0].location == "Main Clinic"
    assert taken.status == models.AppointmentStatus.BOOKED


def test_search_makes_the_same_number_of_queries_for_one_day_and_fourteen(practice, database):
    statements = []

    def count(*args):
        statements.append(1)

    principal = practice.principal("patient_a")
    counts = []
    for days in (1, 14):
        statements.clear()
        event.listen(database.engine, "before_cursor_execute", count)
        scheduling.find_times(
            principal,
            practice.appointment_type_id,
            practice.provider.id,
            days_ahead(2),
            days=days,
            uow=uow(practice),
        )
        event.remove(database.engine, "before_cursor_execute", count)
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_booking_queues_a_phi_free_confirmation(practice):
    booked = book(practice, "patient_a", at(days_ahead(6), 11), reason="ZZCANARY knee pain")
    assert booked.reason == "ZZCANARY knee pain"
    (mail, *_) = notifications(practice, "appointment_booked")
    assert "ZZCANARY" not in repr(mail.parameters)
    assert mail.parameters["time"] == "11:00 AM"


def test_a_held_time_is_not_offered_to_anyone_else_and_the_loser_gets_next_times(practice):
    day = days_ahead(4)
    scheduling.hold_time(
        practice.principal("patient_a"),
        practice.appointment_type_id,
        practice.provider.id,
        at(day, 14),
        uow=uow(practice),
    )
    with pytest.raises(SlotTaken) as refused:
        scheduling.hold_time(
            practice.principal("patient_b"),
            practice.appointment_type_id,
            practice.provider.id,
            at(day, 14),
            uow=uow(practice),
        )
    assert "just taken" in str(refused.value)
    assert refused.value.next_times[0].time == "2:30 PM"


def test_a_lapsed_hold_is_released_for_others(practice):
    day = days_ahead(4)
    scheduling.hold_time(
        practice.principal("patient_a"),
        practice.appointment_type_id,
        practice.provider.id,
        at(day, 14),
        uow=uow(practice),
    )
    clock.travel(timedelta(minutes=scheduling.HOLD_MINUTES + 1))
    booked = book(practice, "patient_b", at(day, 14))
    assert booked.patient_id == practice.patient_b.id


@pytest.mark.parametrize(
    ("starts_at", "message"),
    [
        (lambda: utcnow() - timedelta(hours=1), "already passed"),
        (lambda: utcnow() + timedelta(minutes=30), "too soon"),
        (lambda: at(days_ahead(120), 10), "90 days ahead"),
    ],
)
def test_times_outside_notice_and_horizon_are_refused(practice, starts_at, message):
    with pytest.raises(BookingRefused, match=message):
        scheduling.hold_time(
            practice.principal("patient_a"),
            practice.appointment_type_id,
            practice.provider.id,
            starts_at(),
            uow=uow(practice),
        )


def test_a_visit_type_for_new_patients_is_refused_to_an_established_one(practice):
    with uow(practice) as work:
        work.session.get(models.AppointmentType, practice.appointment_type_id).bookable_by = "new"
        work.session.get(
            models.Appointment, practice.appointment_b
        ).status = models.AppointmentStatus.COMPLETED
        work.commit()
    with pytest.raises(BookingRefused, match="only by new patients"):
        scheduling.find_times(
            practice.principal("patient_b"),
            practice.appointment_type_id,
            None,
            days_ahead(2),
            uow=uow(practice),
        )
    options = scheduling.booking_options(practice.principal("patient_b"), uow=uow(practice))
    assert options.visit_types == []


def test_the_booking_limit_per_visit_type_is_enforced(practice):
    with uow(practice) as work:
        work.session.get(
            models.AppointmentType, practice.appointment_type_id
        ).max_future_bookings = 1
        work.commit()
    with pytest.raises(BookingRefused, match="the most we book online"):
        book(practice, "patient_a", at(days_ahead(8), 9))


def test_requests_for_approval_are_booked_as_requested(practice):
    with uow(practice) as work:
        work.session.get(
            models.AppointmentType, practice.appointment_type_id
        ).requires_approval = True
        work.commit()
    requested = book(practice, "patient_b", at(days_ahead(8), 9))
    assert requested.status == models.AppointmentStatus.REQUESTED
    assert notifications(practice, "appointment_requested")


def test_reschedule_moves_the_same_appointment_and_keeps_it_if_the_new_time_is_taken(practice):
    day = days_ahead(6)
    mine = book(practice, "patient_b", at(day, 9))
    principal = practice.principal("patient_b")
    held = scheduling.hold_time(
        principal,
        practice.appointment_type_id,
        practice.provider.id,
        at(day, 15),
        reschedule_of=mine.id,
        uow=uow(practice),
    )
    assert held.replaces.endswith("at 9:00 AM")
    card = scheduling.confirm_hold(principal, uuid.UUID(held.id), uow=uow(practice))
    assert card.id == str(mine.id) and card.time == "3:00 PM"
    assert notifications(practice, "appointment_changed")

    held = scheduling.hold_time(
        principal,
        practice.appointment_type_id,
        practice.provider.id,
        at(day, 11),
        reschedule_of=mine.id,
        uow=uow(practice),
    )
    clock.travel(timedelta(minutes=scheduling.HOLD_MINUTES + 1))
    book(practice, "patient_a", at(day, 11))
    with pytest.raises(SlotTaken):
        scheduling.confirm_hold(principal, uuid.UUID(held.id), uow=uow(practice))
    kept = appointment(practice, mine.id)
    assert kept.starts_at == at(day, 15)
    assert kept.status == models.AppointmentStatus.BOOKED


def test_cancel_outside_the_cutoff_and_refusal_inside_it(practice):
    later = book(practice, "patient_b", at(days_ahead(6), 9))
    principal = practice.principal("patient_b")
    with pytest.raises(BookingRefused, match="say briefly why"):
        scheduling.cancel_appointment(principal, later.id, "  ", uow=uow(practice))
    scheduling.cancel_appointment(principal, later.id, "Feeling better", uow=uow(practice))
    cancelled = appointment(practice, later.id)
    assert cancelled.status == models.AppointmentStatus.CANCELLED
    assert (cancelled.caused_by, cancelled.late_cancellation) == ("patient", False)
    assert notifications(practice, "appointment_cancelled")

    first_free = (
        scheduling.find_times(
            principal, practice.appointment_type_id, None, days_ahead(0), days=2, uow=uow(practice)
        )
        .days[0]
        .slots[0]
    )
    soon = book(practice, "patient_b", datetime.fromisoformat(first_free.starts_at))
    with pytest.raises(BookingRefused, match=r"call the practice at \(555\) 010-0000"):
        scheduling.cancel_appointment(principal, soon.id, "Busy", uow=uow(practice))
    assert appointment(practice, soon.id).status == models.AppointmentStatus.BOOKED


def test_calendar_file_names_the_practice_not_the_clinician_or_reason(practice):
    data = scheduling.calendar_file(
        practice.principal("patient_a"), practice.appointment_a, uow=uow(practice)
    )
    (event_,) = Calendar.from_ical(data).walk("VEVENT")
    assert str(event_["summary"]) == "Appointment at Test Practice"
    starts_at = appointment(practice, practice.appointment_a).starts_at
    assert event_.decoded("dtstart") == starts_at.replace(microsecond=0)
    assert b"ZZCANARY" not in data and b"Dr. Test" not in data


def test_another_patients_appointment_and_hold_answer_as_missing(practice):
    intruder = practice.principal("patient_a")
    theirs = practice.appointment_b
    for attempt in (
        lambda: scheduling.appointment_detail(intruder, theirs, uow=uow(practice)),
        lambda: scheduling.cancel_appointment(intruder, theirs, "x", uow=uow(practice)),
        lambda: scheduling.calendar_file(intruder, theirs, uow=uow(practice)),
        lambda: scheduling.join_waitlist(intruder, theirs, uow=uow(practice)),
        lambda: scheduling.leave_waitlist(intruder, theirs, uow=uow(practice)),
        lambda: scheduling.hold_time(
            intruder,
            practice.appointment_type_id,
            practice.provider.id,
            at(days_ahead(5), 9),
            reschedule_of=theirs,
            uow=uow(practice),
        ),
    ):
        with pytest.raises(NotFound):
            attempt()
    held = scheduling.hold_time(
        practice.principal("patient_b"),
        practice.appointment_type_id,
        practice.provider.id,
        at(days_ahead(5), 9),
        uow=uow(practice),
    )
    for attempt in (
        lambda: scheduling.confirm_hold(intruder, uuid.UUID(held.id), uow=uow(practice)),
        lambda: scheduling.release_hold(intruder, uuid.UUID(held.id), uow=uow(practice)),
    ):
        with pytest.raises(NotFound):
            attempt()
    assert appointment(practice, theirs).status == models.AppointmentStatus.BOOKED


def test_another_practices_provider_and_visit_type_answer_as_missing(practice, database):
    from tests.integration.factories import build_practice

    other = build_practice(database, slug="other-practice")
    principal = practice.principal("patient_a")
    with pytest.raises(NotFound):
        scheduling.hold_time(
            principal,
            practice.appointment_type_id,
            other.provider.id,
            at(days_ahead(5), 9),
            uow=uow(practice),
        )
    with pytest.raises(NotFound):
        scheduling.find_times(
            principal, other.appointment_type_id, None, days_ahead(5), uow=uow(practice)
        )


def test_staff_cannot_use_the_patient_booking_calls(practice):
    with pytest.raises(PermissionDenied):
        scheduling.booking_options(practice.principal("provider"), uow=uow(practice))


def test_time_off_holidays_and_extra_clinic_shape_the_search(practice):
    day = days_ahead(7)
    with uow(practice) as work:
        for kind, start, end, provider in (
            (models.ExceptionKind.TIME_OFF, at(day, 9), at(day, 12), practice.provider.id),
            (models.ExceptionKind.EXTRA_CLINIC, at(day, 18), at(day, 19), practice.provider.id),
            (
                models.ExceptionKind.HOLIDAY,
                at(day + timedelta(days=1), 0),
                at(day + timedelta(days=2), 0),
                None,
            ),
        ):
            work.session.add(
                models.AvailabilityException(
                    tenant_id=practice.tenant_id,
                    provider_id=provider,
                    location_id=practice.location_id if provider else None,
                    kind=kind,
                    starts_at=start,
                    ends_at=end,
                )
            )
        work.commit()
    search = scheduling.find_times(
        practice.principal("patient_a"),
        practice.appointment_type_id,
        None,
        day,
        days=2,
        uow=uow(practice),
    )
    (only_day,) = search.days
    times = [choice.time for choice in only_day.slots]
    assert times[0] == "12:00 PM"
    assert times[-3:] == ["6:00 PM", "6:15 PM", "6:30 PM"]


def test_waitlist_offers_a_freed_earlier_time_in_order_and_accepting_moves_the_visit(practice):
    day = days_ahead(4)
    waiting = book(practice, "patient_a", at(days_ahead(9), 9))
    blocker = book(practice, "patient_b", at(day, 10))
    principal = practice.principal("patient_a")
    # The provider is away until then, but for the blocker's time.
    time_off(practice, utcnow(), at(day, 10))
    time_off(practice, at(day, 10, 30), waiting.starts_at)
    scheduling.join_waitlist(principal, waiting.id, uow=uow(practice))
    assert scheduling.offer_earlier_times(uow=uow(practice)) == 0

    scheduling.cancel_appointment(
        practice.principal("patient_b"), blocker.id, "Moved away", uow=uow(practice)
    )
    assert scheduling.offer_earlier_times(uow=uow(practice)) == 1
    assert scheduling.offer_earlier_times(uow=uow(practice)) == 0  # one live offer at a time
    (offer,) = scheduling.my_appointments(principal, uow=uow(practice)).offers
    assert offer.time == "10:00 AM" and offer.minutes == scheduling.OFFER_MINUTES
    (mail, *_) = notifications(practice, "earlier_time_offered")
    assert mail.parameters["minutes"] == "15"
    scheduling.confirm_hold(principal, uuid.UUID(offer.id), uow=uow(practice))
    moved = appointment(practice, waiting.id)
    assert moved.starts_at == at(day, 10)
    with uow(practice) as work:
        entry = work.session.exec(select(models.WaitlistEntry)).scalar_one()
        assert entry.status == "booked"


def test_fifty_patients_racing_for_one_time_get_one_booking(practice, database):
    starts_at = at(days_ahead(5), 13)
    principals = []
    with uow(practice) as work:
        for n in range(50):
            patient = models.Patient(
                tenant_id=practice.tenant_id,
                care_team_id=practice.care_team_id,
                medical_record_number=f"R-{n}",
                legal_first_name="Racer",
                legal_last_name=str(n),
                date_of_birth=date(1980, 1, 1),
                name_dob_index=f"race{n}",
            )
            work.session.add(patient)
            work.session.flush()
            principals.append(
                Principal(uuid.uuid4(), Role.PATIENT, practice.tenant_id, uuid.uuid4(), patient.id)
            )
        work.commit()
    outcomes: list[str] = []
    start = threading.Barrier(len(principals))

    def attempt(principal):
        start.wait()
        try:
            held = scheduling.hold_time(
                principal,
                practice.appointment_type_id,
                practice.provider.id,
                starts_at,
                uow=database.unit_of_work(),
            )
            scheduling.confirm_hold(principal, uuid.UUID(held.id), uow=database.unit_of_work())
            outcomes.append("booked")
        except SlotTaken:
            outcomes.append("taken")

    threads = [threading.Thread(target=attempt, args=(p,)) for p in principals]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(set(outcomes)) == ["booked", "taken"]
    assert outcomes.count("booked") == 1 and len(outcomes) == 50
    with uow(practice) as work:
        booked = work.session.exec(
            select(models.Appointment).where(models.Appointment.starts_at == starts_at)
        ).all()
        assert len(booked) == 1


def test_anyone_on_the_care_team_offers_each_time_once(practice):
    add_clinician(practice, "Dr. Second", time(8, 0), time(10, 0), credentials="DO")
    (day,) = scheduling.find_times(
        practice.principal("patient_a"),
        practice.appointment_type_id,
        None,
        days_ahead(6),
        days=1,
        uow=uow(practice),
    ).days
    times = [choice.time for choice in day.slots]
    assert len(times) == len(set(times))
    assert times[:2] == ["8:00 AM", "8:15 AM"]
    assert {choice.provider for choice in day.slots} == {"Dr. Second, DO", "Dr. Test, MD"}


def test_an_empty_range_points_to_the_first_free_day(practice):
    time_off(practice, utcnow(), at(days_ahead(12), 0))
    search = scheduling.find_times(
        practice.principal("patient_a"),
        practice.appointment_type_id,
        None,
        days_ahead(2),
        days=1,
        uow=uow(practice),
    )
    assert search.days == []
    assert search.next_free_date == days_ahead(12).isoformat()


def test_first_available_looks_past_booked_days(practice):
    time_off(practice, utcnow(), at(days_ahead(20), 11))
    first = scheduling.first_available(
        practice.principal("patient_a"), practice.appointment_type_id, uow=uow(practice)
    )
    assert (first.day, first.time) == (
        scheduling.local_day(at(days_ahead(20), 11), "America/New_York"),
        "11:00 AM",
    )


@pytest.mark.parametrize("booked_up", [False, True], ids=["free this week", "booked up"])
def test_a_search_from_today_gives_the_first_free_time_as_first_available_does(practice, booked_up):
    if booked_up:
        time_off(practice, utcnow(), at(days_ahead(20), 11))
    patient, kind = practice.principal("patient_a"), practice.appointment_type_id
    first = scheduling.first_available(patient, kind, uow=uow(practice))
    today = scheduling.practice_today(patient, uow=uow(practice))
    search = scheduling.find_times(patient, kind, None, today, uow=uow(practice))
    assert first is not None
    assert search.first_free == first
    assert bool(search.days) is not booked_up
    later = scheduling.find_times(patient, kind, None, today + timedelta(days=7), uow=uow(practice))
    assert later.first_free is None  # not known from a later week alone


def test_a_time_without_a_zone_is_refused_in_words(practice):
    with pytest.raises(BookingRefused, match="not one we offer"):
        scheduling.hold_time(
            practice.principal("patient_a"),
            practice.appointment_type_id,
            practice.provider.id,
            datetime(2030, 1, 1, 9, 0),
            uow=uow(practice),
        )
