"""Backups: the database (with its wrapped keys) and the local file store in one encrypted
archive (`archive.py`); restore into an empty database and file store; the daily job.

The archive key is derived from the key ring's root key (HKDF, purpose `backup-archive`, then a
random salt per archive). The root key travels only wrapped: the header carries the same wrapped
bytes as the `data_keys` table, so restoring needs the key-encryption key that wrapped them (the
local key file or the KMS key), which is never put in an archive. See docs/backups.md.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import shutil
import sqlite3

# Only to run pg_dump and pg_restore, with argument lists and no shell.
import subprocess  # nosec B404
import tempfile
import time
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import text
from sqlalchemy.engine import make_url

from portal.backend import clock
from portal.backend.archive import ArchiveReader, ArchiveRefused, ArchiveWriter
from portal.backend.audit import ChainReport, verify_chain
from portal.backend.config import ConfigError, Settings
from portal.backend.crypto import ROOT_VERSION, KeyRing, KeyUnavailable
from portal.backend.daily_job import BACKUP_LOCK, DUE_AFTER, one_runner, succeeded_since
from portal.backend.db import Database
from portal.backend.keys import key_provider
from portal.backend.migrations import alembic_config

logger = logging.getLogger(__name__)

ARCHIVE_KEY_PURPOSE = "backup-archive"
DATABASE_MEMBER = {"sqlite": "database.sqlite", "postgresql": "database.pgdump"}
FILE_MEMBER = re.compile(r"files/([0-9a-f]{2})/\1[0-9a-f]{30}")
ARCHIVE_NAME = re.compile(r"portal-backup-(\d{8}T\d{6}Z)\.pbk")
STAMP = "%Y%m%dT%H%M%SZ"
SCHEDULED_ACTION = "backup.scheduled"


class BackupError(ConfigError):
    """A backup or restore that cannot go ahead; the message is one plain sentence."""


@dataclass(frozen=True)
class BackupReport:
    path: Path
    database: str
    files: int
    size: int
    seconds: float

    def __str__(self) -> str:
        return (
            f"Wrote {self.path} ({self.size / 1_048_576:.1f} MB: the {self.database} database "
            f"and {self.files} files) in {self.seconds:.1f} s."
        )


@dataclass(frozen=True)
class RestoreReport:
    database: str
    files: int
    created_at: str
    alembic_revision: str
    behind_head: bool
    audit: ChainReport

    def __str__(self) -> str:
        text = (
            f"Restored the {self.database} database (schema {self.alembic_revision}) and "
            f"{self.files} files from the archive made {self.created_at}. {self.audit}"
        )
        if self.behind_head:
            text += " Run `portal migrate` to bring the schema up to date."
        return text


def database_kind(config: Settings) -> str:
    return "sqlite" if config.is_sqlite else "postgresql"


def create_backup(db: Database, destination: Path) -> BackupReport:
    """Write a new archive into the folder `destination` (or to that new file path)."""
    started = time.monotonic()
    config = db.settings
    kind = database_kind(config)
    pg_dump = _tool("pg_dump") if kind == "postgresql" else None
    keyring = db.keyring
    path = _new_archive_path(destination)
    header = {
        "created_at": clock.now().isoformat(timespec="seconds"),
        "database": kind,
        "alembic_revision": _alembic_revision(db),
        "storage": config.storage,
        "s3_bucket": config.s3_bucket,
        "key": {
            "provider": keyring.provider.name,
            "purpose": ARCHIVE_KEY_PURPOSE,
            "wrapped_root_key": base64.b64encode(keyring.wrapped_keys[ROOT_VERSION]).decode(),
        },
    }
    partial = path.with_name(path.name + ".partial")
    try:
        with (
            _new_file(partial) as out,
            tempfile.TemporaryDirectory(prefix=".portal-backup-", dir=path.parent) as scratch,
        ):
            writer = ArchiveWriter(out, header, keyring.derived_key(ARCHIVE_KEY_PURPOSE))
            if pg_dump is None:
                _add_sqlite(writer, config, Path(scratch))
            else:
                _add_postgres(writer, config, pg_dump)
            files = _add_files(writer, config) if config.storage == "local" else 0
            writer.finish({key: header[key] for key in header if key != "key"})
            out.flush()
            os.fsync(out.fileno())
        os.link(partial, path)  # never replaces an existing file
    except FileExistsError:
        raise BackupError(f"{path} already exists; a backup never replaces a file.") from None
    finally:
        partial.unlink(missing_ok=True)
    return BackupReport(path, kind, files, path.stat().st_size, time.monotonic() - started)


def restore_backup(archive: Path, db: Database) -> RestoreReport:
    """Restore `archive` into the configured database and file store, which must be empty.
    Everything is decrypted and checked before anything is written; then the audit chain of
    the restored database is verified."""
    config = db.settings
    kind = database_kind(config)
    _refuse_unless_empty(db)
    try:
        source = open(archive, "rb")  # noqa: SIM115 — closed below
    except OSError as error:
        raise BackupError(f"Cannot read the archive {archive}: {error.strerror}.") from None
    config.data_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".portal-restore-", dir=config.data_dir))
    try:
        with source:
            reader = ArchiveReader(source)
            header = reader.header
            behind_head = _check_compatible(header, config)
            secret = _archive_secret(header, config)
            staged: dict[str, Path] = {}
            manifest = reader.extract(secret, _stager(staging, staged, kind))
        if DATABASE_MEMBER[kind] not in staged:
            raise BackupError("The archive holds no database; nothing was restored.")
        _refuse_unless_empty(db)  # again, just before writing
        db.engine.dispose()
        if kind == "sqlite":
            _place_sqlite(staged[DATABASE_MEMBER[kind]], config)
        else:
            _pg_restore(staged[DATABASE_MEMBER[kind]], config)
        files = [name for name in staged if name.startswith("files/")]
        for name in files:
            _place(staged[name], config.files_dir / name.removeprefix("files/"))
    except ArchiveRefused as refusal:
        raise BackupError(str(refusal)) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    db.engine.dispose()
    report = verify_chain(db.engine, db.keyring)
    return RestoreReport(
        kind,
        len(files),
        str(manifest["created_at"]),
        header["alembic_revision"],
        behind_head,
        report,
    )


def run_scheduled_backup(db: Database) -> BackupReport | None:
    """The daily job: when PORTAL_BACKUP_DIR is set and no scheduled backup succeeded in the
    last 23 hours (the audit log says), one worker writes an archive and prunes old ones."""
    config = db.settings
    if config.backup_dir is None:
        return None
    lock_file = config.backup_dir / ".portal-backup.lock"
    with one_runner(db, BACKUP_LOCK, lock_file) as ours:
        if not ours or succeeded_since(db, SCHEDULED_ACTION, clock.now() - DUE_AFTER):
            return None
        try:
            report = create_backup(db, config.backup_dir)
        except Exception:
            _record(db, SCHEDULED_ACTION, outcome="failure")
            raise
        _record(db, SCHEDULED_ACTION, resource_id=report.path.name)
        prune(config.backup_dir, keep_days=config.backup_keep_days)
        return report


def scheduled_backup() -> None:
    """The scheduler's entry point (see jobs.py)."""
    from portal.backend.db import database

    try:
        report = run_scheduled_backup(database())
    except (ConfigError, OSError) as error:
        logger.error("The scheduled backup failed: %s", error)
        return
    if report is not None:
        logger.info("%s", report)


