"""Frontend and start-up figures of issue F11: the initial route's JavaScript against the bare
Reflex app's, the backend's start-up and shutdown, and Lighthouse on two pages.

Usage (under the end-to-end lock: the portal's frontend is built in the checkout's `.web/`,
which the end-to-end suite builds and serves too):

    flock /tmp/portal-e2e.lock .venv/bin/python -m benchmarks.frontend [--starts 3]
                                                                       [--skip-lighthouse]

1. `portal serve --demo` on a free loopback port with a new data folder (SQLite, the embedded
   default): it migrates the database, loads the demo practice, builds the frontend once (the
   build bakes in the public address, so every later start uses the same port) and serves.
2. Initial-route JavaScript: the scripts the production build's `/sign-in` HTML loads (script
   `src`, `modulepreload` links, the inline module's imports, and their static imports in turn)
   against those of the bare app's index route (`benchmarks/bare_app/`, built and served the way
   `portal serve` does it, `reflex run --env prod --single-port`, in its own folder). Sizes are
   the bytes sent with gzip: the build's `.gz` sidecar, or the file itself when it has none (the
   build leaves files under 256 bytes uncompressed).
3. Start-up, `--starts` times: `portal serve --no-build` (one worker, the existing build, the
   migrated database) from the command's start to the first `200` for `/sign-in`; shutdown:
   from SIGTERM to the command's process to the exit of every process of the server.
4. Lighthouse (benchmarks/lighthouse.py) on `/sign-in`, and on the patient home (`/`) with the
   demo patient's session cookie passed in `--extra-headers`, with Lighthouse's default (mobile)
   settings and its desktop preset; and on the bare app's page, for the framework's own score.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from benchmarks import lighthouse
from benchmarks.load.servers import free_port, session_pids
from portal.backend.demo import DEMO_PATIENT_EMAIL

PROJECT_ROOT = Path(__file__).resolve().parents[1]
BARE_APP = PROJECT_ROOT / "benchmarks" / "bare_app"
BUILD = Path(".web") / "build" / "client"
JS_GOAL = 1.3
START_GOAL_SECONDS = 5
STOP_GOAL_SECONDS = 10
PERFORMANCE_GOAL = 0.8
ACCESSIBILITY_GOAL = 0.95
FIRST_START_LIMIT_SECONDS = 900
START_LIMIT_SECONDS = 120
STOP_LIMIT_SECONDS = 30
# What a page loads before anything else: classic and module scripts, preloaded modules.
HTML_SCRIPT = re.compile(
    r'<script[^>]*\bsrc="([^"]+)"|<link[^>]*rel="modulepreload"[^>]*href="([^"]+)"'
    r'|<link[^>]*href="([^"]+)"[^>]*rel="modulepreload"'
)
INLINE_MODULE = re.compile(r'<script type="module"[^>]*>(.*?)</script>', re.DOTALL)
# Static imports of a module (`import"./a.js"`, `from"./a.js"`; not the lazy `import("./a.js")`).
STATIC_IMPORT = re.compile(r'(?:\bfrom|\bimport)\s*"([^"]+\.js)"')


def route_scripts(client: Path, html: Path) -> list[Path]:
    """Every script a route's HTML loads at once, following static imports."""
    text = html.read_text()
    found = [next(filter(None, match)) for match in HTML_SCRIPT.findall(text)]
    for module in INLINE_MODULE.findall(text):
        found += re.findall(r'import\s*\(?\s*"([^"]+\.js)"', module)
    seen: dict[Path, None] = {}
    pending = [client / name.lstrip("/") for name in found]
    while pending:
        script = pending.pop()
        if script in seen or not script.is_file():
            continue
        seen[script] = None
        for name in STATIC_IMPORT.findall(script.read_text(errors="replace")):
            pending.append(
                client / name.lstrip("/") if name.startswith("/") else script.parent / name
            )
    return list(seen)


def sent_bytes(path: Path) -> int:
    """What the server sends for `path` to a browser accepting gzip."""
    sidecar = path.with_name(path.name + ".gz")
    return (sidecar if sidecar.exists() else path).stat().st_size


def initial_javascript(client: Path, page: str) -> tuple[int, list[tuple[str, int]]]:
    """Total gzipped bytes of a route's initial scripts, and the largest of them."""
    sizes = sorted(
        ((script.name, sent_bytes(script)) for script in route_scripts(client, client / page)),
        key=lambda item: -item[1],
    )
    return sum(size for _, size in sizes), sizes[:5]


def _tool_env(extra: dict[str, str]) -> dict[str, str]:
    bin_dir = os.path.dirname(sys.executable)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "REFLEX_USE_SYSTEM_BUN": "1",
        "TELEMETRY_ENABLED": "false",
        **extra,
    }
    # The embedded default: SQLite in the data folder, Reflex state in memory.
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    return env


def _command(name: str) -> str:
    return shutil.which(name, path=os.path.dirname(sys.executable)) or name


class Server:
    """A server started in a session of its own on one loopback port, logging to `log`."""

    def __init__(self, name: str, root: Path, log: Path, env: dict[str, str] | None = None):
        self.name = name
        self.root = root
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.env = _tool_env(env or {})
        self.process: subprocess.Popen | None = None

    def start(self, command: list[str], ready: str, limit: float = START_LIMIT_SECONDS) -> float:
        """Run `command`; seconds until the page at `ready` first answers 200."""
        began = time.monotonic()
        with self.log.open("a") as output:
            self.process = subprocess.Popen(  # noqa: S603  (our own command, no shell)
                command,
                cwd=self.root,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        while time.monotonic() - began < limit:
            if self.process.poll() is not None:
                raise RuntimeError(f"the {self.name} exited:\n{self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.base}{ready}", timeout=5) as answer:  # noqa: S310
                    if answer.status == 200:
                        return time.monotonic() - began
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"the {self.name} did not answer:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> float:
        """SIGTERM to the command's process; seconds until every process of the server exited
        (whatever is left after the limit is killed)."""
        assert self.process is not None
        began = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        while session_pids(self.process.pid) and time.monotonic() - began < STOP_LIMIT_SECONDS:
            self.process.poll()
            time.sleep(0.05)
        took = time.monotonic() - began
        for pid in session_pids(self.process.pid):
            os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=STOP_LIMIT_SECONDS)
        self.process = None
        return took


