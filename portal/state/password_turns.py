"""Password checks take turns across the whole machine, whichever worker asks.

Hashing or verifying a password (argon2id) takes about 50-70 ms of a core. Each worker runs
them on one thread of its own, but several workers could still give every core to a burst of
sign-ins and starve everyone else's requests. So a check first takes one of the machine's
turns: a lock file, held while it runs (the kernel lets go of it if the worker dies). Half
the cores get turns, at least one. After its check a turn rests, still held, for as long again
as the check took, so the turns' cores hash at most half the time: a storm of sign-ins leaves
the rest of the machine to the people already signed in. A sign-in that cannot get a turn in
time is told to try again shortly, rather than waiting until its tab's state lock gives out.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

TURNS = max(1, (os.cpu_count() or 2) // 2)
WAIT_SECONDS = 5.0
POLL_SECONDS = 0.02
TURNS_DIR = Path(tempfile.gettempdir()) / f"portal-password-turns-{os.getuid()}"


class PasswordsBusy(Exception):
    def __str__(self) -> str:
        return "Many people are signing in right now. Please try again in a minute."


@contextlib.contextmanager
def password_turn(deadline: float, turns: int = TURNS) -> Iterator[None]:
    """Hold one of the machine's `turns` until the block ends; waits until `deadline` (a
    `time.monotonic()` value), then raises `PasswordsBusy`."""
    TURNS_DIR.mkdir(mode=0o700, exist_ok=True)
    files = [os.open(TURNS_DIR / f"turn-{n}", os.O_RDWR | os.O_CREAT, 0o600) for n in range(turns)]
    held = None
    try:
        held = _take_one(files, deadline)
        started = time.monotonic()
        yield
    finally:
        for descriptor in files:
            if descriptor != held:
                os.close(descriptor)
        if held is not None:
            _give_back_after(held, time.monotonic() - started)


def _take_one(files: list[int], deadline: float) -> int:
    while True:
        for descriptor in files:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            return descriptor
        if time.monotonic() >= deadline:
            raise PasswordsBusy
        time.sleep(POLL_SECONDS)


def _give_back_after(held: int, seconds: float) -> None:
    rest = threading.Timer(seconds, os.close, (held,))  # closing the file lets go of its lock
    rest.daemon = True
    rest.start()
