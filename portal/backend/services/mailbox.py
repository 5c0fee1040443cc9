"""The dev mailbox: in demo mode, admins read the emails and texts the portal sent, as their
recipients would."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from portal.backend.config import settings
from portal.backend.db import UnitOfWork
from portal.backend.models import Notification, Practice
from portal.backend.notify.templates import TEMPLATES
from portal.backend.security.principal import NotFound, Principal, Role, require_role
from portal.backend.views import local_moment

SHOWN = 50


@dataclass(frozen=True)
class Mail:
    id: str
    channel: str
    recipient: str
    subject: str
    text: str
    sent: str
    status: str


def dev_mailbox(principal: Principal, *, uow: UnitOfWork) -> list[Mail]:
    require_role(principal, Role.ADMIN)
    if not settings().demo:
        raise NotFound
    with uow:
        zone = uow.session.get(Practice, principal.tenant_id).time_zone
        rows = (
            uow.session.exec(
                select(Notification)
                .where(
                    Notification.tenant_id == principal.tenant_id,
                    Notification.channel.in_(("email", "sms")),
                )
                .order_by(Notification.created_at.desc())
                .limit(SHOWN)
            )
            .scalars()
            .all()
        )
        uow.audit.record(principal, "mailbox.read", resource_type="notification")
        uow.commit()
        mails = []
        for row in rows:
            subject, text = TEMPLATES[row.template_id].render(**row.parameters)
            mails.append(
                Mail(
                    str(row.id),
                    "Text message" if row.channel == "sms" else "Email",
                    row.recipient or "",
                    subject,
                    text,
                    local_moment(row.created_at, zone),
                    row.status,
                )
            )
        return mails
