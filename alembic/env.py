"""Alembic environment: the portal's own engine and every SQLModel table.

The database URL comes from the caller (`portal.backend.migrations`) or, for the `alembic`
command, from DATABASE_URL. On SQLite, foreign keys are not enforced while migrating, because
batch mode rebuilds a table by copying it, and a rebuilt table that others refer to could not
be dropped otherwise; the constraints are checked once the migration is done.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

from portal.backend import models  # noqa: F401  (registers every table)
from portal.backend.config import settings
from portal.backend.db import make_engine
from portal.backend.models.base import Encrypted, UTCDateTime


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Write plain SQLAlchemy types into migrations, so they never import application code."""
    if type_ != "type":
        return False
    if isinstance(obj, Encrypted):
        return "sa.LargeBinary()"
    if isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    return False


def run_migrations() -> None:
    url = context.config.get_main_option("sqlalchemy.url") or settings().database_url
    engine = make_engine(url, enforce_foreign_keys=False)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=SQLModel.metadata,
            render_item=render_item,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
            if connection.dialect.name == "sqlite":
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")
    engine.dispose()


run_migrations()
