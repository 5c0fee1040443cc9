"""End-to-end fixtures: the real portal (`portal serve --demo`, production build, one port)
started once per session on a free port with its own data folder, and Debian's Chromium driven
by Playwright. The run fails if the server logs an error.

A plugin registered once from tests/conftest.py (`pytest_plugins`), so that tests/e2e and
tests/security share the one build and server of a pytest session."""

from __future__ import annotations

import contextlib
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
import redis
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from sqlalchemy import select

from portal.backend.config import load_settings
from portal.backend.db import Database
from portal.backend.demo import DEMO_PATIENT_EMAIL
from portal.backend.demo.people import PATIENTS
from portal.backend.models import User
from portal.backend.security import totp
from portal.backend.security.tokens import SESSION_COOKIE
from portal.backend.services import mfa
from portal.backend.services.sessions import open_session
from portal.backend.services.sign_in import normalize_email

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
# The attack suite's canary (typed into forms, stored in a second practice) must not be either.
CANARY = b"ZZCANARY"
PHI_MARKERS = [last.encode() for _first, last, *_ in PATIENTS if len(last) >= 6] + [
    DEMO_PATIENT_EMAIL.encode(),
    CANARY,
    CANARY.lower(),
]
# Tracebacks, ERROR-level records, and the portal's own "error <reference>" lines.
ERROR_LINE = re.compile(r"Traceback|\bERROR\b|\bException\b|\berror [0-9a-f]{12}\b")
# The state size guard. The served app keeps each tab's state in Redis (the production state
# manager, here with one worker and a database of its own), so every event pickles the states
# it touched, and Reflex refuses to store one over the limit (REFLEX_PERF_MODE=raise; the limit
# is in KiB). Reflex checks only states that have substates (here the root state: every page
# state is a leaf), so after each test that used the server the suite also adds up each
# client's stored states against the same limit (`client_state_sizes`).
STATE_SIZE_LIMIT_KB = 100
STATE_GUARD = {
    "REDIS_URL": os.environ.get("TEST_STATE_REDIS_URL", "redis://127.0.0.1:6379/5"),
    "REFLEX_PERF_MODE": "raise",
    "REFLEX_STATE_SIZE_LIMIT": str(STATE_SIZE_LIMIT_KB),
    # Every event stores its states, for the guard to read (a lease would keep them in memory).
    "REFLEX_OPLOCK_ENABLED": "false",
}
# Reflex stores one key per state of a client: `<client token>_<state's full name>`.
STATE_KEY = re.compile(rb"^(?P<client>[^_]+)_(?P<state>reflex___state____state[\w.]*)$")
LARGEST_CLIENT_STATE = pytest.StashKey[tuple[int, dict[str, int]]]()


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
def portal_log(portal_data_dir: Path) -> Path:
    """The running portal's log (its stdout and stderr)."""
    return portal_data_dir.parent / f"{portal_data_dir.name}-server.log"


@pytest.fixture(scope="session")
def portal_url(portal_data_dir: Path, portal_log: Path) -> Iterator[str]:
    """The portal's address. After the session: the server must have logged no error, and
    neither its log nor anything it stored may hold a demo patient's PHI in plaintext."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    data_dir = portal_data_dir
    log = portal_log
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env.update(STATE_GUARD, PORTAL_DATA_DIR=str(data_dir), PORTAL_PUBLIC_URL=base)
    redis.Redis.from_url(STATE_GUARD["REDIS_URL"]).flushdb()
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
        with contextlib.suppress(ProcessLookupError):  # it may have exited while starting
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
    redis.Redis.from_url(STATE_GUARD["REDIS_URL"]).flushdb()


def client_state_sizes(store: redis.Redis) -> dict[str, dict[str, int]]:
    """The bytes each client's stored states take, by client token and state full name."""
    sizes: dict[str, dict[str, int]] = {}
    for key in store.scan_iter(count=1000):
        match = STATE_KEY.match(key)
        if match:
            states = sizes.setdefault(match["client"].decode(), {})
            states[match["state"].decode()] = store.strlen(key)
    return sizes


