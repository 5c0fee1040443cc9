"""The state size guard the served app runs under in the end-to-end suite (tests/e2e/fixtures.py,
`STATE_GUARD`): Reflex refuses to store an oversized state with those settings, and the suite
adds up every client's stored states in Redis against the same limit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import redis

from portal.backend.config import load_settings
from tests.e2e.fixtures import (
    STATE_GUARD,
    STATE_SIZE_LIMIT_KB,
    client_state_sizes,
    oversized_clients,
)

# A database of its own: the served app's (STATE_GUARD) may be in use by a running suite.
REDIS_URL = os.environ.get("TEST_STATE_SIZE_REDIS_URL", "redis://127.0.0.1:6379/4")
ROOT = "reflex___state____state"

# Serializes a screen state (which has a substate, as Reflex's check requires) and a leaf state,
# each holding about 150 KB, and reports what Reflex did with each.
_STORE_STATES = """
import json
import reflex as rx
from reflex.utils.exceptions import StateTooLargeError


class Screen(rx.State):
    rows: list[str] = []


class Detail(Screen):
    note: str = ""


root = rx.State(_reflex_internal_init=True)
screen = root.get_substate([Screen.get_name()])
detail = screen.get_substate([Detail.get_name()])
outcome = {}
for name, state, size in [("small screen", screen, 40), ("screen", screen, 150)]:
    screen.rows = [f"{row:04d}" + "x" * 1000 for row in range(size)]
    try:
        outcome[name] = len(state._serialize())
    except StateTooLargeError:
        outcome[name] = "refused"
detail.note = "x" * 150_000
outcome["leaf"] = len(detail._serialize())
print(json.dumps(outcome))
"""


def store_states(env: dict[str, str]) -> dict[str, int | str]:
    done = subprocess.run(
        [sys.executable, "-c", _STORE_STATES],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_reflex_refuses_to_store_an_oversized_state_under_the_served_apps_settings():
    stored = store_states(STATE_GUARD)
    assert stored["screen"] == "refused"
    assert 40_000 < stored["small screen"] < STATE_SIZE_LIMIT_KB * 1024
    # Reflex does not check a state without substates, which is why the suite also adds up
    # each client's states.
    assert stored["leaf"] > STATE_SIZE_LIMIT_KB * 1024


def test_the_served_app_keeps_state_in_redis_with_the_guard_raising():
    assert load_settings({"REDIS_URL": STATE_GUARD["REDIS_URL"]}).redis_url
    assert STATE_GUARD["REFLEX_PERF_MODE"] == "raise"
    assert int(STATE_GUARD["REFLEX_STATE_SIZE_LIMIT"]) == STATE_SIZE_LIMIT_KB == 100


def test_each_clients_stored_states_are_added_up_against_the_limit():
    store = redis.Redis.from_url(REDIS_URL)
    light, heavy = str(uuid.uuid4()), str(uuid.uuid4())
    half = b"x" * (STATE_SIZE_LIMIT_KB * 512)
    values = {
        f"{light}_{ROOT}": b"x" * 900,
        f"{light}_{ROOT}.portal___state___session____session_state": half,
        f"{light}_lock": b"x" * 200_000,
        f"{heavy}_{ROOT}": b"x" * 900,
        f"{heavy}_{ROOT}.portal___pages___patient___home____patient_home_state": half,
        f"{heavy}_{ROOT}.portal___state___session____session_state": half,
    }
    store.mset(values)
    try:
        sizes = client_state_sizes(store)
        oversized = oversized_clients(sizes)
    finally:
        store.delete(*values)
    assert sum(sizes[light].values()) == 900 + len(half)
    assert len(sizes[heavy]) == 3
    assert light not in oversized
    assert heavy in oversized
