"""The audit log: one `record` call that every service makes, in the caller's transaction.

Each event stores HMAC-SHA256(previous hash ‖ canonical JSON of the event) under a key derived
outside the database, so editing, inserting or deleting a row breaks the chain. To let
concurrent transactions append without queueing behind one lock, PostgreSQL keeps
`PARALLEL_CHAINS` independent chains: a transaction takes the first chain whose advisory lock is
free and reads its head in one round trip (`audit_claim_chain`, created by the migration), and
keeps the lock until it commits. SQLite has a single writer and one chain.
`verify_chain` checks every chain; a signed checkpoint holds every chain's head.
"""

from __future__ import annotations

import base64
import contextvars
import hmac
import json
import multiprocessing
import os
import uuid
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import Engine, bindparam, func, insert, select, text
from sqlmodel import Session

from portal.backend.crypto import KeyRing
from portal.backend.models import AuditEvent
from portal.backend.models.base import utcnow
from portal.backend.security.principal import Principal

GENESIS = "0" * 64
PARALLEL_CHAINS = 16
CHAIN_LOCK_SPACE = 710_431  # first key of the two-key advisory locks, one per chain
CHAIN_IN_SESSION = "audit_chain"

# Built once: constructing statements per call costs more client CPU than the SQL itself.
_CLAIM_CHAIN = text("SELECT * FROM audit_claim_chain(:space, :chains)")
_CHAIN_HEAD = (
    select(AuditEvent.sequence, AuditEvent.hash)
    .where(AuditEvent.chain == bindparam("chain"))
    .order_by(AuditEvent.sequence.desc())
    .limit(1)
)
_INSERT_EVENT = insert(AuditEvent.__table__)


@dataclass(frozen=True)
class RequestContext:
    """Where a request came from, as the audit log records it (the address only as a hash)."""

    client_address: str | None = None
    request_id: str | None = None


_request: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "audit_request", default=None
)


@contextmanager
def request_context(client_address: str | None, request_id: str | None) -> Iterator[None]:
    token = _request.set(RequestContext(client_address, request_id))
    try:
        yield
    finally:
        _request.reset(token)


class AuditLog:
    def __init__(self, session: Session, keyring: KeyRing):
        self._session = session
        self._keyring = keyring
        self._break_glass: dict[uuid.UUID, uuid.UUID] = {}

    def flag_break_glass(self, patient_id: uuid.UUID, grant_id: uuid.UUID) -> None:
        """From now on in this transaction, the caller reaches `patient_id` under the
        break-glass grant `grant_id`: every event about the patient says so in its details
        (`break_glass=<grant id>`), so the admins' review counts what was done under it."""
        self._break_glass[patient_id] = grant_id

    def break_glass_grant(self, patient_id: uuid.UUID) -> uuid.UUID | None:
        """The grant under which this transaction reaches `patient_id`, if any."""
        return self._break_glass.get(patient_id)

    def record(
        self,
        principal: Principal | None,
        action: str,
        *,
        outcome: str = "success",
        resource_type: str | None = None,
        resource_id: uuid.UUID | str | None = None,
        patient_id: uuid.UUID | None = None,
        tenant_id: uuid.UUID | None = None,
        actor_user_id: uuid.UUID | None = None,
        details: str | None = None,
    ) -> None:
        request = _request.get() or RequestContext()
        grant = self._break_glass.get(patient_id) if principal and patient_id else None
        if grant is not None:
            details = f"{details}; break_glass={grant}" if details else f"break_glass={grant}"
        chain, sequence, previous_hash = self._claim_chain()
        event = SimpleNamespace(
            chain=chain,
            sequence=sequence + 1,
            tenant_id=principal.tenant_id if principal else tenant_id,
            actor_user_id=principal.user_id if principal else actor_user_id,
            actor_role=str(principal.role) if principal else None,
            patient_id=patient_id,
            action=action,
            resource_type=resource_type,
            resource_id=str(resource_id) if resource_id is not None else None,
            outcome=outcome,
            client_hash=self._client_hash(request.client_address),
            request_id=request.request_id,
            details=details,
            id=uuid.uuid4(),
            occurred_at=utcnow(),
            previous_hash=previous_hash or GENESIS,
        )
        event.hash = chain_hash(self._chain_key(), event.previous_hash, event_values(event))
        self._session.connection().execute(_INSERT_EVENT, vars(event))

    def _claim_chain(self) -> tuple[int, int, str | None]:
        """The chain this transaction appends to (locked until it commits) and its head."""
        transaction = self._session.get_transaction()
        held = self._session.info.get(CHAIN_IN_SESSION)
        if held is None or held[0] is not transaction:
            if self._session.get_bind().dialect.name == "postgresql":
                chain, sequence, head = (
                    self._session.connection()
                    .execute(_CLAIM_CHAIN, {"space": CHAIN_LOCK_SPACE, "chains": PARALLEL_CHAINS})
                    .one()
                )
                self._session.info[CHAIN_IN_SESSION] = (transaction, chain)
                return chain, sequence, head
            self._session.info[CHAIN_IN_SESSION] = (transaction, 0)
        chain = self._session.info[CHAIN_IN_SESSION][1]
        head = self._session.connection().execute(_CHAIN_HEAD, {"chain": chain}).first()
        return (chain, head.sequence, head.hash) if head else (chain, 0, None)

    def _chain_key(self) -> bytes:
        return self._keyring.derived_key("audit-chain")

    def _client_hash(self, address: str | None) -> str | None:
        return None if address is None else self._keyring.blind_index("client-address", address)


