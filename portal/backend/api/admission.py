"""New visitors wait at the door while a worker is behind, so the people already signed in
keep a quick portal.

A tab costs the most when it arrives: its websocket's first packet carries the hydration, which
builds the tab's state and sends all of it, and the page's guard and loader follow. A burst of
sign-ins (a clinic's Monday morning, a mass reminder) brings many such tabs at once; admitted
all together they queue everyone else's events behind theirs.

So each worker watches how late it gets to new work (its event loop, then its service
threads). While it is behind (late by `BEHIND_SECONDS` on average), a websocket handshake
without a session cookie (someone who is not signed in: the sign-in page, the password reset,
the legal pages) gets in only at `BUSY_ADMISSIONS_PER_SECOND`; the others are refused before
the websocket opens, which costs next to nothing, and the browser retries on its own within
two seconds. A tab with a session cookie is never held back. The door is for honest crowds: a
forged cookie walks past it, so a flood is for the load balancer's rate limits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from portal.backend.security.tokens import SESSION_COOKIE

logger = logging.getLogger("portal.requests")

EVENT_PATH = "/_event"
WAKE_EVERY_SECONDS = 0.05
# Behind: wake-ups this late on average over the last second or so (each wake-up moves the
# average a tenth of the way to its own lateness), so one slow event does not close the door.
BEHIND_SECONDS = 0.025
SMOOTHING = 0.1
OVERDUE_SECONDS = 0.25
BUSY_ADMISSIONS_PER_SECOND = 2.0
REPORT_EVERY_SECONDS = 10.0
# Closed before the handshake completes: the server answers the upgrade with 403.
TRY_AGAIN_LATER = 1013


class Lateness:
    """How late this worker gets to new work, on average: its event loop waking up, then one of
    the threads the service calls run on (`run_service`) starting a call. Either can be the
    queue: the loop when events pile up, the threads when their calls do."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._asked = time.monotonic()

    def behind(self) -> bool:
        """Late on average, or the reading in progress already overdue: a deep queue holds it
        back, so the average alone would learn of the queue only once it has drained."""
        overdue = time.monotonic() - self._asked - WAKE_EVERY_SECONDS
        return self.seconds >= BEHIND_SECONDS or overdue >= OVERDUE_SECONDS

    async def watch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            self._asked = asked = loop.time()  # time.monotonic()
            await asyncio.sleep(WAKE_EVERY_SECONDS)
            started = await loop.run_in_executor(None, time.monotonic)
            late = started - asked - WAKE_EVERY_SECONDS
            self.seconds += SMOOTHING * (late - self.seconds)


class Door:
    """While the worker is behind, new visitors pass one at a time at a steady rate."""

    def __init__(self, lateness: Lateness, per_second: float = BUSY_ADMISSIONS_PER_SECOND) -> None:
        self.lateness = lateness
        self.interval = 1 / per_second
        self.next_pass = 0.0
        self.refused = 0
        self.reported = 0.0

    def admits(self) -> bool:
        if not self.lateness.behind():
            return True
        now = time.monotonic()
        if now >= self.next_pass:
            self.next_pass = now + self.interval
            return True
        self.refused += 1
        if now - self.reported >= REPORT_EVERY_SECONDS:
            logger.warning(
                "behind by %.0f ms: %d new visitors asked to retry",
                self.lateness.seconds * 1000,
                self.refused,
            )
            self.reported, self.refused = now, 0
        return False


LATENESS = Lateness()
DOOR = Door(LATENESS)


@contextlib.asynccontextmanager
async def watching_the_worker() -> AsyncIterator[None]:
    """A lifespan task: the worker's lateness is measured for as long as it serves."""
    watcher = asyncio.create_task(LATENESS.watch())
    try:
        yield
    finally:
        watcher.cancel()


def new_visitor(scope: Scope) -> bool:
    """A websocket handshake to Reflex's events that carries no session cookie."""
    if scope["type"] != "websocket" or not scope.get("path", "").startswith(EVENT_PATH):
        return False
    cookies = b"; ".join(value for name, value in scope.get("headers", []) if name == b"cookie")
    return not cookie_parser(cookies.decode("latin-1")).get(SESSION_COOKIE)


class AdmitNewVisitors:
    """ASGI middleware: new visitors' websockets wait at `door` while the worker is behind."""

    def __init__(self, app: ASGIApp, door: Door = DOOR) -> None:
        self.app = app
        self.door = door

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if new_visitor(scope) and not self.door.admits():
            await send({"type": "websocket.close", "code": TRY_AGAIN_LATER})
            return
        await self.app(scope, receive, send)
