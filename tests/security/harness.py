"""Tools of the attack suite: a raw websocket client that sends many events, each with its own
address, and a byte-level picture of the database to tell exactly which rows an attack changed.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import inspect, text

from tests.e2e.socket import _connect, in_thread, session_cookie

# Rows that the attacks may add or the server's jobs change on their own: the audit log (every
# refusal is audited), address counters, delivery attempts, keys.
SKIPPED_TABLES = {
    "audit_events",
    "sign_in_attempts",
    "notification_attempts",
    "data_keys",
    "reencryption_progress",
    "alembic_version",
}
# Columns the jobs move by themselves (delivery, session sweep, activity stamps). Ending a
# victim's session is checked separately.
VOLATILE_COLUMNS = {
    "user_sessions": {"last_seen_at", "expires_at", "ended_at", "end_reason"},
    "notifications": {
        "status",
        "suppressed_reason",
        "attempts",
        "last_error",
        "provider_message_id",
        "delivery_status",
        "due_at",
        "sent_at",
    },
    "slot_holds": {"outcome"},
}


def router(path: str = "/", query: dict[str, str] | None = None) -> dict:
    query = query or {}
    query_string = f"?{urlencode(query)}" if query else ""
    return {"pathname": path, "query": query, "asPath": f"{path}{query_string}"}


def send_events(
    base: str,
    events: Iterable[tuple[str, dict, dict]],
    *,
    session_token: str = "",
    tab_token: str | None = None,
    quiet_seconds: float = 2.5,
    limit_seconds: float = 240,
) -> list[str]:
    """Send every (handler name, payload, router data) in order on one connection that carries
    `session_token` in its session cookie; then wait until the server has been quiet for
    `quiet_seconds`. Returns every update it sent, as JSON text."""
    events = list(events)

    async def session() -> list[str]:
        received: list[str] = []
        last = [time.monotonic()]
        client = await _connect(
            base, tab_token or uuid.uuid4().hex, base, session_token=session_token
        )

        @client.on("event", namespace="/_event")
        async def on_update(data) -> None:
            received.append(json.dumps(data, default=str))
            last[0] = time.monotonic()

        for name, payload, route in events:
            await client.emit(
                "event",
                {"name": name, "payload": payload, "router_data": route},
                namespace="/_event",
            )
            await asyncio.sleep(0.02)  # keeps them in order without waiting for each
        started = last[0] = time.monotonic()
        while time.monotonic() - last[0] < quiet_seconds:
            if time.monotonic() - started > limit_seconds:
                received.append("timeout: the server kept sending")
                break
            await asyncio.sleep(0.2)
        await client.disconnect()
        return received

    return in_thread(session())


def _normal(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, str) and len(value) in (32, 36):
        try:
            return uuid.UUID(value).hex
        except ValueError:
            return value
    if isinstance(value, memoryview):
        return bytes(value)
    return value


def picture(database) -> dict[str, dict[str, tuple]]:
    """Every row of every table (but the skipped ones), by id, as its raw stored values (PHI
    stays sealed: any write re-seals with a new nonce, so a rewrite shows as a change)."""
    engine = database.engine
    tables: dict[str, dict[str, tuple]] = {}
    with engine.connect() as connection:
        for name in inspect(connection).get_table_names():
            if name in SKIPPED_TABLES:
                continue
            result = connection.execute(text(f'SELECT * FROM "{name}"'))
            columns = list(result.keys())
            volatile = VOLATILE_COLUMNS.get(name, set())
            rows: dict[str, tuple] = {}
            for raw in result:
                row = {c: _normal(v) for c, v in zip(columns, raw, strict=True)}
                kept = tuple((c, row[c]) for c in columns if c not in volatile)
                key = row.get("id") or hashlib.sha256(repr(kept).encode()).hexdigest()
                rows[str(key)] = kept
            tables[name] = rows
    return tables


def checksum(tables: dict[str, dict[str, tuple]]) -> str:
    digest = hashlib.sha256()
    for name in sorted(tables):
        for key in sorted(tables[name]):
            digest.update(repr((name, tables[name][key])).encode())
    return digest.hexdigest()


def owned_ids(tables: dict[str, dict[str, tuple]], seeds: Iterable[Any]) -> set[str]:
    """The caller's own ids: `seeds` (their user and patient or provider ids) and every row that
    refers to one of them, and so on (threads → messages → attachments)."""
    owned = {_normal(seed) for seed in seeds if seed}
    for _round in range(4):
        grown = False
        for rows in tables.values():
            for key, row in rows.items():
                if key in owned:
                    continue
                if any(value in owned for column, value in row if column != "id"):
                    owned.add(key)
                    grown = True
        if not grown:
            break
    return owned


def job_made(name: str, row: dict) -> bool:
    """Rows the server's own jobs add while an attack runs: reminders and waitlist offers."""
    if name == "notifications":
        return any(word in str(row.get("template_id")) for word in ("reminder", "offer", "wait"))
    if name == "slot_holds":
        return row.get("waitlist_entry_id") is not None
    return False