CHAIN_FIELDS = (
    "chain",
    "sequence",
    "id",
    "tenant_id",
    "occurred_at",
    "actor_user_id",
    "actor_role",
    "patient_id",
    "action",
    "resource_type",
    "resource_id",
    "outcome",
    "client_hash",
    "request_id",
    "details",
)
FIELD_COUNT = len(CHAIN_FIELDS)
_COMPACT_JSON = json.JSONEncoder(separators=(",", ":"))


def canonical_json(values: tuple) -> bytes:
    """An event's fields in `CHAIN_FIELDS` order (not its hashes) as a compact JSON array.
    `details` joins the array only when present, so events written before it existed keep
    their hashes."""
    (
        chain,
        sequence,
        event_id,
        tenant_id,
        occurred_at,
        actor_user_id,
        actor_role,
        patient_id,
        action,
        resource_type,
        resource_id,
        outcome,
        client_hash,
        request_id,
        details,
    ) = values
    fields = [
        chain,
        sequence,
        str(event_id),
        tenant_id and str(tenant_id),
        occurred_at.isoformat(),
        actor_user_id and str(actor_user_id),
        actor_role,
        patient_id and str(patient_id),
        action,
        resource_type,
        resource_id,
        outcome,
        client_hash,
        request_id,
    ]
    if details is not None:
        fields.append(details)
    return _COMPACT_JSON.encode(fields).encode()


def chain_hash(key: bytes, previous_hash: str, values: tuple) -> str:
    """HMAC-SHA256(previous hash ‖ canonical JSON of the event's fields)."""
    return hmac.digest(key, previous_hash.encode() + canonical_json(values), "sha256").hex()


def event_values(event: Any) -> tuple:
    return tuple(getattr(event, name) for name in CHAIN_FIELDS)


@dataclass(frozen=True)
class ChainReport:
    events: int
    chain: int | None = None
    sequence: int | None = None
    problem: str | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None

    def __str__(self) -> str:
        if self.intact:
            return f"The audit log is intact: {self.events} events verified."
        return (
            f"The audit log is broken at event {self.sequence} of chain {self.chain}: "
            f"{self.problem}."
        )


