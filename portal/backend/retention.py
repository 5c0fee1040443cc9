"""The retention job: deletes short-lived rows once they have stopped mattering.

What is kept how long, and why, is in docs/compliance/retention.md; the periods are settings
(`Settings.retention`). The job deletes only the kinds listed in `KINDS`. It never deletes
clinical content (records, messages, attachments, appointments, patients, accounts) and it
never touches the audit log: `audit_events` is append-only, with triggers refusing UPDATE and
DELETE, and this module issues no statement against it but the one event each run appends.

Each batch is one short transaction of at most `batch` rows, chosen by id. On PostgreSQL the
ids are claimed with `FOR UPDATE SKIP LOCKED`, so a row another transaction holds is left for
the next run instead of waiting for it; the scheduled run is also taken by one worker only (an
advisory lock; on SQLite a lock file in the data folder). A run stops after `max_batches` per
kind, records its counts as `partial`, and the next hourly check finishes the work.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Connection, and_, delete, exists, or_, select

from portal.backend import clock
from portal.backend.config import RetentionDays
from portal.backend.daily_job import DUE_AFTER, RETENTION_LOCK, one_runner, succeeded_since
from portal.backend.db import Database
from portal.backend.models import (
    AccountToken,
    Appointment,
    Notification,
    NotificationAttempt,
    ProfileChange,
    ProfileChangeStatus,
    SignInAttempt,
    SlotHold,
    UserSession,
    WaitlistEntry,
)

logger = logging.getLogger(__name__)

ACTION = "retention.run"
BATCH = 500
MAX_BATCHES = 200  # per kind and run: at most 100,000 rows of a kind a run


@dataclass(frozen=True)
class Kind:
    """One kind of row the job deletes: its table and which rows are past keeping."""

    name: str
    model: type
    expired: Callable[[datetime], ColumnElement[bool]]  # the cutoff -> the rows to delete

    def days(self, periods: RetentionDays) -> int:
        return getattr(periods, self.name)


def _waitlist_expired(cutoff: datetime) -> ColumnElement[bool]:
    """Entries whose appointment began before the cutoff, or that ended (booked, left,
    cancelled) and were made before it, and that no slot hold still refers to."""
    started = select(Appointment.id).where(Appointment.starts_at < cutoff)
    return and_(
        or_(
            WaitlistEntry.appointment_id.in_(started),
            and_(WaitlistEntry.status != "waiting", WaitlistEntry.created_at < cutoff),
        ),
        ~exists().where(SlotHold.waitlist_entry_id == WaitlistEntry.id),
    )


# Children before the rows they refer to (slot holds before waitlist entries).
KINDS = (
    Kind(
        "notifications",
        Notification,
        lambda cutoff: and_(Notification.status != "pending", Notification.created_at < cutoff),
    ),
    Kind(
        "slot_holds",
        SlotHold,
        lambda cutoff: SlotHold.expires_at < cutoff,
    ),
    Kind("waitlist_entries", WaitlistEntry, _waitlist_expired),
    Kind(
        "ended_sessions",
        UserSession,
        lambda cutoff: and_(UserSession.ended_at.is_not(None), UserSession.ended_at < cutoff),
    ),
    Kind(
        "sign_in_attempts",
        SignInAttempt,
        lambda cutoff: SignInAttempt.attempted_at < cutoff,
    ),
    Kind(
        "account_tokens",
        AccountToken,
        lambda cutoff: AccountToken.expires_at < cutoff,
    ),
    Kind(
        "profile_changes",
        ProfileChange,
        lambda cutoff: and_(
            ProfileChange.status != ProfileChangeStatus.PENDING,
            ProfileChange.decided_at.is_not(None),
            ProfileChange.decided_at < cutoff,
        ),
    ),
)
# Counted in the report beside the kinds: attempts go with their notification.
REPORTED = ("notifications", "notification_attempts", *(kind.name for kind in KINDS[1:]))


@dataclass(frozen=True)
class RetentionReport:
    deleted: dict[str, int]  # rows per kind (REPORTED order)
    batches: int  # transactions that deleted something
    complete: bool  # False when a kind hit `max_batches`: more remain for the next run

    @property
    def details(self) -> str:
        """The audit event's details: counts only, never ids or values."""
        return " ".join(f"{name}={self.deleted[name]}" for name in REPORTED)

    def __str__(self) -> str:
        state = "" if self.complete else " (more remain: the next run continues)"
        return f"Retention deleted {self.details}{state}."


def run_retention(
    db: Database,
    *,
    now: datetime | None = None,
    batch: int = BATCH,
    max_batches: int = MAX_BATCHES,
) -> RetentionReport:
    """Delete every row past its retention period, a batch per transaction, then append one
    `retention.run` audit event with the counts. Safe to run again at any time."""
    now = now or clock.now()
    days = db.settings.retention
    deleted = dict.fromkeys(REPORTED, 0)
    batches, complete = 0, True
    for kind in KINDS:
        cutoff = now - timedelta(days=kind.days(days))
        for _ in range(max_batches):
            with db.engine.begin() as connection:
                counts = _delete_batch(connection, kind, kind.expired(cutoff), batch)
            for name, count in counts.items():
                deleted[name] += count
            if counts[kind.name]:
                batches += 1
            if counts[kind.name] < batch:
                break
        else:
            complete = False
    report = RetentionReport(deleted, batches, complete)
    _record(db, "success" if complete else "partial", report.details)
    return report


def _delete_batch(
    connection: Connection, kind: Kind, condition: ColumnElement[bool], batch: int
) -> dict[str, int]:
    table = kind.model.__table__
    claim = select(table.c.id).where(condition).limit(batch)
    if connection.dialect.name == "postgresql":
        claim = claim.with_for_update(skip_locked=True, of=table)
    ids = list(connection.execute(claim).scalars())
    counts = {kind.name: len(ids)}
    if kind.model is Notification:
        counts["notification_attempts"] = (
            connection.execute(
                delete(NotificationAttempt.__table__).where(
                    NotificationAttempt.__table__.c.notification_id.in_(ids)
                )
            ).rowcount
            if ids
            else 0
        )
    if ids:
        connection.execute(delete(table).where(table.c.id.in_(ids)))
    return counts


def _record(db: Database, outcome: str, details: str | None) -> None:
    with db.unit_of_work() as uow:
        uow.audit.record(None, ACTION, outcome=outcome, resource_type="system", details=details)
        uow.commit()


# --- the scheduled run ----------------------------------------------------------------------


def run_scheduled_retention(db: Database) -> RetentionReport | None:
    """The hourly check: unless paused, one worker runs the job when no complete run was
    recorded in the last 23 hours. Returns the report, or None when it did not run."""
    if db.settings.retention_paused:
        return None
    lock_file = db.settings.data_dir / ".portal-retention.lock"
    with one_runner(db, RETENTION_LOCK, lock_file) as ours:
        if not ours or succeeded_since(db, ACTION, clock.now() - DUE_AFTER):
            return None
        try:
            return run_retention(db)
        except Exception:
            _record(db, "failure", None)
            raise


def scheduled_retention() -> None:
    """The scheduler's entry point (see jobs.py); a failure reaches the job error listener."""
    from portal.backend.db import database

    report = run_scheduled_retention(database())
    if report is not None:
        logger.info("%s", report)
