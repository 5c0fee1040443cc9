"""Monitoring without PHI: what reaches Sentry (a local stand-in for its ingest endpoint, over
real HTTP) carries no canary value, and /healthz reports the database, the file store and the
scheduler, answering 503 when one of them fails."""

from __future__ import annotations

import gzip
import json
import logging
import threading
import time
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import boto3
import httpx
import pytest
import sentry_sdk
from apscheduler.events import EVENT_JOB_ERROR, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from starlette.applications import Starlette
from starlette.routing import Route

from portal.backend import db as portal_db
from portal.backend import health, jobs, monitoring
from portal.backend.config import load_settings
from portal.backend.db import Database
from portal.errors import handle_backend_exception, handle_frontend_exception
from tests.integration.api_client import http
from tests.integration.conftest import new_kms_key
from tests.loop import run

CANARY = "ZZCANARY"
PHI_LIKE = ["maria.garcia@example.com", "1968-04-12", "555-013-4421", "Garcia"]

# --- Sentry ----------------------------------------------------------------------------------


class Ingest(BaseHTTPRequestHandler):
    """Sentry's envelope endpoint: records every request body (decompressed)."""

    received: list[bytes]

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        elif encoding == "br":
            import brotli

            body = brotli.decompress(body)
        self.server.received.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def sentry_ingest(tmp_path) -> Iterator[HTTPServer]:
    server = HTTPServer(("127.0.0.1", 0), Ingest)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    config = load_settings(
        {
            "PORTAL_DATA_DIR": str(tmp_path),
            "SENTRY_DSN": f"http://public@127.0.0.1:{server.server_address[1]}/1",
            "SENTRY_ENVIRONMENT": "test",
        }
    )
    assert monitoring.init_sentry(config)
    yield server
    monitoring.stop_sentry()
    server.shutdown()
    server.server_close()


def events_of(server) -> list[dict]:
    """The event items of every envelope received."""
    events = []
    for _path, body in server.received:
        lines = body.split(b"\n")
        for header, payload in zip(lines[1::2], lines[2::2], strict=False):
            if json.loads(header).get("type") == "event":
                events.append(json.loads(payload))
    return events


def canary_context() -> None:
    """Everything an integration, a library or a careless line could attach to an event."""
    scope = sentry_sdk.get_isolation_scope()
    scope.set_user({"id": CANARY, "email": "maria.garcia@example.com", "ip_address": "10.1.2.3"})
    scope.set_tag("patient", CANARY)
    scope.set_extra("form", {"last_name": CANARY, "born": "1968-04-12"})
    scope.set_context("reflex_state", {"patient_name": CANARY, "phone": "555-013-4421"})
    sentry_sdk.add_breadcrumb(
        category="query", message=f"SELECT * FROM patients WHERE name = '{CANARY}'"
    )
    sentry_sdk.add_breadcrumb(category="http", data={"url": f"/files?name={CANARY}"})
    logging.getLogger("portal.test").warning("looked up %s, Garcia", CANARY)

    def with_request(event, _hint):
        event["request"] = {
            "method": "POST",
            "url": f"http://portal.test/files/records/8336dc3c?name={CANARY}",
            "query_string": f"name={CANARY}",
            "data": {"last_name": CANARY, "dob": "1968-04-12"},
            "cookies": {"portal_session": CANARY},
            "headers": {
                "User-Agent": "Mozilla/5.0",
                "Cookie": f"portal_session={CANARY}",
                "Authorization": f"Bearer {CANARY}",
                "X-Patient": CANARY,
            },
            "env": {"REMOTE_ADDR": "10.1.2.3"},
        }
        return event

    scope.add_event_processor(with_request)


def failing_service(last_name: str) -> None:
    patient = {"last_name": last_name, "born": "1968-04-12"}  # noqa: F841  (a local variable)
    raise ValueError(f"no patient named {last_name}, maria.garcia@example.com")


async def failing_route(request):
    form = await request.body()  # noqa: F841
    failing_service(CANARY)


