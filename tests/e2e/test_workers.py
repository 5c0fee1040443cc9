"""Two backend workers sharing Redis (Reflex state) and PostgreSQL (data), as in production: a
message a patient sends through one worker raises the unread badge of a provider connected to
the other, because live counts come from the database, never from a worker's memory."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator

import pytest
import redis
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from portal.backend import migrations, models
from portal.backend.config import load_settings
from portal.backend.db import Database
from portal.backend.security.principal import Principal
from portal.backend.services import messaging
from portal.backend.services.sessions import open_session
from portal.backend.services.sign_in import normalize_email
from portal.pages.patient.messages import ThreadState
from portal.state.session import SessionState
from tests.e2e.conftest import PROJECT_ROOT, _free_port
from tests.e2e.socket import call_handlers

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/7")
PATIENT = "michael.brown@example.com"
PROVIDER = "dr.okafor@riverside.example"


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> Iterator[dict]:
    """A migrated PostgreSQL database with the demo practice, an empty Redis database, and the
    settings both workers use."""
    name = f"portal_workers_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    redis.Redis.from_url(REDIS_URL).flushdb()
    data_dir = tmp_path_factory.mktemp("workers")
    env = {
        "DATABASE_URL": url,
        "REDIS_URL": REDIS_URL,
        "PORTAL_DATA_DIR": str(data_dir),
        "PORTAL_DEMO": "1",
    }
    migrations.upgrade(url)
    portal = shutil.which("portal", path=os.path.dirname(sys.executable))
    subprocess.run([portal, "demo"], env={**os.environ, **env}, check=True, cwd=PROJECT_ROOT)
    database = Database(load_settings(env))
    try:
        yield {"env": env, "database": database, "logs": data_dir}
    finally:
        database.engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def workers(shared) -> Iterator[list[str]]:
    """Two backend-only workers on their own ports (no frontend: clients speak the protocol)."""
    reflex = shutil.which("reflex", path=os.path.dirname(sys.executable))
    started = []
    for index in range(2):
        port = _free_port()
        log = (shared["logs"] / f"worker{index}.log").open("w")
        env = {
            **os.environ,
            **shared["env"],
            "REFLEX_USE_SYSTEM_BUN": "1",
            "TELEMETRY_ENABLED": "false",
            "PORTAL_PUBLIC_URL": f"http://127.0.0.1:{port}",
        }
        process = subprocess.Popen(
            [reflex, "run", "--env", "prod", "--backend-only", "--backend-port", str(port)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started.append((process, f"http://127.0.0.1:{port}", log))
    try:
        for process, base, _ in started:
            _wait_for(base, process)
        yield [base for _, base, _ in started]
    finally:
        for process, _, log in started:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
            log.close()


def _wait_for(base: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"a worker exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2):  # noqa: S310
                return
        except OSError:
            time.sleep(1)
    raise RuntimeError(f"the worker at {base} did not start")


def _session(database: Database, email: str) -> tuple[str, Principal]:
    with database.unit_of_work() as uow:
        index = uow.keyring.blind_index("email", normalize_email(email))
        user = uow.users.first(select(models.User).where(models.User.email_index == index))
        signed_in = open_session(uow, user, device="Worker test")
        uow.commit()
        return signed_in.token, signed_in.principal


def _unread_seen_by(base: str, token: str) -> int:
    replies = call_handlers(
        base, [(f"{SessionState.get_full_name()}.check_messages", {})], session_token=token
    )
    counts = [
        int(n)
        for reply in replies
        for n in re.findall(r'"unread_messages_rx_state_": (\d+)', reply)
    ]
    assert counts, replies
    return counts[-1]


def _upload(base: str, tab_token: str, handler: str) -> None:
    """Call an upload handler the way the browser does: a multipart POST naming the tab."""
    boundary = uuid.uuid4().hex
    request = urllib.request.Request(  # noqa: S310
        f"{base}/_upload",
        data=f"--{boundary}--\r\n".encode(),
        headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Reflex-Client-Token": tab_token,
            "Reflex-Event-Handler": handler,
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
        answer.read()


def test_a_message_sent_through_one_worker_raises_the_badge_on_the_other(shared, workers):
    first, second = workers
    database = shared["database"]
    patient_token, patient = _session(database, PATIENT)
    provider_token, _ = _session(database, PROVIDER)
    thread = messaging.start_thread(
        patient, "Worker test", "other", "First message", uow=database.unit_of_work()
    )
    before = _unread_seen_by(second, provider_token)

    tab = uuid.uuid4().hex
    path = "/messages/thread"
    call_handlers(
        first,
        [
            (f"{ThreadState.get_full_name()}.load", {}),
            (f"{ThreadState.get_full_name()}.typed", {"value": "Second message, via worker one"}),
        ],
        session_token=patient_token,
        tab_token=tab,
        path=path,
        query={"id": thread},
    )
    _upload(first, tab, f"{ThreadState.get_full_name()}.reply")

    with database.unit_of_work() as uow:
        bodies = [
            m.body
            for m in uow.session.exec(
                select(models.Message).where(models.Message.conversation_id == uuid.UUID(thread))
            ).scalars()
        ]
    assert "Second message, via worker one" in bodies
    assert _unread_seen_by(second, provider_token) == before + 1
    for log in shared["logs"].glob("worker*.log"):
        assert "Traceback" not in log.read_text(), log.read_text()[-3000:]
