"""A tab's Redis lock after one of its events is cancelled (portal/state/redis_locks.py), against
a real Redis: Reflex cancels a page's load events when the tab moves on or reconnects."""

from __future__ import annotations

import asyncio
import os
import time

import pytest
import reflex as rx
from redis.asyncio import Redis
from reflex.istate.manager.memory import StateManagerMemory
from reflex.istate.manager.redis import StateManagerRedis
from reflex.istate.manager.token import BaseStateToken

from portal.state.redis_locks import CancelSafeStateManagerRedis, cancel_safe
from tests.loop import run

# A database of its own: the served app's may be in use by a running suite.
REDIS_URL = os.environ.get("TEST_LOCKS_REDIS_URL", "redis://127.0.0.1:6379/3")
# Cancel after this many turns of the event loop: before, while and after the lock is taken.
CANCEL_POINTS = range(0, 40)


async def cancel_at_every_point(manager: StateManagerRedis, tab: str, then) -> list[tuple]:
    """Cancel one event per cancel point, each on a tab of its own; after each, what
    `then(token)` finds."""
    found = []
    for turns in CANCEL_POINTS:
        token = BaseStateToken(ident=f"{tab}-{turns}", cls=rx.State)

        async def event(token=token):
            async with manager.modify_state(token):
                await asyncio.sleep(0.05)

        running = asyncio.create_task(event())
        for _ in range(turns):
            await asyncio.sleep(0)
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
        found.append((turns, await then(token)))
    return found


async def next_event_waits(manager: StateManagerRedis) -> list[tuple]:
    async def wait_of_the_next_event(token) -> float:
        started = time.monotonic()
        async with manager.modify_state(token):
            return time.monotonic() - started

    return await cancel_at_every_point(manager, "safe", wait_of_the_next_event)


async def locks_left_held(manager: StateManagerRedis) -> int:
    async def still_locked(token) -> int:
        await asyncio.sleep(0.02)
        return await manager.redis.exists(f"{token.ident}_lock")

    return sum(held for _, held in await cancel_at_every_point(manager, "plain", still_locked))


def in_fresh_redis(check):
    async def checked():
        redis = Redis.from_url(REDIS_URL)
        await redis.flushdb()
        try:
            return await check(redis)
        finally:
            await redis.flushdb()
            await redis.aclose()

    return run(checked())


def test_a_cancelled_event_gives_the_tab_its_lock_back():
    waits = in_fresh_redis(lambda redis: next_event_waits(CancelSafeStateManagerRedis(redis=redis)))
    slow = [(turns, round(wait, 2)) for turns, wait in waits if wait > 1]
    assert not slow, f"the next event waited for a lock left by a cancelled one: {slow}"


def test_reflex_alone_still_leaves_the_lock_held():
    """Why the cancel-safe manager exists. When this fails, Reflex gives the lock back itself
    and portal/state/redis_locks.py can go."""
    left = in_fresh_redis(lambda redis: locks_left_held(StateManagerRedis(redis=redis)))
    assert left > 0


def test_the_app_gets_the_cancel_safe_manager_with_the_same_settings():
    redis = Redis.from_url(REDIS_URL)
    plain = StateManagerRedis(
        redis=redis,
        token_expiration=600,
        lock_expiration=8000,
        lock_warning_threshold=700,
        oplock_hold_time_ms=4000,
    )
    safe = cancel_safe(plain)
    assert type(safe) is CancelSafeStateManagerRedis
    assert (safe.redis, safe.token_expiration, safe.lock_expiration) == (redis, 600, 8000)
    assert (safe.lock_warning_threshold, safe.oplock_hold_time_ms) == (700, 4000)
    memory = StateManagerMemory()
    assert cancel_safe(memory) is memory