def serve_portal(portal: Server, *options: str, limit: float = START_LIMIT_SECONDS) -> float:
    command = [_command("portal"), "serve", "--port", str(portal.port), *options]
    return portal.start(command, "/sign-in", limit)


def skip_build_option() -> str | None:
    """The `portal serve` option that serves the existing build, if this version has one."""
    usage = subprocess.run(  # noqa: S603  (our own command, no shell)
        [_command("portal"), "serve", "--help"], capture_output=True, text=True, check=True
    ).stdout
    return "--no-build" if "--no-build" in usage else None


def _verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def _spread(values: list[float]) -> str:
    figures = ", ".join(f"{value:.1f}" for value in values)
    return f"median {statistics.median(values):.1f} s ({figures})"


def report_javascript() -> None:
    portal_total, portal_largest = initial_javascript(PROJECT_ROOT / BUILD, "sign-in.html")
    bare_total, bare_largest = initial_javascript(BARE_APP / BUILD, "index.html")
    ratio = portal_total / bare_total
    print("\nInitial-route JavaScript (gzipped bytes sent)")
    print(f"  portal /sign-in: {portal_total:,}  largest: {portal_largest}")
    print(f"  bare app /:      {bare_total:,}  largest: {bare_largest}")
    print(f"  ratio {ratio:.2f} (goal <= {JS_GOAL}): {_verdict(ratio <= JS_GOAL)}")


def report_lighthouse(pages: list[tuple[str, str, str | None]]) -> None:
    """Lighthouse on each (name, address, session cookie or None), mobile then desktop."""
    command = lighthouse.install()
    print(
        "\nLighthouse 12, Chromium headless (mobile: Lighthouse's default; desktop preset); "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    for preset in ("mobile", "desktop"):
        for page, url, cookie in pages:
            scores = lighthouse.audit(command, page, url, preset=preset, cookie=cookie)
            met = (
                scores.performance >= PERFORMANCE_GOAL
                and scores.accessibility >= ACCESSIBILITY_GOAL
            )
            print(
                f"  {scores.page}, {scores.preset}: performance {scores.performance:.2f}, "
                f"accessibility {scores.accessibility:.2f} ({_verdict(met)}); "
                f"final URL {scores.final_url}; "
                + ", ".join(f"{name} {value}" for name, value in scores.metrics.items())
            )
            for category, audit, score in scores.failing:
                print(f"    {category}: {audit} scored {score}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=3, help="timed starts (default 3)")
    parser.add_argument("--skip-lighthouse", action="store_true")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="portal-frontend-") as folder:
        bare = Server("bare app", BARE_APP, Path(folder) / "bare.log")
        portal = Server(
            "portal",
            PROJECT_ROOT,
            Path(folder) / "portal.log",
            {"PORTAL_DATA_DIR": f"{folder}/data", "PORTAL_DEMO": "1"},
        )
        portal.env["PORTAL_PUBLIC_URL"] = portal.base
        try:
            # As `portal serve` runs Reflex (portal/cli.py): build, then serve on one port.
            reflex_run = [_command("reflex"), "run", "--env", "prod", "--single-port"]
            bare.start(
                [*reflex_run, "--backend-port", str(bare.port)], "/", FIRST_START_LIMIT_SECONDS
            )
            if not args.skip_lighthouse:
                report_lighthouse([("bare app", f"{bare.base}/", None)])
            bare.stop()
            first = serve_portal(portal, "--demo", limit=FIRST_START_LIMIT_SECONDS)
            first_stop = portal.stop()
            print(
                "portal's first start (migrate, load the demo, build the frontend): "
                f"{first:.1f} s; its shutdown {first_stop:.1f} s"
            )
            report_javascript()
            skip_build = skip_build_option()
            options = [skip_build] if skip_build else []
            starts, stops = [], []
            for run in range(args.starts):
                starts.append(serve_portal(portal, *options))
                if run == 0 and not args.skip_lighthouse:
                    cookie = lighthouse.session_cookie(Path(folder) / "data", DEMO_PATIENT_EMAIL)
                    report_lighthouse(
                        [
                            ("sign-in", f"{portal.base}/sign-in", None),
                            ("patient home", f"{portal.base}/", cookie),
                        ]
                    )
                stops.append(portal.stop())
        finally:
            for server in (bare, portal):
                if server.process is not None:
                    server.stop()
    how = "with the existing build" if skip_build else "REBUILDING the frontend (no --no-build)"
    print(f"\nStart-up, `portal serve {' '.join(options)}` {how}, one worker")
    print(
        f"  to the first answer: {_spread(starts)} (goal <= {START_GOAL_SECONDS} s): "
        f"{_verdict(max(starts) <= START_GOAL_SECONDS)}"
    )
    print(
        f"  SIGTERM to exit: {_spread(stops)} (goal <= {STOP_GOAL_SECONDS} s): "
        f"{_verdict(max(stops) <= STOP_GOAL_SECONDS)}"
    )


if __name__ == "__main__":
    main()
