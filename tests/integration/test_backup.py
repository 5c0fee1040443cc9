"""The restore drill: the demo practice backed up and restored into a new, empty database and
data folder comes back identical (every row, raw ciphertext included, and every stored file),
readable with the same key file, with an intact audit chain. Damaged archives, non-empty
targets and missing keys are refused with one sentence, and nothing is restored."""

from __future__ import annotations

import base64
import dataclasses
import io
import shutil
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import MetaData, create_engine, select, text
from sqlalchemy.engine import make_url

from portal.backend import backup, clock
from portal.backend.archive import ArchiveReader
from portal.backend.audit import verify_chain
from portal.backend.backup import BackupError, create_backup, restore_backup
from portal.backend.config import load_settings
from portal.backend.crypto import ROOT_VERSION
from portal.backend.daily_job import BACKUP_LOCK, one_runner
from portal.backend.db import Database
from portal.backend.demo import DEMO_PATIENT_EMAIL, load_demo
from portal.backend.models import Patient
from tests.integration.conftest import POSTGRES_ADMIN_URL


@pytest.fixture
def target(database: Database, tmp_path: Path) -> Iterator[Database]:
    """A new, empty (never migrated) database of the same kind and a data folder holding only
    a copy of the source's key file."""
    database.keyring.open_all()  # creates the source's keys (and key file) on first use
    data = tmp_path / "restored"
    (data / "keys").mkdir(parents=True)
    shutil.copy(database.settings.key_file, data / "keys" / "master.key")
    if database.settings.is_sqlite:
        url, name = f"sqlite:///{data / 'portal.db'}", None
    else:
        name = f"portal_restore_{uuid.uuid4().hex[:10]}"
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(False)
    restored = Database(load_settings({"PORTAL_DATA_DIR": str(data), "DATABASE_URL": url}))
    yield restored
    restored.engine.dispose()
    if name is not None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def every_row(db: Database) -> dict[str, list[tuple]]:
    """Every table as the database has it (reflected, so PHI columns are raw ciphertext)."""
    metadata = MetaData()
    metadata.reflect(bind=db.engine)
    with db.engine.connect() as connection:
        return {
            table.name: sorted((tuple(row) for row in connection.execute(select(table))), key=repr)
            for table in metadata.sorted_tables
        }


def stored_files(db: Database) -> dict[str, bytes]:
    root = db.settings.files_dir
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def is_empty(db: Database) -> bool:
    try:
        backup._refuse_unless_empty(db)
    except BackupError:
        return False
    return not any(p.name.startswith(".portal-restore-") for p in db.settings.data_dir.iterdir())


def test_restore_drill_reproduces_every_row_and_file(database, target, tmp_path):
    load_demo(uow=database.unit_of_work())
    made = create_backup(database, tmp_path / "backups")
    assert made.files > 0 and made.path.stat().st_mode & 0o077 == 0

    report = restore_backup(made.path, target)

    source_rows, restored_rows = every_row(database), every_row(target)
    assert restored_rows == source_rows
    assert len(source_rows["patients"]) >= 40 and source_rows["audit_events"]
    assert "alembic_version" in restored_rows and "data_keys" in restored_rows
    assert stored_files(target) == stored_files(database)
    assert report.files == made.files == len(stored_files(database))
    assert report.audit.intact and not report.behind_head
    assert report.audit.events == verify_chain(database.engine, database.keyring).events
    with target.unit_of_work() as uow:  # the restored copy opens with the same key file
        patients = uow.session.exec(select(Patient)).scalars().all()
        assert DEMO_PATIENT_EMAIL in {patient.email for patient in patients}
        assert {"Garcia", "Wilson"} <= {patient.legal_last_name for patient in patients}
    attachment_key = next(iter(stored_files(target))).split("/")[-1]
    assert target.files.get(attachment_key) == database.files.get(attachment_key)


