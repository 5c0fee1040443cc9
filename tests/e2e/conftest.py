"""End-to-end fixtures: the real portal (`portal serve --demo`, production build, one port)
started once per session on a free port with its own data folder, and Debian's Chromium driven
by Playwright. The run fails if the server logs an error."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from portal.backend.demo import DEMO_PATIENT_EMAIL
from portal.backend.demo.people import PATIENTS

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("PORTAL_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
START_TIMEOUT_SECONDS = 900
# Demo patients' surnames (six letters or more, so ciphertext cannot match one by chance) and
# the demo patient's email: none may be readable in the data folder or the server's log.
PHI_MARKERS = [last.encode() for _first, last, *_ in PATIENTS if len(last) >= 6] + [
    DEMO_PATIENT_EMAIL.encode()
]
# Tracebacks, ERROR-level records, and the portal's own "error <reference>" lines.
ERROR_LINE = re.compile(r"Traceback|\bERROR\b|\bException\b|\berror [0-9a-f]{12}\b")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_serving(base: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the portal exited while starting:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{base}/sign-in", timeout=5) as response:  # noqa: S310
                if response.status == 200 and b"<html" in response.read(2048).lower():
                    return
        except OSError:
            pass
        time.sleep(1)
    pytest.fail(
        f"the portal did not answer within {START_TIMEOUT_SECONDS}s:\n{log.read_text()[-4000:]}"
    )


@pytest.fixture(scope="session")
def portal_data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("e2e-data")


@pytest.fixture(scope="session")
def portal_url(portal_data_dir: Path) -> Iterator[str]:
    """The portal's address. After the session: the server must have logged no error, and
    neither its log nor anything it stored may hold a demo patient's PHI in plaintext."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    data_dir = portal_data_dir
    log = data_dir.parent / f"{data_dir.name}-server.log"
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env.update(PORTAL_DATA_DIR=str(data_dir), PORTAL_PUBLIC_URL=base)
    started = time.monotonic()
    with log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "portal.cli", "serve", "--demo", "--port", str(port)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_until_serving(base, server, log)
        print(f"\nportal served at {base} after {time.monotonic() - started:.0f}s")
        yield base
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
    errors = [line for line in log.read_text().splitlines() if ERROR_LINE.search(line)]
    assert not errors, "the portal logged errors:\n" + "\n".join(errors[:20])
    leaks = [
        str(path)
        for path in [log, *data_dir.rglob("*")]
        if path.is_file() and any(marker in path.read_bytes() for marker in PHI_MARKERS)
    ]
    assert not leaks, f"demo PHI in plaintext in: {leaks}"
    assert not (PROJECT_ROOT / ".states").exists(), "Reflex state was written to disk"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def context(browser: Browser, portal_url: str) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=portal_url, viewport={"width": 1280, "height": 800})
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    """A tab that fails its test on any script error, console error or failed subresource.
    (Navigations are left to the tests: the not-found page is rightly served with 404.)"""
    page = context.new_page()
    problems: list[str] = []

    def console(message) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(f"console: {message.text}")

    def response(reply) -> None:
        if reply.status >= 400 and not reply.request.is_navigation_request():
            problems.append(f"{reply.status} for {reply.url}")

    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", console)
    page.on("response", response)
    yield page
    assert not problems, "the browser reported errors:\n" + "\n".join(problems)
