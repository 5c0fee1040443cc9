"""Reminders come from the appointment rows: due once per window, PHI-free, and a reschedule
or cancellation changes them with no bookkeeping."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.backend import clock, models
from portal.backend.models.base import utcnow
from portal.backend.services.reminders import OffsetsInvalid, reminder_offsets, send_due_reminders


def reminders(practice) -> list[models.Notification]:
    with practice.database.unit_of_work() as uow:
        return list(
            uow.session.exec(
                select(models.Notification).where(
                    models.Notification.template_id == "appointment_reminder"
                )
            ).scalars()
        )


def visit_in(practice, delta: timedelta) -> None:
    """Move patient A's appointment to start `delta` from now, booked a week ago (and cancel
    patient B's, which is today, so only A's can be due)."""
    with practice.database.unit_of_work() as uow:
        uow.session.get(
            models.Appointment, practice.appointment_b
        ).status = models.AppointmentStatus.CANCELLED
        visit = uow.session.get(models.Appointment, practice.appointment_a)
        visit.starts_at = visit.blocked_from = utcnow() + delta
        visit.ends_at = visit.blocked_until = visit.starts_at + timedelta(minutes=30)
        visit.updated_at = utcnow() - timedelta(days=7)
        uow.commit()


def run(practice) -> int:
    return send_due_reminders(uow=practice.database.unit_of_work())


def test_each_reminder_goes_out_once_per_window(practice):
    visit_in(practice, timedelta(hours=30))
    assert run(practice) == 0
    clock.travel(timedelta(hours=7))  # 23 hours before
    assert run(practice) == 1
    run(practice)
    day_before = reminders(practice)
    assert day_before
    count = len(day_before)
    clock.travel(timedelta(hours=22, minutes=30))  # 30 minutes before
    assert run(practice) == 1
    assert len(reminders(practice)) == 2 * count
    for message in reminders(practice):
        assert "ZZCANARY" not in repr(message.parameters)
        assert set(message.parameters) == {"practice", "date", "time", "link"}


def test_a_cancelled_visit_gets_no_reminder_and_a_moved_one_gets_new_ones(practice):
    visit_in(practice, timedelta(hours=20))
    with practice.database.unit_of_work() as uow:
        uow.session.get(
            models.Appointment, practice.appointment_a
        ).status = models.AppointmentStatus.CANCELLED
        uow.commit()
    assert run(practice) == 0
    with practice.database.unit_of_work() as uow:
        uow.session.get(
            models.Appointment, practice.appointment_a
        ).status = models.AppointmentStatus.BOOKED
        uow.commit()
    assert run(practice) == 1
    first = len(reminders(practice))
    visit_in(practice, timedelta(hours=21))
    assert run(practice) == 1
    assert len(reminders(practice)) == 2 * first


def test_a_visit_booked_inside_the_window_gets_only_the_later_reminder(practice):
    visit_in(practice, timedelta(hours=5))
    with practice.database.unit_of_work() as uow:
        uow.session.get(models.Appointment, practice.appointment_a).updated_at = utcnow()
        uow.commit()
    assert run(practice) == 0
    clock.travel(timedelta(hours=4, minutes=30))
    assert run(practice) == 1


def test_offsets_come_from_the_practice_setting(practice):
    with practice.database.unit_of_work() as uow:
        uow.session.get(models.Practice, practice.tenant_id).reminder_minutes_before = "2880"
        uow.commit()
    visit_in(practice, timedelta(hours=40))
    assert run(practice) == 1


@pytest.mark.parametrize("setting", ["soon", "0", "-5", "30000"])
def test_bad_offsets_are_refused_in_words(setting):
    with pytest.raises(OffsetsInvalid):
        reminder_offsets(setting)
