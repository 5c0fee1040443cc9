"""Queueing notifications: a row per message in the caller's transaction, sent after commit by
the dispatcher job. A message is validated against its template when it is queued, and an
idempotency key makes queueing the same event twice a no-op."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from sqlalchemy import select

from portal.backend.config import settings
from portal.backend.db import UnitOfWork
from portal.backend.models import Notification, Practice
from portal.backend.notify.templates import TEMPLATES


def portal_link(path: str, **query: str) -> str:
    """An absolute link into the portal, for a notification."""
    suffix = f"?{urlencode(query)}" if query else ""
    return f"{settings().public_url}{path}{suffix}"


def enqueue_email(
    uow: UnitOfWork,
    *,
    tenant_id: uuid.UUID,
    to: str,
    template_id: str,
    parameters: dict[str, str],
    idempotency_key: str,
    user_id: uuid.UUID | None = None,
) -> None:
    if uow.session.exec(
        select(Notification.id).where(Notification.idempotency_key == idempotency_key)
    ).first():
        return
    template = TEMPLATES[template_id]
    values = dict(parameters)
    if "practice" in template.parameters:
        values["practice"] = uow.session.get(Practice, tenant_id).name
    template.render(**values)  # refuses undeclared or malformed values now, not at send time
    uow.session.add(
        Notification(
            tenant_id=tenant_id,
            user_id=user_id,
            recipient=to,
            category=template.category,
            channel="email",
            template_id=template_id,
            parameters=values,
            idempotency_key=idempotency_key,
        )
    )
