"""The worker processes of a server started with several Granian workers, and which of them
serves a connection: read from /proc (Linux), so a test can pin a client to one worker."""

from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path


def worker_pids(server: subprocess.Popen) -> list[int]:
    """The backend worker processes: the server's children (Granian forks them)."""
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    return [int(pid) for pid in children]


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    return inodes


def serving_worker(port: int, workers: list[int]) -> int | None:
    """The worker holding the one established connection on the server's port."""
    established = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == "01":  # ESTABLISHED
                established.add(fields[9])
    owners = [pid for pid in workers if established & _socket_inodes(pid)]
    return owners[0] if len(owners) == 1 and len(established) == 1 else None


def alive(pid: int) -> bool:
    """Running (an exited worker may linger as a zombie until something reaps it)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status
