"""Reflex's Redis state manager, with a tab's lock given back when an event is cancelled.

Reflex cancels a page's unfinished load events when the tab opens another page or its socket
closes (a reload, a full navigation). Reflex 0.10.1 takes the tab's Redis lock with a `SET NX`
before it enters the block that releases it: an event cancelled while it was taking the lock
left the lock held, and every later event of that tab waited for it to expire (10 s). Clicking
on before a page had finished loading froze the next page for ten seconds.

Here the lock is taken in a task of its own that a cancellation does not interrupt; when the
event was cancelled meanwhile, the lock goes straight back once it is taken.
"""

from __future__ import annotations

import asyncio

from reflex.istate.manager.redis import StateManagerRedis

# Delete the lock only if this event still holds it.
RELEASE_IF_HELD = (
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"
)


class CancelSafeStateManagerRedis(StateManagerRedis):
    async def _wait_lock(self, lock_key: bytes, lock_id: bytes) -> None:
        taking = asyncio.ensure_future(super()._wait_lock(lock_key, lock_id))
        try:
            await asyncio.shield(taking)
        except asyncio.CancelledError:
            taking.add_done_callback(lambda taken: self._give_back(taken, lock_key, lock_id))
            raise

    def _give_back(self, taken: asyncio.Future, lock_key: bytes, lock_id: bytes) -> None:
        if taken.cancelled() or taken.exception() is not None:
            return
        release = asyncio.ensure_future(self._release(lock_key, lock_id))
        _releasing.add(release)
        release.add_done_callback(_releasing.discard)

    async def _release(self, lock_key: bytes, lock_id: bytes) -> None:
        await self.redis.eval(RELEASE_IF_HELD, 1, lock_key, lock_id)
        self._notify_next_waiter(lock_key)


# Releases in flight, kept referenced until they finish.
_releasing: set[asyncio.Future] = set()


def cancel_safe(manager):
    """The app's state manager, with Redis's replaced by the cancel-safe one (same settings)."""
    if type(manager) is not StateManagerRedis:
        return manager
    return CancelSafeStateManagerRedis(
        redis=manager.redis,
        token_expiration=manager.token_expiration,
        lock_expiration=manager.lock_expiration,
        lock_warning_threshold=manager.lock_warning_threshold,
        oplock_hold_time_ms=manager.oplock_hold_time_ms,
    )
