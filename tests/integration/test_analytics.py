"""The practice's analytics for admins: bookings per local week and visit type, attendance
rates, message volume and first-response percentiles, active patients and MFA, notification
delivery — computed by SQL on both databases, scoped to the practice, free of PHI, audited,
and refused to patients and providers."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from portal.backend import models
from portal.backend.models.base import utcnow
from portal.backend.security.principal import PermissionDenied
from portal.backend.services import analytics
from tests.integration.factories import CANARY, build_practice

ZONE = "America/New_York"


def uow(practice):
    return practice.database.unit_of_work()


def figures(practice):
    return analytics.practice_analytics(practice.principal("admin"), uow=uow(practice))


def bounds():
    return analytics.week_bounds(utcnow(), ZONE)


def add_visit(unit, practice, kind_id, *, created, starts, status="booked", late=False) -> None:
    unit.session.add(
        models.Appointment(
            tenant_id=practice.tenant_id,
            patient_id=practice.patient_a.id,
            provider_id=practice.provider.id,
            appointment_type_id=kind_id,
            starts_at=starts,
            ends_at=starts + timedelta(minutes=30),
            blocked_from=starts,
            blocked_until=starts + timedelta(minutes=30),
            status=status,
            late_cancellation=late,
            created_at=created,
        )
    )


def test_week_bounds_are_local_mondays_across_daylight_saving():
    # 2026-11-01 is the change back to standard time in New York.
    weeks = analytics.week_bounds(datetime(2026, 11, 18, 15, tzinfo=ZoneInfo("UTC")), ZONE, 4)
    local = [moment.astimezone(ZoneInfo(ZONE)) for moment in weeks]
    assert [m.date() for m in local] == [
        date(2026, 10, 26),
        date(2026, 11, 2),
        date(2026, 11, 9),
        date(2026, 11, 16),
        date(2026, 11, 23),
    ]
    assert {(m.hour, m.minute, m.weekday()) for m in local} == {(0, 0, 0)}
    assert weeks[1] - weeks[0] == timedelta(days=7, hours=1)
    assert [analytics.percentile_rank(p, n) for p, n in ((50, 1), (50, 4), (90, 5))] == [1, 2, 5]


def test_bookings_per_week_by_visit_type_and_attendance_rates(practice):
    weeks = bounds()
    with uow(practice) as unit:
        video = models.AppointmentType(
            tenant_id=practice.tenant_id,
            name="Video check-in",
            modality=models.Modality.VIDEO,
            duration_minutes=15,
        )
        unit.session.add(video)
        unit.session.flush()
        made = weeks[8] + timedelta(days=1)
        due = weeks[9] + timedelta(days=1, hours=15)
        follow_up = practice.appointment_type_id
        for status, late in (
            ("completed", False),
            ("no_show", False),
            ("cancelled", True),
            ("cancelled", False),  # cancelled in time: was never due
            ("requested", False),  # never approved: was never due
        ):
            add_visit(unit, practice, follow_up, created=made, starts=due, status=status, late=late)
        add_visit(unit, practice, video.id, created=made, starts=due + timedelta(hours=1))
        unit.commit()
    result = figures(practice)
    assert result.visit_types == ["Follow-up visit", "Video check-in"]
    assert len(result.booked) == analytics.WEEKS == len(result.booked_table.rows)
    assert (result.booked[8]["t0"], result.booked[8]["t1"]) == (5, 1)
    assert result.booked[-1]["t0"] == 2  # the practice fixture's two visits, made today
    assert result.booked_table.columns == [
        "Week of",
        "Follow-up visit",
        "Video check-in",
        "All visits",
    ]
    assert result.booked_table.rows[8][1:] == ["5", "1", "6"]

    week = result.attendance[9]
    assert week["due"] == 4  # completed, missed, cancelled late, and the booked video visit
    assert (week["no_show"], week["late_cancel"]) == (25.0, 25.0)
    assert result.attendance_table.rows[9][1:] == ["4", "25.0%", "25.0%"]
    due_today = 1 if practice_noon_has_passed() else 0
    assert (result.no_show.count, result.no_show.total) == (1, 4 + due_today)
    assert (result.late_cancel.count, result.late_cancel.total) == (1, 4 + due_today)


def practice_noon_has_passed() -> bool:
    return utcnow().astimezone(ZoneInfo(ZONE)).hour >= 12


def test_message_volume_and_first_response_percentiles(practice):
    start = bounds()[-2] - timedelta(days=2)  # inside the period, in the past
    with uow(practice) as unit:
        thread = models.Conversation(
            tenant_id=practice.tenant_id,
            patient_id=practice.patient_b.id,
            care_team_id=practice.care_team_id,
            subject="Question",
            category="other",
        )
        unit.session.add(thread)
        unit.session.flush()

        def message(minutes: int, from_patient: bool) -> None:
            unit.session.add(
                models.Message(
                    tenant_id=practice.tenant_id,
                    conversation_id=thread.id,
                    from_patient=from_patient,
                    body="text",
                    sent_at=start + timedelta(minutes=minutes),
                )
            )

        # Waits of 120 min (the wait starts at the first unanswered message), 30 and 45 min;
        # the last question is still unanswered.
        for minutes, from_patient in (
            (0, True),
            (10, True),
            (120, False),
            (200, True),
            (230, False),
            (235, False),
            (300, True),
            (345, False),
            (400, True),
        ):
            message(minutes, from_patient)
        unit.commit()
    build_practice(practice.database, slug="elsewhere")  # its threads are not counted
    result = figures(practice)
    # With the fixture's two threads (answered within a second): waits 0, 0, 30, 45, 120 min.
    assert result.response.answered == 5
    assert (result.response.median, result.response.p90) == ("30 min", "2 h")
    totals = (
        sum(row["from_patients"] for row in result.messages),
        sum(row["from_staff"] for row in result.messages),
    )
    assert totals == (2 + 5, 2 + 4)


def test_active_patients_mfa_and_delivery(practice):
    now = utcnow()
    with uow(practice) as unit:
        for key, days in (("patient_a", 10), ("patient_b", 100)):
            user = unit.session.get(models.User, practice.user_ids[key])
            user.last_sign_in_at = now - timedelta(days=days)
        unit.session.add(
            models.User(
                tenant_id=practice.tenant_id,
                role="patient",
                status="invited",
                email="new@example.org",
                email_index="new-patient-index",
                display_name="New Patient",
            )
        )
        for n, (channel, status) in enumerate(
            [("email", "sent"), ("email", "sent"), ("sms", "failed"), ("in_app", "pending")]
        ):
            unit.session.add(
                models.Notification(
                    tenant_id=practice.tenant_id,
                    category="messages",
                    channel=channel,
                    template_id="new_message",
                    parameters={},
                    idempotency_key=f"test:{n}",
                    status=status,
                )
            )
        unit.commit()
    result = figures(practice)
    active = result.active_patients
    assert (active.count, active.total, active.rate) == (1, 2, "50.0%")
    mfa = {line.label: (line.count, line.total, line.rate) for line in result.mfa}
    assert mfa["Patients"] == (2, 3, "66.7%")
    assert mfa["Providers"] == (1, 1, "100.0%")
    assert mfa["Everyone"] == (4, 5, "80.0%")
    delivery = {row["channel"]: row for row in result.delivery}
    assert (delivery["Email"]["sent"], delivery["Text message"]["failed"]) == (2, 1)
    assert delivery["In the portal"]["pending"] == 1
    assert ["Email", "2", "0", "0", "0"] in result.delivery_table.rows


def test_no_phi_in_any_figure_and_reading_is_audited(practice):
    result = figures(practice)
    text = json.dumps(result, default=lambda value: value.__dict__)
    for secret in (CANARY, "Alpha", "Beta", "1970", "reason", "question"):
        assert secret not in text
    with uow(practice) as unit:
        [event] = unit.session.exec(
            select(models.AuditEvent).where(models.AuditEvent.action == "analytics.read")
        ).scalars()
    assert event.actor_user_id == practice.user_ids["admin"] and event.patient_id is None


def test_another_practices_figures_are_its_own(practice):
    other = build_practice(practice.database, slug="elsewhere")
    with uow(other) as unit:
        add_visit(
            unit,
            other,
            other.appointment_type_id,
            created=utcnow() - timedelta(hours=1),
            starts=utcnow() + timedelta(days=2),
        )
        unit.commit()
    assert sum(row["t0"] for row in figures(practice).booked) == 2
    assert sum(row["t0"] for row in figures(other).booked) == 3


@pytest.mark.parametrize("who", ["patient_a", "provider"])
def test_patients_and_providers_may_not_see_analytics(practice, who):
    with pytest.raises(PermissionDenied):
        analytics.practice_analytics(practice.principal(who), uow=uow(practice))
