"""The production command with two workers: `portal serve --workers 2 --no-build` serves the
frontend the session's portal built (no second build), and two backend processes share one
port, Redis (Reflex state) and PostgreSQL (data). Live counts and sessions come from the
database, never from a worker's memory, so what happens through one worker holds on the other.

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

from portal.backend import migrations, models
from portal.backend.api import session_cookie
from portal.backend.audit import verify_chain
from portal.backend.config import load_settings
from portal.backend.db import Database
from portal.backend.models.base import utcnow
from portal.backend.security.principal import Principal
from portal.backend.services import messaging
from portal.backend.services.sessions import open_session
from portal.backend.services.sign_in import normalize_email
from portal.pages.patient.home import PatientHomeState
from portal.pages.patient.messages import ThreadState
from portal.state.session import SessionState
from tests.e2e.conftest import PROJECT_ROOT, _free_port
from tests.e2e.socket import Tab, in_thread
from tests.e2e.worker_processes import alive, serving_worker, worker_pids

pytestmark = pytest.mark.e2e

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
# Redis database 6: the session's portal uses 5; nothing else uses 6.
REDIS_URL = os.environ.get("TEST_PRODUCTION_REDIS_URL", "redis://127.0.0.1:6379/6")
PATIENT = "michael.brown@example.com"
PATIENT_FIRST_NAME = "Michael"
NEIGHBOUR = "emily.thompson@example.com"  # another patient, on the other worker at the time
NEIGHBOUR_FIRST_NAME = "Emily"
PROVIDER = "dr.okafor@riverside.example"
FIRST_RUNS_SECONDS = 5  # after the first answer, both schedulers' first reminder runs are done
SHUTDOWN_LIMIT_SECONDS = 10
SESSION = SessionState.get_full_name()
ENTER_AS_PATIENT = (f"{SESSION}.enter", {"role": "patient", "screen": ""})
PATIENT_HOME = (f"{PatientHomeState.get_full_name()}.load", {})


@pytest.fixture(scope="module")
def production(portal_url, tmp_path_factory) -> Iterator[dict]:
    """`portal serve --workers 2 --no-build` on a new PostgreSQL database (demo practice loaded,
    and a reminder made due before the workers start) and an empty Redis database. It serves
    the build the session's portal made, so its public address is that portal's (as behind a
    load balancer, the workers' own port is not the public one)."""
    name = f"portal_production_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    redis.Redis.from_url(REDIS_URL).flushdb()
    data_dir = tmp_path_factory.mktemp("production")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": REDIS_URL,
        "PORTAL_DATA_DIR": str(data_dir),
        "PORTAL_DEMO": "1",
        "PORTAL_PUBLIC_URL": portal_url,
    }
    migrations.upgrade(url)
    portal = shutil.which("portal", path=os.path.dirname(sys.executable))
    subprocess.run([portal, "demo"], env=env, check=True, cwd=PROJECT_ROOT)
    database = Database(load_settings(env))
    reminded = _make_a_reminder_due(database)
    log_path = data_dir.parent / f"{data_dir.name}-server.log"
    started = time.monotonic()
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [portal, "serve", "--workers", "2", "--no-build", "--port", str(port)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_for(base, server, log_path)
        print(f"\n2 workers answered after {time.monotonic() - started:.1f}s")
        yield {
            "base": base,
            "origin": portal_url,
            "port": port,
            "server": server,
            "database": database,
            "log": log_path,
            "answered": time.monotonic(),
            "reminded": reminded,
        }
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)  # only if the shutdown test did not stop it
        server.wait(timeout=30)
        database.engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def _wait_for(base: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 300
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
    """A booked visit inside its reminder window, booked well before the window."""
    with database.unit_of_work() as uow:
        appointment = uow.session.exec(
            select(models.Appointment)
            .where(models.Appointment.status == models.AppointmentStatus.BOOKED)
            .where(models.Appointment.starts_at > utcnow() + timedelta(hours=2))
            .order_by(models.Appointment.starts_at)
            .limit(1)
        ).scalar_one()
        hours = (appointment.starts_at - utcnow()).total_seconds() / 3600 + 1
        # The practice reminds just before the visit's distance and an hour before, so the
        # nearest visit is inside exactly one window.
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


async def _tab_on(
    production: dict, worker: int, tab_token: str, session_token: str, router: dict
) -> tuple[Tab, list[str]]:
    """The tab `tab_token`, holding the session cookie, connected to `worker`, and what its
    hydration brought (a browser's tab hydrates when it connects: the whole state, then the
    page's on_load handlers)."""
    workers = worker_pids(production["server"])
    for _attempt in range(40):
        tab = await Tab.open(
            production["base"], tab_token, production["origin"], session_token=session_token
        )
        if serving_worker(production["port"], workers) == worker:
            hydrated = await tab.hydrate(router)
            if not tab.renamed:
                return tab, hydrated
        await tab.close()
        # The server has not forgotten the tab's last connection yet: had it not, this one
        # would be given a new tab token (and none of the tab's state).
        await asyncio.sleep(0.2)
    raise AssertionError(f"no connection to worker {worker} kept the tab's token")


def call_on(
    production: dict,
    worker: int,
    events: list[tuple[str, dict]],
    *,
    session_token: str,
    tab_token: str | None = None,
    path: str = "/",
    query: dict[str, str] | None = None,
) -> list[list[str]]:
    """On one connection served by `worker`: the updates of the tab's hydration, then those
    of each event, sent one by one."""
    query_string = f"?{urlencode(query)}" if query else ""
    router = {"pathname": path, "query": query or {}, "asPath": f"{path}{query_string}"}

    async def session() -> list[list[str]]:
        tab, hydrated = await _tab_on(
            production, worker, tab_token or uuid.uuid4().hex, session_token, router
        )
        try:
            return [
                hydrated,
                *[await tab.handle(name, payload, router) for name, payload in events],
            ]
        finally:
            await tab.close()

    return in_thread(session())


def _session(database: Database, email: str) -> tuple[str, Principal]:
    with database.unit_of_work() as uow:
        index = uow.keyring.blind_index("email", normalize_email(email))
        user = uow.users.first(select(models.User).where(models.User.email_index == index))
        signed_in = open_session(uow, user, device="Production test")
        uow.commit()
        return signed_in.token, signed_in.principal


def _unread(production: dict, worker: int, token: str) -> int:
    _, replies = call_on(
        production, worker, [(f"{SESSION}.check_messages", {})], session_token=token
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


def _signed_in_on(production: dict, worker: int, token: str, tab: str) -> None:
    """The patient's home screen, shown through `worker`: the tab holds PHI in its state."""
    _, entered, home = call_on(
        production, worker, [ENTER_AS_PATIENT, PATIENT_HOME], session_token=token, tab_token=tab
    )
    assert "/sign-in" not in "".join(entered), entered
    assert PATIENT_FIRST_NAME in "".join(home), home


def test_two_workers_serve_the_existing_build_on_one_port(production):
    workers = worker_pids(production["server"])
    assert len(workers) == 2, workers
    with urllib.request.urlopen(f"{production['base']}/healthz", timeout=5) as answer:  # noqa: S310
        assert json.load(answer)["status"] == "ok"
    with urllib.request.urlopen(f"{production['base']}/sign-in", timeout=5) as answer:  # noqa: S310
        assert b"<html" in answer.read(2048).lower()
    log = production["log"].read_text()
    assert "Creating Production Build" not in log and "Compiling" not in log, log[-2000:]


def test_a_message_sent_through_one_worker_reaches_a_provider_on_the_other(production):
    first, second = worker_pids(production["server"])
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
    with database.unit_of_work() as uow:
        bodies = [
            message.body
            for message in uow.session.exec(
                select(models.Message).where(models.Message.conversation_id == uuid.UUID(thread))
            ).scalars()
        ]
    assert "Sent through worker one" in bodies
    assert _unread(production, second, provider_token) == before + 1


def test_a_session_signed_out_through_one_worker_is_refused_on_the_other(production):
    first, second = worker_pids(production["server"])
    token, _ = _session(production["database"], PATIENT)
    tab = uuid.uuid4().hex
    _signed_in_on(production, first, token, tab)
    _, signed_out = call_on(
        production, first, [(f"{SESSION}.sign_out", {})], session_token=token, tab_token=tab
    )
    assert session_cookie.END_PATH in "".join(signed_out), signed_out

    # The same tab (its state in Redis, written by worker one) and cookie, on worker two.
    hydrated, entered, home = call_on(
        production, second, [ENTER_AS_PATIENT, PATIENT_HOME], session_token=token, tab_token=tab
    )
    assert '"path": "/sign-in"' in "".join(entered), entered
    assert PATIENT_FIRST_NAME not in "".join(hydrated + entered + home), hydrated + entered + home


def test_a_session_idle_past_its_limit_through_one_worker_is_ended_on_the_other(production):
    first, second = worker_pids(production["server"])
    database = production["database"]
    token, principal = _session(database, PATIENT)
    tab = uuid.uuid4().hex
    _signed_in_on(production, first, token, tab)
    with database.unit_of_work() as uow:
        uow.session.execute(
            update(models.UserSession)
            .where(models.UserSession.id == principal.session_id)
            .values(last_seen_at=utcnow() - timedelta(hours=1))
        )
        uow.commit()

    # The tab reconnects to worker two, as a browser's does: its page's guard finds the
    # session idle past its limit, ends it and sends the tab to the sign-in page.
    hydrated, home = call_on(production, second, [PATIENT_HOME], session_token=token, tab_token=tab)
    assert '"path": "/sign-in"' in "".join(hydrated), hydrated
    assert PATIENT_FIRST_NAME not in "".join(home), home
    with database.unit_of_work() as uow:
        ended = uow.session.get(models.UserSession, principal.session_id)
        assert ended.ended_at is not None and ended.end_reason == "idle_timeout"


def test_a_due_reminder_is_queued_once_with_both_schedulers_running(production):
    # Each worker's reminder job first runs when its scheduler starts, before the worker
    # serves: both raced for the visit, which was due already, within a second of start-up.
    time.sleep(max(production["answered"] + FIRST_RUNS_SECONDS - time.monotonic(), 0))
    appointment = str(production["reminded"])
    with production["database"].unit_of_work() as uow:
        keys = uow.session.exec(
            select(models.Notification.idempotency_key).where(
                models.Notification.template_id == "appointment_reminder"
            )
        ).scalars()
        ours = [key for key in keys if appointment in key]
        attempts = uow.session.exec(
            select(models.NotificationAttempt.notification_id, func.count())
            .group_by(models.NotificationAttempt.notification_id)
            .having(func.count() > 1)
        ).all()
    assert ours, "no reminder was queued for the due visit"
    assert len(ours) == len(set(ours)), ours
    assert len({key.rsplit(":", 1)[0] for key in ours}) == 1
    assert not attempts, f"notifications attempted more than once: {attempts}"


def _audit_events(database: Database) -> int:
    with database.unit_of_work() as uow:
        return uow.session.exec(select(func.count()).select_from(models.AuditEvent)).scalar_one()


def test_a_worker_killed_mid_event_loses_nothing_committed_and_its_tab_carries_on(production):
    first, second = worker_pids(production["server"])
    database = production["database"]
    token, _ = _session(database, PATIENT)
    neighbour_token, _ = _session(database, NEIGHBOUR)
    tab, neighbour_tab = uuid.uuid4().hex, uuid.uuid4().hex
    _signed_in_on(production, first, token, tab)
    call_on(
        production,
        second,
        [ENTER_AS_PATIENT, PATIENT_HOME],
        session_token=neighbour_token,
        tab_token=neighbour_tab,
    )
    committed = _audit_events(database)
    router = {"pathname": "/", "query": {}, "asPath": "/"}

    async def killed_mid_event() -> None:
        connection, _ = await _tab_on(production, first, tab, token, router)
        await connection._send(PATIENT_HOME[0], PATIENT_HOME[1], router)
        os.kill(first, signal.SIGKILL)
        with contextlib.suppress(Exception):
            await connection.close()

    in_thread(killed_mid_event())
    production["killed"] = first

    # The browser reconnects, to a live worker, with its tab token and cookie. The dead worker
    # still holds the token in Redis, so the tab is given a new one (a fresh state): the page's
    # guard finds the session in the cookie, and the tab carries on signed in, on its own home.
    async def reconnected() -> tuple[list[str], list[str], list[str]]:
        connection = await Tab.open(
            production["base"], tab, production["origin"], session_token=token
        )
        try:
            hydrated = await connection.hydrate(router)
            entered = await connection.handle(*ENTER_AS_PATIENT, router)
            return hydrated, entered, await connection.handle(*PATIENT_HOME, router)
        finally:
            await connection.close()

    hydrated, entered, home = in_thread(reconnected())
    shown = "".join(hydrated + entered + home)
    assert "/sign-in" not in "".join(entered), entered
    assert PATIENT_FIRST_NAME in "".join(home), home
    assert NEIGHBOUR_FIRST_NAME not in shown
    assert _audit_events(database) >= committed
    report = verify_chain(database.engine, database.keyring)
    assert report.intact, str(report)
    # Granian starts a worker in the dead one's place (portal.production.respawn_failed_workers).
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len(worker_pids(production["server"])) < 2:
        time.sleep(0.5)
    respawned = set(worker_pids(production["server"])) - {first, second}
    assert len(respawned) == 1, worker_pids(production["server"])


def test_sigterm_stops_every_worker_within_ten_seconds(production):
    server = production["server"]
    workers = worker_pids(server)

    async def held_open() -> float:
        tab = await Tab.open(production["base"], uuid.uuid4().hex, production["origin"])
        started = time.monotonic()
        os.kill(server.pid, signal.SIGTERM)
        while server.poll() is None and time.monotonic() - started < SHUTDOWN_LIMIT_SECONDS + 5:
            await asyncio.sleep(0.1)
        with contextlib.suppress(Exception):
            await tab.close()
        return time.monotonic() - started

    took = in_thread(held_open())
    print(f"\nSIGTERM with an open websocket: stopped after {took:.1f}s")
    assert server.poll() is not None and took < SHUTDOWN_LIMIT_SECONDS, took
    assert not [pid for pid in workers if alive(pid)], "a worker survived"
    # Granian's report of the worker the test above killed is the one error expected.
    killed = "Unexpected exit from worker" if production.get("killed") else "(nothing)"
    errors = [
        line
        for line in production["log"].read_text().splitlines()
        if re.search(r"Traceback|\bERROR\b", line) and killed not in line
    ]
    assert not errors, "\n".join(errors[:20])