def prune(folder: Path, *, keep_days: int, now: datetime | None = None) -> list[Path]:
    """Delete archives named as this module names them that are older than `keep_days`;
    the newest archive always stays, however old. Returns what was deleted."""
    now = now or clock.now()
    archives = sorted(
        (datetime.strptime(match[1], STAMP).replace(tzinfo=now.tzinfo), path)
        for path in folder.iterdir()
        if (match := ARCHIVE_NAME.fullmatch(path.name))
    )
    removed = [path for stamp, path in archives[:-1] if stamp < now - timedelta(days=keep_days)]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


# --- writing ---------------------------------------------------------------------------------


def _new_archive_path(destination: Path) -> Path:
    if destination.suffix == ".pbk" and not destination.is_dir():
        folder, path = destination.parent, destination
    else:
        folder = destination
        path = folder / f"portal-backup-{clock.now().strftime(STAMP)}.pbk"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as error:
        raise BackupError(f"Cannot create the backup folder {folder}: {error.strerror}.") from None
    if path.exists():
        raise BackupError(f"{path} already exists; a backup never replaces a file.")
    return path


def _new_file(path: Path) -> BinaryIO:
    try:
        return open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")
    except OSError as error:
        raise BackupError(f"Cannot write {path}: {error.strerror}.") from None


