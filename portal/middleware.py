"""What the portal does to events before Reflex handles them.

Reflex gives every state a generic `setvar` handler. The portal's pages never use it (no state
has setters), so an event naming it comes from a hand-written client probing the app: it is
refused quietly here instead of failing inside Reflex and logging a server error.

A tab's hydration (its first event on every websocket connection) sends the tab's whole state.
A tab can come back with its old Reflex token after its session ended while it was away
(closed, asleep): its screens are checked, and cleared, before that state is computed.
"""

from __future__ import annotations

import logging

import reflex as rx
from reflex.middleware import Middleware

from portal.state.session import SessionState

logger = logging.getLogger("portal.events")


class RefuseUnusedHandlers(Middleware):
    async def preprocess(self, app, state, event) -> rx.state.StateUpdate | None:
        if event.name.rsplit(".", 1)[-1] == "setvar":
            logger.warning("refused a setvar event from a client")
            return rx.state.StateUpdate()
        return None


# Both of Reflex's hydrate events send the whole state.
HYDRATE_EVENTS = {
    f"{rx.State.get_full_name()}.{name}"
    for name in (rx.constants.CompileVars.HYDRATE, rx.constants.CompileVars.HYDRATE_AND_LOAD)
}


class ForgetEndedSessions(Middleware):
    async def preprocess(self, app, state, event) -> rx.state.StateUpdate | None:
        if event.name in HYDRATE_EVENTS:
            await (await state.get_state(SessionState))._reconnected()
        return None
