"""New visitors wait at the door while a worker is behind (portal/backend/api/admission.py)."""

from __future__ import annotations

import asyncio
import time

from portal.backend.api import admission
from portal.backend.api.admission import AdmitNewVisitors, Door, Lateness
from tests.loop import run


def handshake(cookie: str = "", path: str = "/_event/") -> dict:
    headers = [(b"cookie", cookie.encode())] if cookie else []
    return {"type": "websocket", "path": path, "headers": headers}


def outcomes(door: Door, scopes: list[dict]) -> list[str]:
    """What the middleware did with each handshake: passed it on, or closed it."""
    seen: list[str] = []

    async def app(scope, receive, send) -> None:
        seen.append("passed")

    async def send(message) -> None:
        seen.append(f"closed {message['code']}")

    async def all_of_them() -> None:
        gate = AdmitNewVisitors(app, door)
        for scope in scopes:
            await gate(scope, None, send)

    run(all_of_them())
    return seen


def behind_by(seconds: float) -> Lateness:
    lateness = Lateness()
    lateness.seconds = seconds
    return lateness


def test_everyone_gets_in_while_the_worker_keeps_up():
    door = Door(behind_by(0.0))
    assert outcomes(door, [handshake()] * 20) == ["passed"] * 20


def test_while_behind_new_visitors_pass_at_the_steady_rate_and_the_rest_retry():
    door = Door(behind_by(0.2), per_second=2)
    assert outcomes(door, [handshake()] * 5) == ["passed"] + ["closed 1013"] * 4
    door.next_pass = time.monotonic()  # half a second later
    assert outcomes(door, [handshake()] * 2) == ["passed", "closed 1013"]


def test_signed_in_tabs_and_plain_requests_are_never_held_back():
    door = Door(behind_by(0.2), per_second=2)
    door.next_pass = time.monotonic() + 60
    signed_in = handshake("theme=dark; portal_session=abc")
    page = {"type": "http", "path": "/_event/", "headers": []}
    other_socket = handshake(path="/elsewhere")
    assert outcomes(door, [signed_in, page, other_socket, handshake()]) == [
        "passed",
        "passed",
        "passed",
        "closed 1013",
    ]
    # An empty session cookie is no session.
    assert outcomes(door, [handshake("portal_session=")]) == ["closed 1013"]


def test_the_watch_sees_a_blocked_loop_and_then_its_recovery():
    lag = Lateness()

    async def block_then_recover() -> tuple[float, float]:
        watcher = asyncio.create_task(lag.watch())
        await asyncio.sleep(0.2)
        for _ in range(3):  # handlers holding the loop, one after the other
            time.sleep(0.2)
            await asyncio.sleep(0.06)
        behind = lag.behind()
        await asyncio.sleep(2)
        watcher.cancel()
        return behind, lag.seconds

    behind, recovered = run(block_then_recover())
    # A generous bound: the suite runs beside other work.
    assert behind and recovered < 0.015


def test_the_watch_sees_service_calls_queueing_for_their_threads():
    lateness = Lateness()

    async def busy_threads() -> bool:
        loop = asyncio.get_running_loop()
        watcher = asyncio.create_task(lateness.watch())
        await asyncio.sleep(0.2)
        # Far more half-second calls than the pool has threads (at most 32).
        calls = [loop.run_in_executor(None, time.sleep, 0.5) for _ in range(40)]
        await asyncio.sleep(0.6)
        behind = lateness.behind()
        await asyncio.gather(*calls)
        watcher.cancel()
        return behind

    assert run(busy_threads())


def test_one_slow_event_does_not_close_the_door():
    lag = Lateness()

    async def one_slow_event() -> bool:
        watcher = asyncio.create_task(lag.watch())
        await asyncio.sleep(0.2)
        time.sleep(0.15)
        await asyncio.sleep(0.06)
        watcher.cancel()
        return lag.behind()

    assert not run(one_slow_event())


def test_the_served_app_counts_on_the_door():
    from portal.portal import app

    assert AdmitNewVisitors in app.api_transformer
    assert admission.watching_the_worker in app.lifespan_tasks
