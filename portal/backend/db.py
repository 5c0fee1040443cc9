"""The database: engine, key ring, the unit of work and its tenant-scoped repositories.

Engines hide statement parameters in errors and logs, so a failed query never prints PHI (or
ciphertext) into a log line.
"""

from __future__ import annotations

import threading
import time
import uuid
from functools import cache, partial
from typing import Any, Generic, TypeVar

from sqlalchemy import Engine, create_engine, event, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.sql import Select
from sqlmodel import Session, SQLModel

from portal.backend import models
from portal.backend.audit import AuditLog
from portal.backend.config import ConfigError, Settings, settings
from portal.backend.crypto import KeyRing
from portal.backend.keys import load_keyring, refresh_keyring
from portal.backend.models.base import KEYRING
from portal.backend.security.principal import Principal, Role
from portal.backend.storage import FileStore, file_store

Row = TypeVar("Row", bound=SQLModel)
KEY_REFRESH_SECONDS = 60


class Repository(Generic[Row]):
    """Queries for one table, always scoped to the principal's tenant (and, for a patient, to
    their own rows), so a row that is not the caller's is never fetched at all."""

    def __init__(self, session: Session, model: type[Row]):
        self.session = session
        self.model = model

    def scoped(self, principal: Principal) -> Select:
        model: Any = self.model
        query = select(model).where(model.tenant_id == principal.tenant_id)
        if principal.role == Role.PATIENT:
            if model is models.Patient:
                query = query.where(model.id == principal.patient_id)
            elif hasattr(model, "patient_id"):
                query = query.where(model.patient_id == principal.patient_id)
        return query

    def get_for(self, principal: Principal, row_id: uuid.UUID) -> Row | None:
        model: Any = self.model
        return self.first(self.scoped(principal).where(model.id == row_id))

    def first(self, query: Select) -> Row | None:
        return self.session.exec(query.limit(1)).scalars().first()

    def all(self, query: Select) -> list[Row]:
        return list(self.session.exec(query).scalars().all())

    def count(self, query: Select) -> int:
        return self.session.exec(select(func.count()).select_from(query.subquery())).scalar_one()

    def add(self, row: Row) -> Row:
        self.session.add(row)
        return row


class UnitOfWork:
    """One transaction. Rolls back unless `commit()` was called inside the `with` block. A
    service that calls others with its own unit of work shares it: the inner `with` blocks
    neither open nor close anything."""

    def __init__(self, database: Database):
        self._database = database
        self._depth = 0

    def __enter__(self) -> UnitOfWork:
        self._depth += 1
        if self._depth > 1:
            return self
        self.session = Session(self._database.engine, expire_on_commit=False)
        self.session.info[KEYRING] = self._database.keyring
        self.keyring = self._database.keyring
        self.files = self._database.files
        self.audit = AuditLog(self.session, self.keyring)
        self.practices = Repository(self.session, models.Practice)
        self.users = Repository(self.session, models.User)
        self.sessions = Repository(self.session, models.UserSession)
        self.patients = Repository(self.session, models.Patient)
        self.providers = Repository(self.session, models.Provider)
        self.care_teams = Repository(self.session, models.CareTeam)
        self.locations = Repository(self.session, models.Location)
        self.appointment_types = Repository(self.session, models.AppointmentType)
        self.appointments = Repository(self.session, models.Appointment)
        self.conversations = Repository(self.session, models.Conversation)
        self.messages = Repository(self.session, models.Message)
        self.records = Repository(self.session, models.MedicalRecord)
        self.attachments = Repository(self.session, models.Attachment)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._depth -= 1
        if self._depth == 0:
            self.session.close()  # rolls back whatever was not committed

    def commit(self) -> None:
        self.session.commit()


class Database:
    def __init__(self, config: Settings):
        self.settings = config
        self.engine = make_engine(config.database_url)
        self._keyring: KeyRing | None = None
        self._files: FileStore | None = None
        self._keys_checked = 0.0
        self._keys_lock = threading.Lock()

    @property
    def keyring(self) -> KeyRing:
        """The key ring, loaded on first use and refreshed each minute so that a key version
        added by `portal keys rotate` in another process is used for new writes."""
        with self._keys_lock:
            now = time.monotonic()
            if self._keyring is None:
                self._keyring = load_keyring(self.engine, self.settings)
                self._keys_checked = now
            elif now - self._keys_checked > KEY_REFRESH_SECONDS:
                refresh_keyring(self.engine, self._keyring)
                self._keys_checked = now
            return self._keyring

    @property
    def files(self) -> FileStore:
        if self._files is None:
            self._files = file_store(self.settings, self.keyring)
        return self._files

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self)


@cache
def database() -> Database:
    """The process-wide database, configured from the environment."""
    return Database(settings())


def make_engine(url: str, *, enforce_foreign_keys: bool = True) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True
        )
        event.listen(engine, "connect", partial(_sqlite_pragmas, foreign_keys=enforce_foreign_keys))
        event.listen(engine, "begin", _begin_immediate)
        return engine
    engine = create_engine(
        url,
        pool_size=10,
        max_overflow=10,
        pool_recycle=1800,
        pool_reset_on_return=None,
        hide_parameters=True,
    )
    event.listen(engine, "reset", _rollback_if_unfinished)
    return engine


def _rollback_if_unfinished(connection: Any, _record: Any, reset_state: Any) -> None:
    """Roll back a pooled connection only when it comes back inside a transaction: every unit
    of work ends its own, so the usual unconditional ROLLBACK would be a wasted round trip."""
    from psycopg.pq import TransactionStatus

    if connection.info.transaction_status != TransactionStatus.IDLE:
        connection.rollback()


def _sqlite_pragmas(connection: Any, _record: Any, *, foreign_keys: bool) -> None:
    connection.isolation_level = None  # SQLAlchemy's "begin" event starts transactions instead
    cursor = connection.cursor()
    cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _begin_immediate(connection: Any) -> None:
    """Take SQLite's write lock when a transaction starts. Nearly every unit of work writes (an
    audit event at least), and reading before locking would let two writers read the same
    chain head or the same free slot."""
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def check_connection(engine: Engine) -> None:
    """Stop with one clear sentence when the database cannot be reached."""
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except OperationalError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else "no answer"
        raise ConfigError(
            f"Cannot open the database named by DATABASE_URL ({engine.url.render_as_string()}): "
            f"{reason}."
        ) from None