def test_the_archive_holds_no_plaintext_phi_and_no_key(database, tmp_path):
    load_demo(uow=database.unit_of_work())
    archive = create_backup(database, tmp_path / "backups").path.read_bytes()
    secrets = {
        "key file": base64.b64decode(database.settings.key_file.read_text().split()[1]),
        **{
            f"key {version}": database.keyring.provider.unwrap(wrapped, backup_context(version))
            for version, wrapped in database.keyring.wrapped_keys.items()
        },
        "backup key": database.keyring.derived_key(backup.ARCHIVE_KEY_PURPOSE),
    }
    phi = [b"Garcia", DEMO_PATIENT_EMAIL.encode(), b"Maria"]
    members = decrypted_members(database, archive)
    for place, data in {"archive": archive, **members}.items():
        assert not [marker for marker in phi if marker in data], place
        assert not [name for name, key in secrets.items() if key in data], place
    # The root key travels wrapped (as in the data_keys table), so the key file can open it.
    assert base64.b64encode(database.keyring.wrapped_keys[ROOT_VERSION]) in archive


def backup_context(version: int) -> dict[str, str]:
    from portal.backend.crypto import key_context

    return key_context(version)


def decrypted_members(database: Database, archive: bytes) -> dict[str, bytes]:
    found: dict[str, io.BytesIO] = {}

    class Sink(io.BytesIO):
        def close(self) -> None:
            pass

    def open_member(name: str, kind: str) -> io.BytesIO:
        found[name] = Sink()
        return found[name]

    secret = database.keyring.derived_key(backup.ARCHIVE_KEY_PURPOSE)
    ArchiveReader(io.BytesIO(archive)).extract(secret, open_member)
    assert any(name.startswith("database.") for name in found)
    return {name: sink.getvalue() for name, sink in found.items()}


