"""The practice in figures, for admins: bookings, attendance, messages and response times,
active patients and MFA, notification delivery. Every figure is a count or a rate computed by
SQL aggregates (the same statements on SQLite and PostgreSQL); no name, message text, result or
other PHI is read, so nothing is decrypted.

Weeks are the practice's local weeks (Monday to Sunday): their UTC boundaries are computed in
Python, daylight-saving changes included, and SQL sorts rows into them with one CASE.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, extract, func, select
from sqlalchemy.orm import aliased

from portal.backend.availability import local_midnight
from portal.backend.db import UnitOfWork
from portal.backend.models import (
    Appointment,
    AppointmentStatus,
    AppointmentType,
    Message,
    Notification,
    Practice,
    User,
    UserStatus,
)
from portal.backend.models.base import utcnow
from portal.backend.notify.preferences import CHANNELS
from portal.backend.security.principal import Principal, Role, require_role
from portal.backend.views import FigureTable, PracticeAnalytics, RateLine, ResponseTimes

WEEKS = 12
ACTIVE_DAYS = 90
DELIVERY_STATUSES = ("sent", "pending", "failed", "suppressed")
STATUS_LABELS = {
    "sent": "Sent",
    "pending": "Waiting",
    "failed": "Failed",
    "suppressed": "Not sent (no address or opted out)",
}
CHANNEL_LABELS = {"in_app": "In the portal", "email": "Email", "sms": "Text message"}
ROLE_LABELS = {Role.PATIENT: "Patients", Role.PROVIDER: "Providers", Role.ADMIN: "Administrators"}
# Visits that were due to happen: not cancelled in time, not still waiting for approval.
DUE = (
    AppointmentStatus.BOOKED,
    AppointmentStatus.ARRIVED,
    AppointmentStatus.COMPLETED,
    AppointmentStatus.NO_SHOW,
)


def practice_analytics(principal: Principal, *, uow: UnitOfWork) -> PracticeAnalytics:
    require_role(principal, Role.ADMIN)
    with uow:
        zone = uow.session.get(Practice, principal.tenant_id).time_zone
        now = utcnow()
        bounds = week_bounds(now, zone)
        labels = [_label(start, zone) for start in bounds[:-1]]
        tenant = principal.tenant_id
        booked, names = _booked(uow, tenant, bounds, labels)
        attendance, no_show, late = _attendance(uow, tenant, bounds, labels, now)
        messages = _messages(uow, tenant, bounds, labels)
        delivery = _delivery(uow, tenant, bounds[0])
        analytics = PracticeAnalytics(
            booked=booked,
            visit_types=names,
            booked_table=FigureTable(
                ["Week of", *names, "All visits"],
                [_booked_row(row, len(names)) for row in booked],
            ),
            attendance=attendance,
            attendance_table=FigureTable(
                ["Week of", "Visits due", "Missed", "Cancelled late"],
                [
                    [row["week"], str(row["due"]), f"{row['no_show']}%", f"{row['late_cancel']}%"]
                    for row in attendance
                ],
            ),
            no_show=no_show,
            late_cancel=late,
            messages=messages,
            messages_table=FigureTable(
                ["Week of", "From patients", "From the care team"],
                [
                    [row["week"], str(row["from_patients"]), str(row["from_staff"])]
                    for row in messages
                ],
            ),
            response=_response_times(uow, tenant, bounds[0]),
            active_patients=_active_patients(uow, tenant, now),
            mfa=_mfa(uow, tenant),
            delivery=delivery,
            delivery_table=FigureTable(
                ["Channel", *(STATUS_LABELS[status] for status in DELIVERY_STATUSES)],
                [
                    [row["channel"], *(str(row[status]) for status in DELIVERY_STATUSES)]
                    for row in delivery
                ],
            ),
        )
        uow.audit.record(principal, "analytics.read", resource_type="practice", resource_id=tenant)
        uow.commit()
        return analytics


def week_bounds(now: datetime, zone: str, weeks: int = WEEKS) -> list[datetime]:
    """The UTC instants at which the last `weeks` local weeks begin (this week last), and the
    end of this week."""
    today = now.astimezone(ZoneInfo(zone)).date()
    monday = today - timedelta(days=today.weekday())
    return [local_midnight(monday - timedelta(weeks=weeks - 1 - n), zone) for n in range(weeks + 1)]


def percentile_rank(percent: int, count: int) -> int:
    """The 1-based position of the nearest-rank percentile among `count` sorted values."""
    return max(1, (percent * count + 99) // 100)


# --- figures --------------------------------------------------------------------------------


def _week_of(column, bounds: list[datetime]):
    """The week index (0 = oldest) of an instant inside `bounds`, as SQL."""
    return case(*[(column < end, n) for n, end in enumerate(bounds[1:])])


def _in_weeks(column, bounds: list[datetime]):
    return and_(column >= bounds[0], column < bounds[-1])


def _booked(uow, tenant, bounds, labels) -> tuple[list[dict], list[str]]:
    """Appointments booked (made) each week, by visit type."""
    week = _week_of(Appointment.created_at, bounds).label("week")
    rows = uow.session.exec(
        select(week, AppointmentType.name, func.count())
        .join(AppointmentType, AppointmentType.id == Appointment.appointment_type_id)
        .where(Appointment.tenant_id == tenant, _in_weeks(Appointment.created_at, bounds))
        .group_by(week, AppointmentType.name)
    ).all()
    totals: dict[str, int] = {}
    for _, name, count in rows:
        totals[name] = totals.get(name, 0) + count
    names = sorted(totals, key=lambda name: (-totals[name], name))
    keys = {name: f"t{n}" for n, name in enumerate(names)}
    data = [{"week": label, **dict.fromkeys(keys.values(), 0)} for label in labels]
    for index, name, count in rows:
        data[index][keys[name]] = count
    return data, names


def _booked_row(row: dict, series: int) -> list[str]:
    counts = [row[f"t{n}"] for n in range(series)]
    return [row["week"], *(str(count) for count in counts), str(sum(counts))]


def _attendance(uow, tenant, bounds, labels, now) -> tuple[list[dict], RateLine, RateLine]:
    """Of the visits due each week (up to now): how many were missed, and how many cancelled
    late (inside the visit type's cutoff)."""
    week = _week_of(Appointment.starts_at, bounds).label("week")
    late = and_(
        Appointment.status == AppointmentStatus.CANCELLED, Appointment.late_cancellation.is_(True)
    )
    rows = uow.session.exec(
        select(
            week,
            func.count(),
            func.count(case((Appointment.status == AppointmentStatus.NO_SHOW, 1))),
            func.count(case((late, 1))),
        )
        .where(
            Appointment.tenant_id == tenant,
            Appointment.starts_at >= bounds[0],
            Appointment.starts_at < min(now, bounds[-1]),
            Appointment.status.in_(DUE) | late,
        )
        .group_by(week)
    ).all()
    by_week = {index: (due, missed, cancelled) for index, due, missed, cancelled in rows}
    data = []
    for index, label in enumerate(labels):
        due, missed, cancelled = by_week.get(index, (0, 0, 0))
        data.append(
            {
                "week": label,
                "due": due,
                "no_show": _percent_value(missed, due),
                "late_cancel": _percent_value(cancelled, due),
            }
        )
    due = sum(row[1] for row in rows)
    missed = sum(row[2] for row in rows)
    cancelled = sum(row[3] for row in rows)
    return (
        data,
        RateLine("Missed visits (no-shows)", missed, due, _percent(missed, due)),
        RateLine("Late cancellations", cancelled, due, _percent(cancelled, due)),
    )


def _messages(uow, tenant, bounds, labels) -> list[dict]:
    week = _week_of(Message.sent_at, bounds).label("week")
    rows = uow.session.exec(
        select(week, Message.from_patient, func.count())
        .where(Message.tenant_id == tenant, _in_weeks(Message.sent_at, bounds))
        .group_by(week, Message.from_patient)
    ).all()
    data = [{"week": label, "from_patients": 0, "from_staff": 0} for label in labels]
    for index, from_patient, count in rows:
        data[index]["from_patients" if from_patient else "from_staff"] = count
    return data


def _response_times(uow, tenant, since: datetime) -> ResponseTimes:
    """How long patients waited for the care team's first reply: from a patient's first message
    after the team's last one (or the thread's start) to the team's next message. Median and
    90th percentile by nearest rank, computed with window functions."""
    reply = aliased(Message)
    first_reply = (
        select(func.min(reply.sent_at))
        .where(
            reply.conversation_id == Message.conversation_id,
            reply.from_patient.is_(False),
            reply.sent_at > Message.sent_at,
        )
        .scalar_subquery()
    )
    asked = (
        select(
            Message.conversation_id.label("thread"),
            first_reply.label("replied_at"),
            Message.sent_at.label("sent_at"),
        )
        .where(
            Message.tenant_id == tenant, Message.from_patient.is_(True), Message.sent_at >= since
        )
        .subquery()
    )
    # The earliest patient message answered by each reply is when the wait began.
    waits = (
        select(
            asked.c.thread,
            asked.c.replied_at,
            func.min(asked.c.sent_at).label("asked_at"),
        )
        .where(asked.c.replied_at.is_not(None))
        .group_by(asked.c.thread, asked.c.replied_at)
        .subquery()
    )
    seconds = _seconds_between(uow, waits.c.replied_at, waits.c.asked_at)
    ranked = select(
        seconds.label("seconds"),
        func.row_number().over(order_by=seconds).label("position"),
        func.count().over().label("total"),
    ).subquery()
    # Only the two waits at the percentiles' ranks leave the database.
    ranks = [(ranked.c.total * percent + 99) // 100 for percent in (50, 90)]
    rows = uow.session.exec(
        select(ranked.c.seconds, ranked.c.position, ranked.c.total).where(
            ranked.c.position.in_(ranks)
        )
    ).all()
    if not rows:
        return ResponseTimes(0, "—", "—")
    total = rows[0].total
    by_position = {row.position: row.seconds for row in rows}
    return ResponseTimes(
        total,
        _duration(by_position[percentile_rank(50, total)]),
        _duration(by_position[percentile_rank(90, total)]),
    )


def _active_patients(uow, tenant, now) -> RateLine:
    active, total = uow.session.exec(
        select(
            func.count(case((User.last_sign_in_at >= now - timedelta(days=ACTIVE_DAYS), 1))),
            func.count(),
        ).where(
            User.tenant_id == tenant,
            User.role == Role.PATIENT,
            User.status == UserStatus.ACTIVE,
        )
    ).one()
    return RateLine(f"Signed in within {ACTIVE_DAYS} days", active, total, _percent(active, total))


def _mfa(uow, tenant) -> list[RateLine]:
    rows = uow.session.exec(
        select(User.role, func.count(User.mfa_enrolled_at), func.count())
        .where(User.tenant_id == tenant, User.status != UserStatus.DEACTIVATED)
        .group_by(User.role)
    ).all()
    counts = {Role(role): (enrolled, total) for role, enrolled, total in rows}
    lines = []
    for role, label in ROLE_LABELS.items():
        enrolled, total = counts.get(role, (0, 0))
        lines.append(RateLine(label, enrolled, total, _percent(enrolled, total)))
    enrolled = sum(line.count for line in lines)
    total = sum(line.total for line in lines)
    return [*lines, RateLine("Everyone", enrolled, total, _percent(enrolled, total))]


def _delivery(uow, tenant, since) -> list[dict]:
    """Notifications queued in the period, per channel and status."""
    rows = uow.session.exec(
        select(Notification.channel, Notification.status, func.count())
        .where(Notification.tenant_id == tenant, Notification.created_at >= since)
        .group_by(Notification.channel, Notification.status)
    ).all()
    counts = {(channel, status): count for channel, status, count in rows}
    return [
        {
            "channel": CHANNEL_LABELS[channel],
            **{status: counts.get((channel, status), 0) for status in DELIVERY_STATUSES},
        }
        for channel in CHANNELS
    ]


# --- helpers --------------------------------------------------------------------------------


def _seconds_between(uow: UnitOfWork, later, earlier):
    if uow.session.get_bind().dialect.name == "postgresql":
        return extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _label(start: datetime, zone: str) -> str:
    local = start.astimezone(ZoneInfo(zone))
    return f"{local.day} {local:%b}"


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "—"


def _percent_value(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


def _duration(seconds: float) -> str:
    minutes = round(float(seconds) / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} d {hours % 24} h"
