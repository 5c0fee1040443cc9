"""The one schema, reached by Alembic on both databases, with no drift from the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlmodel import SQLModel

from portal.backend import migrations


def test_models_and_migrations_do_not_drift(database):
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []


def test_every_table_of_the_models_exists(database):
    tables = set(inspect(database.engine).get_table_names())
    assert {table.name for table in SQLModel.metadata.sorted_tables} <= tables


def test_migrations_go_down_to_empty_and_up_again(tmp_path):
    url = f"sqlite:///{tmp_path / 'roundtrip.db'}"
    migrations.upgrade(url)
    migrations.downgrade(url, "base")
    engine = create_engine(url)
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    migrations.upgrade(url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def test_each_migration_upgrades_a_database_holding_data(tmp_path):
    """Data written at the first revision survives every later one (SQLite rebuilds tables
    that others refer to, so this catches foreign-key trouble in batch migrations)."""
    from portal.backend.config import load_settings
    from portal.backend.db import Database
    from portal.backend.keys import load_keyring

    url = f"sqlite:///{tmp_path / 'upgrade.db'}"
    migrations.upgrade(url, "0001")
    database = Database(load_settings({"PORTAL_DATA_DIR": str(tmp_path), "DATABASE_URL": url}))
    with database.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO practices (id, name, slug, time_zone, created_at) "
                "VALUES ('00000000000000000000000000000001', 'P', 'p', 'UTC', '2026-01-01')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO care_teams (id, tenant_id, name, created_at) VALUES "
                "('00000000000000000000000000000002', '00000000000000000000000000000001', 'T', "
                "'2026-01-01')"
            )
        )
    migrations.upgrade(url)
    load_keyring(database.engine, database.settings)
    with database.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM care_teams")).scalar() == 1
