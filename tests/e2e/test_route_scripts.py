"""The sign-in route's initial JavaScript in the production build the suite serves stays within
issue F11's budget: at most 1.3 times the bare Reflex app's (`python -m benchmarks.frontend`
measures both; the bare app's index route loaded 239,582 gzipped bytes with Reflex 0.10.1)."""

from __future__ import annotations

from benchmarks.frontend import BUILD, JS_GOAL, initial_javascript
from tests.e2e.fixtures import PROJECT_ROOT

BARE_APP_BYTES = 239_582


def test_the_sign_in_route_loads_no_more_javascript_than_the_budget(portal_url):
    total, largest = initial_javascript(PROJECT_ROOT / BUILD, "sign-in.html")
    assert total <= JS_GOAL * BARE_APP_BYTES, f"{total} gzipped bytes; largest: {largest}"
