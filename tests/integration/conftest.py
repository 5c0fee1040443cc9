"""Integration fixtures: every test runs once on SQLite and once on a real PostgreSQL.

PostgreSQL comes from TEST_POSTGRES_URL (default: the local server on 127.0.0.1:5432 with the
`postgres` role, as `make test` starts it). A throwaway database is created for the session,
migrated with Alembic, and emptied between tests.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from portal.backend import migrations
from portal.backend.config import load_settings
from portal.backend.db import Database
from tests.integration.api_client import portal_api
from tests.integration.factories import Practice, build_practice

PROJECT_ROOT = Path(__file__).resolve().parents[2]
POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    name = f"portal_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def migrated_postgres(postgres_url: str) -> str:
    migrations.upgrade(postgres_url)
    return postgres_url


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """A local stand-in for S3, KMS and SES (moto's standalone server), for boto3 over HTTP."""
    from moto.server import ThreadedMotoServer

    for name, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        os.environ.setdefault(name, value)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def new_kms_key(moto_url: str) -> str:
    import boto3

    kms = boto3.client("kms", endpoint_url=moto_url, region_name="us-east-1")
    return kms.create_key(Description="portal test key")["KeyMetadata"]["KeyId"]


@pytest.fixture
def extra_settings() -> dict[str, str]:
    """Settings a test module adds to the database fixture's (override it to change them)."""
    return {}


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path: Path, extra_settings: dict[str, str]) -> Iterator[Database]:
    """A migrated, empty database with its own keys."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'portal.db'}"
        migrations.upgrade(url)
    else:
        url = request.getfixturevalue("migrated_postgres")
    settings = load_settings(
        {"PORTAL_DATA_DIR": str(tmp_path), "DATABASE_URL": url, **extra_settings}
    )
    db = Database(settings)
    yield db
    if request.param == "postgresql":
        tables = ", ".join(f'"{table.name}"' for table in SQLModel.metadata.sorted_tables)
        with db.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} CASCADE"))
    db.engine.dispose()


@pytest.fixture
def api(database: Database, monkeypatch) -> Iterator:
    """The portal's HTTP routes in process, on the test's database."""
    with portal_api(database, monkeypatch) as app:
        yield app


@pytest.fixture
def practice(database: Database) -> Practice:
    """Two patients, a provider and an admin in one practice (see `factories.PracticeFixture`)."""
    return build_practice(database)


@pytest.fixture(autouse=True)
def fresh_clock_and_settings() -> Iterator[None]:
    """Each test starts with the real time and settings read from its environment."""
    from portal.backend import clock
    from portal.backend.config import settings

    clock.reset()
    settings.cache_clear()
    yield
    clock.reset()
    settings.cache_clear()