def _add_sqlite(writer: ArchiveWriter, config: Settings, scratch: Path) -> None:
    """A consistent copy through SQLite's online backup API, then streamed into the archive."""
    copy = scratch / "database.sqlite"
    with (
        closing(sqlite3.connect(_sqlite_path(config))) as source,
        closing(sqlite3.connect(copy)) as target,
    ):
        source.backup(target)
    with open(copy, "rb") as handle:
        writer.add(DATABASE_MEMBER["sqlite"], "database", handle)


def _add_postgres(writer: ArchiveWriter, config: Settings, pg_dump: str) -> None:
    """pg_dump's custom format (one consistent snapshot), streamed: no plaintext dump on disk."""
    url, env = _libpq(config)
    command = [pg_dump, "--format=custom", "--no-owner", "--no-privileges", f"--dbname={url}"]
    with tempfile.TemporaryFile() as errors:
        # A fixed program found on PATH, with arguments that are not shell-interpreted.
        process = subprocess.Popen(  # noqa: S603  # nosec B603
            command, stdout=subprocess.PIPE, stderr=errors, env=env
        )
        try:
            writer.add(DATABASE_MEMBER["postgresql"], "database", process.stdout)
        finally:
            process.stdout.close()
            code = process.wait()
        if code != 0:
            raise BackupError(f"pg_dump failed: {_first_line(errors)}; no archive was written.")


def _add_files(writer: ArchiveWriter, config: Settings) -> int:
    """The local store's files exactly as stored: each is already sealed with the data keys."""
    root, count = config.files_dir, 0
    if not root.is_dir():
        return 0
    for path in sorted(root.rglob("*")):
        name = f"files/{path.relative_to(root).as_posix()}"
        if path.is_file() and FILE_MEMBER.fullmatch(name):
            with open(path, "rb") as handle:
                writer.add(name, "file", handle)
            count += 1
    return count


def _alembic_revision(db: Database) -> str:
    with db.engine.connect() as connection:
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()


# --- restoring -------------------------------------------------------------------------------


def _refuse_unless_empty(db: Database) -> None:
    config = db.settings
    if database_kind(config) == "sqlite":
        path = _sqlite_path(config)
        tables = 0
        if path.exists() and path.stat().st_size:
            with closing(sqlite3.connect(path)) as connection:
                tables = connection.execute(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                ).fetchone()[0]
    else:
        with db.engine.connect() as connection:
            tables = connection.execute(
                text(
                    "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')"
                    " AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
                    " AND n.nspname NOT LIKE 'pg_toast%'"
                )
            ).scalar_one()
    if tables:
        raise BackupError(
            "The target database is not empty (it already has tables); restore only into a new, "
            "empty database — a restore never overwrites. Nothing was changed."
        )
    if config.files_dir.is_dir() and any(p.is_file() for p in config.files_dir.rglob("*")):
        raise BackupError(
            f"The target file store {config.files_dir} already holds files; restore only into "
            "an empty one — a restore never overwrites. Nothing was changed."
        )


def _check_compatible(header: dict[str, Any], config: Settings) -> bool:
    """Refuse an archive this target cannot take; returns whether its schema is behind head."""
    kind, storage = database_kind(config), header.get("storage")
    if header.get("database") != kind:
        raise BackupError(
            f"The archive holds a {header.get('database')} database but DATABASE_URL names "
            f"{kind}; restore into the same kind (converting between SQLite and PostgreSQL is "
            "not supported)."
        )
    if storage != config.storage:
        raise BackupError(
            f"The archive was made with PORTAL_STORAGE={storage} but this portal has "
            f"PORTAL_STORAGE={config.storage}; set it to {storage} before restoring."
        )
    provider = header.get("key", {}).get("provider")
    if provider != config.key_provider:
        raise BackupError(
            f"The archive's keys are wrapped by '{provider}' but PORTAL_KEY_PROVIDER is "
            f"'{config.key_provider}'; set it to '{provider}' before restoring."
        )
    script = ScriptDirectory.from_config(alembic_config(config.database_url))
    revision = str(header.get("alembic_revision"))
    try:
        known = script.get_revision(revision) is not None
    except CommandError:
        known = False
    if not known:
        raise BackupError(
            f"The archive's schema revision {revision} is unknown to this version of the "
            "portal; restore it with the version that made it."
        )
    return revision != script.get_current_head()