def http_post(app, path: str) -> httpx.Response:
    return http(
        app,
        "POST",
        path,
        content=f"last_name={CANARY}&dob=1968-04-12",
        headers={"Cookie": f"portal_session={CANARY}", "X-Patient": CANARY},
    )


def test_nothing_sent_to_sentry_carries_phi(sentry_ingest):
    canary_context()
    # An event handler that raises (the Reflex path).
    try:
        failing_service(CANARY)
    except ValueError as error:
        handle_backend_exception(error)
    # An HTTP route that raises.
    app = monitoring.ErrorResponses(
        Starlette(routes=[Route("/files/{name}", failing_route, methods=["POST"])])
    )
    response = http_post(app, f"/files/{CANARY.lower()}x?name={CANARY}")
    assert response.status_code == 500
    # A failing job, a browser-side error and an error logged by some library.
    try:
        failing_service(CANARY)
    except ValueError as error:
        failed = JobExecutionEvent(EVENT_JOB_ERROR, "waitlist", "default", None, exception=error)
        jobs._report_failure(failed)
    handle_frontend_exception(Exception(f"TypeError: {CANARY} is not a function"))
    logging.getLogger("some.library").error("query failed for %s (%s)", CANARY, PHI_LIKE[0])
    sentry_sdk.flush(timeout=10)

    deadline = time.monotonic() + 10
    while len(events_of(sentry_ingest)) < 5 and time.monotonic() < deadline:
        time.sleep(0.1)
    events = events_of(sentry_ingest)
    assert len(events) == 5

    everything = b"\n".join(body for _path, body in sentry_ingest.received)
    where = everything.upper().find(CANARY.encode())
    assert where < 0, everything[max(0, where - 300) : where + 100]
    for value in [*PHI_LIKE, "10.1.2.3", "Bearer", "portal_session"]:
        assert value.encode() not in everything

    by_origin = {event.get("tags", {}).get("origin"): event for event in events}
    event = by_origin["event"]
    assert event["exception"]["values"][-1]["type"] == "ValueError"
    assert "value" not in event["exception"]["values"][-1]
    frames = event["exception"]["values"][-1]["stacktrace"]["frames"]
    assert frames[-1]["function"] == "failing_service"
    assert all("vars" not in frame and "context_line" not in frame for frame in frames)
    assert "user" not in event and "extra" not in event
    assert set(event["contexts"]) <= {"runtime", "os"}
    assert event["breadcrumbs"]["values"]
    assert all(
        set(crumb) <= {"timestamp", "type", "category", "level"}
        for crumb in event["breadcrumbs"]["values"]
    )
    assert event["request"]["url"] == "http://portal.test/files/records/*"
    assert event["request"]["headers"] == {"User-Agent": "Mozilla/5.0"}

    http_event = by_origin["http"]
    assert http_event["tags"]["reference"] == response.headers["x-request-id"]
    assert http_event["request"]["method"] == "POST"
    assert http_event["request"]["url"] == "/files/*"
    assert by_origin["job"]["tags"]["job"] == "waitlist"
    assert by_origin["frontend"]["tags"]["error_type"] == "TypeError"
    assert by_origin["frontend"]["message"] == monitoring.FRONTEND_ERROR
    logged = by_origin[None]
    assert logged["message"] == "An error was logged by some.library"


def test_without_a_dsn_nothing_starts(tmp_path):
    assert not monitoring.init_sentry(load_settings({"PORTAL_DATA_DIR": str(tmp_path)}))
    assert not sentry_sdk.get_client().is_active()


def test_transactions_are_never_sent():
    assert monitoring.drop_transaction({"type": "transaction", "transaction": CANARY}) is None


# --- /healthz --------------------------------------------------------------------------------


@pytest.fixture
def scheduler(monkeypatch) -> Iterator[BackgroundScheduler]:
    """A running scheduler with one job, as the app's lifespan starts (without the real jobs)."""
    running = BackgroundScheduler(timezone="UTC")
    running.add_job(lambda: None, "interval", seconds=30, id="appointment_reminders")
    running.start()
    monkeypatch.setattr(jobs, "_scheduler", running)
    yield running
    running.shutdown(wait=False)


