"""The phases of a run: signing users in, the measured work with think time (and the sign-in
burst beside it), the memory of idle clients, and connect/disconnect cycles. Each phase is
bounded in time; a user whose connection drops signs in again and carries on."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from reflex.state import state_snapshot_hashes

from benchmarks.load.patient import Patient, signed_in_tab
from benchmarks.load.population import Account
from benchmarks.load.record import Recorder
from benchmarks.load.servers import Server
from benchmarks.load.tab import ActionFailed, Tab, changed

SIGN_IN_CONCURRENCY = 8
WARM_UP_CLIENTS = SIGN_IN_CONCURRENCY  # signed in before memory per idle client is measured
SETTLE_SECONDS = 5
RSS_EVERY_SECONDS = 5
# The bare app's one state (benchmarks/bare_app/bare_app/bare_app.py), as its server names it.
COUNTER = "reflex___state____state.bare_app___bare_app____counter_state"


@dataclass
class Burst:
    rate: float = 20.0
    seconds: float = 60.0
    window: tuple[float, float] = (0.0, 0.0)  # monotonic start and end, once it has run
    recorder: Recorder = field(default_factory=Recorder)


async def compiled_hashes(base: str, path: str) -> list[str]:
    """The hashes a compiled frontend sends with its first hydrate: those of the default state
    snapshot, here taken from the snapshot a hydrate without hashes answers with."""
    tab = Tab(base, Recorder())
    try:
        await tab.connect("hashes", path)
    finally:
        await tab.close()
    return state_snapshot_hashes(tab.last[0]["delta"])


async def sign_in_all(
    base: str, recorder: Recorder, accounts: list[Account], hashes: list[str]
) -> list[Patient]:
    """Every account signed in on its own tab, a few at a time; those that fail are left out."""
    gate = asyncio.Semaphore(SIGN_IN_CONCURRENCY)

    async def one(index: int, account: Account) -> Patient | None:
        async with gate:
            try:
                tab = await signed_in_tab(base, recorder, account, hashes=hashes)
            except ActionFailed:
                return None
            return Patient(tab, account, index)

    signed = await asyncio.gather(*(one(i, a) for i, a in enumerate(accounts)))
    return [patient for patient in signed if patient is not None]


async def keep_working(
    action: Callable[[], Awaitable[None]],
    recover: Callable[[ActionFailed], Awaitable[None]],
    *,
    think: float,
    stop_at: float,
    rng: random.Random,
) -> None:
    """One user: a first wait anywhere in one think time, then think (half to one and a half
    think times) and act, until the phase ends."""
    await asyncio.sleep(rng.uniform(0, think))
    while True:
        pause = rng.uniform(0.5, 1.5) * think
        if time.monotonic() + pause >= stop_at:
            return
        await asyncio.sleep(pause)
        try:
            await action()
        except ActionFailed as failure:
            await recover(failure)


async def portal_work(
    base: str,
    patients: list[Patient],
    hashes: list[str],
    *,
    think: float,
    duration: float,
    recorder: Recorder,
    setup: Recorder,
    burst: Burst | None,
    burst_accounts: list[Account],
) -> None:
    stop_at = time.monotonic() + duration
    for patient in patients:
        patient.tab.recorder = recorder

    def worker(index: int, patient: Patient) -> Awaitable[None]:
        async def recover(failure: ActionFailed) -> None:
            patient.skip_to_next_page()
            if patient.tab.connected and failure.kind not in ("redirect", "disconnected"):
                return
            await patient.tab.close()
            with contextlib.suppress(ActionFailed):
                patient.tab = await signed_in_tab(base, setup, patient.account, hashes=hashes)
                patient.tab.recorder = recorder

        return keep_working(
            patient.next_action,
            recover,
            think=think,
            stop_at=stop_at,
            rng=random.Random(index),  # noqa: S311  (think times, not security)
        )

    tasks = [worker(i, p) for i, p in enumerate(patients)]
    if burst is not None:
        start = time.monotonic() + max(0.0, (duration - burst.seconds) / 2)
        tasks.append(sign_in_burst(base, burst_accounts, hashes, burst, start))
    await asyncio.gather(*tasks)


async def sign_in_burst(
    base: str, accounts: list[Account], hashes: list[str], burst: Burst, start: float
) -> None:
    """`rate` sign-ins a second for `seconds`, each by a different account, each tab closed
    once it has landed."""
    await asyncio.sleep(max(0.0, start - time.monotonic()))
    began = time.monotonic()

    async def one(account: Account, at: float) -> None:
        await asyncio.sleep(max(0.0, at - time.monotonic()))
        with contextlib.suppress(ActionFailed):
            tab = await signed_in_tab(base, burst.recorder, account, hashes=hashes)
            await tab.close()

    count = min(len(accounts), int(burst.rate * burst.seconds))
    await asyncio.gather(*(one(accounts[k], began + k / burst.rate) for k in range(count)))
    burst.window = (began, time.monotonic())


async def bare_work(
    base: str, users: int, hashes: list[str], *, think: float, duration: float, recorder: Recorder
) -> None:
    tabs: list[Tab] = []
    for _ in range(users):
        tab = Tab(base, Recorder(), hashes=hashes)
        await tab.connect("connect", "/")
        tab.recorder = recorder
        tabs.append(tab)
    stop_at = time.monotonic() + duration

    def worker(index: int, tab: Tab) -> Awaitable[None]:
        async def increment() -> None:
            await tab.call("increment", f"{COUNTER}.increment", {}, done=changed(COUNTER, "count"))

        async def recover(failure: ActionFailed) -> None:
            if not tab.connected:
                await tab.connect("connect", "/")

        return keep_working(
            increment,
            recover,
            think=think,
            stop_at=stop_at,
            rng=random.Random(index),  # noqa: S311  (think times)
        )

    try:
        await asyncio.gather(*(worker(i, t) for i, t in enumerate(tabs)))
    finally:
        await asyncio.gather(*(t.close() for t in tabs))


async def sample_rss(server: Server, samples: list[tuple[float, int]]) -> None:
    """Every few seconds until cancelled."""
    while True:
        await asyncio.sleep(RSS_EVERY_SECONDS)
        samples.append((time.monotonic(), server.rss_bytes()))


async def full_state_bytes(base: str, signed: Tab) -> int:
    """What a signed-in tab's whole client-visible state weighs: the first frame of a hydrate
    without hashes, on the page `signed` is on, with its session."""
    tab = Tab(base, Recorder())
    tab.cookie_header = signed.cookie_header
    try:
        await tab.connect("full state", signed.path, signed.query)
    finally:
        await tab.close()
    return sum(tab.recorder.frames["full state"])


@dataclass(frozen=True)
class IdleMemory:
    clients: int
    before: int
    after: int

    @property
    def per_client(self) -> float:
        return (self.after - self.before) / self.clients if self.clients else float("nan")


async def idle_memory(
    server: Server, base: str, accounts: list[Account], hashes: list[str]
) -> IdleMemory:
    """RSS before and after a client per account signs in and rests on its landing page. The
    first few accounts warm the server up (pools, caches, lazy imports) before the first
    reading and are not counted. The tabs close afterwards; the server keeps their states
    until they expire."""
    warm, measured = accounts[:WARM_UP_CLIENTS], accounts[WARM_UP_CLIENTS:]
    warmed = await sign_in_all(base, Recorder(), warm, hashes)
    await asyncio.sleep(SETTLE_SECONDS)
    before = server.rss_bytes()
    patients = await sign_in_all(base, Recorder(), measured, hashes)
    await asyncio.sleep(SETTLE_SECONDS)
    after = server.rss_bytes()
    await asyncio.gather(*(p.tab.close() for p in [*warmed, *patients]))
    return IdleMemory(len(patients), before, after)


async def connect_cycles(
    server: Server, base: str, hashes: list[str], cycles: int, *, path: str, tabs: int = 100
) -> list[tuple[int, int]]:
    """`cycles` page loads and closes by `tabs` tabs (each keeps its tab token, as a browser
    tab does across reloads), 20 at a time. Returns (cycles done, RSS) along the way."""
    recorder = Recorder()
    trend = [(0, server.rss_bytes())]
    tokens = [Tab(base, recorder).token for _ in range(tabs)]
    gate = asyncio.Semaphore(20)
    done = 0
    step = max(1, cycles // 10)

    async def one(index: int) -> None:
        nonlocal done
        async with gate:
            tab = Tab(base, recorder, hashes=hashes)
            tab.token = tokens[index % tabs]
            with contextlib.suppress(ActionFailed):
                await tab.connect("cycle", path)
            await tab.close()
            done += 1
            if done % step == 0:
                trend.append((done, server.rss_bytes()))

    await asyncio.gather(*(one(i) for i in range(cycles)))
    await asyncio.sleep(SETTLE_SECONDS)
    trend.append((done, server.rss_bytes()))
    return trend
