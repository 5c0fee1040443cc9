"""The retention job deletes each kind of short-lived row once it is past its period, keeps
younger ones, never touches the audit log, works in bounded batches, and can run again."""

from __future__ import annotations

import fcntl
import re
import secrets
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select, text

from portal.backend import clock, models
from portal.backend.audit import verify_chain
from portal.backend.config import load_settings
from portal.backend.daily_job import RETENTION_LOCK
from portal.backend.db import Database
from portal.backend.models.base import utcnow
from portal.backend.retention import (
    ACTION,
    REPORTED,
    run_retention,
    run_scheduled_retention,
)

DAY = timedelta(days=1)

LOCK = {"space": RETENTION_LOCK, "key": 1}


# --- building rows of every kind, old and young ----------------------------------------------


def add(practice, *rows) -> None:
    with practice.database.unit_of_work() as uow:
        for row in rows:
            uow.session.add(row)
            uow.session.flush()
        uow.commit()


def appointment(practice, starts) -> uuid.UUID:
    row = models.Appointment(
        tenant_id=practice.tenant_id,
        patient_id=practice.patient_a.id,
        provider_id=practice.provider.id,
        appointment_type_id=practice.appointment_type_id,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=30),
        blocked_from=starts,
        blocked_until=starts + timedelta(minutes=30),
    )
    add(practice, row)
    return row.id


def session(practice, ended_days_ago: float | None) -> models.UserSession:
    now = utcnow()
    ended = None if ended_days_ago is None else now - ended_days_ago * DAY
    return models.UserSession(
        tenant_id=practice.tenant_id,
        user_id=practice.user_ids["patient_a"],
        token_hash=secrets.token_hex(32),
        created_at=now - 400 * DAY,
        last_seen_at=ended or now,
        expires_at=(ended or now) + timedelta(hours=1),
        ended_at=ended,
        end_reason=None if ended is None else "signed_out",
    )


def attempt(days_ago: float) -> models.SignInAttempt:
    return models.SignInAttempt(
        client_hash="c" * 64, succeeded=False, attempted_at=utcnow() - days_ago * DAY
    )


def token(practice, expired_days_ago: float) -> models.AccountToken:
    expires = utcnow() - expired_days_ago * DAY
    return models.AccountToken(
        tenant_id=practice.tenant_id,
        user_id=practice.user_ids["patient_b"],
        purpose=models.TokenPurpose.PASSWORD_RESET,
        token_hash=secrets.token_hex(32),
        created_at=expires - timedelta(minutes=30),
        expires_at=expires,
    )


def notification(practice, days_ago: float, status: str = "sent") -> models.Notification:
    created = utcnow() - days_ago * DAY
    return models.Notification(
        tenant_id=practice.tenant_id,
        user_id=practice.user_ids["patient_a"],
        recipient=practice.emails["patient_a"],
        category="messages",
        channel="email",
        template_id="new_message",
        parameters={"practice": "Test Practice"},
        idempotency_key=f"test:{uuid.uuid4()}",
        status=status,
        due_at=created,
        sent_at=created if status == "sent" else None,
        created_at=created,
    )


def notification_attempt(practice, notification_id) -> models.NotificationAttempt:
    return models.NotificationAttempt(
        tenant_id=practice.tenant_id, notification_id=notification_id, outcome="sent"
    )


def hold(practice, expired_days_ago: float, *, entry=None, hour: int = 0) -> models.SlotHold:
    expires = utcnow() - expired_days_ago * DAY
    starts = expires + timedelta(days=2, hours=hour)
    return models.SlotHold(
        tenant_id=practice.tenant_id,
        patient_id=practice.patient_a.id,
        provider_id=practice.provider.id,
        appointment_type_id=practice.appointment_type_id,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=30),
        blocked_from=starts,
        blocked_until=starts + timedelta(minutes=30),
        expires_at=expires,
        waitlist_entry_id=entry,
        outcome="expired",
        created_at=expires - timedelta(minutes=5),
    )


def entry(practice, appointment_id, *, status: str, days_ago: float) -> models.WaitlistEntry:
    return models.WaitlistEntry(
        tenant_id=practice.tenant_id,
        patient_id=practice.patient_a.id,
        appointment_id=appointment_id,
        status=status,
        created_at=utcnow() - days_ago * DAY,
    )


