"""Appointment reminders, derived from the appointment rows each time the job runs.

Nothing is queued ahead: a reminder is due when a booked appointment enters its window (by
default 24 hours and 1 hour before), so a reschedule or a cancellation changes or stops its
reminders without any bookkeeping. Each worker runs the job; rows are claimed with
`FOR UPDATE SKIP LOCKED` on PostgreSQL, and the notification's idempotency key (appointment,
start time, offset) makes a second run a no-op, so a reminder goes out once.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal.backend.db import UnitOfWork
from portal.backend.models import Appointment, AppointmentStatus, Practice
from portal.backend.models.base import utcnow
from portal.backend.services.scheduling import notify_of_visit

MAX_OFFSET_MINUTES = 14 * 24 * 60


class OffsetsInvalid(ValueError):
    """The reminder offsets setting is not a list of minutes."""


def reminder_offsets(setting: str) -> list[int]:
    """'1440,60' -> [1440, 60]: distinct minutes before the visit, largest first."""
    try:
        offsets = {int(part) for part in setting.split(",") if part.strip()}
    except ValueError:
        raise OffsetsInvalid("Reminder times are whole minutes, separated by commas.") from None
    if any(not 1 <= minutes <= MAX_OFFSET_MINUTES for minutes in offsets):
        raise OffsetsInvalid("Each reminder time is between 1 minute and 14 days before.")
    return sorted(offsets, reverse=True)


def send_due_reminders(*, uow: UnitOfWork) -> int:
    """Queue the reminders that are due now; returns how many appointments were reminded."""
    with uow:
        now = utcnow()
        postgres = uow.session.get_bind().dialect.name == "postgresql"
        reminded = 0
        for practice in uow.session.exec(select(Practice)).scalars().all():
            offsets = reminder_offsets(practice.reminder_minutes_before)
            for offset, next_offset in zip(offsets, [*offsets[1:], 0], strict=True):
                before = timedelta(minutes=offset)
                query = select(Appointment).where(
                    Appointment.tenant_id == practice.id,
                    Appointment.status == AppointmentStatus.BOOKED,
                    Appointment.starts_at > now + timedelta(minutes=next_offset),
                    Appointment.starts_at <= now + before,
                )
                if postgres:
                    query = query.with_for_update(skip_locked=True)
                for appointment in uow.session.exec(query).scalars().all():
                    if appointment.updated_at > appointment.starts_at - before:
                        continue  # booked or moved inside this window: the confirmation said it
                    notify_of_visit(
                        uow,
                        appointment.patient_id,
                        "appointment_reminder",
                        appointment.starts_at,
                        event_key=f"reminder:{appointment.id}:"
                        f"{appointment.starts_at.isoformat()}:{offset}",
                    )
                    reminded += 1
        uow.commit()
        return reminded
