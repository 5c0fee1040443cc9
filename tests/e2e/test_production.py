"""The production command with two workers: `portal serve --workers 2` builds the frontend
once, then two backend processes share one port, Redis (Reflex state) and PostgreSQL (data).

Which worker serves a websocket is up to the kernel; each client here is pinned to a worker by
reconnecting until the server end of its TCP connection belongs to that worker's process
(read from /proc), so "through one worker ... on the other" is checked, not assumed."""

from __future__ import annotations

import asyncio
import contextlib
import json
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
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
import redis
from sqlalchemy import create_engine, func, select, text, update
from sqlalchemy.engine import make_url

from portal.backend import migrations, models
from portal.backend.config import load_settings
from portal.backend.db import Database
from portal.backend.models.base import utcnow
from portal.backend.security.principal import Principal
from portal.backend.services import messaging
from portal.backend.services.sessions import open_session
from portal.backend.services.sign_in import normalize_email
from portal.pages.patient.messages import ThreadState
from portal.state.session import SessionState
from tests.e2e.conftest import PROJECT_ROOT, _free_port
from tests.e2e.socket import UPDATE_VARS, _connect, in_thread

pytestmark = pytest.mark.e2e

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
# Redis database 6: test_workers.py uses 7; nothing else uses 6.
REDIS_URL = os.environ.get("TEST_PRODUCTION_REDIS_URL", "redis://127.0.0.1:6379/6")
PATIENT = "michael.brown@example.com"
PROVIDER = "dr.okafor@riverside.example"
REMINDER_INTERVAL_SECONDS = 30  # portal/backend/jobs.py
SHUTDOWN_LIMIT_SECONDS = 10


