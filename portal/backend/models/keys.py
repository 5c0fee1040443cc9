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