def _archive_secret(header: dict[str, Any], config: Settings) -> bytes:
    if config.key_provider == "local" and not config.key_file.exists():
        raise BackupError(
            f"Put the key file that belongs with this archive at {config.key_file} first; "
            "the archive does not hold it, and nothing can be restored without it."
        )
    try:
        wrapped = base64.b64decode(header["key"]["wrapped_root_key"], validate=True)
    except (KeyError, TypeError, ValueError):
        raise BackupError("The archive's header is damaged.") from None
    try:
        return KeyRing(key_provider(config), {ROOT_VERSION: wrapped}).derived_key(
            ARCHIVE_KEY_PURPOSE
        )
    except KeyUnavailable:
        raise BackupError(
            "The configured key file or KMS key cannot open this archive's keys; use the one "
            "in use when the archive was made (after a rewrap, the retired key file)."
        ) from None


def _stager(staging: Path, staged: dict[str, Path], kind: str):
    def open_member(name: str, member_kind: str) -> BinaryIO:
        wanted = name == DATABASE_MEMBER[kind] and member_kind == "database"
        if not (wanted or (member_kind == "file" and FILE_MEMBER.fullmatch(name))):
            raise ArchiveRefused(f"The archive holds an unexpected member ({name[:80]}).")
        if name in staged:
            raise ArchiveRefused(f"The archive holds {name} twice.")
        path = staging / name
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        staged[name] = path
        return _new_file(path)

    return open_member


def _place_sqlite(staged: Path, config: Settings) -> None:
    target = _sqlite_path(config)
    for suffix in ("", "-wal", "-shm"):  # an empty database file (no tables) may be there
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    _place(staged, target)


def _place(staged: Path, target: Path) -> None:
    """Move a staged file into place; fails rather than replace a file that appeared since."""
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    moving = target.with_name(f".{target.name}.restoring")
    shutil.move(staged, moving)
    try:
        os.link(moving, target)
    finally:
        moving.unlink()


def _pg_restore(staged: Path, config: Settings) -> None:
    url, env = _libpq(config)
    command = [
        _tool("pg_restore"),
        "--exit-on-error",
        "--single-transaction",
        "--no-owner",
        "--no-privileges",
        f"--dbname={url}",
        str(staged),
    ]
    # A fixed program found on PATH, with arguments that are not shell-interpreted.
    result = subprocess.run(command, capture_output=True, env=env, check=False)  # noqa: S603  # nosec B603
    if result.returncode != 0:
        reason = result.stderr.decode(errors="replace").strip().splitlines() or ["no message"]
        raise BackupError(f"pg_restore failed ({reason[0][:300]}); nothing was restored.")


# --- shared ----------------------------------------------------------------------------------


def _sqlite_path(config: Settings) -> Path:
    return Path(make_url(config.database_url).database or "").absolute()


def _libpq(config: Settings) -> tuple[str, dict[str, str]]:
    """A libpq URL without the password (it goes in PGPASSWORD, not on the command line)."""
    url = make_url(config.database_url)
    env = dict(os.environ, PGAPPNAME="portal-backup")
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not on PATH; install the PostgreSQL client tools (the same major "
            "version as the server or newer) to back up or restore a PostgreSQL database."
        )
    return found


def _first_line(stream: Any) -> str:
    stream.seek(0)
    lines = stream.read().decode(errors="replace").strip().splitlines()
    return lines[0][:300] if lines else "no message"


def _record(db: Database, action: str, **details: Any) -> None:
    with db.unit_of_work() as uow:
        uow.audit.record(None, action, resource_type="system", **details)
        uow.commit()
