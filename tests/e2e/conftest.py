"""The end-to-end fixtures live in tests/e2e/fixtures.py, a plugin registered once for every
test level from tests/conftest.py, so that one build of the app serves tests/e2e and
tests/security alike. Helpers that tests import from here are re-exported."""

from __future__ import annotations

from tests.e2e.fixtures import PROJECT_ROOT, _free_port, watch

__all__ = ["PROJECT_ROOT", "_free_port", "watch"]
