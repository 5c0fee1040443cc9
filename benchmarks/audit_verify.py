"""Time to verify the audit chain: N chained events (default 1,000,000) on PostgreSQL.

Usage: .venv/bin/python -m benchmarks.audit_verify [--events 1000000]

The events are generated with valid hashes across the parallel chains and loaded with COPY;
only `verify_chain` is timed.
"""

from __future__ import annotations

import argparse
import time
import uuid
from datetime import timedelta
from types import SimpleNamespace

from benchmarks.support import postgres_database
from portal.backend.audit import (
    CHAIN_FIELDS,
    GENESIS,
    PARALLEL_CHAINS,
    chain_hash,
    event_values,
    verify_chain,
)
from portal.backend.models.base import utcnow

COLUMNS = (*CHAIN_FIELDS, "previous_hash", "hash")


def events(count: int, key: bytes):
    heads = [(0, GENESIS)] * PARALLEL_CHAINS
    start = utcnow() - timedelta(days=365)
    actor, patient = uuid.uuid4(), uuid.uuid4()
    for index in range(count):
        chain = index % PARALLEL_CHAINS
        sequence, previous = heads[chain]
        event = SimpleNamespace(
            chain=chain,
            sequence=sequence + 1,
            id=uuid.uuid4(),
            tenant_id=None,
            occurred_at=start + timedelta(milliseconds=index),
            actor_user_id=actor,
            actor_role="provider",
            patient_id=patient,
            action="record.read",
            resource_type="record",
            resource_id=str(uuid.uuid4()),
            outcome="success",
            client_hash="c" * 32,
            request_id=uuid.uuid4().hex,
            previous_hash=previous,
        )
        event.hash = chain_hash(key, previous, event_values(event))
        heads[chain] = (event.sequence, event.hash)
        yield tuple(getattr(event, name) for name in COLUMNS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    with postgres_database() as database:
        key = database.keyring.derived_key("audit-chain")
        began = time.perf_counter()
        raw = database.engine.raw_connection()
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY audit_events ({', '.join(COLUMNS)}) FROM STDIN") as copy,
        ):
            for row in events(args.events, key):
                copy.write_row(row)
        raw.commit()
        raw.close()
        print(f"generated and loaded {args.events:,} events in {time.perf_counter() - began:.1f} s")
        began = time.perf_counter()
        report = verify_chain(database.engine, database.keyring)
        elapsed = time.perf_counter() - began
        print(report)
        print(
            f"verified {report.events:,} events in {elapsed:.1f} s "
            f"({report.events / elapsed:,.0f} events/s)"
        )


if __name__ == "__main__":
    main()
