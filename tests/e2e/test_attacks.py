"""The attacks that lived here moved to the standing attack suite, tests/security/ (see
docs/compliance/attack-suite.md): the handler sweep is now generated from every registered
state (tests/security/test_handlers.py) and the signed-out tab's token is reused in
tests/security/test_websocket.py. `PHI` stays importable for the e2e tests that use it."""

from __future__ import annotations

from tests.security.test_handlers import DEMO_PHI

PHI = DEMO_PHI
