"""Key management: the key ring from the database, rotation, re-encryption, status, re-wrapping.

- `rotate` adds a data-key version; new writes use it (workers pick it up within a minute).
- `reencrypt` walks every PHI table in batches, re-sealing values of older versions. Each batch
  commits with its cursor, so an interrupted run resumes where it stopped.
- `rewrap` re-wraps the stored keys under the current key-encryption key (a new KMS key, or a
  new local key file); no PHI value changes, and derived keys (blind indexes, audit chain) stay.
"""

from __future__ import annotations

import os
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm.attributes import flag_modified
from sqlmodel import Session, SQLModel

from portal.backend import aws
from portal.backend.config import ConfigError, Settings
from portal.backend.crypto import (
    ROOT_VERSION,
    AwsKmsKeyProvider,
    KeyProvider,
    KeyRing,
    KeyUnavailable,
    LocalKeyProvider,
    key_context,
    sealed_key_version,
    write_key_file,
)
from portal.backend.models import DataKey, ReencryptionProgress
from portal.backend.models.base import KEYRING, Encrypted


def load_keyring(engine: Engine, config: Settings) -> KeyRing:
    """The stored keys, opened with the configured provider. On first use the root key and
    data key 1 are created (and, for `local`, the key file); a missing key file is never
    replaced while encrypted data exists."""
    stored = _stored_keys(engine)
    if stored and {row.provider for row in stored} != {config.key_provider}:
        raise KeyUnavailable(
            f"The database's keys are wrapped by '{stored[0].provider}' but "
            f"PORTAL_KEY_PROVIDER is '{config.key_provider}'; set it back."
        )
    provider = key_provider(config, create=not stored)
    if not stored:
        _create_first_keys(engine, provider)
        stored = _stored_keys(engine)
    keyring = KeyRing(provider, {row.version: row.wrapped_key for row in stored})
    keyring.open_all()
    return keyring


def key_provider(config: Settings, *, create: bool = False) -> KeyProvider:
    if config.key_provider == "aws-kms":
        return AwsKmsKeyProvider(config.kms_key_id, aws.client("kms", config))
    return LocalKeyProvider.from_file(config.key_file, create=create)


def refresh_keyring(engine: Engine, keyring: KeyRing) -> None:
    """Add key versions created since the ring was loaded (e.g. by another process)."""
    for row in _stored_keys(engine):
        keyring.wrapped_keys.setdefault(row.version, row.wrapped_key)


def rotate(engine: Engine, keyring: KeyRing) -> int:
    """Create the next data-key version; returns it."""
    version = keyring.current_version + 1
    _, wrapped = keyring.provider.generate(key_context(version))
    with Session(engine) as session:
        session.add(DataKey(version=version, provider=keyring.provider.name, wrapped_key=wrapped))
        session.commit()
    keyring.wrapped_keys[version] = wrapped
    return version


@dataclass(frozen=True)
class ReencryptionReport:
    rows_resealed: int
    batches: int
    finished: bool


def reencrypt(
    engine: Engine, keyring: KeyRing, *, batch_size: int = 500, max_batches: int | None = None
) -> ReencryptionReport:
    """Re-seal every PHI value under the newest key version, resumably."""
    target = keyring.current_version
    resealed = batches = 0
    for table in phi_tables():
        while True:
            if max_batches is not None and batches >= max_batches:
                return ReencryptionReport(resealed, batches, finished=False)
            with Session(engine, expire_on_commit=False) as session:
                session.info[KEYRING] = keyring
                progress = _progress(session, table.__tablename__, target)
                if progress.finished:
                    break
                count, done = _reseal_batch(session, table, progress, target, batch_size)
                session.commit()
            resealed += count
            batches += 1
            if done:
                break
    return ReencryptionReport(resealed, batches, finished=True)


def status(engine: Engine) -> dict[str, Counter]:
    """How many stored PHI values each key version holds, per table and column."""
    counts: dict[str, Counter] = {}
    with engine.connect() as connection:
        for table in phi_tables():
            columns = _phi_columns(table)
            query = select(*[table.__table__.c[name] for name in columns])
            for row in connection.execute(query.execution_options(yield_per=2000)):
                for name, value in zip(columns, row, strict=True):
                    if value is not None:
                        counts.setdefault(f"{table.__tablename__}.{name}", Counter())[
                            sealed_key_version(value)
                        ] += 1
    return counts


