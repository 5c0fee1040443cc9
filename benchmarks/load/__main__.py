"""Load harness (issue F11): simulated patients against the portal, the same load against a bare
Reflex app, and the ratio.

Usage: .venv/bin/python -m benchmarks.load [--users 200] [--duration 600] [--think 5] [--burst]
           [--idle-clients 200] [--cycles 10000] [--bare-duration 120] [--workers 1] [--quick]

Everything runs on this machine, on loopback ports: a throwaway PostgreSQL database (the demo
practice and the benchmark patients), the portal's backend and the bare app's backend, each
served like `portal serve` (production mode, Granian, one worker, or `--workers N` sharing
Redis). Every simulated user signs in
with a password and an authenticator code, then acts once per think time. The report gives,
per action, p50/p95/p99 latency (first event sent to the update that ends the action), errors
and update sizes, for the portal and the bare app, their p95 ratio, the backend's memory, and
(with --burst) the other users' p95 while 20 sign-ins a second go on.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from urllib.parse import urlsplit

from benchmarks.load import phases
from benchmarks.load.patient import JOURNEY
from benchmarks.load.population import load_practice
from benchmarks.load.record import ALL, Recorder, failure_kinds, ratio, row, rows, table
from benchmarks.load.servers import BARE_APP, PROJECT_ROOT, Server, serve
from benchmarks.support import postgres_database
from portal import routes

MIB = 1024 * 1024
# Setting up (sign-ins, memory phases) may take this long beyond the measured time.
SETUP_LIMIT_SECONDS = 900
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
SIGN_IN_STEPS = ("sign-in page", "sign-in password", "sign-in code", "sign-in landing")


def main() -> None:
    args = _arguments()
    if args.quick:
        args.users, args.duration, args.bare_duration = 20, 60, 60
        args.idle_clients, args.cycles = 20, 500
    burst = phases.Burst(seconds=20 if args.quick else 60) if args.burst else None
    burst_count = int(burst.rate * burst.seconds) if burst else 0
    idle_accounts = args.idle_clients + phases.WARM_UP_CLIENTS if args.idle_clients else 0
    print(
        f"Load: {args.users} users, one action per {args.think:g} s each, {args.duration:g} s, "
        f"{args.workers} worker{'s' if args.workers != 1 else ''}"
    )
    began = time.monotonic()
    with postgres_database() as database:
        active, burst_accounts = load_practice(
            database, active=args.users + idle_accounts, burst=burst_count
        )
        print(
            f"practice loaded ({len(active)} + {len(burst_accounts)} patients) "
            f"in {time.monotonic() - began:.0f} s"
        )
        env = {
            "DATABASE_URL": database.engine.url.render_as_string(hide_password=False),
            "PORTAL_DATA_DIR": str(database.settings.data_dir),
        }
        with serve("portal", PROJECT_ROOT, env, args.workers, args.redis_url) as portal:
            portal_report = asyncio.run(
                _bounded(_portal(portal, args, active, burst_accounts, burst), args.duration)
            )
    with serve("bare", BARE_APP, {}, args.workers, args.redis_url) as bare:
        bare_recorder, bare_cpu = asyncio.run(_bounded(_bare(bare, args), args.bare_duration))
    portal_rows = rows(portal_report["recorder"], JOURNEY)
    bare_rows = rows(bare_recorder, ["increment"])
    print()
    print(table([("portal", portal_rows), ("bare", bare_rows)]))
    print(ratio(portal_rows[-1], bare_rows[-1]))
    print(
        f"errors by kind: portal {failure_kinds(portal_report['recorder'])}; "
        f"bare {failure_kinds(bare_recorder)}"
    )
    for line in [*portal_report["lines"], bare_cpu]:
        print(line)
    print(f"total time {time.monotonic() - began:.0f} s")


async def _bounded(phase, measured_seconds: float):
    return await asyncio.wait_for(phase, timeout=measured_seconds + SETUP_LIMIT_SECONDS)


async def _portal(portal: Server, args, active, burst_accounts, burst) -> dict:
    lines: list[str] = []
    hashes = await phases.compiled_hashes(portal.base, routes.SIGN_IN)
    if args.idle_clients:  # first, on a server that has seen no load yet
        # Accounts of their own: a second sign-in within one authenticator step is refused.
        idle = await phases.idle_memory(portal, portal.base, active[args.users :], hashes)
        lines.append(
            f"idle signed-in clients: {idle.clients}, RSS {idle.before / MIB:.0f} -> "
            f"{idle.after / MIB:.0f} MiB, {idle.per_client / 1024:.0f} KiB per client"
        )
    setup = Recorder()
    started = time.monotonic()
    patients = await phases.sign_in_all(portal.base, setup, active[: args.users], hashes)
    lines.append(
        f"sign-in of {args.users} users (8 at a time): {len(patients)} signed in "
        f"in {time.monotonic() - started:.0f} s; "
        + "; ".join(_brief(setup, label) for label in SIGN_IN_STEPS)
        + f"; failures {failure_kinds(setup)}"
    )
    if patients:
        state = await phases.full_state_bytes(portal.base, patients[0].tab)
        lines.append(f"client-visible state of a signed-in tab on home: {state / 1024:.1f} KiB")
    recorder = Recorder()
    rss: list[tuple[float, int]] = []
    rss.append((time.monotonic(), portal.rss_bytes()))
    cpu = _cpu(portal)
    sampler = asyncio.create_task(phases.sample_rss(portal, rss))
    try:
        await phases.portal_work(
            portal.base,
            patients,
            hashes,
            think=args.think,
            duration=args.duration,
            recorder=recorder,
            setup=setup,
            burst=burst,
            burst_accounts=burst_accounts,
        )
    finally:
        sampler.cancel()
        rss.append((time.monotonic(), portal.rss_bytes()))
        await asyncio.gather(*(p.tab.close() for p in patients))
    lines.append(_cpu_line("portal", portal, cpu))
    values = [value for _, value in rss]
    lines.append(
        f"portal backend RSS during the load: start {values[0] / MIB:.0f} MiB, "
        f"peak {max(values) / MIB:.0f} MiB, end {values[-1] / MIB:.0f} MiB"
    )
    if burst is not None:
        lines.extend(_burst_lines(recorder, burst))
    if args.cycles:
        trend = await phases.connect_cycles(
            portal, portal.base, hashes, args.cycles, path=routes.SIGN_IN
        )
        lines.append(
            f"connect/disconnect cycles: {trend[-1][0]}, RSS {trend[0][1] / MIB:.0f} -> "
            f"{trend[-1][1] / MIB:.0f} MiB (along the way: "
            + ", ".join(f"{n}: {value / MIB:.0f}" for n, value in trend[1:-1])
            + ")"
        )
    return {"recorder": recorder, "lines": lines}


async def _bare(bare: Server, args) -> tuple[Recorder, str]:
    hashes = await phases.compiled_hashes(bare.base, "/")
    recorder = Recorder()
    cpu = _cpu(bare)
    await phases.bare_work(
        bare.base,
        args.users,
        hashes,
        think=args.think,
        duration=args.bare_duration,
        recorder=recorder,
    )
    return recorder, _cpu_line("bare", bare, cpu)


def _cpu(server: Server) -> tuple[float, float, float]:
    return time.monotonic(), server.cpu_seconds(), time.process_time()


def _cpu_line(name: str, server: Server, since: tuple[float, float, float]) -> str:
    """How busy the server and this load generator were (in cores) over the measured time."""
    wall = time.monotonic() - since[0]
    served = (server.cpu_seconds() - since[1]) / wall
    generated = (time.process_time() - since[2]) / wall
    return (
        f"{name} measured phase: server used {served:.2f} cores, "
        f"the load generator {generated:.2f} cores (of 2)"
    )


def _burst_lines(recorder: Recorder, burst: phases.Burst) -> list[str]:
    start, end = burst.window
    during = [s for label in JOURNEY for s in recorder.seconds(label, between=(start, end))]
    outside = [
        s.seconds
        for label in JOURNEY
        for s in recorder.samples.get(label, [])
        if not start <= s.at < end
    ]
    sign_ins = burst.recorder
    return [
        f"sign-in burst: {burst.rate:g}/s for {end - start:.0f} s; "
        + "; ".join(_brief(sign_ins, label) for label in SIGN_IN_STEPS)
        + f"; failures {failure_kinds(sign_ins)}"
        + f"; connects refused and retried {sum(sign_ins.retries.values())}",
        f"other users' p95 during the burst {row(ALL, during, [], 0).p95_ms:.1f} ms "
        f"({len(during)} actions), outside it {row(ALL, outside, [], 0).p95_ms:.1f} ms",
    ]


def _brief(recorder: Recorder, label: str) -> str:
    found = row(label, recorder.seconds(label), [], 0)
    return f"{label} p50 {found.p50_ms:.0f} ms, p95 {found.p95_ms:.0f} ms ({found.count})"


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.load", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--users", type=int, default=200, help="concurrent users (200)")
    parser.add_argument("--duration", type=float, default=600, help="measured seconds (600)")
    parser.add_argument("--think", type=float, default=5, help="mean seconds between actions (5)")
    parser.add_argument("--burst", action="store_true", help="20 sign-ins a second for 60 s")
    parser.add_argument(
        "--idle-clients", type=int, default=200, help="clients for memory per client (200; 0: skip)"
    )
    parser.add_argument(
        "--cycles", type=int, default=10_000, help="connect/disconnect cycles (10000; 0: skip)"
    )
    parser.add_argument(
        "--bare-duration", type=float, default=120, help="measured seconds for the bare app (120)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="backend workers of each app (1; more share their state in Redis)",
    )
    parser.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/7",
        help="an emptied Redis database for more than one worker (redis://127.0.0.1:6379/7)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="a 60 s smoke run with 20 users (for development)"
    )
    args = parser.parse_args()
    # The harness empties this database and loads this machine: never someone else's.
    if urlsplit(args.redis_url).hostname not in LOOPBACK:
        parser.error(f"--redis-url must be on this machine (127.0.0.1), not {args.redis_url}")
    return args


if __name__ == "__main__":
    os.environ.setdefault("TELEMETRY_ENABLED", "false")
    main()
