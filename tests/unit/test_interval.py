"""The timer the shells and live message screens poll with (portal/components/interval.py): it
renders nothing, calls its handler every period through a React effect, restarts when the
period changes, stops when it leaves the page, and no signed-in shell loads react-moment."""

from __future__ import annotations

import json
import shutil
import subprocess  # nosec B404: runs node on a script the test writes
import textwrap

import pytest
import reflex as rx

from portal import layout
from portal.backend.security.principal import Role
from portal.components.interval import every
from portal.state.session import SessionState

NODE = shutil.which("node")


def hooks_of(component: rx.Component) -> str:
    return "\n".join(component._get_all_hooks())


def test_it_renders_nothing_and_follows_the_state_period():
    timer = every(SessionState.check_every_ms, SessionState.check_idle)
    assert timer.render() == {"name": "Fragment", "props": [], "children": []}
    hooks = hooks_of(timer)
    period = str(SessionState.check_every_ms)
    assert f"const period = {period};" in hooks
    assert "check_idle" in hooks and "clearInterval(timer)" in hooks
    # The period is a dependency of the effect: a new period restarts the timer.
    assert f"}}, [{period}, on_tick_" in hooks


@pytest.mark.parametrize("role", [Role.PATIENT, Role.PROVIDER, Role.ADMIN])
def test_no_shell_loads_a_date_library_to_keep_time(role):
    shell = layout.shell(role, "/", rx.text("A page"))
    libraries = set(shell._get_all_imports())
    assert not {library for library in libraries if "moment" in library}, libraries
    assert "check_idle" in hooks_of(shell) and "setInterval" in hooks_of(shell)


def run_in_node(period: int, steps: str) -> dict:
    """Runs the timer's hooks in node with React's useEffect and the browser's timers faked,
    then `steps`; returns what the script reports."""
    script = textwrap.dedent(
        """
        const effects = [], timers = new Map(), ticks = [];
        let nextTimer = 1;
        const useEffect = (effect, deps) => effects.push({ effect, deps });
        const useCallback = (callback) => callback;
        const ReflexEvent = (name) => name;
        const addEvents = (events) => ticks.push(...events);
        const setInterval = (callback, ms) => {
            timers.set(nextTimer, { callback, ms });
            return nextTimer++;
        };
        const clearInterval = (id) => timers.delete(id);
        """
    )
    script += hooks_of(every(period, SessionState.check_messages)) + "\n" + steps
    completed = subprocess.run(  # nosec B603: node with a script of the test's own
        [NODE, "-e", script], capture_output=True, text=True, timeout=30, check=True
    )
    return json.loads(completed.stdout)


@pytest.mark.skipif(NODE is None, reason="needs node")
def test_in_the_browser_it_ticks_every_period_until_it_leaves_the_page():
    seen = run_in_node(
        2000,
        """
        const stop = effects[0].effect();
        const [[id, timer]] = [...timers];
        timer.callback(); timer.callback();
        const running = timers.size;
        stop();
        console.log(JSON.stringify({ ms: timer.ms, ticks, running, left: timers.size }));
        """,
    )
    assert seen["ms"] == 2000 and seen["running"] == 1 and seen["left"] == 0
    assert len(seen["ticks"]) == 2 and all(t.endswith(".check_messages") for t in seen["ticks"])


@pytest.mark.skipif(NODE is None, reason="needs node")
def test_in_the_browser_a_period_of_zero_starts_no_timer():
    seen = run_in_node(
        0, "effects[0].effect(); console.log(JSON.stringify({ timers: timers.size }));"
    )
    assert seen == {"timers": 0}
