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


def pytest_collection_modifyitems(config, items):
    """Every test that drives the served app (tests/e2e, and any test using the server) is
    marked `e2e`, so `-m "not e2e"` runs the rest without building it.

    `make test` runs pytest-xdist with two processes (`-n 2 --dist loadgroup`): the served tests
    are one group, so one process builds and serves the app once and runs them in order while
    the other runs the rest beside it (the served tests leave most of the machine idle, waiting
    on the browser). They come first so that their group is handed out at once. (Once
    Playwright's sync API has started, the main thread has a running event loop: a test that
    needs a loop of its own runs it with `tests.loop.run`, on a thread.)"""
    browser_free, served = [], []
    for item in items:
        if "/e2e/" in f"/{item.nodeid}" or "portal_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.xdist_group("served"))
            served.append(item)
        else:
            browser_free.append(item)
    items[:] = served + browser_free


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
