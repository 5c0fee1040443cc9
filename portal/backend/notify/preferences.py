"""Who hears about what, and how: each category on each channel is on or off per person, with
defaults that suit most people. Account and security notices cannot be turned off."""

from __future__ import annotations

from sqlalchemy import select

from portal.backend.db import UnitOfWork
from portal.backend.models import NotificationPreference, User
from portal.backend.notify.templates import Category

CHANNELS = ("in_app", "email", "sms")
CHANNEL_LABELS = {"in_app": "In the portal", "email": "Email", "sms": "Text message"}
CATEGORY_LABELS = {
    Category.APPOINTMENT_REMINDER: "Appointment reminders",
    Category.APPOINTMENT_CHANGE: "Appointment changes",
    Category.NEW_MESSAGE: "New messages",
    Category.NEW_RESULT: "New results",
    Category.ACCOUNT: "Account and security",
}
DEFAULTS = {
    Category.APPOINTMENT_REMINDER: {"in_app": True, "email": True, "sms": True},
    Category.APPOINTMENT_CHANGE: {"in_app": True, "email": True, "sms": False},
    Category.NEW_MESSAGE: {"in_app": True, "email": True, "sms": False},
    Category.NEW_RESULT: {"in_app": True, "email": True, "sms": False},
    Category.ACCOUNT: {"in_app": True, "email": True, "sms": False},
}
REQUIRED = {(Category.ACCOUNT, "in_app"), (Category.ACCOUNT, "email")}


def choices(uow: UnitOfWork, user: User) -> dict[tuple[str, str], bool]:
    """Every (category, channel) of the user, their choice or the default."""
    chosen = {
        (row.category, row.channel): row.enabled
        for row in uow.session.exec(
            select(NotificationPreference).where(NotificationPreference.user_id == user.id)
        ).scalars()
    }
    return {
        (category, channel): (category, channel) in REQUIRED
        or chosen.get((category, channel), DEFAULTS[category][channel])
        for category in DEFAULTS
        for channel in CHANNELS
    }


def choose(uow: UnitOfWork, user: User, wanted: dict[tuple[str, str], bool]) -> None:
    """Store the user's choices (required ones stay on whatever is asked)."""
    existing = {
        (row.category, row.channel): row
        for row in uow.session.exec(
            select(NotificationPreference).where(NotificationPreference.user_id == user.id)
        ).scalars()
    }
    for (category, channel), enabled in wanted.items():
        if category not in DEFAULTS or channel not in CHANNELS or (category, channel) in REQUIRED:
            continue
        row = existing.get((category, channel))
        if row is None:
            uow.session.add(
                NotificationPreference(
                    tenant_id=user.tenant_id,
                    user_id=user.id,
                    category=category,
                    channel=channel,
                    enabled=enabled,
                )
            )
        else:
            row.enabled = enabled
