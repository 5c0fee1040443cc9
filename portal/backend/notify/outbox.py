"""Queueing notifications: rows in the caller's transaction, sent after commit by the dispatcher
job. A message is validated against its template when it is queued, and an idempotency key
makes queueing the same event twice a no-op.

`notify_user` fans one event out over the channels the person has chosen; `enqueue_email`
writes to one address whatever the preferences (invitations, password resets, lockouts)."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from sqlalchemy import select

from portal.backend.config import settings
from portal.backend.db import UnitOfWork
from portal.backend.models import Notification, Patient, Practice, User
from portal.backend.notify import preferences
from portal.backend.notify.email import valid_email
from portal.backend.notify.sms import normalize_phone
from portal.backend.notify.templates import TEMPLATES


def portal_link(path: str, **query: str) -> str:
    """An absolute link into the portal, for a notification."""
    suffix = f"?{urlencode(query)}" if query else ""
    return f"{settings().public_url}{path}{suffix}"


def notify_user(
    uow: UnitOfWork, user: User, template_id: str, parameters: dict[str, str], *, event_key: str
) -> None:
    """Queue one event for a person on every channel they want it on. A channel without a
    usable address is recorded as suppressed, with the reason, and never tried."""
    template = TEMPLATES[template_id]
    wanted = preferences.choices(uow, user)
    for channel in preferences.CHANNELS:
        if not wanted[(template.category, channel)]:
            continue
        recipient, problem = _address(user, channel)
        _enqueue(
            uow,
            tenant_id=user.tenant_id,
            user_id=user.id,
            channel=channel,
            recipient=recipient,
            template_id=template_id,
            parameters=parameters,
            idempotency_key=f"{event_key}:{channel}",
            suppressed_reason=problem,
        )


def notify_patient(
    uow: UnitOfWork,
    patient_id: uuid.UUID,
    template_id: str,
    parameters: dict[str, str],
    *,
    event_key: str,
) -> None:
    """`notify_user` for a patient's portal account; a patient without one is not told."""
    patient = uow.session.get(Patient, patient_id)
    user = uow.session.get(User, patient.user_id) if patient.user_id else None
    if user is not None:
        notify_user(uow, user, template_id, parameters, event_key=event_key)


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
    _enqueue(
        uow,
        tenant_id=tenant_id,
        user_id=user_id,
        channel="email",
        recipient=to,
        template_id=template_id,
        parameters=parameters,
        idempotency_key=idempotency_key,
        suppressed_reason=None if valid_email(to) else "invalid email address",
    )


def _enqueue(
    uow: UnitOfWork,
    *,
    tenant_id: uuid.UUID,
    user_id: uuid.UUID | None,
    channel: str,
    recipient: str | None,
    template_id: str,
    parameters: dict[str, str],
    idempotency_key: str,
    suppressed_reason: str | None,
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
            recipient=recipient,
            category=template.category,
            channel=channel,
            template_id=template_id,
            parameters=values,
            idempotency_key=idempotency_key,
            status="suppressed" if suppressed_reason else "pending",
            suppressed_reason=suppressed_reason,
        )
    )


def _address(user: User, channel: str) -> tuple[str | None, str | None]:
    if channel == "email":
        return (user.email, None) if valid_email(user.email) else (None, "no valid email address")
    if channel == "sms":
        phone = normalize_phone(user.mobile_phone or "")
        return (phone, None) if phone else (None, "no mobile number")
    return None, None
