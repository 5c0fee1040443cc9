"""Notifications as people see them: the in-app notification centre, their preferences and
mobile number, what Twilio reports back, and the delivery overview for admins."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import bindparam, func, literal, select, update

from portal.backend.db import UnitOfWork
from portal.backend.models import Notification, Practice, SmsOptOut, User
from portal.backend.models.base import utcnow
from portal.backend.notify import preferences
from portal.backend.notify.dispatch import opt_out_key
from portal.backend.notify.sms import normalize_phone
from portal.backend.notify.templates import TEMPLATES
from portal.backend.security.principal import NotFound, Principal, Role, require_role
from portal.backend.services.messaging import UNREAD_MESSAGES, unread_parameters
from portal.backend.views import local_moment

SHOWN = 50
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}
START_WORDS = {"START", "UNSTOP", "YES"}


@dataclass(frozen=True)
class InAppNotification:
    id: str
    subject: str
    text: str
    when: str
    unread: bool


@dataclass(frozen=True)
class PreferenceRow:
    category: str
    label: str
    in_app: bool
    email: bool
    sms: bool
    required: bool


@dataclass(frozen=True)
class Preferences:
    """The choices; texts show as off (and cannot be chosen) until there is a mobile number."""

    rows: list[PreferenceRow]
    mobile_phone: str
    texts_at_night: bool


@dataclass(frozen=True)
class DeliveryCount:
    channel: str
    pending: int
    sent: int
    failed: int
    suppressed: int


@dataclass(frozen=True)
class DeliveryFailure:
    when: str
    channel: str
    template: str
    attempts: int
    error: str


@dataclass(frozen=True)
class DeliveryStatus:
    counts: list[DeliveryCount]
    failures: list[DeliveryFailure]


def unread_count(principal: Principal, *, uow: UnitOfWork) -> int:
    with uow:
        return uow.session.exec(
            _UNREAD_NOTIFICATIONS, params=unread_parameters(principal)
        ).scalar_one()


@dataclass(frozen=True)
class UnreadCounts:
    notifications: int
    messages: int


def unread_counts(principal: Principal, *, uow: UnitOfWork) -> UnreadCounts:
    """What the shell of every signed-in page shows: `unread_count` and, but for admins,
    `messaging.unread_messages`, counted in one query."""
    with uow:
        query = _UNREAD_COUNTS[principal.role]
        return UnreadCounts(*uow.session.exec(query, params=unread_parameters(principal)).one())


_UNREAD_NOTIFICATIONS = (
    select(func.count())
    .select_from(Notification)
    .where(
        Notification.user_id == bindparam("user_id"),
        Notification.channel == "in_app",
        Notification.status == "sent",
        Notification.read_at.is_(None),
    )
)
_UNREAD_COUNTS = {
    Role.ADMIN: select(_UNREAD_NOTIFICATIONS.scalar_subquery(), literal(0)),
    **{
        role: select(_UNREAD_NOTIFICATIONS.scalar_subquery(), messages.scalar_subquery())
        for role, messages in UNREAD_MESSAGES.items()
    },
}


def notification_centre(principal: Principal, *, uow: UnitOfWork) -> list[InAppNotification]:
    """The caller's in-app notifications, newest first; opening the centre reads them."""
    with uow:
        zone = uow.session.get(Practice, principal.tenant_id).time_zone
        rows = (
            uow.session.exec(
                select(Notification)
                .where(
                    Notification.user_id == principal.user_id,
                    Notification.channel == "in_app",
                    Notification.status == "sent",
                )
                .order_by(Notification.sent_at.desc())
                .limit(SHOWN)
            )
            .scalars()
            .all()
        )
        shown = []
        for row in rows:
            subject, text = TEMPLATES[row.template_id].render(**row.parameters)
            shown.append(
                InAppNotification(
                    str(row.id), subject, text, local_moment(row.sent_at, zone), row.read_at is None
                )
            )
        uow.session.execute(
            update(Notification)
            .where(
                Notification.user_id == principal.user_id,
                Notification.channel == "in_app",
                Notification.read_at.is_(None),
                Notification.status == "sent",
            )
            .values(read_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        uow.audit.record(principal, "notification.read", resource_type="notification")
        uow.commit()
        return shown


def my_preferences(principal: Principal, *, uow: UnitOfWork) -> Preferences:
    with uow:
        user = _user(uow, principal)
        chosen = preferences.choices(uow, user)
        return Preferences(
            rows=[
                PreferenceRow(
                    category=str(category),
                    label=label,
                    in_app=chosen[(category, "in_app")],
                    email=chosen[(category, "email")],
                    sms=chosen[(category, "sms")] and bool(user.mobile_phone),
                    required=(category, "email") in preferences.REQUIRED,
                )
                for category, label in preferences.CATEGORY_LABELS.items()
            ],
            mobile_phone=user.mobile_phone or "",
            texts_at_night=user.texts_at_night,
        )


def save_preferences(
    principal: Principal,
    chosen: dict[tuple[str, str], bool],
    texts_at_night: bool,
    *,
    uow: UnitOfWork,
) -> None:
    with uow:
        user = _user(uow, principal)
        if not user.mobile_phone:  # texts cannot be chosen yet; their defaults stay for later
            chosen = {key: enabled for key, enabled in chosen.items() if key[1] != "sms"}
        preferences.choose(uow, user, chosen)
        user.texts_at_night = texts_at_night
        uow.audit.record(
            principal, "notification.preferences_saved", resource_type="user", resource_id=user.id
        )
        uow.commit()


def record_delivery_status(provider_message_id: str, status: str, *, uow: UnitOfWork) -> bool:
    """Twilio's report on a text; returns whether the message was ours."""
    with uow:
        row = (
            uow.session.exec(
                select(Notification).where(Notification.provider_message_id == provider_message_id)
            )
            .scalars()
            .first()
        )
        if row is None:
            return False
        row.delivery_status = status[:16]
        if status in ("failed", "undelivered"):
            row.status, row.last_error = "failed", f"carrier: {status}"[:64]
        uow.commit()
        return True


def record_text_reply(from_number: str, body: str, *, uow: UnitOfWork) -> str | None:
    """A text sent to the practice's number: STOP opts the number out, START back in."""
    word = body.strip().upper()
    phone = normalize_phone(from_number)
    if phone is None or word not in STOP_WORDS | START_WORDS:
        return None
    with uow:
        key = opt_out_key(uow, phone)
        existing = uow.session.get(SmsOptOut, key)
        if word in STOP_WORDS and existing is None:
            uow.session.add(SmsOptOut(phone_index=key))
        elif word in START_WORDS and existing is not None:
            uow.session.delete(existing)
        action = "opted_out" if word in STOP_WORDS else "opted_in"
        uow.audit.record(None, f"sms.{action}", resource_type="phone", resource_id=key)
        uow.commit()
        return action


def delivery_status(principal: Principal, *, uow: UnitOfWork) -> DeliveryStatus:
    """Counts by channel and status, and the latest permanent failures, without recipients."""
    require_role(principal, Role.ADMIN)
    with uow:
        zone = uow.session.get(Practice, principal.tenant_id).time_zone
        tally = Counter(
            {
                (channel, status): count
                for channel, status, count in uow.session.exec(
                    select(Notification.channel, Notification.status, func.count())
                    .where(Notification.tenant_id == principal.tenant_id)
                    .group_by(Notification.channel, Notification.status)
                ).all()
            }
        )
        failures = uow.session.exec(
            select(
                Notification.created_at,
                Notification.channel,
                Notification.template_id,
                Notification.attempts,
                Notification.last_error,
            )
            .where(Notification.tenant_id == principal.tenant_id, Notification.status == "failed")
            .order_by(Notification.created_at.desc())
            .limit(20)
        ).all()
        uow.audit.record(principal, "notification.delivery_status_read")
        uow.commit()
        return DeliveryStatus(
            counts=[
                DeliveryCount(
                    channel,
                    *(
                        tally[(channel, status)]
                        for status in ("pending", "sent", "failed", "suppressed")
                    ),
                )
                for channel in preferences.CHANNELS
            ],
            failures=[
                DeliveryFailure(
                    local_moment(created, zone), channel, template, attempts, error or ""
                )
                for created, channel, template, attempts, error in failures
            ],
        )


def _user(uow: UnitOfWork, principal: Principal) -> User:
    user = uow.session.get(User, principal.user_id)
    if user is None or user.tenant_id != principal.tenant_id:
        raise NotFound
    return user
