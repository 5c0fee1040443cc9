"""Settings shared by every test level: a private data folder, never the developer's own."""

from __future__ import annotations

import os
import re
import tempfile

# Set before any portal module reads its settings.
os.environ.setdefault("PORTAL_DATA_DIR", tempfile.mkdtemp(prefix="portal-tests-"))
os.environ.setdefault("TELEMETRY_ENABLED", "false")

DATABASE_PARAMETER = re.compile(r"\[(sqlite|postgresql)[-\]]")


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
