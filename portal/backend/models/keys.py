"""Wrapped data keys, one row per key version."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from portal.backend.models.base import instant


class DataKey(SQLModel, table=True):
    __tablename__ = "data_keys"

    version: int = Field(primary_key=True)
    provider: str = Field(max_length=32)
    wrapped_key: bytes
    created_at: datetime = instant()


class ReencryptionProgress(SQLModel, table=True):
    """How far `portal keys reencrypt` has walked each table towards one key version."""

    __tablename__ = "reencryption_progress"

    table_name: str = Field(primary_key=True, max_length=64)
    key_version: int
    last_id: str | None = Field(default=None, max_length=64)
    finished: bool = False
