"""Guessing in parallel must not outrun the lockout, on the production database too.

Twelve wrong passwords sent at the same moment (each from its own address, so the per-address
limit stays out of it) are twelve failures: the account locks. On PostgreSQL a read-modify-write
of the failure count loses concurrent increments (READ COMMITTED), so this runs on a throwaway
PostgreSQL database as well as on SQLite. (Found by this suite: before the fix, twelve
parallel failures counted as one on PostgreSQL and the account never locked.)
"""

from __future__ import annotations

import os
import tempfile
import threading
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from portal.backend import migrations, models
from portal.backend.config import load_settings
from portal.backend.db import Database
from portal.backend.services import sign_in
from tests.integration.factories import build_practice

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
PARALLEL = 12


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request) -> Iterator[Database]:
    data_dir = tempfile.mkdtemp(prefix="portal-lockout-race-")
    if request.param == "sqlite":
        settings = load_settings({"PORTAL_DATA_DIR": data_dir})
        migrations.upgrade(settings.database_url)
        database = Database(settings)
        yield database
        database.engine.dispose()
        return
    name = f"portal_race_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        migrations.upgrade(url)
        database = Database(load_settings({"PORTAL_DATA_DIR": data_dir, "DATABASE_URL": url}))
        yield database
        database.engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def test_parallel_wrong_passwords_all_count_and_lock_the_account(database):
    practice = build_practice(database)
    email = practice.emails["patient_b"]
    start = threading.Barrier(PARALLEL)

    def guess(n: int) -> None:
        start.wait()
        sign_in.begin_sign_in(
            email,
            f"wrong password number {n}",
            client=f"198.51.100.{n}",
            uow=database.unit_of_work(),
        )

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(PARALLEL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with database.unit_of_work() as uow:
        user = uow.session.get(models.User, practice.user_ids["patient_b"])
        assert user.locked_until is not None, f"{PARALLEL} parallel failures did not lock"
