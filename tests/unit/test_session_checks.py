"""The session is checked once per browser event: the handlers that a page load runs (the guard,
then the page's loaders, which the page load chains) share one check, and every other event
checks again, so a session ended on any worker is refused from the next event on."""

from __future__ import annotations

import uuid

from reflex.state import State
from reflex_base.event.context import EventContext

from portal.backend.security.principal import Principal, Role
from portal.backend.services import sessions
from portal.state import session as session_module
from portal.state.session import SessionState, browser_event, signed_in
from tests.loop import run

PRINCIPAL = Principal(uuid.uuid4(), Role.PATIENT, uuid.uuid4(), uuid.uuid4(), uuid.uuid4())


def tab(monkeypatch, answers: list[Principal | None]) -> tuple[SessionState, list[str]]:
    """A tab's session state whose checks answer `answers` in turn; the list of checks made."""
    root = State(_reflex_internal_init=True)
    checks: list[str] = []

    async def resolve(_state, service, _token):
        assert service is sessions.resolve_session
        checks.append("checked")
        return answers[len(checks) - 1]

    monkeypatch.setattr(session_module, "run_service", resolve)
    return root.get_substate(SessionState.get_full_name().split(".")[1:]), checks


def in_event(monkeypatch, event: str) -> None:
    monkeypatch.setattr(session_module, "browser_event", lambda: event)


def test_the_handlers_of_one_page_load_share_one_check(monkeypatch):
    state, checks = tab(monkeypatch, [PRINCIPAL])
    in_event(monkeypatch, "page-load")
    assert run(signed_in(state, Role.PATIENT)) == PRINCIPAL
    assert run(signed_in(state, Role.PATIENT)) == PRINCIPAL
    assert run(signed_in(state, Role.PROVIDER)) is None
    assert checks == ["checked"]


def test_every_new_browser_event_checks_again_and_is_refused_once_the_session_ended(
    monkeypatch,
):
    state, checks = tab(monkeypatch, [PRINCIPAL, None])
    in_event(monkeypatch, "page-load")
    assert run(signed_in(state)) == PRINCIPAL
    in_event(monkeypatch, "a-click")
    assert run(signed_in(state)) is None
    assert checks == ["checked", "checked"]


def test_a_session_the_guard_found_ended_is_not_checked_again_in_that_page_load(monkeypatch):
    state, checks = tab(monkeypatch, [None])
    in_event(monkeypatch, "page-load")
    assert run(signed_in(state)) is None
    assert run(signed_in(state)) is None
    assert checks == ["checked"]


def test_outside_an_event_and_after_signing_out_every_call_checks(monkeypatch):
    state, checks = tab(monkeypatch, [PRINCIPAL] * 4)
    in_event(monkeypatch, "")
    run(signed_in(state))
    run(signed_in(state))
    in_event(monkeypatch, "page-load")
    run(signed_in(state))
    run(state._forget_session())
    assert run(signed_in(state)) == PRINCIPAL
    assert checks == ["checked"] * 4


def test_an_event_chained_by_another_belongs_to_the_browser_event_that_started_it():
    page_load = EventContext(token="tab", state_manager=None, enqueue_impl=None)
    loader = page_load.fork()
    for context, expected in ((page_load, page_load.txid), (loader, page_load.txid)):
        token = EventContext.set(context)
        try:
            assert browser_event() == expected
        finally:
            EventContext.reset(token)
    assert browser_event() == ""
