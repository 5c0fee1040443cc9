"""Password checks take turns across the machine's workers (portal/state/password_turns.py):
another process holding every turn makes a check wait, then refuse in words; a worker that dies
gives its turn back."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from portal.state import password_turns
from portal.state.base import run_password_service
from portal.state.password_turns import PasswordsBusy, password_turn
from tests.loop import run
from tests.unit.test_password_threads import TAB

# Another worker: takes the one turn in `folder`, says so, and holds it until killed.
_HOLD_THE_TURN = """
import sys, time
from pathlib import Path
from portal.state import password_turns
password_turns.TURNS_DIR = Path(sys.argv[1])
with password_turns.password_turn(time.monotonic() + 5, turns=1):
    print("holding", flush=True)
    time.sleep(60)
"""


@pytest.fixture
def other_worker(tmp_path, monkeypatch):
    monkeypatch.setattr(password_turns, "TURNS_DIR", tmp_path)
    monkeypatch.setattr(password_turns, "TURNS", 1)
    worker = subprocess.Popen(
        [sys.executable, "-c", _HOLD_THE_TURN, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    assert worker.stdout.readline().strip() == "holding"
    yield worker
    worker.kill()
    worker.wait()


def test_a_check_waits_for_another_workers_turn_then_refuses_in_words(other_worker):
    started = time.monotonic()
    with (
        pytest.raises(PasswordsBusy, match="try again in a minute"),
        password_turn(time.monotonic() + 0.3, turns=1),
    ):
        pass
    assert 0.3 <= time.monotonic() - started < 1


def test_a_worker_that_dies_gives_its_turn_back(other_worker):
    other_worker.kill()
    other_worker.wait()
    with password_turn(time.monotonic() + 1, turns=1):
        pass


def test_a_sign_in_that_gets_no_turn_in_time_is_refused_without_running(other_worker, monkeypatch):
    monkeypatch.setattr(password_turns, "WAIT_SECONDS", 0.2)
    ran = []
    with pytest.raises(PasswordsBusy):
        run(run_password_service(TAB, lambda *, uow: ran.append(uow)))
    assert not ran


def test_turns_are_files_only_this_user_can_open(tmp_path, monkeypatch):
    monkeypatch.setattr(password_turns, "TURNS_DIR", tmp_path / "turns")
    with password_turn(time.monotonic() + 1, turns=2):
        pass
    assert (Path(tmp_path / "turns").stat().st_mode & 0o777) == 0o700
    assert sorted(p.name for p in (tmp_path / "turns").iterdir()) == ["turn-0", "turn-1"]


def test_a_turn_rests_after_its_check_for_as_long_as_the_check_took(tmp_path, monkeypatch):
    monkeypatch.setattr(password_turns, "TURNS_DIR", tmp_path)
    with password_turn(time.monotonic() + 1, turns=1):
        time.sleep(0.3)
    checked = time.monotonic()
    with pytest.raises(PasswordsBusy), password_turn(time.monotonic() + 0.1, turns=1):
        pass
    with password_turn(time.monotonic() + 2, turns=1):
        rested = time.monotonic() - checked
    assert 0.28 <= rested < 0.8
