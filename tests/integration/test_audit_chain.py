"""Audit events form one hash chain under a key kept outside the database; tampering with it
by any means the database allows a superuser is found and named."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from portal.backend.audit import checkpoint_is_authentic, make_checkpoint, verify_chain


def sign_ins(practice, count: int) -> None:
    """`count` audited actions, each in its own transaction, as services write them."""
    for _ in range(count):
        with practice.database.unit_of_work() as uow:
            uow.audit.record(None, "test.action", tenant_id=practice.tenant_id)
            uow.commit()


def verify(practice, checkpoint=None):
    return verify_chain(practice.database.engine, practice.database.keyring, checkpoint)


@contextmanager
def as_superuser(database):
    """A connection on which the append-only triggers do not fire, as an attacker with full
    database rights would arrange."""
    with database.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            connection.execute(text("DROP TRIGGER IF EXISTS audit_events_no_UPDATE"))
            connection.execute(text("DROP TRIGGER IF EXISTS audit_events_no_DELETE"))
        yield connection


def test_an_untouched_chain_verifies(practice):
    sign_ins(practice, 6)
    report = verify(practice)
    assert report.intact and report.events == 6


def test_the_database_refuses_to_change_or_delete_audit_events(practice):
    sign_ins(practice, 1)
    for statement in ("UPDATE audit_events SET outcome = 'x'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"), practice.database.engine.begin() as c:
            c.execute(text(statement))


def test_an_edited_event_is_named(practice):
    sign_ins(practice, 5)
    with as_superuser(practice.database) as connection:
        connection.execute(
            text("UPDATE audit_events SET outcome = 'failure' WHERE chain = 0 AND sequence = 3")
        )
    report = verify(practice)
    assert (report.sequence, report.problem) == (3, "its contents were changed")


@pytest.mark.parametrize("edit", ["'given_name'", "NULL"])
def test_details_are_part_of_the_chain(practice, edit):
    with practice.database.unit_of_work() as uow:
        uow.audit.record(None, "test.detailed", tenant_id=practice.tenant_id, details="family_name")
        uow.commit()
    sign_ins(practice, 1)
    assert verify(practice).intact
    with as_superuser(practice.database) as connection:
        connection.execute(
            text(f"UPDATE audit_events SET details = {edit} WHERE action = 'test.detailed'")
        )
    assert verify(practice).problem == "its contents were changed"


def test_a_deleted_event_is_named(practice):
    sign_ins(practice, 5)
    with as_superuser(practice.database) as connection:
        connection.execute(text("DELETE FROM audit_events WHERE chain = 0 AND sequence = 2"))
    report = verify(practice)
    assert report.sequence == 3
    assert report.problem == "events 2 to 2 are missing"


def test_renumbering_after_a_deletion_is_found_too(practice):
    sign_ins(practice, 5)
    with as_superuser(practice.database) as connection:
        connection.execute(text("DELETE FROM audit_events WHERE chain = 0 AND sequence = 2"))
        for sequence in (3, 4, 5):
            connection.execute(
                text("UPDATE audit_events SET sequence = :new WHERE chain = 0 AND sequence = :old"),
                {"new": sequence - 1, "old": sequence},
            )
    report = verify(practice)
    assert report.sequence == 2
    assert "does not follow" in report.problem


def test_an_inserted_event_is_named(practice):
    sign_ins(practice, 3)
    with as_superuser(practice.database) as connection:
        head = connection.execute(
            text("SELECT hash FROM audit_events WHERE chain = 0 AND sequence = 3")
        ).scalar_one()
        connection.execute(
            text(
                "INSERT INTO audit_events (chain, sequence, id, occurred_at, action, outcome,"
                " previous_hash, hash)"
                " VALUES (0, 4, :id, :at, 'record.read', 'success', :prev, :hash)"
            ),
            {
                "id": uuid.uuid4().hex if connection.dialect.name == "sqlite" else uuid.uuid4(),
                "at": "2026-01-01 00:00:00",
                "prev": head,
                "hash": "f" * 64,
            },
        )
    report = verify(practice)
    assert (report.sequence, report.problem) == (4, "its contents were changed")


def test_events_cut_from_the_end_are_found_with_a_signed_checkpoint(practice):
    sign_ins(practice, 4)
    checkpoint = make_checkpoint(practice.database.engine, practice.database.keyring)
    assert checkpoint["heads"]["0"]["sequence"] == 4
    assert checkpoint_is_authentic(checkpoint, practice.database.keyring)
    with as_superuser(practice.database) as connection:
        connection.execute(text("DELETE FROM audit_events WHERE chain = 0 AND sequence >= 3"))
    assert verify(practice).intact  # without the checkpoint the shorter chain looks whole
    report = verify(practice, checkpoint)
    assert report.sequence == 3
    assert "deleted since the signed checkpoint" in report.problem


def test_a_forged_checkpoint_is_not_authentic(practice):
    sign_ins(practice, 2)
    checkpoint = make_checkpoint(practice.database.engine, practice.database.keyring)
    shorter = {**checkpoint, "heads": {"0": {**checkpoint["heads"]["0"], "sequence": 1}}}
    assert not checkpoint_is_authentic(shorter, practice.database.keyring)
    assert not checkpoint_is_authentic(
        {**checkpoint, "signature": "AAAA"}, practice.database.keyring
    )


def test_concurrent_appends_extend_one_consistent_chain(practice):
    def sign_in_five_times(_: int) -> None:
        sign_ins(practice, 5)

    threads = 8 if practice.database.engine.dialect.name == "postgresql" else 4
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(sign_in_five_times, range(threads)))
    report = verify(practice)
    assert report.intact and report.events == threads * 5
    if practice.database.engine.dialect.name == "postgresql":
        with practice.database.engine.connect() as connection:
            chains = connection.execute(
                text("SELECT count(DISTINCT chain) FROM audit_events")
            ).scalar_one()
        assert chains > 1  # concurrent writers did not queue behind one chain


def test_checkpoints_are_kept_in_a_file_or_on_s3(practice, moto_url, tmp_path):
    import boto3

    from portal.backend.checkpoints import load_checkpoint, save_checkpoint
    from portal.backend.config import ConfigError, load_settings

    sign_ins(practice, 2)
    checkpoint = make_checkpoint(practice.database.engine, practice.database.keyring)
    config = load_settings({"PORTAL_AWS_ENDPOINT_URL": moto_url})
    boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1").create_bucket(
        Bucket="audit-checkpoints"
    )
    for place in (str(tmp_path / "head.json"), "s3://audit-checkpoints/2026/head.json"):
        save_checkpoint(checkpoint, place, config)
        assert load_checkpoint(place, config) == checkpoint
    with pytest.raises(ConfigError, match="never overwritten"):
        save_checkpoint(checkpoint, str(tmp_path / "head.json"), config)