@pytest.fixture(scope="module")
def production(tmp_path_factory) -> Iterator[dict]:
    """`portal serve --workers 2` on a new PostgreSQL database (demo practice loaded, and a
    reminder made due before the workers start) and an empty Redis database."""
    name = f"portal_production_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    redis.Redis.from_url(REDIS_URL).flushdb()
    data_dir = tmp_path_factory.mktemp("production")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        "DATABASE_URL": url,
        "REDIS_URL": REDIS_URL,
        "PORTAL_DATA_DIR": str(data_dir),
        "PORTAL_DEMO": "1",
        "PORTAL_PUBLIC_URL": base,
    }
    migrations.upgrade(url)
    portal = shutil.which("portal", path=os.path.dirname(sys.executable))
    subprocess.run([portal, "demo"], env={**os.environ, **env}, check=True, cwd=PROJECT_ROOT)
    database = Database(load_settings(env))
    reminded = _make_a_reminder_due(database)
    log_path = data_dir.parent / f"{data_dir.name}-server.log"
    # `portal serve` builds the frontend into the repository's .web/build, which the session's
    # portal serves from disk: keep that build aside and put it back afterwards.
    session_build = PROJECT_ROOT / ".web" / "build"
    kept_build = data_dir.parent / f"{data_dir.name}-session-build"
    if session_build.exists():
        shutil.copytree(session_build, kept_build, symlinks=True)
    started = time.monotonic()
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [portal, "serve", "--workers", "2", "--port", str(port)],
            cwd=PROJECT_ROOT,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_for(base, server, log_path)
        print(f"\n2 workers answered after {time.monotonic() - started:.1f}s")
        yield {
            "base": base,
            "port": port,
            "server": server,
            "database": database,
            "log": log_path,
            "started": started,
            "reminded": reminded,
        }
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)  # only if the shutdown test did not stop it
        server.wait(timeout=30)
        if kept_build.exists():
            shutil.rmtree(session_build, ignore_errors=True)
            shutil.copytree(kept_build, session_build, symlinks=True)
        database.engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def _wait_for(base: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the portal exited with {server.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{base}/sign-in", timeout=5) as answer:  # noqa: S310
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"the portal did not answer:\n{log.read_text()[-4000:]}")


def _make_a_reminder_due(database: Database) -> uuid.UUID:
    """A booked visit inside its 24-hour reminder window, booked well before the window."""
    with database.unit_of_work() as uow:
        appointment = uow.session.exec(
            select(models.Appointment)
            .where(models.Appointment.status == models.AppointmentStatus.BOOKED)
            .where(models.Appointment.starts_at > utcnow() + timedelta(hours=2))
            .order_by(models.Appointment.starts_at)
            .limit(1)
        ).scalar_one()
        hours = (appointment.starts_at - utcnow()).total_seconds() / 3600 + 1
        # The practice reminds a day before and also (for this test) just before the visit's
        # distance, so the nearest visit is inside exactly one window.
        uow.session.execute(
            update(models.Practice)
            .where(models.Practice.id == appointment.tenant_id)
            .values(reminder_minutes_before=f"{int(hours * 60)},60")
        )
        uow.session.execute(
            update(models.Appointment)
            .where(models.Appointment.id == appointment.id)
            .values(updated_at=utcnow() - timedelta(days=30))
        )
        uow.commit()
        return appointment.id


def _workers(server: subprocess.Popen) -> list[int]:
    """The backend worker processes: the server's children (Granian forks them)."""
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    return [int(pid) for pid in children]


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    return inodes


def _serving_worker(port: int, workers: list[int]) -> int | None:
    """The worker holding the one established connection on the server's port."""
    established = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == "01":  # ESTABLISHED
                established.add(fields[9])
    owners = [pid for pid in workers if established & _socket_inodes(pid)]
    return owners[0] if len(owners) == 1 and len(established) == 1 else None


def call_on(
    production: dict,
    worker: int,
    events: list[tuple[str, dict]],
    *,
    session_token: str,
    tab_token: str | None = None,
    path: str = "/",
    query: dict[str, str] | None = None,
) -> list[str]:
    """Like tests/e2e/socket.call_handlers, on a connection served by `worker`."""
    base, port = production["base"], production["port"]
    workers = _workers(production["server"])
    tab = tab_token or uuid.uuid4().hex

    async def session() -> list[str]:
        for _attempt in range(40):
            client = await _connect(base, tab, base)
            if _serving_worker(port, workers) == worker:
                break
            await client.disconnect()
            await asyncio.sleep(0.05)
        else:
            raise AssertionError(f"no connection landed on worker {worker}")
        received: list[str] = []
        done = asyncio.Event()

        @client.on("event", namespace="/_event")
        async def on_update(data) -> None:
            received.append(json.dumps(data, default=str))
            if isinstance(data, dict) and data.get("final", True):
                done.set()

        query_string = f"?{urlencode(query)}" if query else ""
        router = {"pathname": path, "query": query or {}, "asPath": f"{path}{query_string}"}
        cookie_var = f"{SessionState.get_full_name()}.session_token"
        for name, payload in [(UPDATE_VARS, {"vars": {cookie_var: session_token}}), *events]:
            done.clear()
            await client.emit(
                "event",
                {"name": name, "payload": payload, "router_data": router},
                namespace="/_event",
            )
            try:
                await asyncio.wait_for(done.wait(), timeout=2 if name == UPDATE_VARS else 15)
            except TimeoutError:
                if name != UPDATE_VARS:
                    received.append(f"timeout: {name}")
        await client.disconnect()
        return received

    return in_thread(session())


def _alive(pid: int) -> bool:
    """Running (an exited worker may linger as a zombie until something reaps it)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def _session(database: Database, email: str) -> tuple[str, Principal]:
    with database.unit_of_work() as uow:
        index = uow.keyring.blind_index("email", normalize_email(email))
        user = uow.users.first(select(models.User).where(models.User.email_index == index))
        signed_in = open_session(uow, user, device="Production test")
        uow.commit()
        return signed_in.token, signed_in.principal


def _unread(production: dict, worker: int, token: str) -> int:
    replies = call_on(
        production,
        worker,
        [(f"{SessionState.get_full_name()}.check_messages", {})],
        session_token=token,
    )
    counts = [int(n) for r in replies for n in re.findall(r'"unread_messages_rx_state_": (\d+)', r)]
    assert counts, replies
    return counts[-1]


def _upload(base: str, tab_token: str, handler: str) -> None:
    """An upload handler, called as the browser does (a multipart POST; any worker takes it)."""
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


def test_two_workers_serve_the_one_port(production):
    workers = _workers(production["server"])
    assert len(workers) == 2, workers
    with urllib.request.urlopen(f"{production['base']}/healthz", timeout=5) as answer:  # noqa: S310
        assert json.load(answer)["status"] == "ok"
    log = production["log"].read_text()
    assert log.count("Creating Production Build") == 1, "the frontend must be built once"


def test_a_message_sent_through_one_worker_reaches_a_provider_on_the_other(production):
    first, second = _workers(production["server"])
    database = production["database"]
    patient_token, patient = _session(database, PATIENT)
    provider_token, _ = _session(database, PROVIDER)
    thread = messaging.start_thread(
        patient, "Production test", "other", "First message", uow=database.unit_of_work()
    )
    before = _unread(production, second, provider_token)
    tab = uuid.uuid4().hex
    call_on(
        production,
        first,
        [
            (f"{ThreadState.get_full_name()}.load", {}),
            (f"{ThreadState.get_full_name()}.typed", {"value": "Sent through worker one"}),
        ],
        session_token=patient_token,
        tab_token=tab,
        path="/messages/thread",
        query={"id": thread},
    )
    _upload(production["base"], tab, f"{ThreadState.get_full_name()}.reply")
    assert _unread(production, second, provider_token) == before + 1


def test_a_due_reminder_is_queued_once_with_both_schedulers_running(production):
    # Both workers' reminder jobs run every 30 s from start-up: wait for two rounds each.
    wait = production["started"] + 2 * REMINDER_INTERVAL_SECONDS + 8 - time.monotonic()
    time.sleep(max(wait, 0))
    appointment = str(production["reminded"])
    with production["database"].unit_of_work() as uow:
        rows = uow.session.exec(
            select(models.Notification.idempotency_key, models.Notification.id).where(
                models.Notification.template_id == "appointment_reminder"
            )
        ).all()
        ours = [key for key, _ in rows if appointment in key]
        attempts = uow.session.exec(
            select(models.NotificationAttempt.notification_id, func.count())
            .group_by(models.NotificationAttempt.notification_id)
            .having(func.count() > 1)
        ).all()
    assert ours, "no reminder was queued for the due visit"
    assert len(ours) == len(set(ours)), ours
    assert len({key.rsplit(":", 1)[0] for key in ours}) == 1
    assert not attempts, f"notifications attempted more than once: {attempts}"


def test_sigterm_stops_every_worker_within_ten_seconds(production):
    server = production["server"]
    workers = _workers(server)

    async def held_open() -> float:
        client = await _connect(production["base"], uuid.uuid4().hex, production["base"])
        started = time.monotonic()
        os.kill(server.pid, signal.SIGTERM)
        while server.poll() is None and time.monotonic() - started < SHUTDOWN_LIMIT_SECONDS + 5:
            await asyncio.sleep(0.1)
        with contextlib.suppress(Exception):
            await client.disconnect()
        return time.monotonic() - started

    took = in_thread(held_open())
    print(f"\nSIGTERM with an open websocket: stopped after {took:.1f}s")
    assert server.poll() is not None and took < SHUTDOWN_LIMIT_SECONDS, took
    assert not [pid for pid in workers if _alive(pid)], "a worker survived"
    errors = [
        line
        for line in production["log"].read_text().splitlines()
        if re.search(r"Traceback|\bERROR\b", line)
    ]
    assert not errors, "\n".join(errors[:20])
