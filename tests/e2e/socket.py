"""A raw Reflex client over socket.io, as an attacker would write one: it connects with any
tab token and Origin, sets any client-storage value, and calls any event handler by name."""

from __future__ import annotations

import asyncio
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlencode

import socketio
from reflex.state import UpdateVarsInternalState

from portal.state.session import SessionState

UPDATE_VARS = f"{UpdateVarsInternalState.get_full_name()}.update_vars_internal"


def in_thread(coroutine) -> Any:
    """Playwright's sync API keeps an event loop on the test's thread; clients get their own."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result(timeout=300)


async def _connect(base: str, token: str, origin: str) -> socketio.AsyncClient:
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(
        f"{base}?token={token}",
        socketio_path="/_event",
        namespaces=["/_event"],
        transports=["websocket"],
        headers={"Origin": origin},
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


def call_handlers(
    base: str,
    events: list[tuple[str, dict]],
    *,
    session_token: str = "",
    tab_token: str | None = None,
    path: str = "/",
    query: dict[str, str] | None = None,
    wait_seconds: float = 15,
) -> list[str]:
    """Send `events` (full handler name, payload) one by one on one connection, after putting
    `session_token` in the session cookie's var; returns every update the server sent back,
    as JSON text."""

    async def session() -> list[str]:
        received: list[str] = []
        done = asyncio.Event()
        client = await _connect(base, tab_token or uuid.uuid4().hex, base)

        @client.on("event", namespace="/_event")
        async def on_update(data) -> None:
            received.append(json.dumps(data, default=str))
            if isinstance(data, dict) and data.get("final", True):
                done.set()

        query_string = f"?{urlencode(query)}" if query else ""
        router = {"pathname": path, "query": query or {}, "asPath": f"{path}{query_string}"}
        cookie_var = f"{SessionState.get_full_name()}.session_token"
        for name, payload in [(UPDATE_VARS, {"vars": {cookie_var: session_token}}), *events]:
            done.clear()
            await client.emit(
                "event",
                {"name": name, "payload": payload, "router_data": router},
                namespace="/_event",
            )
            # Setting client storage sends nothing back, nor does a refused setvar.
            silent = name == UPDATE_VARS or name.endswith(".setvar")
            try:
                await asyncio.wait_for(done.wait(), timeout=2 if silent else wait_seconds)
            except TimeoutError:
                if not silent:
                    received.append(f"timeout: {name}")
        await client.disconnect()
        return received

    return in_thread(session())
