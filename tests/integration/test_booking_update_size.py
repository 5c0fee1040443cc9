"""A week of free times reaches the browser in one update under the 20 KB goal for websocket
updates (F11), with every time, its label and its clinician intact: the patient's "anyone on my
care team" search and the staff's week of their own times. Sent with every clinician's name, id
and place on every time, the demo practice's family team's week was about 28 KB."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from reflex.state import State
from reflex_base.utils import format

from portal.backend.models.base import utcnow
from portal.backend.services import clinic_schedule, scheduling
from portal.pages.patient import booking
from portal.pages.provider import time_choices
from portal.pages.provider.schedule_state import BookingState as StaffBookingState
from tests.integration.factories import add_clinician, time_off
from tests.loop import run

UPDATE_GOAL = 20_000  # bytes of the update's JSON, as the load harness counts them
# The practice works every day: 30-minute visits from 9:00 to 4:30, 31 a day, less the
# fixture's few booked ones.
WEEK_DAYS, FULL_WEEK_TIMES = 7, 200
ZONE = ZoneInfo("America/New_York")


def uow(practice):
    return practice.database.unit_of_work()


def days_ahead(days: int) -> date:
    return (utcnow().astimezone(ZONE) + timedelta(days=days)).date()


def in_one_service_call(practice):
    async def run_service(_state, service, *args, **kwargs):
        return service(*args, uow=uow(practice), **kwargs)

    return run_service


def frame_bytes(delta: dict) -> int:
    """The update's size as the browser receives it."""
    sent = json.loads(format.json_dumps({"delta": delta}))
    return len(json.dumps(sent, separators=(",", ":"), ensure_ascii=False).encode())


def screen(root: State, state: type[State]):
    return root.get_substate(state.get_full_name().split(".")[1:])


@pytest.fixture
def full_week(practice) -> date:
    """Three clinicians: one in the morning, one in the afternoon, and the practice's own all
    day but for the first hour of the week. "Anyone" takes, at each time, the free clinician
    with the lowest id, so that hour makes sure the times come from more than one whatever the
    ids. Returns the week's first day."""
    add_clinician(practice, "Dr. Adams", time(9, 0), time(12, 0))
    add_clinician(practice, "Dr. Baker", time(13, 0), time(17, 0))
    first_day = days_ahead(2)
    time_off(
        practice,
        datetime.combine(first_day, time(9, 0), tzinfo=ZONE),
        datetime.combine(first_day, time(10, 0), tzinfo=ZONE),
    )
    return first_day


def test_anyone_on_the_care_team_sends_a_full_week_in_one_update_under_the_goal(
    practice, full_week, monkeypatch
):
    principal = practice.principal("patient_a")

    async def signed_in(_state, _role):
        return principal

    monkeypatch.setattr(booking, "signed_in", signed_in)
    monkeypatch.setattr(booking, "run_service", in_one_service_call(practice))

    root = State(_reflex_internal_init=True)
    page = screen(root, booking.BookingState)
    page.options = scheduling.booking_options(principal, uow=uow(practice))
    page._today = full_week.isoformat()

    async def search_slots() -> dict:
        await page.choose_type(str(practice.appointment_type_id))
        root._clean()
        await page.choose_provider(booking.ANY)
        return await root._get_resolved_delta()

    delta = run(search_slots())
    found = scheduling.find_times(
        principal, practice.appointment_type_id, None, full_week, uow=uow(practice)
    )
    week = page.search
    shown = [
        (day.day, free.time, free.starts_at, week.providers[free.provider].id)
        for day in week.days
        for free in day.times
    ]
    assert shown == [
        (day.day, choice.time, choice.starts_at, choice.provider_id)
        for day in found.days
        for choice in day.slots
    ]
    assert len(week.days) == WEEK_DAYS and len(shown) > FULL_WEEK_TIMES
    assert len(week.providers) > 1
    assert {p.id: p.name for p in week.providers} == {
        choice.provider_id: choice.provider for day in found.days for choice in day.slots
    }
    assert frame_bytes(delta) < UPDATE_GOAL


def test_the_staff_week_of_free_times_is_one_update_under_the_goal(practice, monkeypatch):
    principal = practice.principal("provider")
    first_day = days_ahead(1)
    monkeypatch.setattr(time_choices, "run_service", in_one_service_call(practice))

    root = State(_reflex_internal_init=True)
    page = screen(root, StaffBookingState)
    page._visit_type_id = str(practice.appointment_type_id)
    root._clean()

    async def show_times() -> dict:
        await page._show_times(principal, first_day)
        return await root._get_resolved_delta()

    delta = run(show_times())
    found = clinic_schedule.times_for_patient(
        principal, practice.appointment_type_id, first_day, uow=uow(practice)
    )
    shown = [(day.day, free.time, free.starts_at) for day in page.times for free in day.times]
    assert shown == [
        (day.day, choice.time, choice.starts_at) for day in found for choice in day.slots
    ]
    assert len(page.times) == WEEK_DAYS and len(shown) > FULL_WEEK_TIMES
    assert frame_bytes(delta) < UPDATE_GOAL
