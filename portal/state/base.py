"""Calling services from state: off the event loop, inside a unit of work and a request context."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any, TypeVar

import reflex as rx

from portal.backend.security.devices import describe
from portal.backend.security.principal import Principal
from portal.backend.services import call, scheduling
from portal.state import password_turns

View = TypeVar("View")

# Every state class that holds PHI or credentials for one screen; all are cleared when the
# screen changes, on sign-out and on timeout, so a view never outlives the page that asked.
SCREEN_STATES: dict[str, type[rx.State]] = {}


class Screen(rx.State):
    """The parent of every screen's state. It keeps the names of the screens that anything was
    set on since they were last cleared, so that leaving a page loads and clears only those
    (with the state in Redis, loading all of them took a round trip each on every page load).
    Any var set or changed in place on a screen, by any handler, names it here."""

    _filled: tuple[str, ...] = ()


def _mark_dirty_and_filled(state: rx.State, var_names=None) -> None:
    rx.State._mark_dirty(state, var_names)
    screens = state.parent_state
    if type(state) is not Screen and screens is not None:
        name = state.get_full_name()
        if name not in screens._filled:
            screens._filled = (*screens._filled, name)


# Reflex refuses a state class that defines one of its own methods, so the hook is set after.
Screen._mark_dirty = _mark_dirty_and_filled


def screen_state(cls: type[rx.State]) -> type[rx.State]:
    if not issubclass(cls, Screen):
        raise TypeError(f"{cls.__name__} holds a screen's view: it must be a Screen state")
    SCREEN_STATES[cls.get_full_name()] = cls
    return cls


# Services that hash or verify a password (argon2id: about 50 ms of a core each) run on threads
# of their own, this many at once, each in one of the machine's turns (password_turns.py). A
# burst of sign-ins then waits its turn there, instead of taking every worker thread, and every
# core, from everyone else's requests.
PASSWORD_THREADS = 1
_password_threads = ThreadPoolExecutor(PASSWORD_THREADS, thread_name_prefix="password")


async def run_service(
    state: rx.State, service: Callable[..., View], *args: Any, **kwargs: Any
) -> View:
    """Run a blocking service function in a worker thread with a fresh unit of work."""
    return await _run_in(None, state, service, *args, **kwargs)


async def run_password_service(
    state: rx.State, service: Callable[..., View], *args: Any, **kwargs: Any
) -> View:
    """`run_service` for a service that hashes or verifies a password. Raises `PasswordsBusy`
    when no turn came within `password_turns.WAIT_SECONDS`, its wait here included."""
    deadline = time.monotonic() + password_turns.WAIT_SECONDS
    in_turn = functools.partial(_in_password_turn, deadline, service)
    return await _run_in(_password_threads, state, in_turn, *args, **kwargs)


def _in_password_turn(deadline: float, service: Callable[..., View], *args, **kwargs) -> View:
    with password_turns.password_turn(deadline):
        return service(*args, **kwargs)


async def _run_in(
    threads: ThreadPoolExecutor | None,
    state: rx.State,
    service: Callable[..., View],
    *args: Any,
    **kwargs: Any,
) -> View:
    """As `asyncio.to_thread` does, on `threads` (None: the loop's default worker threads)."""
    work = functools.partial(
        call,
        service,
        *args,
        client_address=client_address(state),
        request_id=uuid.uuid4().hex,
        **kwargs,
    )
    context = contextvars.copy_context()
    return await asyncio.get_running_loop().run_in_executor(threads, context.run, work)


async def practice_today(state: rx.State, principal: Principal) -> date:
    """Today where the practice is, for pages that choose days."""
    return await run_service(state, scheduling.practice_today, principal)


def client_address(state: rx.State) -> str | None:
    return state.router.session.client_ip or None


def device_of(state: rx.State) -> str:
    return describe(state.router.headers.user_agent or "")


async def clear_screens(state: rx.State, keep: str = "") -> None:
    """Reset every screen's state but the one named `keep` (a state's full name). Only the vars
    that differ from their defaults are set: `reset()` would mark every var of every screen
    changed, and each navigation would send them all to the browser (about 12 KB)."""
    screens = await state.get_state(Screen)
    for name in screens._filled:
        if name == keep:
            continue
        screen = SCREEN_STATES[name]
        view = await state.get_state(screen)
        for var, field in screen.__fields__.items():
            # The screen's own vars, backend-only ones included, as `reset()` takes them.
            if field._owner is screen and getattr(view, var) != (default := field.default_value()):
                setattr(view, var, default)
    screens._filled = (keep,) if keep in screens._filled else ()


def take_link_token(state: rx.State, route: str) -> rx.event.EventSpec | None:
    """For a page opened from an emailed link: move the link's `?token=` into the state's
    backend-only `_token` and reload the page without it (so it leaves the address bar and the
    history); on that reload, reset the state but keep the token. Returns the redirect to
    yield, if any."""
    link_token = state.router.url.query_parameters.get("token", "")
    if link_token:
        state._token = link_token[:100]
        return rx.redirect(route, replace=True)
    token = state._token
    state.reset()
    state._token = token
    return None
