"""Settings shared by every test level: a private data folder, never the developer's own."""

from __future__ import annotations

import os
import re
import tempfile

import pytest

# Set before any portal module reads its settings.
os.environ.setdefault("PORTAL_DATA_DIR", tempfile.mkdtemp(prefix="portal-tests-"))
os.environ.setdefault("TELEMETRY_ENABLED", "false")

# The end-to-end fixtures (one build and server of the app per pytest session), shared by
# tests/e2e and tests/security.
pytest_plugins = ["tests.e2e.fixtures"]

DATABASE_PARAMETER = re.compile(r"\[(sqlite|postgresql)[-\]]")


SERVED = ("tests/e2e/", "tests/security/")


def pytest_collection_modifyitems(config, items):
    """Every test that drives the served app (tests/e2e, and any test using the server) is
    marked `e2e`, so `-m "not e2e"` runs the rest without building it.

    In one process they run last: once Playwright's sync API has started, the main thread has a
    running event loop and `asyncio.run()` in a later test fails (`tests.loop.run` runs a loop on
    a thread instead). Under pytest-xdist they come first, so that their group is handed out at
    once (`pytest_xdist_make_scheduler`)."""
    browser_free, served = [], []
    for item in items:
        if "/e2e/" in f"/{item.nodeid}" or "portal_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.e2e)
            served.append(item)
        else:
            browser_free.append(item)
    items[:] = served + browser_free if hasattr(config, "workerinput") else browser_free + served


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """`make test` runs two processes (`-n 2`): one builds and serves the app once and runs
    tests/e2e and tests/security in order, the other runs the rest beside it (the served tests
    mostly wait on the browser). Groups go by path, the one thing the scheduler is told."""
    from xdist.scheduler import LoadScopeScheduling

    class ServedTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "served" if nodeid.startswith(SERVED) else nodeid

    return ServedTogether(config, log)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """How many tests ran at each level, and on which database, so CI shows nothing was skipped."""
    tally: dict[str, dict[str, int]] = {}
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            if getattr(report, "when", "call") != "call" and outcome != "error":
                continue
            level = report.nodeid.split("/")[1] if report.nodeid.startswith("tests/") else "other"
            backend = DATABASE_PARAMETER.search(report.nodeid)
            if backend:
                level += {"sqlite": " on SQLite", "postgresql": " on PostgreSQL"}[backend[1]]
            tally.setdefault(level, {}).setdefault(outcome, 0)
            tally[level][outcome] += 1
    terminalreporter.section("tests by level")
    for level in sorted(tally):
        counts = ", ".join(f"{count} {outcome}" for outcome, count in sorted(tally[level].items()))
        terminalreporter.write_line(f"{level}: {counts}")
