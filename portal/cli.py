"""The `portal` command: prepare the database, load demo data, create an admin, serve."""

from __future__ import annotations

import argparse
import getpass
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from portal.backend.config import ConfigError, Settings, settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except ConfigError as error:
        print(f"portal: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="portal",
        description="Run and administer the patient portal. Configuration comes from "
        "environment variables (see docs/configuration.md).",
    )
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    def command(name: str, run: Callable[[argparse.Namespace], int], text: str):
        sub = commands.add_parser(name, help=text, description=text)
        sub.set_defaults(run=run)
        return sub

    command("migrate", _migrate, "Create or upgrade the database schema to the latest version.")
    command("demo", _demo, "Load the demo practice (idempotent: a second run changes nothing).")
    admin = command(
        "create-admin",
        _create_admin,
        "Create a practice administrator (and the practice, if there is none yet).",
    )
    admin.add_argument("--email", required=True, help="the administrator's email address")
    admin.add_argument("--name", required=True, help="the administrator's full name")
    admin.add_argument("--practice-name", help="name of the practice to create, if none exists")
    admin.add_argument(
        "--time-zone",
        default="America/New_York",
        help="IANA time zone of a new practice (default America/New_York)",
    )
    serve = command(
        "serve", _serve, "Prepare the database and serve the portal in production mode on one port."
    )
    serve.add_argument("--port", type=int, default=3000, help="port to listen on (default 3000)")
    serve.add_argument(
        "--demo",
        action="store_true",
        help="load the demo practice and turn on demo mode (PORTAL_DEMO=1)",
    )
    return parser


def _prepare(config: Settings) -> None:
    """Check the data folder and the database, then bring the schema up to date."""
    _ensure_writable(config.data_dir)
    from alembic import command
    from alembic.config import Config

    from portal.backend.db import check_connection, database

    check_connection(database().engine)
    alembic = Config(str(PROJECT_ROOT / "alembic.ini"))
    with database().engine.begin() as connection:
        alembic.attributes["connection"] = connection
        command.upgrade(alembic, "head")
    database().keyring.open_all()  # a wrong or missing key file stops start-up, not a request


def _migrate(args: argparse.Namespace) -> int:
    _prepare(settings())
    print("The database schema is up to date.")
    return 0


def _demo(args: argparse.Namespace) -> int:
    _prepare(settings())
    _load_demo()
    return 0


def _load_demo() -> None:
    from portal.backend.db import database
    from portal.backend.demo import load_demo

    created = load_demo(uow=database().unit_of_work())
    print("Loaded the demo practice." if created else "The demo practice is already loaded.")


def _create_admin(args: argparse.Namespace) -> int:
    from portal.backend.db import database
    from portal.backend.services.accounts import AccountError, create_admin

    _prepare(settings())
    password = getpass.getpass("Password (at least 12 characters): ")
    if password != getpass.getpass("Repeat the password: "):
        raise ConfigError("The two passwords differ; nothing was created.")
    try:
        create_admin(
            email=args.email,
            name=args.name,
            password=password,
            practice_name=args.practice_name,
            time_zone=args.time_zone,
            uow=database().unit_of_work(),
        )
    except AccountError as error:
        raise ConfigError(str(error)) from None
    print(f"Created the administrator {args.email}.")
    return 0


def _serve(args: argparse.Namespace) -> int:
    if args.demo:
        os.environ["PORTAL_DEMO"] = "1"
        settings.cache_clear()
    config = settings()
    _prepare(config)
    if args.demo:
        _load_demo()
    reflex = shutil.which("reflex", path=os.path.dirname(sys.executable)) or "reflex"
    env = dict(os.environ, REFLEX_USE_SYSTEM_BUN="1", TELEMETRY_ENABLED="false")
    env["PATH"] = f"{os.path.dirname(sys.executable)}{os.pathsep}{env.get('PATH', '')}"
    print(f"Serving the portal at {config.public_url} (stop with Ctrl+C).", flush=True)
    command = [reflex, "run", "--env", "prod", "--single-port", "--backend-port", str(args.port)]
    os.chdir(PROJECT_ROOT)
    os.execvpe(command[0], command, env)  # noqa: S606  (the server replaces this process)
    return 0


def _ensure_writable(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder):
            pass
    except OSError:
        raise ConfigError(
            f"The data folder {folder} is not writable by this user; fix its permissions or set "
            "PORTAL_DATA_DIR to a folder this user can write."
        ) from None


if __name__ == "__main__":
    sys.exit(main())
