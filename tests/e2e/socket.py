"""A raw Reflex client over socket.io, as an attacker would write one: it connects with any
tab token, Origin and session cookie, and calls any event handler by name."""

from __future__ import annotations

import asyncio
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlencode

import socketio
from reflex.state import OnLoadInternalState, State

from portal.backend.security.tokens import SESSION_COOKIE


def in_thread(coroutine) -> Any:
    """Playwright's sync API keeps an event loop on the test's thread; clients get their own."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result(timeout=300)


def session_cookie(session_token: str) -> dict[str, str]:
    """The handshake header a browser holding the session cookie sends (none without one)."""
    return {"Cookie": f"{SESSION_COOKIE}={session_token}"} if session_token else {}


async def _connect(
    base: str,
    token: str,
    origin: str,
    *,
    session_token: str = "",
    client: socketio.AsyncClient | None = None,
) -> socketio.AsyncClient:
    """`client` (a new one if none), connected as tab `token` from `origin`."""
    client = client or socketio.AsyncClient(reconnection=False)
    await client.connect(
        f"{base}?token={token}",
        socketio_path="/_event",
        namespaces=["/_event"],
        transports=["websocket"],
        headers={"Origin": origin, **session_cookie(session_token)},
        wait_timeout=10,
    )
    return client


def connects(base: str, *, origin: str) -> bool:
    async def attempt() -> bool:
        try:
            client = await _connect(base, uuid.uuid4().hex, origin)
        except socketio.exceptions.ConnectionError:
            return False
        await client.disconnect()
        return True

    return in_thread(attempt())


# Sent after a `Tab`'s event, from an address with a query parameter of its own: the update
# that answers it carries the new address, which no other update does.
CLOSING_EVENT = f"{OnLoadInternalState.get_full_name()}.set_is_hydrated"
CLOSING_PARAMETER = "closing"
# A connected tab's first event, as the browser sends it. (Any other first event of a new tab
# has its answer merged with the whole state's.)
HYDRATE_EVENT = f"{State.get_full_name()}.hydrate_and_load"
# The last update of a hydration: its on_load handlers have run (or it had none).
HYDRATED = '"is_hydrated_rx_state_": true'
# How a reply list says an event was still being handled when the wait ran out.
TIMEOUT = "timeout: "


def _marked(router: dict, mark: str) -> dict:
    query = {**router.get("query", {}), CLOSING_PARAMETER: mark}
    return {**router, "query": query, "asPath": f"{router['pathname']}?{urlencode(query)}"}


class Tab:
    """One tab's connection, whose events are each answered in full. Reflex handles a tab's
    events one at a time, in order, but marks no update as an event's last (`final` is gone
    since Reflex 0.9); it sends an event's delta and the events it returns (a redirect, a
    script) as separate updates, nothing for an event that changes nothing, and the updates of
    the backend events it queued (the on_load handlers of a hydration, say) later. So after
    each event the tab sends `CLOSING_EVENT` until one is answered with nothing before it.
    """

    def __init__(self) -> None:
        self.client = socketio.AsyncClient(reconnection=False)
        self.updates: asyncio.Queue[Any] = asyncio.Queue()
        self.renamed = False  # the server gave this connection another tab token
        self.client.on("event", self.updates.put, namespace="/_event")
        self.client.on("new_token", self._renamed, namespace="/_event")

    async def _renamed(self, _token: str) -> None:
        self.renamed = True

    @classmethod
    async def open(cls, base: str, token: str, origin: str, *, session_token: str = "") -> Tab:
        tab = cls()
        await _connect(base, token, origin, session_token=session_token, client=tab.client)
        return tab

    async def _send(self, name: str, payload: dict, router: dict) -> None:
        await self.client.emit(
            "event",
            {"name": name, "payload": payload, "router_data": router},
            namespace="/_event",
        )

    async def handle(
        self, name: str, payload: dict, router: dict, *, wait_seconds: float = 15
    ) -> list[str]:
        """Send one event; every update the server sent for it and for the events it queued,
        as JSON text (and a `timeout: NAME` line if that took over `wait_seconds`)."""
        await self._send(name, payload, router)
        return await self.settle(router, wait_seconds=wait_seconds, waiting_for=name)

    async def hydrate(self, router: dict, *, wait_seconds: float = 15) -> list[str]:
        """What a browser's tab does once connected: ask for the whole state and have the
        page's on_load handlers run, until the state says it is hydrated. Every update that
        brought, as `handle` gives them."""
        await self._send(HYDRATE_EVENT, {}, router)
        return await self.settle(
            router, wait_seconds=wait_seconds, waiting_for=HYDRATE_EVENT, until=HYDRATED
        )

    async def settle(
        self,
        router: dict,
        *,
        wait_seconds: float = 15,
        waiting_for: str = "the tab",
        until: str | None = None,
    ) -> list[str]:
        """Every update the server sends until it has handled all that was sent before (and
        one of them holds `until`)."""
        replies: list[str] = []
        try:
            async with asyncio.timeout(wait_seconds):
                settled = False
                while not settled:
                    mark = uuid.uuid4().hex
                    await self._send(CLOSING_EVENT, {"value": False}, _marked(router, mark))
                    settled = until is None or any(until in reply for reply in replies)
                    while mark not in (reply := json.dumps(await self.updates.get(), default=str)):
                        replies.append(reply)
                        settled = False
        except TimeoutError:
            replies.append(f"{TIMEOUT}{waiting_for}")
        return replies

    async def close(self) -> None:
        await self.client.disconnect()


def router_data(path: str, query: dict[str, str] | None = None) -> dict:
    """The address a browser's tab sends with each event."""
    query_string = f"?{urlencode(query)}" if query else ""
    return {"pathname": path, "query": query or {}, "asPath": f"{path}{query_string}"}


def call_handlers(
    base: str,
    events: list[tuple[str, dict]],
    *,
    session_token: str = "",
    tab_token: str | None = None,
    path: str = "/",
    query: dict[str, str] | None = None,
) -> list[str]:
    """Send `events` (full handler name, payload) one by one as one `Tab` that carries
    `session_token` in its session cookie; returns every update the server sent back for them,
    as JSON text (nothing for a handler that changed nothing). Fails if the server is still
    handling one after `Tab.handle`'s wait."""
    router = router_data(path, query)

    async def session() -> list[str]:
        tab = await Tab.open(base, tab_token or uuid.uuid4().hex, base, session_token=session_token)
        try:
            replies = [
                reply
                for name, payload in events
                for reply in await tab.handle(name, payload, router)
            ]
        finally:
            await tab.close()
        unfinished = [reply for reply in replies if reply.startswith(TIMEOUT)]
        assert not unfinished, unfinished
        return replies

    return in_thread(session())
