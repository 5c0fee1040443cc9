"""Jobs that every worker checks hourly but only one runs, once a day (backups, retention):
one process at a time holds the job's lock — a PostgreSQL advisory lock, or a lock file on
SQLite's single machine — and the audit log says when the job last succeeded."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select, text

from portal.backend.db import Database
from portal.backend.models import AuditEvent

DUE_AFTER = timedelta(hours=23)
# First keys of the two-key advisory locks (the audit chains use 710_431).
BACKUP_LOCK = 710_432
RETENTION_LOCK = 710_433


@contextmanager
def one_runner(db: Database, lock_space: int, lock_file: Path) -> Iterator[bool]:
    """True for the one process that may run the job now."""
    if db.engine.dialect.name == "postgresql":
        keys = {"space": lock_space, "key": 1}
        with db.engine.connect() as connection:
            ours = connection.execute(
                text("SELECT pg_try_advisory_lock(:space, :key)"), keys
            ).scalar_one()
            connection.commit()
            try:
                yield ours
            finally:
                if ours:
                    connection.execute(text("SELECT pg_advisory_unlock(:space, :key)"), keys)
                    connection.commit()
        return
    lock_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(lock_file, "ab") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            ours = False
        else:
            ours = True
        try:
            yield ours
        finally:
            if ours:
                fcntl.flock(lock, fcntl.LOCK_UN)


def succeeded_since(db: Database, action: str, since: datetime) -> bool:
    """Whether the server (no practice) recorded `action` succeeding since `since`."""
    table = AuditEvent.__table__
    query = (
        select(table.c.sequence)
        .where(
            table.c.tenant_id.is_(None),
            table.c.occurred_at >= since,
            table.c.action == action,
            table.c.outcome == "success",
        )
        .limit(1)
    )
    with db.engine.connect() as connection:
        return connection.execute(query).first() is not None