def rewrap(engine: Engine, keyring: KeyRing, new_provider: KeyProvider) -> int:
    """Re-wrap every stored key (root and data keys) under `new_provider`; returns how many."""
    with Session(engine) as session:
        rows = session.exec(select(DataKey)).scalars().all()
        for row in rows:
            context = key_context(row.version)
            plaintext = keyring.provider.unwrap(row.wrapped_key, context)
            row.wrapped_key = new_provider.wrap(plaintext, context)
            row.provider = new_provider.name
        session.commit()
        return len(rows)


def rewrap_local_key_file(engine: Engine, keyring: KeyRing, key_file: Path) -> Path:
    """Replace the local master key: the new file is written first, the keys are re-wrapped,
    then the new file takes the old one's place; the old file is kept beside it, renamed."""
    new_file = key_file.with_name(key_file.name + ".new")
    provider = LocalKeyProvider(write_key_file(new_file))
    rewrap(engine, keyring, provider)
    retired = key_file.with_name(f"{key_file.name}.retired-{uuid.uuid4().hex[:8]}")
    os.replace(key_file, retired)
    os.replace(new_file, key_file)
    return retired


def phi_tables() -> list[type[SQLModel]]:
    tables = [
        mapper.class_
        for mapper in SQLModel._sa_registry.mappers
        if any(isinstance(column.type, Encrypted) for column in mapper.local_table.columns)
    ]
    return sorted(tables, key=lambda table: table.__tablename__)


def _phi_columns(table: type[SQLModel]) -> list[str]:
    return [column.name for column in table.__table__.columns if isinstance(column.type, Encrypted)]


def _reseal_batch(
    session: Session,
    table: type[SQLModel],
    progress: ReencryptionProgress,
    target: int,
    batch_size: int,
) -> tuple[int, bool]:
    columns = _phi_columns(table)
    id_column = table.__table__.c.id
    query = select(id_column, *[table.__table__.c[name] for name in columns]).order_by(id_column)
    if progress.last_id is not None:
        query = query.where(id_column > uuid.UUID(progress.last_id))
    rows = session.execute(query.limit(batch_size)).all()
    stale = {
        row[0]: [
            name
            for name, value in zip(columns, row[1:], strict=True)
            if value is not None and sealed_key_version(value) != target
        ]
        for row in rows
    }
    stale = {row_id: names for row_id, names in stale.items() if names}
    for row_id, names in stale.items():
        entity = session.get(table, row_id)
        for name in names:
            flag_modified(entity, name)
    if rows:
        progress.last_id = str(rows[-1][0])
    progress.finished = len(rows) < batch_size
    session.flush()
    return len(stale), progress.finished


def _progress(session: Session, table_name: str, target: int) -> ReencryptionProgress:
    progress = session.get(ReencryptionProgress, table_name)
    if progress is None:
        progress = ReencryptionProgress(table_name=table_name, key_version=target)
        session.add(progress)
    elif progress.key_version != target:
        progress.key_version, progress.last_id, progress.finished = target, None, False
    return progress


def _stored_keys(engine: Engine) -> list[DataKey]:
    try:
        with Session(engine) as session:
            return list(session.exec(select(DataKey).order_by(DataKey.version)).scalars())
    except (OperationalError, ProgrammingError):
        raise ConfigError(
            "The database has not been prepared; run `portal migrate` first."
        ) from None


def _create_first_keys(engine: Engine, provider: KeyProvider) -> None:
    rows = [
        DataKey(
            version=version,
            provider=provider.name,
            wrapped_key=provider.generate(key_context(version))[1],
        )
        for version in (ROOT_VERSION, 1)
    ]
    try:
        with Session(engine) as session:
            session.add_all(rows)
            session.commit()
    except IntegrityError:
        pass  # another process created them first; the caller reloads what is stored
