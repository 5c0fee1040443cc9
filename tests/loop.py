"""Running a coroutine from a synchronous test."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any


def run(coroutine: Coroutine[Any, Any, Any], timeout: float = 60) -> Any:
    """Run `coroutine` to completion on a thread of its own: a sync Playwright session earlier
    in the test run leaves an event loop on the main thread, where `asyncio.run` refuses."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result(timeout=timeout)