def test_a_damaged_archive_is_refused_and_nothing_is_restored(practice, target, tmp_path):
    archive = create_backup(practice.database, tmp_path / "backups").path.read_bytes()
    middle = bytearray(archive)
    middle[len(archive) // 2] ^= 0x40
    damaged = {
        "a flipped byte in the middle": (bytes(middle), "integrity check"),
        "cut in half": (archive[: len(archive) // 2], "cut short"),
        "cut by one byte": (archive[:-1], "cut short"),
        "a byte appended": (archive + b"\n", "after its manifest"),
    }
    for what, (data, words) in damaged.items():
        path = tmp_path / "damaged.pbk"
        path.write_bytes(data)
        with pytest.raises(BackupError) as refusal:
            restore_backup(path, target)
        assert words in str(refusal.value), what
        assert "\n" not in str(refusal.value)
        assert is_empty(target), what


def test_restore_refuses_a_target_that_is_not_empty(practice, target, tmp_path):
    made = create_backup(practice.database, tmp_path / "backups")
    before = every_row(practice.database)
    with pytest.raises(BackupError, match=r"not empty .* never overwrites"):
        restore_backup(made.path, practice.database)
    assert every_row(practice.database) == before

    stray = target.settings.files_dir / "ab" / "ab12"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"already here")
    with pytest.raises(BackupError, match="already holds files"):
        restore_backup(made.path, target)
    stray.unlink()
    assert is_empty(target)


def test_restore_needs_the_key_file_of_the_archive(practice, target, tmp_path):
    made = create_backup(practice.database, tmp_path / "backups")
    key_file = target.settings.key_file
    key_file.unlink()
    with pytest.raises(BackupError, match="Put the key file"):
        restore_backup(made.path, target)
    from portal.backend.crypto import write_key_file

    write_key_file(key_file)  # a different key
    with pytest.raises(BackupError, match="cannot open this archive's keys"):
        restore_backup(made.path, target)
    assert is_empty(target)


def test_scheduled_backups_run_once_a_day_on_one_worker_and_are_pruned(database, tmp_path):
    folder = tmp_path / "scheduled"
    folder.mkdir()
    now = clock.now()
    old = folder / f"portal-backup-{(now - timedelta(days=10)).strftime(backup.STAMP)}.pbk"
    recent = folder / f"portal-backup-{(now - timedelta(days=3)).strftime(backup.STAMP)}.pbk"
    other = folder / "notes.txt"
    for path in (old, recent, other):
        path.write_bytes(b"x")
    worker = Database(dataclasses.replace(database.settings, backup_dir=folder, backup_keep_days=7))
    try:
        with one_runner(worker, BACKUP_LOCK, folder / ".portal-backup.lock") as ours:
            assert ours
            assert backup.run_scheduled_backup(worker) is None  # another worker holds the lock
        first = backup.run_scheduled_backup(worker)
        assert first is not None and first.path.parent == folder
        assert not old.exists() and recent.exists() and other.exists()
        assert backup.run_scheduled_backup(worker) is None  # done for today
        clock.travel(timedelta(hours=24))
        second = backup.run_scheduled_backup(worker)
        assert second is not None and second.path != first.path
        assert verify_chain(worker.engine, worker.keyring).intact
    finally:
        worker.engine.dispose()


def test_scheduled_backups_are_off_unless_a_folder_is_set(database):
    assert database.settings.backup_dir is None
    assert backup.run_scheduled_backup(database) is None


def test_a_postgresql_backup_without_pg_dump_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    settings = load_settings(
        {"PORTAL_DATA_DIR": str(tmp_path), "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/x"}
    )
    with pytest.raises(BackupError, match="pg_dump is not on PATH"):
        create_backup(Database(settings), tmp_path / "backups")
    assert not (tmp_path / "backups").exists()


def test_cross_kind_restore_is_refused(practice, tmp_path):
    made = create_backup(practice.database, tmp_path / "backups")
    other = "postgresql://nobody@127.0.0.1:1/x" if practice.database.settings.is_sqlite else None
    url = other or f"sqlite:///{tmp_path / 'other.db'}"
    settings = load_settings({"PORTAL_DATA_DIR": str(tmp_path / "other"), "DATABASE_URL": url})
    with made.path.open("rb") as archive, pytest.raises(BackupError, match="same kind"):
        backup._check_compatible(ArchiveReader(archive).header, settings)


def test_the_portal_command_backs_up_and_restores(tmp_path):
    from tests.integration.test_cli import assert_refused, portal

    source, restored, out = tmp_path / "source", tmp_path / "restored", tmp_path / "out"
    assert portal("migrate", data_dir=source).returncode == 0
    assert_refused(portal("backup", data_dir=source), "--to", "PORTAL_BACKUP_DIR")
    made = portal("backup", "--to", str(out), data_dir=source)
    assert made.returncode == 0 and made.stdout.startswith("Wrote "), made.stderr
    (restored / "keys").mkdir(parents=True)
    shutil.copy(source / "keys" / "master.key", restored / "keys" / "master.key")
    done = portal("restore", str(next(out.glob("*.pbk"))), data_dir=restored)
    assert done.returncode == 0, done.stderr
    assert "The audit log is intact" in done.stdout


def test_an_archive_from_a_newer_schema_is_refused(practice, tmp_path):
    made = create_backup(practice.database, tmp_path / "backups")
    with made.path.open("rb") as archive:
        header = ArchiveReader(archive).header
    header["alembic_revision"] = "9999_from_the_future"
    with pytest.raises(BackupError, match="unknown to this version"):
        backup._check_compatible(header, practice.database.settings)


def test_pruning_always_keeps_the_newest_archive(tmp_path):
    now = clock.now()
    names = [
        f"portal-backup-{(now - timedelta(days=days)).strftime(backup.STAMP)}.pbk"
        for days in (90, 60, 45)
    ]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    removed = backup.prune(tmp_path, keep_days=30)
    assert sorted(path.name for path in removed) == sorted(names[:2])
    assert [path.name for path in tmp_path.iterdir()] == [names[2]]
