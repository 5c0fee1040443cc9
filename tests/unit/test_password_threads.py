"""Password checks take turns on threads of their own, so a burst of sign-ins never holds up
everyone else's requests (portal/state/base.py)."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from types import SimpleNamespace

from portal.state.base import PASSWORD_THREADS, run_password_service, run_service
from tests.loop import run

TAB = SimpleNamespace(router=SimpleNamespace(session=SimpleNamespace(client_ip="")))


class Check:
    """A stand-in service that takes `seconds` and notes its thread and how many ran at once."""

    def __init__(self, seconds: float):
        self.seconds, self.running, self.most, self.threads = seconds, 0, 0, set()
        self.lock = threading.Lock()

    def __call__(self, *, uow) -> None:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
            self.threads.add(threading.current_thread().name)
        time.sleep(self.seconds)
        with self.lock:
            self.running -= 1


def test_password_checks_take_turns_on_their_own_threads():
    check = Check(0.05)

    async def burst() -> None:
        await asyncio.gather(*(run_password_service(TAB, check) for _ in range(4)))

    run(burst())
    assert check.most == PASSWORD_THREADS
    assert all(name.startswith("password") for name in check.threads)


def test_other_requests_do_not_wait_for_queued_password_checks():
    slow, quick = Check(0.2), Check(0)

    async def burst_then_request() -> float:
        # More checks than the loop's default worker threads, which other requests use.
        burst = min(32, (os.cpu_count() or 1) + 4) + 1
        queued = [asyncio.ensure_future(run_password_service(TAB, slow)) for _ in range(burst)]
        await asyncio.sleep(0.05)
        started = time.monotonic()
        await run_service(TAB, quick)
        answered = time.monotonic() - started
        await asyncio.gather(*queued)
        return answered

    assert run(burst_then_request()) < 0.15  # each check alone takes 0.2 s
