"""What `/healthz` checks: the database answers, the file store writes and reads, the scheduler
runs. Each check is time-boxed and runs in its own small thread pool, so a hung database can
neither slow the answer past its limit nor use up the threads the portal's work runs in. The
answer names checks, error types and job ids only: never data, addresses or messages.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from portal.backend import jobs
from portal.backend.db import Database
from portal.backend.storage import LocalFileStore, S3FileStore

CHECK_SECONDS = 2.0
# A job whose next run is this far in the past means the scheduler's thread is stuck.
OVERDUE = timedelta(minutes=2)
PROBE = b"portal health check (no patient data)"

_checks = ThreadPoolExecutor(max_workers=3, thread_name_prefix="healthz")
_running: dict[str, Future] = {}


def check_database(db: Database) -> dict[str, Any]:
    """`SELECT 1` on a pooled connection (outside SQLAlchemy's events, so SQLite takes no
    write lock)."""
    connection = db.engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute("SELECT 1")
        if cursor.fetchone()[0] != 1:
            raise RuntimeError("unexpected answer")
        cursor.close()
    finally:
        connection.close()
    return {}


def check_storage(db: Database) -> dict[str, Any]:
    """Local: a probe without patient data is sealed, written, read back and deleted through
    the file store. S3: HeadBucket (no object is written)."""
    store = db.files
    if isinstance(store, S3FileStore):
        store.s3.head_bucket(Bucket=store.bucket)
        return {"backend": "s3"}
    key = store.put(PROBE, "application/octet-stream")
    try:
        if store.get(key) != PROBE:
            raise RuntimeError("the probe read back differs")
    finally:
        store.delete(key)
    return {"backend": "local" if isinstance(store, LocalFileStore) else type(store).__name__}


def check_scheduler() -> dict[str, Any]:
    state = jobs.status()
    if not state["running"]:
        raise SchedulerStopped()
    limit = datetime.now(UTC) - OVERDUE
    overdue = [
        job["id"]
        for job in state["jobs"]
        if job["next_run"] and datetime.fromisoformat(job["next_run"]) < limit
    ]
    if overdue:
        raise JobsOverdue(overdue)
    return {"running": True, "jobs": state["jobs"]}


class SchedulerStopped(Exception):
    pass


class JobsOverdue(Exception):
    def __init__(self, job_ids: list[str]):
        super().__init__("overdue jobs")
        self.job_ids = job_ids


async def run_checks(
    checks: dict[str, Callable[[], dict[str, Any]]], *, timeout: float = CHECK_SECONDS
) -> tuple[bool, dict[str, Any]]:
    """Run every check at once; each answers within `timeout` or counts as failing. A check
    still running from an earlier call is awaited again rather than started twice."""
    results = await asyncio.gather(
        *(_timed(name, check, timeout) for name, check in checks.items())
    )
    report = dict(zip(checks, results, strict=True))
    healthy = all(result["status"] == "ok" for result in report.values())
    return healthy, {"status": "ok" if healthy else "failing", "checks": report}


async def _timed(name: str, check: Callable[[], dict[str, Any]], timeout: float) -> dict:
    started = time.monotonic()
    future = _running.get(name)
    if future is None or future.done():
        future = _running[name] = _checks.submit(check)
    try:
        details = await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), timeout)
    except TimeoutError:
        return {"status": "failing", "error": "timeout", "ms": _ms(started)}
    except JobsOverdue as error:
        return {"status": "failing", "error": "overdue", "jobs": error.job_ids}
    except Exception as error:
        return {"status": "failing", "error": type(error).__name__, "ms": _ms(started)}
    return {"status": "ok", **details, "ms": _ms(started)}


def _ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
