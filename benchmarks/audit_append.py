"""Audit appends per second from concurrent writers, beside plain single-row INSERTs.

Usage: .venv/bin/python -m benchmarks.audit_append [--writers 8] [--seconds 20]

Each writer is its own process with its own connection, as several backend workers would be.
An audit append is what a service does: take a chain, read its head, insert the event with its
HMAC, commit. The plain INSERT writes a row of the same shape into a copy of the audit table
(same columns and indexes, no triggers), one row per transaction, with no chaining.
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
import uuid

from sqlalchemy import text

from benchmarks.support import postgres_database
from portal.backend.config import load_settings
from portal.backend.db import Database
from portal.backend.models.base import utcnow

PLAIN_TABLE = "CREATE TABLE plain_events (LIKE audit_events INCLUDING ALL)"
PLAIN_SEQUENCE = "CREATE SEQUENCE plain_sequence"
PLAIN_INSERT = text(
    "INSERT INTO plain_events (chain, sequence, id, occurred_at, action, outcome, resource_type,"
    " resource_id, previous_hash, hash) VALUES (0, nextval('plain_sequence'), :id, :at,"
    " 'bench.append', 'success', 'record', :rid, :hash, :hash)"
)


def writer(mode: str, url: str, data_dir: str, seconds: float, start: float, result) -> None:
    database = Database(load_settings({"PORTAL_DATA_DIR": data_dir, "DATABASE_URL": url}))
    engine = database.engine  # the same pool settings for both modes
    database.keyring  # noqa: B018  (open the keys before the clock starts)
    while time.time() < start:
        time.sleep(0.005)
    count, stop = 0, start + seconds
    while time.time() < stop:
        if mode == "plain":
            with engine.begin() as connection:
                connection.execute(
                    PLAIN_INSERT,
                    {
                        "id": uuid.uuid4(),
                        "at": utcnow(),
                        "rid": str(uuid.uuid4()),
                        "hash": "0" * 64,
                    },
                )
        else:
            with database.unit_of_work() as uow:
                uow.audit.record(
                    None, "bench.append", resource_type="record", resource_id=uuid.uuid4()
                )
                uow.commit()
        count += 1
    result.put(count)


def measure(mode: str, database: Database, writers: int, seconds: float) -> float:
    result = multiprocessing.Queue()
    start = time.time() + 3
    url = database.engine.url.render_as_string(hide_password=False)
    processes = [
        multiprocessing.Process(
            target=writer,
            args=(mode, url, str(database.settings.data_dir), seconds, start, result),
        )
        for _ in range(writers)
    ]
    for process in processes:
        process.start()
    total = sum(result.get() for _ in processes)
    for process in processes:
        process.join()
    return total / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    with postgres_database() as database:
        database.keyring  # noqa: B018  (create the keys once, before the writers start)
        with database.engine.begin() as connection:
            connection.execute(text(PLAIN_TABLE))
            connection.execute(text(PLAIN_SEQUENCE))
        plain = measure("plain", database, args.writers, args.seconds)
        audit = measure("audit", database, args.writers, args.seconds)
        print(f"PostgreSQL, {args.writers} writer processes, {args.seconds:g} s per mode")
        print(f"plain single-row INSERT: {plain:8.0f} rows/s")
        print(f"audit append (chained):  {audit:8.0f} events/s")
        print(f"ratio: {audit / plain:.0%} of the plain INSERT rate")


if __name__ == "__main__":
    main()
