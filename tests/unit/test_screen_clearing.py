"""Leaving a screen clears every other screen's view, and the update the browser gets carries
only what was not already at its default (a plain reset re-sent every var of every screen).
A tab that reconnects has its screens cleared unless they were filled in the live session its
cookie carries."""

from __future__ import annotations

import uuid

import pytest
from reflex.state import State

from portal.backend.security.principal import Principal, Role
from portal.backend.services import sessions
from portal.pages.patient.booking import BookingState
from portal.pages.patient.home import PatientHomeState
from portal.state.base import SCREEN_STATES, Screen, clear_screens
from portal.state.session import SessionState
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


def screens_of(root: State) -> Screen:
    return root.get_substate(Screen.get_full_name().split(".")[1:])


def test_a_screen_is_named_filled_by_any_change_even_in_place():
    root = State(_reflex_internal_init=True)
    booking = root.get_substate(BookingState.get_full_name().split(".")[1:])
    home = root.get_substate(PatientHomeState.get_full_name().split(".")[1:])
    assert screens_of(root)._filled == ()
    booking.next_times.append(None)
    home.home = None  # an assignment, even of the default, names the screen
    assert screens_of(root)._filled == (
        BookingState.get_full_name(),
        PatientHomeState.get_full_name(),
    )


def test_leaving_a_page_loads_only_the_screens_that_were_filled(monkeypatch):
    root, booking = opened_booking()
    loaded = []
    get_state = State.get_state

    async def counting(self, state_cls):
        loaded.append(state_cls)
        return await get_state(self, state_cls)

    monkeypatch.setattr(State, "get_state", counting)
    run(clear_screens(root, keep=PatientHomeState.get_full_name()))
    assert loaded == [Screen, BookingState]
    assert booking.step == "type"
    assert screens_of(root)._filled == ()


def test_a_screen_state_must_be_a_screen():
    assert all(issubclass(screen, Screen) for screen in SCREEN_STATES.values())
    with pytest.raises(TypeError, match="must be a Screen state"):
        from portal.state.base import screen_state

        screen_state(type("Loose", (), {}))


def test_the_kept_screen_keeps_its_view():
    root, booking = opened_booking()
    run(clear_screens(root, keep=BookingState.get_full_name()))
    assert booking.step == "time"
    assert screens_of(root)._filled == (BookingState.get_full_name(),)


SCREENS_SESSION = uuid.uuid4()


def session_of(root: State) -> SessionState:
    return root.get_substate(SessionState.get_full_name().split(".")[1:])


def reconnecting(monkeypatch, live_session: uuid.UUID | None) -> tuple[State, BookingState]:
    """An opened booking screen, filled in session `SCREENS_SESSION`, whose tab reconnects with
    a cookie of the live session `live_session` (None: the session has ended)."""
    root, booking = opened_booking()
    session = session_of(root)
    session._screens_session_id, session.role = SCREENS_SESSION, "patient"
    principal = live_session and Principal(
        uuid.uuid4(), Role.PATIENT, uuid.uuid4(), live_session, patient_id=uuid.uuid4()
    )

    async def check_session(_state, service, _token):
        assert service is sessions.check_session
        return sessions.SessionCheck(principal, 600)

    monkeypatch.setattr("portal.state.session.run_service", check_session)
    run(session._reconnected())
    return root, booking


def test_a_tab_reconnecting_in_its_live_session_keeps_its_screens(monkeypatch):
    _, booking = reconnecting(monkeypatch, SCREENS_SESSION)
    assert booking.step == "time"


@pytest.mark.parametrize("live_session", [None, uuid.uuid4()], ids=["ended", "another"])
def test_a_tab_reconnecting_after_its_session_clears_its_screens(monkeypatch, live_session):
    root, booking = reconnecting(monkeypatch, live_session)
    assert booking.step == "type"
    assert session_of(root).role == ""


def test_a_tab_never_signed_in_reconnects_without_a_session_lookup(monkeypatch):
    async def no_lookup(*_args):
        raise AssertionError("looked the session up")

    monkeypatch.setattr("portal.state.session.run_service", no_lookup)
    root, booking = opened_booking()
    run(session_of(root)._reconnected())
    assert booking.step == "time"


def test_the_idle_check_signs_out_a_tab_whose_session_a_handler_already_found_dead(monkeypatch):
    root, booking = opened_booking()
    session = session_of(root)
    session._screens_session_id, session.role = SCREENS_SESSION, ""

    async def ended(_state, service, _token):
        return sessions.SessionCheck(None, 600)

    monkeypatch.setattr("portal.state.session.run_service", ended)
    reload = run(session.check_idle())
    assert reload is not None
    assert booking.step == "type"
    assert session._screens_session_id is None
