"""Calling services from state: off the event loop, inside a unit of work and a request context."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import reflex as rx

from portal.backend.security.devices import describe
from portal.backend.services import call

View = TypeVar("View")

# Every state class that holds PHI or credentials for one screen; all are cleared when the
# screen changes, on sign-out and on timeout, so a view never outlives the page that asked.
SCREEN_STATES: list[type[rx.State]] = []


def screen_state(cls: type[rx.State]) -> type[rx.State]:
    SCREEN_STATES.append(cls)
    return cls


async def run_service(
    state: rx.State, service: Callable[..., View], *args: Any, **kwargs: Any
) -> View:
    """Run a blocking service function in a worker thread with a fresh unit of work."""
    return await asyncio.to_thread(
        call,
        service,
        *args,
        client_address=client_address(state),
        request_id=uuid.uuid4().hex,
        **kwargs,
    )


def client_address(state: rx.State) -> str | None:
    return state.router.session.client_ip or None


def device_of(state: rx.State) -> str:
    return describe(state.router.headers.user_agent or "")


async def clear_screens(state: rx.State, keep: str = "") -> None:
    """Reset every screen's state but the one named `keep` (a state's full name)."""
    for screen in SCREEN_STATES:
        if screen.get_full_name() != keep:
            (await state.get_state(screen)).reset()
