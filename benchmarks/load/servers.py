"""Starting the servers under load and reading their memory.

Both apps are served the way `portal serve` serves the portal (`reflex run --env prod` with
Granian): one worker with the in-memory state manager, or several sharing their tabs' state in
Redis, as `portal serve --workers N` runs them. Backend only: the load speaks the websocket and
the upload route, so no frontend is built. Each server runs in its own session on a loopback
port, and everything in that session is stopped when the block ends, however it ends.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import redis

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BARE_APP = PROJECT_ROOT / "benchmarks" / "bare_app"
START_LIMIT_SECONDS = 180
STOP_LIMIT_SECONDS = 15


@dataclass
class Server:
    name: str
    base: str
    process: subprocess.Popen
    log: Path

    def rss_bytes(self) -> int:
        """Resident memory of every process of the server (the `reflex` command, Granian and
        its worker): they all share the server's session id."""
        return sum(_rss_bytes(pid) for pid in session_pids(self.process.pid))

    def cpu_seconds(self) -> float:
        """User and system CPU time used so far by every live process of the server."""
        ticks = 0
        for pid in session_pids(self.process.pid):
            fields = _stat_fields(pid)
            ticks += int(fields[11]) + int(fields[12]) if fields else 0
        return ticks / os.sysconf("SC_CLK_TCK")

    def tail(self, characters: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-characters:]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def serve(
    name: str, root: Path, env: dict[str, str], workers: int = 1, redis_url: str = ""
) -> Iterator[Server]:
    """Serve the Reflex app in `root` on a free loopback port until the block ends; with more
    than one worker, their state is in the (emptied) Redis database at `redis_url`."""
    if workers > 1:
        redis.Redis.from_url(redis_url).flushdb()
        env = {**env, "REDIS_URL": redis_url}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    reflex = shutil.which("reflex", path=os.path.dirname(sys.executable)) or "reflex"
    command = [reflex, "run", "--env", "prod", "--backend-only"]
    command += ["--backend-port", str(port), "--backend-host", "127.0.0.1"]
    environment = {
        **os.environ,
        **env,
        "PATH": f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ.get('PATH', '')}",
        "REFLEX_USE_GRANIAN": "true",
        "GRANIAN_WORKERS": str(workers),
        "TELEMETRY_ENABLED": "false",
        # The portal accepts websockets from its own origin only (the bare app ignores this).
        "PORTAL_PUBLIC_URL": base,
    }
    with tempfile.NamedTemporaryFile(
        "w", prefix=f"load-{name}-", suffix=".log", delete=False
    ) as log:
        process = subprocess.Popen(  # noqa: S603  (our own command, no shell)
            command,
            cwd=root,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(name, base, process, Path(log.name))
    try:
        _wait_until_serving(server)
        yield server
    finally:
        stop(server)


def stop(server: Server) -> None:
    """SIGTERM to the whole session, then SIGKILL to whatever is left after a while."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.process.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_LIMIT_SECONDS
    while time.monotonic() < deadline and session_pids(server.process.pid):
        server.process.poll()
        time.sleep(0.2)
    for pid in session_pids(server.process.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        server.process.wait(timeout=STOP_LIMIT_SECONDS)


def _wait_until_serving(server: Server) -> None:
    deadline = time.monotonic() + START_LIMIT_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"the {server.name} server exited:\n{server.tail()}")
        try:
            with urllib.request.urlopen(f"{server.base}/ping", timeout=5) as answer:  # noqa: S310
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"the {server.name} server did not answer:\n{server.tail()}")


def session_pids(session: int) -> list[int]:
    """The live processes whose session id is `session` (zombies have no memory left)."""
    found = []
    for entry in Path("/proc").iterdir():
        fields = _stat_fields(int(entry.name)) if entry.name.isdigit() else []
        if fields and fields[0] != "Z" and int(fields[3]) == session:
            found.append(int(entry.name))
    return found


def _stat_fields(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat from the state on (empty once the process is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return []
    # The command name may hold spaces and parentheses: the fields start after the last ")".
    return stat.rsplit(")", 1)[1].split()


def _rss_bytes(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0
