"""Column types shared by every table: UUID keys, UTC instants and encrypted PHI.

PHI columns are `LargeBinary` holding a sealed value (see `portal.backend.crypto`). Services
read and write plain Python values: mapper events seal changed PHI attributes just before
INSERT/UPDATE (the row id is known then, so it is bound into the ciphertext) and open them when
a row is loaded. The column type refuses any value that was not sealed, so a bulk statement that
bypasses the ORM cannot write plaintext PHI.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import DateTime, LargeBinary, event
from sqlalchemy.orm import Mapper, attributes
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from portal.backend import clock
from portal.backend.crypto import KeyRing

KEYRING = "keyring"


def utcnow() -> datetime:
    return clock.now()


def new_id() -> uuid.UUID:
    return uuid.uuid4()


class UTCDateTime(TypeDecorator):
    """An instant stored in UTC and always returned timezone-aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware UTC instant")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Encrypted(TypeDecorator):
    """A PHI column: only sealed bytes go in; the ORM events below seal and open the values."""

    impl = LargeBinary
    cache_ok = True

    def __init__(self, kind: str = "text"):
        super().__init__()
        self.kind = kind

    def process_bind_param(self, value: Any, dialect: Any) -> bytes | None:
        if value is None or isinstance(value, bytes):
            return value
        raise TypeError("a PHI column was written without encryption")

    def encode(self, value: Any) -> bytes:
        if self.kind == "date":
            return value.isoformat().encode()
        if self.kind == "json":
            return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
        return str(value).encode()

    def decode(self, raw: bytes) -> Any:
        if self.kind == "date":
            return date.fromisoformat(raw.decode())
        if self.kind == "json":
            return json.loads(raw)
        return raw.decode()


def phi(kind: str = "text", *, required: bool = False) -> Any:
    """A field whose value is protected health information, encrypted in the database."""
    if required:
        return Field(sa_type=Encrypted(kind), nullable=False)
    return Field(default=None, sa_type=Encrypted(kind), nullable=True)


def instant(*, required: bool = True, index: bool = False) -> Any:
    """A UTC instant."""
    if required:
        return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=index)
    return Field(default=None, sa_type=UTCDateTime, nullable=True, index=index)


def _encrypted_columns(mapper: Mapper) -> list[tuple[str, Encrypted]]:
    return [
        (prop.key, prop.columns[0].type)
        for prop in mapper.column_attrs
        if isinstance(prop.columns[0].type, Encrypted)
    ]


def _keyring_of(target: Any) -> KeyRing:
    session = attributes.instance_state(target).session
    if session is None or KEYRING not in session.info:
        raise RuntimeError("PHI rows can only be written through a unit of work")
    return session.info[KEYRING]


def _seal(mapper: Mapper, target: Any, *, only_changed: bool) -> None:
    columns = _encrypted_columns(mapper)
    if not columns:
        return
    state = attributes.instance_state(target)
    keyring = _keyring_of(target)
    pending = state.info.setdefault("plaintext", {})
    for key, column_type in columns:
        value = state.dict.get(key)
        if value is None or isinstance(value, bytes):
            continue
        if only_changed and not state.attrs[key].history.has_changes():
            continue
        pending[key] = value
        sealed = keyring.seal(mapper.local_table.name, key, target.id, column_type.encode(value))
        setattr(target, key, sealed)


def _restore_plaintext(mapper: Mapper, connection: Any, target: Any) -> None:
    state = attributes.instance_state(target)
    for key, value in state.info.pop("plaintext", {}).items():
        attributes.set_committed_value(target, key, value)


def _open(target: Any, keyring: KeyRing | None) -> None:
    state = attributes.instance_state(target)
    columns = _encrypted_columns(state.mapper)
    if not columns or keyring is None:
        return
    table = state.mapper.local_table.name
    for key, column_type in columns:
        raw = state.dict.get(key)
        if isinstance(raw, bytes):
            plaintext = column_type.decode(keyring.open(table, key, target.id, raw))
            attributes.set_committed_value(target, key, plaintext)


@event.listens_for(SQLModel, "before_insert", propagate=True)
def _seal_new_row(mapper: Mapper, connection: Any, target: Any) -> None:
    _seal(mapper, target, only_changed=False)


@event.listens_for(SQLModel, "before_update", propagate=True)
def _seal_changed_row(mapper: Mapper, connection: Any, target: Any) -> None:
    _seal(mapper, target, only_changed=True)


event.listen(SQLModel, "after_insert", _restore_plaintext, propagate=True)
event.listen(SQLModel, "after_update", _restore_plaintext, propagate=True)


@event.listens_for(SQLModel, "load", propagate=True)
def _open_loaded_row(target: Any, context: Any) -> None:
    _open(target, context.session.info.get(KEYRING))


@event.listens_for(SQLModel, "refresh", propagate=True)
def _open_refreshed_row(target: Any, context: Any, attrs: Any) -> None:
    session = attributes.instance_state(target).session
    _open(target, session.info.get(KEYRING) if session is not None else None)


class Table(SQLModel):
    """Base of every table: a random UUID primary key."""

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)


class TenantTable(Table):
    """Base of every practice-owned table."""

    tenant_id: uuid.UUID = Field(foreign_key="practices.id", index=True)
