"""The canary sweep, run last in the attack suite (this module sorts last in tests/security).

A patient types the canary into a message in Chromium; the suite has also put it in every
free-text field (test_xss.py) and in a whole second practice. Afterwards `ZZCANARY` must be in
none of: the server's log, the raw bytes of the data folder (SQLite files with their WAL, the
file store), the notifications' rendered text, the URLs the suite's browsers visited, their
localStorage, sessionStorage and cookies, Reflex state on disk (no `.states/` files; the served
app keeps its tabs' state in a Redis database of its own, which holds the open screens' views by
design; Redis keys are swept when REDIS_URL is set), or any cacheable response. The fixture
that serves the portal repeats the log and data-folder checks once the server has stopped."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.backend import models
from portal.backend.notify.templates import TEMPLATES
from tests.e2e.fixtures import PROJECT_ROOT
from tests.integration.factories import CANARY

MARKERS = (CANARY, CANARY.lower())


def holds_canary(data: bytes | str) -> bool:
    if isinstance(data, str):
        return any(marker in data for marker in MARKERS)
    return any(marker.encode() in data for marker in MARKERS)


def test_a_patient_types_the_canary_into_a_message(new_context, new_patient, canary_traces):
    person = new_patient("Cora", "Canary")
    page = new_context(person.email).new_page()
    canary_traces.follow(page)
    page.goto("/messages", wait_until="networkidle")
    form = page.get_by_role("region", name="Write to your care team")
    form.get_by_label("Subject").fill(f"Rash {CANARY} subject")
    form.get_by_label("What is it about?").select_option("other")
    form.get_by_label("Your message").fill(f"My {CANARY} rash is spreading.")
    form.get_by_role("button", name="Send to my care team").click()
    expect(page.get_by_role("heading", name=f"Rash {CANARY} subject")).to_be_visible()
    canary_traces.keep_storage(page)


@pytest.fixture(scope="module")
def swept(portal_url, portal_database, portal_data_dir, portal_log) -> dict:
    return {"data": portal_data_dir, "log": portal_log, "database": portal_database}


def test_no_canary_in_the_server_log(swept):
    assert not holds_canary(swept["log"].read_bytes())


def test_no_canary_in_the_data_folder_bytes(swept):
    files = [path for path in swept["data"].rglob("*") if path.is_file()]
    assert any(
        path.suffix in (".db", ".sqlite", ".sqlite3") or "-wal" in path.name for path in files
    )
    assert [str(path) for path in files if holds_canary(path.read_bytes())] == []


def test_no_canary_in_notifications(swept):
    with swept["database"].unit_of_work() as uow:
        rows = uow.session.exec(select(models.Notification)).scalars().all()
        rendered = [
            TEMPLATES[row.template_id].render(**row.parameters)
            for row in rows
            if row.template_id in TEMPLATES
        ]
    assert rendered
    assert [text for text in rendered if holds_canary(" ".join(text))] == []


def test_no_canary_in_browser_storage_urls_or_cacheable_responses(canary_traces, portal_url):
    """It runs among the served-app tests (it asks for `portal_url`), after the canary is typed."""
    assert canary_traces.urls and canary_traces.storage
    assert [url for url in canary_traces.urls if holds_canary(url)] == []
    assert [kept for kept in canary_traces.storage if holds_canary(kept)] == []
    cacheable = [
        url
        for url, cache in canary_traces.caching
        if cache != "no-store" and "/assets/" not in url and not url.endswith((".css", ".ico"))
    ]
    assert cacheable == []


def test_no_canary_in_state_storage():
    assert not (PROJECT_ROOT / ".states").exists(), "Reflex state was written to disk"
    redis_url = os.environ.get("REDIS_URL")
    if redis_url:
        import redis

        client = redis.Redis.from_url(redis_url)
        leaks = [key for key in client.scan_iter() if holds_canary(client.dump(key) or b"")]
        assert leaks == []