def test_healthz_reports_every_check_when_all_are_well(api, scheduler):
    started = time.monotonic()
    response = http(api, "GET", "/healthz")
    assert time.monotonic() - started < health.CHECK_SECONDS + 1
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["status"] == "ok"
    checks = body["checks"]
    assert checks["database"]["status"] == "ok"
    assert checks["storage"] == {"status": "ok", "backend": "local", "ms": checks["storage"]["ms"]}
    assert checks["scheduler"]["running"] is True
    assert [job["id"] for job in checks["scheduler"]["jobs"]] == ["appointment_reminders"]
    assert checks["scheduler"]["jobs"][0]["next_run"].endswith("+00:00")
    # The storage probe leaves nothing behind.
    files = portal_db.database().settings.files_dir
    assert not [path for path in files.rglob("*") if path.is_file()]


def test_healthz_answers_503_when_the_scheduler_is_not_running(api, monkeypatch):
    monkeypatch.setattr(jobs, "_scheduler", None)
    response = http(api, "GET", "/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "failing"
    assert body["checks"]["scheduler"] == {
        "status": "failing",
        "error": "SchedulerStopped",
        "ms": body["checks"]["scheduler"]["ms"],
    }
    assert body["checks"]["database"]["status"] == "ok"


def test_healthz_answers_503_when_the_file_store_cannot_write(api, scheduler):
    files = portal_db.database().settings.files_dir
    files.parent.mkdir(parents=True, exist_ok=True)
    files.write_bytes(b"not a folder")  # as root, permissions alone would not stop a write
    try:
        response = http(api, "GET", "/healthz")
    finally:
        files.unlink()
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["storage"]["status"] == "failing"
    assert checks["database"]["status"] == "ok"


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_healthz_answers_503_when_the_database_is_gone(api, scheduler, tmp_path, monkeypatch):
    broken = Database(
        load_settings(
            {
                "PORTAL_DATA_DIR": str(tmp_path),
                "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none",
            }
        )
    )
    monkeypatch.setattr("portal.backend.api.database", lambda: broken)
    response = http(api, "GET", "/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"]["status"] == "failing"
    assert body["checks"]["database"]["error"] == "OperationalError"
    assert "127.0.0.1" not in response.text and "nobody" not in response.text
    broken.engine.dispose()


def test_a_hung_check_counts_as_failing_within_its_time_limit():
    release = threading.Event()

    def hung() -> dict:
        release.wait(10)
        return {}

    started = time.monotonic()
    healthy, report = run(health.run_checks({"hung": hung, "fine": lambda: {}}, timeout=0.3))
    assert time.monotonic() - started < 1
    assert not healthy
    assert report["checks"]["hung"]["error"] == "timeout"
    assert report["checks"]["fine"]["status"] == "ok"
    # A second call waits for the same check instead of starting another one.
    second = health._running["hung"]
    run(health.run_checks({"hung": hung}, timeout=0.1))
    assert health._running["hung"] is second
    release.set()


def test_s3_storage_is_checked_with_head_bucket(moto_url, tmp_path):
    bucket = "portal-health"
    boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1").create_bucket(Bucket=bucket)
    common = {
        "PORTAL_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.db'}",
        "PORTAL_STORAGE": "s3",
        "PORTAL_KMS_KEY_ID": new_kms_key(moto_url),
        "PORTAL_AWS_ENDPOINT_URL": moto_url,
    }
    from portal.backend import migrations

    migrations.upgrade(common["DATABASE_URL"])
    present = Database(load_settings({**common, "PORTAL_S3_BUCKET": bucket}))
    assert health.check_storage(present) == {"backend": "s3"}
    missing = Database(load_settings({**common, "PORTAL_S3_BUCKET": "no-such-bucket"}))
    with pytest.raises(Exception, match=r"404|Not Found|NoSuchBucket"):
        health.check_storage(missing)
    s3 = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1")
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0