def oversized_clients(sizes: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """The clients whose states add up to more than the limit."""
    limit = STATE_SIZE_LIMIT_KB * 1024
    return {client: states for client, states in sizes.items() if sum(states.values()) > limit}


@pytest.fixture(autouse=True)
def client_state_within_limit(request) -> Iterator[None]:
    """After a test that used the server: no client's state may exceed the limit. (A state that
    grew and shrank again within one test is not seen here; Reflex's own check sees the root.)"""
    yield
    if "portal_url" not in request.fixturenames:
        return
    sizes = client_state_sizes(redis.Redis.from_url(STATE_GUARD["REDIS_URL"]))
    largest = max(sizes.values(), key=lambda states: sum(states.values()), default={})
    seen = request.config.stash.get(LARGEST_CLIENT_STATE, (0, {}))
    if sum(largest.values()) > seen[0]:
        request.config.stash[LARGEST_CLIENT_STATE] = (sum(largest.values()), largest)
    for states in oversized_clients(sizes).values():
        heaviest = sorted(states.items(), key=lambda item: -item[1])[:5]
        pytest.fail(
            f"a client's state takes {sum(states.values())} bytes, over the "
            f"{STATE_SIZE_LIMIT_KB} KB limit; its largest states: {heaviest}"
        )


def pytest_sessionfinish(session):
    """Under pytest-xdist, a worker hands its largest client state to the controller."""
    if hasattr(session.config, "workeroutput"):
        largest = session.config.stash.get(LARGEST_CLIENT_STATE, (0, {}))
        session.config.workeroutput["largest_client_state"] = largest


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    total, states = node.workeroutput.get("largest_client_state", (0, {}))
    if total > node.config.stash.get(LARGEST_CLIENT_STATE, (0, {}))[0]:
        node.config.stash[LARGEST_CLIENT_STATE] = (total, states)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """The largest per-client state the served app stored during the run."""
    total, states = config.stash.get(LARGEST_CLIENT_STATE, (0, {}))
    if total:
        heaviest = sorted(states.items(), key=lambda item: -item[1])[:3]
        terminalreporter.write_line(
            f"largest per-client state: {total} bytes in {len(states)} states "
            f"(limit {STATE_SIZE_LIMIT_KB} KB); largest states: {heaviest}"
        )


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def portal_database(portal_url: str, portal_data_dir: Path) -> Iterator[Database]:
    """The running portal's database, for arranging what a test needs (after the server has
    created it) and for checking what the test did."""
    database = Database(
        load_settings({"PORTAL_DATA_DIR": str(portal_data_dir), "PORTAL_DEMO": "1"})
    )
    yield database
    database.engine.dispose()


class Accounts:
    """Demo accounts for the tests: sessions opened directly (so most tests need no codes),
    and authenticator codes for the tests that sign in through the page."""

    def __init__(self, database: Database):
        self.database = database
        self.used_steps: dict[str, int] = {}

    def user(self, email: str) -> User:
        with self.database.unit_of_work() as uow:
            index = uow.keyring.blind_index("email", normalize_email(email))
            return uow.users.first(select(User).where(User.email_index == index))

    def session_token(self, email: str) -> str:
        with self.database.unit_of_work() as uow:
            index = uow.keyring.blind_index("email", normalize_email(email))
            user = uow.users.first(select(User).where(User.email_index == index))
            signed_in = open_session(uow, user, device="Test browser")
            uow.commit()
            return signed_in.token

    def recovery_codes(self, email: str) -> list[str]:
        with self.database.unit_of_work() as uow:
            codes = mfa.replace_recovery_codes(uow, uow.session.get(User, self.user(email).id))
            uow.commit()
            return codes

    def code(self, email: str) -> str:
        """A code for a time step this run has not used for this account yet (a code is
        accepted once), waiting for the next step when needed."""
        secret = self.user(email).totp_secret
        while totp.current_step() <= self.used_steps.get(email, -1):
            time.sleep(1)
        step = totp.current_step()
        self.used_steps[email] = step
        return totp.code_for(secret, step)


@pytest.fixture(scope="session")
def accounts(portal_database: Database) -> Accounts:
    return Accounts(portal_database)


@pytest.fixture
def new_context(browser: Browser, portal_url: str, accounts: Accounts):
    """Browser contexts, optionally already signed in as a demo account."""
    opened: list[BrowserContext] = []

    def make(email: str | None = None, **options) -> BrowserContext:
        options.setdefault("viewport", {"width": 1280, "height": 800})
        context = browser.new_context(base_url=portal_url, **options)
        if email:
            context.add_cookies(
                [
                    {
                        "name": SESSION_COOKIE,
                        "value": accounts.session_token(email),
                        "url": portal_url,
                        "httpOnly": True,
                        "sameSite": "Strict",
                    }
                ]
            )
        opened.append(context)
        return context

    yield make
    for context in opened:
        context.close()


@pytest.fixture
def context(new_context) -> BrowserContext:
    return new_context()


def watch(page: Page) -> list[str]:
    """Collect script errors, console errors and failed subresources of a tab. (Navigations
    are left to the tests: the not-found page is rightly served with 404.)"""
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
    return problems


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    """A tab that fails its test on any script error, console error or failed subresource."""
    page = context.new_page()
    problems = watch(page)
    yield page
    assert not problems, "the browser reported errors:\n" + "\n".join(problems)