def foreign_changes(
    before: dict[str, dict[str, tuple]],
    after: dict[str, dict[str, tuple]],
    *,
    own: Iterable[Any] = (),
) -> list[str]:
    """Rows added, removed or changed that are not the caller's own."""
    mine = owned_ids(after, own) | owned_ids(before, own)
    found = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name, {}), after.get(name, {})
        for key in sorted(set(old) | set(new)):
            if old.get(key) == new.get(key):
                continue
            row = dict(new.get(key) or old.get(key))
            if key in mine or any(v in mine for c, v in row.items() if c != "id"):
                continue
            if key not in old and job_made(name, row):
                continue
            kind = "added" if key not in old else "removed" if key not in new else "changed"
            changed = (
                sorted(c for c, v in new[key] if dict(old[key]).get(c) != v)
                if kind == "changed"
                else []
            )
            found.append(f"{name} {key} {kind} {changed}")
    return found


async def connect(
    base: str,
    *,
    headers: dict[str, str] | None = None,
    tab: str | None = None,
    session_token: str = "",
):
    """A websocket client with any headers (Origin defaults to the portal's own), carrying
    `session_token` in its session cookie when given."""
    import socketio

    client = socketio.AsyncClient(reconnection=False)
    await client.connect(
        f"{base}?token={tab or uuid.uuid4().hex}",
        socketio_path="/_event",
        namespaces=["/_event"],
        transports=["websocket"],
        headers={"Origin": base, **session_cookie(session_token), **(headers or {})},
        wait_timeout=10,
    )
    return client


async def emit(client, name: str, payload: dict, route: dict | None = None) -> None:
    await client.emit(
        "event",
        {"name": name, "payload": payload, "router_data": route or router()},
        namespace="/_event",
    )


def forget_failed_sign_ins(database) -> None:
    """The attacks fail sign-ins from 127.0.0.1 on purpose; the address's count is cleared
    after them so that the rest of the run is not rate-limited (a test arrangement)."""
    with database.engine.begin() as connection:
        connection.execute(text("DELETE FROM sign_in_attempts"))


# Columns that say whose a row is and what a user may do: never changed by any handler, not even
# on the caller's own rows (mass assignment).
OWNERSHIP_COLUMNS = {"role", "tenant_id", "patient_id", "user_id", "care_team_id", "status"}


def ownership_changes(
    before: dict[str, dict[str, tuple]], after: dict[str, dict[str, tuple]], *, tables=None
) -> list[str]:
    """Rows whose owner, tenant or role columns changed (in `tables`, or all)."""
    found = []
    for name in sorted(tables or set(before) & set(after)):
        old, new = before.get(name, {}), after.get(name, {})
        for key in set(old) & set(new):
            was, now = dict(old[key]), dict(new[key])
            changed = [c for c in OWNERSHIP_COLUMNS & set(was) if was[c] != now.get(c)]
            if changed:
                found.append(f"{name} {key} {sorted(changed)}")
    return found
