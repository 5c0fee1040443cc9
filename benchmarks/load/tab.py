"""A simulated browser tab: it talks to a Reflex backend exactly as the compiled frontend does.

- Connecting (a full page load) sends `hydrate_and_load` in the socket.io CONNECT packet, with
  the page's router data and the per-state hashes of the compiled defaults (so only what differs
  comes back), and the tab's cookies in the handshake.
- Opening a page inside the app sends `on_load_internal`; the backend runs the page's loaders
  and ends the chain by setting `is_hydrated`, which is when the page is ready. (The browser
  also sends `update_vars_internal` first when the app keeps client storage; these apps keep
  none.)
- A handler call sends one event; the caller says which update ends it.
- An upload handler is a multipart POST to `/_upload` whose answer streams the updates.

Every update is measured (its JSON text, as the frame carries it) and attributed to the action in
progress. An action fails on the app's error toast, a redirect it did not ask for, a dropped
connection, or no answer within the time limit.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import aiohttp
import socketio
from reflex.state import OnLoadInternalState, State

from benchmarks.load.record import Recorder

NAMESPACE = "/_event"
ROOT = State.get_full_name()
HYDRATE = f"{ROOT}.hydrate_and_load"
ON_LOAD = f"{OnLoadInternalState.get_full_name()}.on_load_internal"
ERROR_TOAST = "backend-error"  # the id of the portal's error toast (portal/errors.py)
ACTION_LIMIT_SECONDS = 30
RETRY_STEP_SECONDS = 0.2  # the frontend retries a failed connect 0.2 s later per attempt so far

Update = dict[str, Any]


class ActionFailed(Exception):
    """`kind` is one of: timeout, error, redirect, disconnected, refused."""

    def __init__(self, kind: str, detail: str = ""):
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind


def frame_bytes(update: Update) -> int:
    return len(json.dumps(update, separators=(",", ":"), ensure_ascii=False).encode())


def hydrated(update: Update) -> bool:
    return update.get("delta", {}).get(ROOT, {}).get("is_hydrated_rx_state_") is True


def redirect_of(update: Update) -> str | None:
    for event in update.get("events", []):
        if event.get("name") == "_redirect":
            return event["payload"]["path"]
    return None


def changed(state: str, var: str, value: Any = ...) -> Callable[[Update], bool]:
    """An update that sets `var` of `state` (to `value`, when given)."""

    def test(update: Update) -> bool:
        delta = update.get("delta", {}).get(state, {})
        key = f"{var}_rx_state_"
        return key in delta and (value is ... or delta[key] == value)

    return test


class Tab:
    def __init__(
        self,
        base: str,
        recorder: Recorder,
        *,
        hashes: list[str] | None = None,
    ):
        self.base = base
        self.recorder = recorder
        self.hashes = hashes
        self.token = uuid.uuid4().hex
        self.path = "/"
        self.query: dict[str, str] = {}
        self.cookie_header = ""  # what the browser sends in the Cookie header
        self.last: list[Update] = []
        self._updates: asyncio.Queue[Update] = asyncio.Queue()
        self._client: socketio.AsyncClient | None = None

    # Connecting and pages

    async def connect(self, label: str, path: str, query: dict[str, str] | None = None) -> None:
        """A full page load: a new websocket whose CONNECT packet carries the hydrate."""
        self.path, self.query = path, query or {}
        payload = {"hashes": self.hashes} if self.hashes else {}
        client = socketio.AsyncClient(reconnection=False)
        # Each connection has its own queue: nothing of an earlier one reaches this page.
        updates: asyncio.Queue[Update] = asyncio.Queue()

        async def received(update: Update) -> None:
            updates.put_nowait(update)

        async def dropped(*_reason) -> None:
            updates.put_nowait({"disconnected": True})

        client.on("event", received, namespace=NAMESPACE)
        client.on("disconnect", dropped, namespace=NAMESPACE)
        self._updates = updates
        headers = {"Origin": self.base}
        if self.cookie_header:
            headers["Cookie"] = self.cookie_header
        started = time.perf_counter()
        attempts = 0
        while True:
            try:
                await client.connect(
                    f"{self.base}?token={self.token}",
                    socketio_path=NAMESPACE,
                    namespaces=[NAMESPACE],
                    transports=["websocket"],
                    headers=headers,
                    auth={
                        "event": {
                            "name": HYDRATE,
                            "payload": payload,
                            "router_data": self._router(),
                        }
                    },
                    wait_timeout=ACTION_LIMIT_SECONDS,
                )
                break
            except (socketio.exceptions.ConnectionError, OSError) as refused:
                # As the browser does: again after 0.2 s, 0.4 s, ... at most 2 s apart.
                attempts = min(attempts + 1, 10)
                pause = RETRY_STEP_SECONDS * attempts
                if time.perf_counter() + pause - started > ACTION_LIMIT_SECONDS:
                    self.recorder.failure(label, "refused")
                    raise ActionFailed("refused", str(refused)) from None
                self.recorder.retries[label] += 1
                await asyncio.sleep(pause)
        self._client = client
        await self._until(label, started, hydrated)

    async def open(self, label: str, path: str, query: dict[str, str] | None = None) -> None:
        """A navigation inside the app, as a link click makes it."""
        self.path, self.query = path, query or {}
        started = time.perf_counter()
        await self._emit(ON_LOAD, {})
        await self._until(label, started, hydrated)

    async def call(
        self, label: str, handler: str, payload: dict, *, done: Callable[[Update], bool]
    ) -> list[Update]:
        started = time.perf_counter()
        await self._emit(handler, payload)
        return await self._until(label, started, done, redirects=True)

    async def upload(self, label: str, handler: str) -> list[Update]:
        """An upload handler with no files, as a form's send button calls it."""
        boundary = f"----load{uuid.uuid4().hex}"
        headers = {
            "Reflex-Client-Token": self.token,
            "Reflex-Event-Handler": handler,
            "Origin": self.base,
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        }
        if self.cookie_header:
            headers["Cookie"] = self.cookie_header
        started = time.perf_counter()
        updates: list[Update] = []
        timeout = aiohttp.ClientTimeout(total=ACTION_LIMIT_SECONDS)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as http,
                http.post(
                    f"{self.base}/_upload", data=f"--{boundary}--\r\n", headers=headers
                ) as answer,
            ):
                if answer.status != 200:
                    self.recorder.failure(label, "error")
                    raise ActionFailed("error", f"HTTP {answer.status}")
                async for line in answer.content:
                    if line.strip():
                        updates.append(json.loads(line))
        except (TimeoutError, aiohttp.ClientError) as failure:
            self.recorder.failure(
                label, "timeout" if isinstance(failure, TimeoutError) else "error"
            )
            raise ActionFailed("timeout", str(failure)) from None
        elapsed = time.perf_counter() - started
        for update in updates:
            self._check(label, update, redirects=True)
        self.recorder.success(label, elapsed, [frame_bytes(u) for u in updates])
        self.last = updates
        return updates

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None and client.connected:
            await client.disconnect()

    @property
    def connected(self) -> bool:
        return self._client is not None and self._client.connected

    # Plumbing

    def _router(self) -> dict:
        query = "&".join(f"{key}={value}" for key, value in self.query.items())
        return {
            "pathname": self.path,
            "query": self.query,
            "asPath": f"{self.path}?{query}" if query else self.path,
        }

    async def _emit(self, name: str, payload: dict) -> None:
        if not self.connected:
            raise ActionFailed("disconnected")
        event = {"name": name, "payload": payload, "router_data": self._router()}
        await self._client.emit("event", event, namespace=NAMESPACE)

    async def _until(
        self,
        label: str,
        started: float,
        done: Callable[[Update], bool],
        *,
        redirects: bool = False,
    ) -> list[Update]:
        """Collect updates until one satisfies `done`; record the action's time and frames."""
        updates: list[Update] = []
        deadline = started + ACTION_LIMIT_SECONDS
        while True:
            try:
                update = await asyncio.wait_for(
                    self._updates.get(), timeout=max(0.0, deadline - time.perf_counter())
                )
            except TimeoutError:
                self.recorder.failure(label, "timeout")
                raise ActionFailed("timeout", label) from None
            if update.get("disconnected"):
                self.recorder.failure(label, "disconnected")
                raise ActionFailed("disconnected", label)
            updates.append(update)
            self._check(label, update, redirects=redirects)
            if done(update):
                break
        while not self._updates.empty():  # what the same chain already sent after the end
            update = self._updates.get_nowait()
            if update.get("disconnected"):
                self._updates.put_nowait(update)  # the next action meets it
                break
            updates.append(update)
            self._check(label, update, redirects=redirects)
        self.recorder.success(
            label, time.perf_counter() - started, [frame_bytes(u) for u in updates]
        )
        self.last = updates
        return updates

    def _check(self, label: str, update: Update, *, redirects: bool) -> None:
        """Fail on the app's error toast, or on a redirect the action did not ask for."""
        if any(ERROR_TOAST in json.dumps(event) for event in update.get("events", [])):
            self.recorder.failure(label, "error")
            raise ActionFailed("error", label)
        target = redirect_of(update)
        if target is not None and not redirects:
            self.recorder.failure(label, "redirect")
            raise ActionFailed("redirect", f"{label} -> {target}")