def change(practice, *, status: str, decided_days_ago: float | None) -> models.ProfileChange:
    decided = None if decided_days_ago is None else utcnow() - decided_days_ago * DAY
    return models.ProfileChange(
        tenant_id=practice.tenant_id,
        patient_id=practice.patient_a.id,
        requested_values={"legal_last_name": "Newname"},
        status=status,
        submitted_at=(decided or utcnow()) - 3 * DAY,
        decided_at=decided,
        decline_reason="No document" if status == "declined" else None,
    )


def old_audit_event(practice, years: int = 7) -> None:
    """An event recorded through the normal path while the clock said `years` ago, so it is
    old *and* correctly chained."""
    clock.travel(-timedelta(days=365 * years + 2))
    try:
        with practice.database.unit_of_work() as uow:
            uow.audit.record(None, "test.ancient", tenant_id=practice.tenant_id)
            uow.commit()
    finally:
        clock.reset()


@pytest.fixture
def rows(practice) -> dict[str, dict[str, list[uuid.UUID]]]:
    """For each kind, the ids of rows that must go ("old") and that must stay ("young")."""
    now = utcnow()
    kept: dict[str, dict[str, list]] = {}

    def note(kind: str, old: list, young: list) -> None:
        kept[kind] = {"old": [row.id for row in old], "young": [row.id for row in young]}

    old, young = [session(practice, 91)], [session(practice, 89), session(practice, None)]
    add(practice, *old, *young)
    note("ended_sessions", old, young)

    old, young = [attempt(31), attempt(45)], [attempt(29)]
    add(practice, *old, *young)
    note("sign_in_attempts", old, young)

    old, young = [token(practice, 31)], [token(practice, 29), token(practice, -1)]
    add(practice, *old, *young)
    note("account_tokens", old, young)

    old = [notification(practice, 181), notification(practice, 400, "failed")]
    young = [notification(practice, 179), notification(practice, 400, "pending")]
    add(practice, *old, *young)
    note("notifications", old, young)
    old_attempts = [notification_attempt(practice, old[0].id) for _ in range(2)]
    young_attempts = [notification_attempt(practice, young[0].id)]
    add(practice, *old_attempts, *young_attempts)
    note("notification_attempts", old_attempts, young_attempts)

    # Waitlist entries: one whose appointment is long past, one that ended long ago, one that
    # ended long ago but a recent offer (slot hold) still refers to it, and a live one.
    long_past = appointment(practice, now - 200 * DAY)
    ended = appointment(practice, now + 10 * DAY)
    offered = appointment(practice, now + 11 * DAY)
    past_entry = entry(practice, long_past, status="waiting", days_ago=210)
    ended_entry = entry(practice, ended, status="left", days_ago=121)
    offered_entry = entry(practice, offered, status="booked", days_ago=121)
    live_entry = entry(practice, practice.appointment_a, status="waiting", days_ago=200)
    add(practice, past_entry, ended_entry, offered_entry, live_entry)
    note("waitlist_entries", [past_entry, ended_entry], [offered_entry, live_entry])

    old = [hold(practice, 121, hour=0), hold(practice, 300, entry=ended_entry.id, hour=1)]
    young = [hold(practice, 119, hour=2), hold(practice, 10, entry=offered_entry.id, hour=3)]
    add(practice, *old, *young)
    note("slot_holds", old, young)

    old = [
        change(practice, status="declined", decided_days_ago=2193),
        change(practice, status="applied", decided_days_ago=2500),
    ]
    young = [
        change(practice, status="declined", decided_days_ago=2191),
        change(practice, status="pending", decided_days_ago=None),
    ]
    add(practice, *old, *young)
    note("profile_changes", old, young)

    old_audit_event(practice)
    return kept


MODELS = {
    "ended_sessions": models.UserSession,
    "sign_in_attempts": models.SignInAttempt,
    "account_tokens": models.AccountToken,
    "notifications": models.Notification,
    "notification_attempts": models.NotificationAttempt,
    "slot_holds": models.SlotHold,
    "waitlist_entries": models.WaitlistEntry,
    "profile_changes": models.ProfileChange,
}


