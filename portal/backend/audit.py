"""The audit log: one `record` call that every service makes, in the caller's transaction.

Each event stores HMAC-SHA256(previous hash ‖ canonical JSON of the event) under a key that the
key provider holds outside the database, so editing, inserting or deleting a row breaks the
chain. Appends are serialized (an advisory lock on PostgreSQL; SQLite has one writer) so
concurrent transactions extend one consistent chain.
"""

from __future__ import annotations

import contextvars
import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlmodel import Session

from portal.backend.crypto import KeyRing
from portal.backend.models import AuditEvent
from portal.backend.models.base import utcnow
from portal.backend.security.principal import Principal

GENESIS = "0" * 64
CHAIN_LOCK_ID = 7_104_313_001


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
    ) -> AuditEvent:
        request = _request.get() or RequestContext()
        previous = self._lock_chain_head()
        event = AuditEvent(
            sequence=previous.sequence + 1 if previous else 1,
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
            occurred_at=utcnow(),
            previous_hash=previous.hash if previous else GENESIS,
            hash="",
        )
        event.hash = chain_hash(self._chain_key(), event)
        self._session.add(event)
        self._session.flush()
        return event

    def _lock_chain_head(self) -> AuditEvent | None:
        if self._session.get_bind().dialect.name == "postgresql":
            self._session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": CHAIN_LOCK_ID})
        return (
            self._session.exec(select(AuditEvent).order_by(AuditEvent.sequence.desc()).limit(1))
            .scalars()
            .first()
        )

    def _chain_key(self) -> bytes:
        return self._keyring.provider.derived_key("audit-chain")

    def _client_hash(self, address: str | None) -> str | None:
        if address is None:
            return None
        key = self._keyring.provider.derived_key("client-address")
        return hmac.new(key, address.encode(), hashlib.sha256).hexdigest()[:32]


def canonical_json(event: AuditEvent) -> bytes:
    fields = {
        "sequence": event.sequence,
        "id": str(event.id),
        "tenant_id": _text(event.tenant_id),
        "occurred_at": event.occurred_at.isoformat(),
        "actor_user_id": _text(event.actor_user_id),
        "actor_role": event.actor_role,
        "patient_id": _text(event.patient_id),
        "action": event.action,
        "resource_type": event.resource_type,
        "resource_id": event.resource_id,
        "outcome": event.outcome,
        "client_hash": event.client_hash,
        "request_id": event.request_id,
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


def chain_hash(key: bytes, event: AuditEvent) -> str:
    return hmac.new(
        key, event.previous_hash.encode() + canonical_json(event), hashlib.sha256
    ).hexdigest()


def _text(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)
