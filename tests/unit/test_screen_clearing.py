"""Leaving a screen clears every other screen's view, and the update the browser gets carries
only what was not already at its default (a plain reset re-sent every var of every screen)."""

from __future__ import annotations

from reflex.state import State

from portal.pages.patient.booking import BookingState
from portal.pages.patient.home import PatientHomeState
from portal.state.base import clear_screens
from tests.loop import run


def opened_booking() -> tuple[State, BookingState]:
    root = State(_reflex_internal_init=True)
    booking = root.get_substate(BookingState.get_full_name().split(".")[1:])
    booking.step, booking.visit_type_id, booking._today = "time", "a-visit-type", "2026-03-02"
    root._clean()
    return root, booking


def test_leaving_a_screen_clears_its_views_and_backend_vars():
    root, booking = opened_booking()
    run(clear_screens(root, keep=PatientHomeState.get_full_name()))
    assert (booking.step, booking.visit_type_id, booking._today) == ("type", "", "")


def test_only_the_screen_that_changed_is_sent_when_screens_clear():
    root, _ = opened_booking()

    async def cleared() -> dict:
        await clear_screens(root, keep=PatientHomeState.get_full_name())
        return await root._get_resolved_delta()

    assert run(cleared()) == {
        BookingState.get_full_name(): {"step_rx_state_": "type", "visit_type_id_rx_state_": ""}
    }


def test_the_kept_screen_keeps_its_view():
    root, booking = opened_booking()
    run(clear_screens(root, keep=BookingState.get_full_name()))
    assert booking.step == "time"
