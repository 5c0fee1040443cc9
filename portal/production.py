"""Serving in production (`portal serve`): how many backend workers, and serving a frontend that
was built earlier (`--no-build`, e.g. at image build time) without compiling or building again.

`python -m portal.production PORT` is what `portal serve --no-build` runs once the database is
ready: Reflex's production server (Granian, `GRANIAN_WORKERS` forked workers on one port) with
the pages of the existing build, exactly as `reflex run --env prod --single-port` serves them
after its own compile and build."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from portal.backend.config import MAX_WORKERS, ConfigError, Settings

# Reflex writes the addresses the frontend connects to here when it compiles for a build.
BUILD_ADDRESSES = "env.json"
BUILD_PAGE = Path("build") / "client" / "index.html"


def worker_count(requested: int | None, config: Settings) -> int:
    """How many backend processes to start; several need state and data they can share."""
    workers = config.workers if requested is None else requested
    if not 1 <= workers <= MAX_WORKERS:
        raise ConfigError(f"--workers must be from 1 to {MAX_WORKERS} (it is {workers}).")
    if workers > 1 and not config.redis_url:
        raise ConfigError(
            f"{workers} workers need REDIS_URL: each tab's state must be shared by every "
            "worker; set REDIS_URL (redis:// or rediss://) or serve with one worker."
        )
    if workers > 1 and config.is_sqlite:
        raise ConfigError(
            f"{workers} workers need a PostgreSQL DATABASE_URL: SQLite cannot be shared by "
            "several processes safely; set DATABASE_URL or serve with one worker."
        )
    return workers


def check_frontend_build(web_dir: Path, public_url: str) -> None:
    """Refuse to serve a missing build, or one whose pages would connect to another address
    than PORTAL_PUBLIC_URL (the address, and whether cookies are `Secure`, are built in)."""
    if not (web_dir / BUILD_PAGE).is_file():
        raise ConfigError(
            f"There is no frontend build in {web_dir / 'build'} to serve: build it with "
            "`reflex export --frontend-only --no-zip --env prod`, or serve without --no-build."
        )
    built_for = _built_for(web_dir / BUILD_ADDRESSES)
    if built_for != public_url:
        raise ConfigError(
            f"The frontend in {web_dir / 'build'} was built for {built_for or 'an unknown address'}"
            f", not for PORTAL_PUBLIC_URL {public_url}: build it again with this PORTAL_PUBLIC_URL"
            ", or serve without --no-build."
        )


def _built_for(addresses: Path) -> str | None:
    try:
        ping = json.loads(addresses.read_text())["PING"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return ping.removesuffix("/ping") if isinstance(ping, str) else None


def web_dir() -> Path:
    """Where Reflex keeps the frontend (`.web`, or REFLEX_WEB_WORKDIR)."""
    from reflex.utils.prerequisites import get_web_dir

    return get_web_dir()


def respawn_failed_workers() -> None:
    """Granian, Reflex's production server, stops every worker and exits when one worker dies
    (a crash, the kernel's out-of-memory killer): one bad request would take the whole server
    down. Reflex builds its Granian server with fixed arguments, so the class it imports is
    replaced by one that respawns a failed worker (Granian still gives up on a crash loop)."""
    import granian.server

    if getattr(granian.server.Server, "respawns_failed_workers", False):
        return

    class RespawningServer(granian.server.Server):
        respawns_failed_workers = True

        def __init__(self, *args, **kwargs) -> None:
            kwargs.setdefault("respawn_failed_workers", True)
            super().__init__(*args, **kwargs)

    granian.server.Server = RespawningServer


def serve_existing_build(port: int) -> None:
    """Serve pages, websocket and API on `port` from the build in `web_dir()`; never returns."""
    from reflex_base import constants
    from reflex_base.environment import environment

    # Set first: Reflex reads the mode when its modules load, and the workers inherit both.
    environment.REFLEX_ENV_MODE.set(constants.Env.PROD)
    environment.REFLEX_SKIP_COMPILE.set(True)
    from reflex.utils import exec as reflex_exec
    from reflex_base.config import get_config

    config = get_config()
    reflex_exec.run_backend_prod(
        config.backend_host,
        port,
        config.loglevel.subprocess_level(),
        mount_frontend_compiled_app=True,
    )


if __name__ == "__main__":
    serve_existing_build(int(sys.argv[1]))