def present(database: Database, kind: str, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    table = MODELS[kind].__table__
    with database.engine.connect() as connection:
        return set(connection.execute(select(table.c.id).where(table.c.id.in_(ids))).scalars())


def audit_rows(database: Database) -> list[tuple]:
    with database.engine.connect() as connection:
        return connection.execute(
            text("SELECT chain, sequence, hash FROM audit_events ORDER BY chain, sequence")
        ).all()


def retention_events(database: Database) -> list[tuple[str, str | None]]:
    with database.engine.connect() as connection:
        return connection.execute(
            text(
                "SELECT outcome, details FROM audit_events WHERE action = :action "
                "ORDER BY occurred_at"
            ),
            {"action": ACTION},
        ).all()


@contextmanager
def statements(database: Database) -> Iterator[list[str]]:
    """Every SQL statement sent on the database's engine while inside the block."""
    seen: list[str] = []

    def listen(_conn, _cursor, statement, _parameters, _context, _many) -> None:
        seen.append(statement)

    event.listen(database.engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(database.engine, "before_cursor_execute", listen)


# --- the behaviour ---------------------------------------------------------------------------


def test_old_rows_of_every_kind_go_and_young_ones_stay(practice, rows):
    report = run_retention(practice.database)
    for kind, ids in rows.items():
        assert present(practice.database, kind, ids["old"]) == set(), kind
        assert present(practice.database, kind, ids["young"]) == set(ids["young"]), kind
    assert report.complete
    assert report.deleted == {kind: len(rows[kind]["old"]) for kind in REPORTED}


def row_counts(database: Database, *tables: type) -> dict[str, int]:
    with database.engine.connect() as connection:
        return {
            table.__tablename__: connection.execute(
                select(func.count()).select_from(table.__table__)
            ).scalar_one()
            for table in tables
        }


def test_clinical_rows_and_accounts_are_never_deleted(practice, rows):
    kept = (
        models.Patient,
        models.User,
        models.Appointment,
        models.Conversation,
        models.Message,
        models.Attachment,
        models.MedicalRecord,
        models.NotificationPreference,
    )
    before = row_counts(practice.database, *kept)
    clock.travel(timedelta(days=365 * 20))  # everything is decades old now
    run_retention(practice.database)
    assert row_counts(practice.database, *kept) == before


def test_audit_events_are_never_touched_whatever_their_age(practice, rows):
    with practice.database.engine.connect() as connection:
        ancient = connection.execute(
            select(models.AuditEvent.occurred_at).where(models.AuditEvent.action == "test.ancient")
        ).scalar_one()
    assert ancient.year <= utcnow().year - 7  # older than the six years HIPAA asks for
    before = audit_rows(practice.database)
    with statements(practice.database) as seen:
        run_retention(practice.database)
        clock.travel(timedelta(days=365 * 30))  # every event is now decades old
        run_retention(practice.database)
    touching = [s for s in seen if re.search(r"(DELETE\s+FROM|UPDATE)\s+\"?audit_events", s, re.I)]
    assert touching == []
    after = audit_rows(practice.database)
    assert set(before) <= set(after)
    assert len(after) == len(before) + 2  # exactly one retention event per run
    report = verify_chain(practice.database.engine, practice.database.keyring)
    assert report.intact and report.events == len(after)


def test_audit_events_stay_even_where_the_database_would_allow_deleting_them(practice, rows):
    """Without the append-only triggers (as a superuser could arrange), the job still leaves
    every audit event: it never tries."""
    if practice.database.engine.dialect.name != "sqlite":
        pytest.skip("the triggers are dropped on SQLite; PostgreSQL is covered by the SQL spy")
    with practice.database.engine.begin() as connection:
        connection.execute(text("DROP TRIGGER IF EXISTS audit_events_no_UPDATE"))
        connection.execute(text("DROP TRIGGER IF EXISTS audit_events_no_DELETE"))
    before = audit_rows(practice.database)
    clock.travel(timedelta(days=365 * 30))
    run_retention(practice.database)
    assert set(before) <= set(audit_rows(practice.database))
    assert verify_chain(practice.database.engine, practice.database.keyring).intact


def test_each_run_records_one_audit_event_with_counts_only(practice, rows):
    report = run_retention(practice.database)
    [(outcome, details)] = retention_events(practice.database)
    assert outcome == "success"
    assert details == report.details
    assert re.fullmatch(r"(\w+=\d+)( \w+=\d+)*", details)
    assert "sign_in_attempts=2" in details and "notification_attempts=2" in details
    for secret in (practice.emails["patient_a"], "Newname", "No document", "ZZCANARY"):
        assert secret.lower() not in details.lower()


def test_a_second_run_changes_nothing(practice, rows):
    run_retention(practice.database)
    survivors = {kind: present(practice.database, kind, ids["young"]) for kind, ids in rows.items()}
    again = run_retention(practice.database)
    assert set(again.deleted.values()) == {0}
    assert again.batches == 0
    assert {k: present(practice.database, k, ids["young"]) for k, ids in rows.items()} == survivors
    assert [outcome for outcome, _ in retention_events(practice.database)] == ["success"] * 2


def test_batches_are_bounded_and_a_capped_run_is_finished_by_the_next(practice):
    add(practice, *(attempt(40 + n) for n in range(7)))
    with statements(practice.database) as seen:
        first = run_retention(practice.database, batch=3, max_batches=2)
    deletes = [s for s in seen if re.match(r"\s*DELETE FROM sign_in_attempts", s, re.I)]
    assert len(deletes) == 2  # two transactions of three rows, then the cap
    assert first.deleted["sign_in_attempts"] == 6 and not first.complete
    second = run_retention(practice.database, batch=3, max_batches=2)
    assert second.deleted["sign_in_attempts"] == 1 and second.complete
    assert [o for o, _ in retention_events(practice.database)] == ["partial", "success"]
    with practice.database.engine.connect() as connection:
        left = connection.execute(select(func.count()).select_from(models.SignInAttempt)).scalar()
    assert left == 0


def test_the_scheduled_run_happens_once_a_day_and_can_be_paused(practice, rows, tmp_path):
    assert run_scheduled_retention(practice.database) is not None
    assert run_scheduled_retention(practice.database) is None  # done in the last 23 hours
    clock.travel(timedelta(hours=23, minutes=1))
    assert run_scheduled_retention(practice.database) is not None
    clock.travel(timedelta(days=2))
    paused = Database(
        load_settings(
            {
                "PORTAL_DATA_DIR": str(practice.database.settings.data_dir),
                "DATABASE_URL": practice.database.settings.database_url,
                "PORTAL_RETENTION_PAUSED": "1",
            }
        )
    )
    try:
        assert run_scheduled_retention(paused) is None
    finally:
        paused.engine.dispose()
    assert len(retention_events(practice.database)) == 2


def test_the_periods_come_from_the_settings(practice, tmp_path):
    add(practice, attempt(5), attempt(2))
    shorter = Database(
        load_settings(
            {
                "PORTAL_DATA_DIR": str(practice.database.settings.data_dir),
                "DATABASE_URL": practice.database.settings.database_url,
                "PORTAL_RETAIN_SIGN_IN_ATTEMPTS_DAYS": "3",
            }
        )
    )
    try:
        assert run_retention(shorter).deleted["sign_in_attempts"] == 1
    finally:
        shorter.engine.dispose()


def test_only_one_worker_runs_the_scheduled_job(practice, rows):
    """A second worker finds the lock taken (PostgreSQL: an advisory lock; SQLite: a lock
    file in the data folder) and does nothing."""
    with other_worker_holding_the_lock(practice.database):
        assert run_scheduled_retention(practice.database) is None
    assert retention_events(practice.database) == []
    assert run_scheduled_retention(practice.database) is not None


@contextmanager
def other_worker_holding_the_lock(database: Database) -> Iterator[None]:
    if database.engine.dialect.name == "postgresql":
        with database.engine.connect() as other_worker:
            other_worker.execute(text("SELECT pg_advisory_lock(:space, :key)"), LOCK)
            try:
                yield
            finally:
                other_worker.execute(text("SELECT pg_advisory_unlock(:space, :key)"), LOCK)
        return
    with open(database.settings.data_dir / ".portal-retention.lock", "ab") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def test_a_row_another_transaction_holds_is_skipped_not_waited_for(practice, rows):
    """PostgreSQL: rows are claimed with FOR UPDATE SKIP LOCKED, so a locked row is left for
    the next run and the job never blocks behind a user's transaction."""
    if practice.database.engine.dialect.name != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite has one writer")
    [locked, *_] = rows["sign_in_attempts"]["old"]
    with practice.database.engine.connect() as holder:
        holder.execute(
            text("SELECT id FROM sign_in_attempts WHERE id = :id FOR UPDATE"), {"id": locked}
        )
        try:
            with ThreadPoolExecutor(1) as pool:
                report = pool.submit(run_retention, practice.database).result(timeout=60)
        finally:
            holder.rollback()
    assert report.deleted["sign_in_attempts"] == 1
    assert present(practice.database, "sign_in_attempts", [locked]) == {locked}
    assert run_retention(practice.database).deleted["sign_in_attempts"] == 1