def verify_chain(engine: Engine, keyring: KeyRing, checkpoint: dict | None = None) -> ChainReport:
    """Walk every chain in order and name the first event that was edited, inserted, or whose
    predecessor was deleted. With a signed checkpoint, events cut from the end are found too.
    Chains are independent, so on PostgreSQL they are verified in parallel processes."""
    key = keyring.derived_key("audit-chain")
    heads = {int(chain): head for chain, head in (checkpoint or {}).get("heads", {}).items()}
    with engine.connect() as connection:
        stored = connection.execute(select(AuditEvent.__table__.c.chain).distinct()).scalars()
        chains = sorted(set(stored) | set(heads))
    url = engine.url.render_as_string(hide_password=False)
    jobs = [(url, key, chain, heads.get(chain)) for chain in chains]
    workers = min(len(jobs), os.cpu_count() or 1)
    if engine.dialect.name == "postgresql" and workers > 1:
        spawn = multiprocessing.get_context("spawn")  # never fork a threaded server process
        with ProcessPoolExecutor(workers, mp_context=spawn) as pool:
            reports = list(pool.map(_verify_one_chain, jobs))
    else:
        reports = [_verify_one_chain(job, engine) for job in jobs]
    events = sum(report.events for report in reports)
    broken = next((report for report in reports if not report.intact), None)
    if broken is None:
        return ChainReport(events)
    return ChainReport(events, broken.chain, broken.sequence, broken.problem)


def _verify_one_chain(job: tuple, engine: Engine | None = None) -> ChainReport:
    url, key, chain, head = job
    if engine is None:
        from portal.backend.db import make_engine

        engine = make_engine(url)
    table = AuditEvent.__table__
    columns = [table.c[name] for name in (*CHAIN_FIELDS, "previous_hash", "hash")]
    query = (
        select(*columns)
        .where(table.c.chain == chain)
        .order_by(table.c.sequence)
        .execution_options(yield_per=5000)
    )
    previous_hash, expected, count = GENESIS, 1, 0
    with engine.connect() as connection:
        for row in connection.execute(query):
            count += 1
            sequence, stored_previous, stored_hash = row[1], row[FIELD_COUNT], row[FIELD_COUNT + 1]
            problem = None
            if sequence != expected:
                problem = f"events {expected} to {sequence - 1} are missing"
            elif stored_previous != previous_hash:
                problem = "it does not follow the event before it (inserted or moved)"
            elif stored_hash != chain_hash(key, stored_previous, tuple(row[:FIELD_COUNT])):
                problem = "its contents were changed"
            elif head and sequence == head["sequence"] and stored_hash != head["hash"]:
                problem = "it differs from the signed checkpoint"
            if problem:
                return ChainReport(count, chain, sequence, problem)
            previous_hash, expected = stored_hash, expected + 1
    if head and count < head["sequence"]:
        return ChainReport(
            count,
            chain,
            count + 1,
            f"events {count + 1} to {head['sequence']} were deleted since the signed checkpoint",
        )
    return ChainReport(count)


def make_checkpoint(engine: Engine, keyring: KeyRing) -> dict:
    """Every chain's head, signed with an Ed25519 key derived from the root key."""
    with engine.connect() as connection:
        rows = _chain_heads(connection)
    payload = {
        "heads": {
            str(chain): {"sequence": sequence, "hash": digest} for chain, sequence, digest in rows
        },
        "created_at": utcnow().isoformat(),
    }
    signing_key = _signing_key(keyring)
    public_key = signing_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return {
        **payload,
        "public_key": base64.b64encode(public_key).decode(),
        "signature": base64.b64encode(signing_key.sign(_canonical(payload))).decode(),
    }


def checkpoint_is_authentic(checkpoint: dict, keyring: KeyRing) -> bool:
    try:
        payload = {name: checkpoint[name] for name in ("heads", "created_at")}
        _signing_key(keyring).public_key().verify(
            base64.b64decode(checkpoint["signature"]), _canonical(payload)
        )
    except (InvalidSignature, ValueError, KeyError, TypeError):
        return False
    return True


def _chain_heads(connection: Any) -> list[tuple[int, int, str]]:
    table = AuditEvent.__table__
    lasts = (
        select(table.c.chain, func.max(table.c.sequence).label("sequence"))
        .group_by(table.c.chain)
        .subquery()
    )
    query = select(table.c.chain, table.c.sequence, table.c.hash).join(
        lasts, (lasts.c.chain == table.c.chain) & (lasts.c.sequence == table.c.sequence)
    )
    return [tuple(row) for row in connection.execute(query.order_by(table.c.chain))]


def _signing_key(keyring: KeyRing) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(keyring.derived_key("audit-checkpoint"))


def _canonical(payload: dict) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
