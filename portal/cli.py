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

from portal import production
from portal.backend import redaction
from portal.backend.config import ConfigError, Settings, settings
from portal.backend.migrations import PROJECT_ROOT


def main(argv: list[str] | None = None) -> int:
    redaction.install()
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
    add(commands, "migrate", _migrate, "Create or upgrade the database schema to the latest.")
    add(commands, "demo", _demo, "Load the demo practice (a second run changes nothing).")
    admin = add(
        commands,
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
    serve = add(
        commands,
        "serve",
        _serve,
        "Prepare the database and serve the portal in production mode on one port.",
    )
    serve.add_argument("--port", type=int, default=3000, help="port to listen on (default 3000)")
    serve.add_argument(
        "--workers",
        type=int,
        help="backend worker processes sharing the port (default PORTAL_WORKERS, else 1); "
        "more than one needs REDIS_URL and a PostgreSQL DATABASE_URL",
    )
    serve.add_argument(
        "--demo",
        action="store_true",
        help="load the demo practice and turn on demo mode (PORTAL_DEMO=1)",
    )
    serve.add_argument(
        "--no-build",
        action="store_true",
        help="serve the frontend already built in .web/build (for this PORTAL_PUBLIC_URL) "
        "instead of compiling and building it first",
    )

    code = add(
        commands,
        "demo-code",
        _demo_code,
        "Print the current authenticator code of a demo account (demo mode only).",
    )
    code.add_argument("email", help="a demo account's email address")

    keys = group(commands, "keys", "Manage the keys that encrypt PHI.")
    add(keys, "status", _keys_status, "Count stored PHI values by key version.")
    add(keys, "rotate", _keys_rotate, "Create a new data-key version; new writes use it.")
    reencrypt = add(
        keys,
        "reencrypt",
        _keys_reencrypt,
        "Re-encrypt every PHI value under the newest key version, in batches; an "
        "interrupted run resumes where it stopped.",
    )
    reencrypt.add_argument("--batch-size", type=int, default=500, help="rows per transaction")
    add(
        keys,
        "rewrap",
        _keys_rewrap,
        "Re-wrap the stored keys under the current key-encryption key (a new "
        "PORTAL_KMS_KEY_ID, or a new local key file). No PHI value changes.",
    )

    audit = group(commands, "audit", "Verify and checkpoint the audit log.")
    verify = add(
        audit,
        "verify",
        _audit_verify,
        "Check the whole audit chain and name the first broken event.",
    )
    verify.add_argument(
        "--checkpoint",
        help="a checkpoint file or s3://bucket/key to check "
        "against (finds events deleted from the end)",
    )
    checkpoint = add(
        audit,
        "checkpoint",
        _audit_checkpoint,
        "Write the signed head of the audit chain to a file or s3://bucket/key.",
    )
    checkpoint.add_argument(
        "--to", required=True, dest="destination", help="a new file path, or s3://bucket/key"
    )
    backup = add(
        commands,
        "backup",
        _backup,
        "Write an encrypted, integrity-checked archive of the database (with its wrapped "
        "keys) and the local file store (see docs/backups.md).",
    )
    backup.add_argument(
        "--to",
        dest="destination",
        help="a folder (a new file named by the time goes in it) or a new .pbk file; "
        "default PORTAL_BACKUP_DIR",
    )
    restore = add(
        commands,
        "restore",
        _restore,
        "Restore an archive into an empty database and file store, then verify the audit log.",
    )
    restore.add_argument("archive", help="the archive (.pbk) to restore")
    return parser


def add(commands, name: str, run: Callable[[argparse.Namespace], int], text: str):
    command = commands.add_parser(name, help=text, description=text)
    command.set_defaults(run=run)
    return command


def group(commands, name: str, text: str):
    return commands.add_parser(name, help=text, description=text).add_subparsers(
        title="commands", required=True, metavar="COMMAND"
    )


def _prepare(config: Settings) -> None:
    """Check the data folder and the database, then bring the schema up to date."""
    _ensure_writable(config.data_dir)
    from portal.backend import migrations
    from portal.backend.db import check_connection, database

    check_connection(database().engine)
    migrations.upgrade(config.database_url)
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


def _demo_code(args: argparse.Namespace) -> int:
    from portal.backend.db import database
    from portal.backend.demo import NotADemo, demo_code

    _prepare(settings())
    try:
        code, seconds = demo_code(args.email, uow=database().unit_of_work())
    except NotADemo as refusal:
        raise ConfigError(str(refusal)) from None
    print(f"{code}  (valid for {seconds} more seconds)")
    return 0


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


def _keys_status(args: argparse.Namespace) -> int:
    from portal.backend import keys
    from portal.backend.db import database

    _prepare(settings())
    current = database().keyring.current_version
    print(f"New writes use key version {current}.")
    for column, versions in sorted(keys.status(database().engine).items()):
        counts = ", ".join(f"v{version}: {count}" for version, count in sorted(versions.items()))
        print(f"  {column}: {counts}")
    return 0


def _keys_rotate(args: argparse.Namespace) -> int:
    from portal.backend import keys
    from portal.backend.db import database

    _prepare(settings())
    version = keys.rotate(database().engine, database().keyring)
    _system_audit("keys.rotate", resource_id=str(version))
    print(
        f"Created key version {version}. Running portals use it for new writes within a "
        "minute; run `portal keys reencrypt` to move existing values to it."
    )
    return 0


def _keys_reencrypt(args: argparse.Namespace) -> int:
    from portal.backend import keys
    from portal.backend.db import database

    _prepare(settings())
    report = keys.reencrypt(database().engine, database().keyring, batch_size=args.batch_size)
    _system_audit("keys.reencrypt", resource_id=str(database().keyring.current_version))
    print(
        f"Re-encrypted {report.rows_resealed} rows in {report.batches} batches; every PHI "
        f"value now uses key version {database().keyring.current_version}."
    )
    return 0


def _keys_rewrap(args: argparse.Namespace) -> int:
    from portal.backend import keys
    from portal.backend.db import database

    config = settings()
    _prepare(config)
    db = database()
    if config.key_provider == "local":
        retired = keys.rewrap_local_key_file(db.engine, db.keyring, config.key_file)
        message = f"Re-wrapped the keys under a new key file; the old one is kept as {retired}."
    else:
        count = keys.rewrap(db.engine, db.keyring, keys.key_provider(config))
        message = f"Re-wrapped {count} keys under the KMS key {config.kms_key_id}."
    _system_audit("keys.rewrap")
    print(message + " Back up the new key material now.")
    return 0


def _audit_verify(args: argparse.Namespace) -> int:
    from portal.backend.audit import checkpoint_is_authentic, verify_chain
    from portal.backend.checkpoints import load_checkpoint
    from portal.backend.db import database

    config = settings()
    _prepare(config)
    checkpoint = load_checkpoint(args.checkpoint, config) if args.checkpoint else None
    if checkpoint is not None and not checkpoint_is_authentic(checkpoint, database().keyring):
        print(
            "The checkpoint's signature is not valid; it was not made by this portal or "
            "it was altered.",
            file=sys.stderr,
        )
        return 1
    report = verify_chain(database().engine, database().keyring, checkpoint)
    _system_audit("audit.verify", outcome="success" if report.intact else "failure")
    print(report, file=sys.stdout if report.intact else sys.stderr)
    return 0 if report.intact else 1


def _audit_checkpoint(args: argparse.Namespace) -> int:
    from portal.backend.audit import make_checkpoint
    from portal.backend.checkpoints import save_checkpoint
    from portal.backend.db import database

    config = settings()
    _prepare(config)
    checkpoint = make_checkpoint(database().engine, database().keyring)
    save_checkpoint(checkpoint, args.destination, config)
    _system_audit("audit.checkpoint")
    chains = len(checkpoint["heads"])
    print(f"Wrote a signed checkpoint of {chains} chain heads to {args.destination}.")
    return 0


def _backup(args: argparse.Namespace) -> int:
    from portal.backend.backup import create_backup
    from portal.backend.db import check_connection, database

    config = settings()
    destination = Path(args.destination) if args.destination else config.backup_dir
    if destination is None:
        raise ConfigError("Say where to write the archive: --to FOLDER, or set PORTAL_BACKUP_DIR.")
    check_connection(database().engine)
    report = create_backup(database(), destination)
    _system_audit("backup.create", resource_id=report.path.name)
    print(report)
    return 0


def _restore(args: argparse.Namespace) -> int:
    from portal.backend.backup import restore_backup
    from portal.backend.db import check_connection, database

    config = settings()
    _ensure_writable(config.data_dir)
    check_connection(database().engine)
    report = restore_backup(Path(args.archive), database())
    if report.audit.intact and not report.behind_head:
        _system_audit("backup.restore")
    print(report, file=sys.stdout if report.audit.intact else sys.stderr)
    return 0 if report.audit.intact else 1


def _system_audit(action: str, **details: str) -> None:
    """Record an operator's command in the audit log (the actor is the system)."""
    from portal.backend.db import database

    with database().unit_of_work() as uow:
        uow.audit.record(None, action, resource_type="system", **details)
        uow.commit()


def _serve(args: argparse.Namespace) -> int:
    if args.demo:
        os.environ["PORTAL_DEMO"] = "1"
        settings.cache_clear()
    config = settings()
    workers = production.worker_count(args.workers, config)
    if args.no_build:
        production.check_frontend_build(PROJECT_ROOT / production.web_dir(), config.public_url)
    _prepare(config)
    if args.demo:
        _load_demo()
    env = dict(os.environ, REFLEX_USE_SYSTEM_BUN="1", TELEMETRY_ENABLED="false")
    env["PATH"] = f"{os.path.dirname(sys.executable)}{os.pathsep}{env.get('PATH', '')}"
    # Reflex builds the frontend once in this process (unless --no-build), then Granian (its
    # production server) forks the workers, which share the one port; each worker runs its own
    # scheduler.
    env.update(REFLEX_USE_GRANIAN="true", GRANIAN_WORKERS=str(workers))
    print(
        f"Serving the portal at {config.public_url} with {workers} worker"
        f"{'s' if workers != 1 else ''} (stop with Ctrl+C).",
        flush=True,
    )
    if args.no_build:
        command = [sys.executable, "-m", "portal.production", str(args.port)]
    else:
        reflex = shutil.which("reflex", path=os.path.dirname(sys.executable)) or "reflex"
        command = [
            reflex,
            "run",
            "--env",
            "prod",
            "--single-port",
            "--backend-port",
            str(args.port),
        ]
    os.chdir(PROJECT_ROOT)
    # The server replaces this process.
    os.execvpe(command[0], command, env)  # noqa: S606  # nosec B606
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
