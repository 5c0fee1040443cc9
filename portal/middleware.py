"""Refusing events the portal never sends.

Reflex gives every state a generic `setvar` handler. The portal's pages never use it (no state
has setters), so an event naming it comes from a hand-written client probing the app: it is
refused quietly here instead of failing inside Reflex and logging a server error.
"""

from __future__ import annotations

import logging

import reflex as rx
from reflex.middleware import Middleware

logger = logging.getLogger("portal.events")


class RefuseUnusedHandlers(Middleware):
    async def preprocess(self, app, state, event) -> rx.state.StateUpdate | None:
        if event.name.rsplit(".", 1)[-1] == "setvar":
            logger.warning("refused a setvar event from a client")
            return rx.state.StateUpdate()
        return None
