"""The database: engine, key ring, the unit of work and its tenant-scoped repositories."""

from __future__ import annotations

import uuid
from functools import cache
from typing import Any, Generic, TypeVar

from sqlalchemy import Engine, create_engine, event, func, select
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.sql import Select
from sqlmodel import Session, SQLModel

from portal.backend import models
from portal.backend.audit import AuditLog
from portal.backend.config import ConfigError, Settings, settings
from portal.backend.crypto import KeyRing, LocalKeyProvider, new_data_key
from portal.backend.models.base import KEYRING
from portal.backend.security.principal import Principal, Role

Row = TypeVar("Row", bound=SQLModel)


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
    """One transaction. Rolls back unless `commit()` was called inside the `with` block."""

    def __init__(self, database: Database):
        self._database = database

    def __enter__(self) -> UnitOfWork:
        self.session = Session(self._database.engine, expire_on_commit=False)
        self.session.info[KEYRING] = self._database.keyring
        self.keyring = self._database.keyring
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
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.session.close()  # rolls back whatever was not committed

    def commit(self) -> None:
        self.session.commit()


class Database:
    def __init__(self, config: Settings):
        self.settings = config
        self.engine = make_engine(config.database_url)
        self._keyring: KeyRing | None = None

    @property
    def keyring(self) -> KeyRing:
        if self._keyring is None:
            self._keyring = load_keyring(self.engine, self.settings)
        return self._keyring

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self)


@cache
def database() -> Database:
    """The process-wide database, configured from the environment."""
    return Database(settings())


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


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


def load_keyring(engine: Engine, config: Settings) -> KeyRing:
    """The data keys stored in the database, unwrapped by the configured key provider.

    On first use (no data keys yet) the local key file is created and key version 1 is stored.
    A missing key file is never replaced while encrypted data exists.
    """
    with Session(engine) as session:
        try:
            stored = {
                key.version: key.wrapped_key
                for key in session.exec(select(models.DataKey)).scalars()
            }
        except (OperationalError, ProgrammingError):
            raise ConfigError(
                "The database has not been prepared; run `portal migrate` first."
            ) from None
        provider = LocalKeyProvider.from_file(config.key_file, create=not stored)
        if not stored:
            stored[1] = new_data_key(provider, 1)
            session.add(models.DataKey(version=1, provider=provider.name, wrapped_key=stored[1]))
            session.commit()
    keyring = KeyRing(provider, stored)
    keyring.open_all()
    return keyring
