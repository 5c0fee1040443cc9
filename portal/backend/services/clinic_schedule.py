"""The clinic's side of scheduling: a provider's calendar and working hours, requests to
approve, check-in and missed visits, booking on a patient's behalf; and the practice's visit
types, holidays and reminder times for admins.

Late cancellations and missed visits are recorded with who caused them and shown to staff;
nothing is ever done to a patient automatically because of them.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from portal.backend.availability import local_instant, local_midnight
from portal.backend.db import UnitOfWork
from portal.backend.models import (
    ACTIVE_APPOINTMENT_STATUSES,
    Appointment,
    AppointmentStatus,
    AppointmentType,
    AvailabilityException,
    AvailabilityRule,
    ExceptionKind,
    Location,
    Modality,
    Patient,
    Practice,
    Provider,
    SlotHold,
    WaitlistEntry,
)
from portal.backend.models.base import utcnow
from portal.backend.patient_index import name_dob_index
from portal.backend.security.principal import NotFound, Principal, Role, require_role
from portal.backend.services import scheduling
from portal.backend.services.reminders import OffsetsInvalid, reminder_offsets
from portal.backend.views import (
    MODALITY_LABELS,
    STATUS_LABELS,
    AttendanceLine,
    CalendarDay,
    CalendarLine,
    Choice,
    ClinicCalendar,
    ExceptionLine,
    HoursLine,
    PatientMatch,
    PreviewDay,
    SchedulingSettings,
    SlotDay,
    VisitTypeRow,
    WorkingHours,
    local_day,
    local_moment,
    local_time,
)

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
PREVIEW_DAYS = 14
ATTENDANCE_DAYS = 90
CAUSES = ("patient", "clinic")
EXCEPTION_LABELS = {
    ExceptionKind.TIME_OFF: "Time off",
    ExceptionKind.EXTRA_CLINIC: "Extra clinic",
    ExceptionKind.HOLIDAY: "Holiday",
}


class ScheduleInvalid(Exception):
    """What the clinic entered cannot be saved; the text says why. Nothing was changed."""


# --- the provider's calendar ----------------------------------------------------------------


def clinic_calendar(
    principal: Principal, first_day: date, days: int = 1, *, uow: UnitOfWork
) -> ClinicCalendar:
    """The provider's appointments for a day or a week, with the requests waiting for them,
    their waitlist's fill rate and recent late cancellations and missed visits."""
    require_role(principal, Role.PROVIDER)
    days = 7 if days > 1 else 1
    with uow:
        provider = _own_provider(uow, principal)
        zone = scheduling.practice_zone(uow, principal)
        start = local_midnight(first_day, zone)
        end = local_midnight(first_day + timedelta(days=days), zone)
        now = utcnow()
        rows = uow.session.exec(
            _appointments_of(provider).where(
                Appointment.starts_at >= start, Appointment.starts_at < end
            )
        ).all()
        grouped: dict[date, list[CalendarLine]] = {
            first_day + timedelta(days=n): [] for n in range(days)
        }
        for appointment, patient, kind in rows:
            local = appointment.starts_at.astimezone(ZoneInfo(zone)).date()
            grouped.setdefault(local, []).append(_line(uow, appointment, patient, kind, zone, now))
        requests = uow.session.exec(
            select(func.count()).where(
                Appointment.provider_id == provider.id,
                Appointment.status == AppointmentStatus.REQUESTED,
                Appointment.starts_at > now,
            )
        ).scalar_one()
        waiting, made, accepted = _waitlist_figures(uow, provider, now)
        attendance = _attendance(uow, provider, zone, now)
        uow.audit.record(
            principal, "schedule.read", resource_type="provider", resource_id=provider.id
        )
        uow.commit()
        return ClinicCalendar(
            provider_name=provider.display_name,
            first_date=first_day.isoformat(),
            days=[
                CalendarDay(
                    date=day.isoformat(),
                    day=local_day(local_midnight(day, zone) + timedelta(hours=12), zone),
                    lines=lines,
                )
                for day, lines in sorted(grouped.items())
            ],
            requests=requests,
            waitlist_waiting=waiting,
            offers_made=made,
            offers_accepted=accepted,
            fill_rate=f"{round(100 * accepted / made)}%" if made else "—",
            attendance=attendance,
        )


def approve_request(principal: Principal, appointment_id: uuid.UUID, *, uow: UnitOfWork) -> None:
    require_role(principal, Role.PROVIDER)
    with uow:
        appointment = _clinic_appointment(uow, principal, appointment_id)
        if appointment.status != AppointmentStatus.REQUESTED:
            raise scheduling.BookingRefused("This appointment is not waiting for approval.")
        appointment.status = AppointmentStatus.BOOKED
        appointment.updated_at = utcnow()
        scheduling.notify_change(uow, appointment, "appointment_booked", "approved")
        scheduling.audit_appointment(uow, principal, "appointment.approve", appointment)
        uow.commit()


def decline_request(
    principal: Principal, appointment_id: uuid.UUID, reason: str, *, uow: UnitOfWork
) -> None:
    require_role(principal, Role.PROVIDER)
    with uow:
        appointment = _clinic_appointment(uow, principal, appointment_id)
        if appointment.status != AppointmentStatus.REQUESTED:
            raise scheduling.BookingRefused("This appointment is not waiting for approval.")
        appointment.status = AppointmentStatus.CANCELLED
        appointment.cancel_reason = _reason(reason)
        appointment.cancelled_at = appointment.updated_at = utcnow()
        appointment.caused_by = "clinic"
        scheduling.notify_change(uow, appointment, "appointment_request_declined", "declined")
        scheduling.audit_appointment(uow, principal, "appointment.decline", appointment)
        uow.commit()


def check_in(principal: Principal, appointment_id: uuid.UUID, *, uow: UnitOfWork) -> None:
    require_role(principal, Role.PROVIDER)
    with uow:
        appointment = _clinic_appointment(uow, principal, appointment_id)
        if appointment.status != AppointmentStatus.BOOKED or not _is_today_or_past(
            appointment, scheduling.practice_zone(uow, principal)
        ):
            raise scheduling.BookingRefused("Only a booked visit on its day can be checked in.")
        appointment.status = AppointmentStatus.ARRIVED
        appointment.updated_at = utcnow()
        scheduling.audit_appointment(uow, principal, "appointment.check_in", appointment)
        uow.commit()


def mark_missed(
    principal: Principal, appointment_id: uuid.UUID, caused_by: str, *, uow: UnitOfWork
) -> None:
    """Record a missed visit and who caused it (the patient did not come, or the clinic could
    not see them)."""
    require_role(principal, Role.PROVIDER)
    if caused_by not in CAUSES:
        raise scheduling.BookingRefused("Say whether the patient or the clinic missed the visit.")
    with uow:
        appointment = _clinic_appointment(uow, principal, appointment_id)
        if appointment.status != AppointmentStatus.BOOKED or appointment.starts_at > utcnow():
            raise scheduling.BookingRefused(
                "Only a booked visit whose time has come can be marked missed."
            )
        appointment.status = AppointmentStatus.NO_SHOW
        appointment.caused_by = caused_by
        appointment.updated_at = utcnow()
        scheduling.audit_appointment(uow, principal, "appointment.missed", appointment)
        uow.commit()


def cancel_for_patient(
    principal: Principal,
    appointment_id: uuid.UUID,
    reason: str,
    caused_by: str,
    *,
    uow: UnitOfWork,
) -> None:
    require_role(principal, Role.PROVIDER)
    if caused_by not in CAUSES:
        raise scheduling.BookingRefused("Say whether the patient or the clinic is cancelling.")
    with uow:
        appointment = _clinic_appointment(uow, principal, appointment_id)
        if appointment.status not in ACTIVE_APPOINTMENT_STATUSES:
            raise scheduling.BookingRefused("This appointment is already closed.")
        scheduling.cancel_by_clinic(uow, principal, appointment, reason, caused_by)
        uow.commit()


def visit_types(principal: Principal, *, uow: UnitOfWork) -> list[Choice]:
    """The practice's active visit types, for booking on a patient's behalf."""
    require_role(principal, Role.PROVIDER)
    with uow:
        kinds = uow.appointment_types.all(
            uow.appointment_types.scoped(principal)
            .where(AppointmentType.active)
            .order_by(AppointmentType.name)
        )
        return [Choice(id=str(kind.id), name=kind.name) for kind in kinds]


def find_patient(
    principal: Principal, last_name: str, date_of_birth: date, *, uow: UnitOfWork
) -> list[PatientMatch]:
    """Patients of the practice with exactly this last name and date of birth (through the
    blind index, so no plaintext is searched)."""
    require_role(principal, Role.PROVIDER)
    if not last_name.strip():
        raise ScheduleInvalid("Enter the patient's last name.")
    with uow:
        index = name_dob_index(uow, last_name, date_of_birth)
        patients = uow.patients.all(
            uow.patients.scoped(principal).where(Patient.name_dob_index == index).limit(10)
        )
        for patient in patients:
            uow.audit.record(
                principal,
                "patient.lookup",
                resource_type="patient",
                resource_id=patient.id,
                patient_id=patient.id,
            )
        uow.commit()
        return [
            PatientMatch(
                id=str(p.id),
                name=p.full_name,
                date_of_birth=p.date_of_birth.isoformat(),
                medical_record_number=p.medical_record_number,
            )
            for p in patients
        ]


def times_for_patient(
    principal: Principal,
    visit_type_id: uuid.UUID,
    first_day: date,
    *,
    reschedule_of: uuid.UUID | None = None,
    uow: UnitOfWork,
) -> list[SlotDay]:
    """The provider's own free times over a week, for booking or moving on a patient's behalf
    (no minimum notice; never in the past)."""
    require_role(principal, Role.PROVIDER)
    with uow:
        provider = _own_provider(uow, principal)
        kind = _visit_type(uow, principal, visit_type_id)
        zone = scheduling.practice_zone(uow, principal)
        if reschedule_of is not None:
            _clinic_appointment(uow, principal, reschedule_of)
        slots = scheduling.staff_times(
            principal,
            kind,
            provider,
            local_midnight(first_day, zone),
            local_midnight(first_day + timedelta(days=7), zone),
            uow=uow,
            ignore_appointment=reschedule_of,
        )
        return scheduling.slot_days(uow, slots, [provider], zone)


def book_for_patient(
    principal: Principal,
    patient_id: uuid.UUID,
    visit_type_id: uuid.UUID,
    starts_at: datetime,
    reason: str = "",
    *,
    uow: UnitOfWork,
) -> None:
    require_role(principal, Role.PROVIDER)
    with uow:
        provider = _own_provider(uow, principal)
        patient = uow.patients.get_for(principal, patient_id)
        if patient is None:
            raise NotFound
        kind = _visit_type(uow, principal, visit_type_id)
        _not_past(starts_at)
        scheduling.place_for_patient(
            uow, principal, patient.id, kind, provider, starts_at, reason.strip()[:500] or None
        )
        uow.commit()


def move_for_patient(
    principal: Principal, appointment_id: uuid.UUID, starts_at: datetime, *, uow: UnitOfWork
) -> None:
    """Reschedule on the patient's behalf; the old time is released only if the new one is
    booked."""
    require_role(principal, Role.PROVIDER)
    with uow:
        provider = _own_provider(uow, principal)
        appointment = _clinic_appointment(uow, principal, appointment_id)
        if appointment.status not in ACTIVE_APPOINTMENT_STATUSES:
            raise scheduling.BookingRefused("This appointment is already closed.")
        _not_past(starts_at)
        kind = uow.session.get(AppointmentType, appointment.appointment_type_id)
        scheduling.place_for_patient(
            uow, principal, appointment.patient_id, kind, provider, starts_at, None, appointment
        )
        uow.commit()


# --- the provider's working hours -----------------------------------------------------------


def working_hours(
    principal: Principal, preview_type_id: uuid.UUID | None = None, *, uow: UnitOfWork
) -> WorkingHours:
    """Weekly hours, upcoming exceptions, and a preview of the next two weeks' free times."""
    require_role(principal, Role.PROVIDER)
    with uow:
        provider = _own_provider(uow, principal)
        zone = scheduling.practice_zone(uow, principal)
        today = utcnow().astimezone(ZoneInfo(zone)).date()
        places = {
            loc.id: loc
            for loc in uow.locations.all(uow.locations.scoped(principal).order_by(Location.name))
        }
        rules = uow.session.exec(
            select(AvailabilityRule)
            .where(
                AvailabilityRule.provider_id == provider.id,
                (AvailabilityRule.effective_until.is_(None))
                | (AvailabilityRule.effective_until >= today),
            )
            .order_by(AvailabilityRule.weekday, AvailabilityRule.start_time)
        ).scalars()
        exceptions = uow.session.exec(
            select(AvailabilityException)
            .where(
                AvailabilityException.provider_id == provider.id,
                AvailabilityException.ends_at > utcnow(),
            )
            .order_by(AvailabilityException.starts_at)
        ).scalars()
        kinds = uow.appointment_types.all(
            uow.appointment_types.scoped(principal)
            .where(AppointmentType.active)
            .order_by(AppointmentType.name)
        )
        kind = next((k for k in kinds if k.id == preview_type_id), kinds[0] if kinds else None)
        preview = []
        if kind is not None:
            slots = scheduling.staff_times(
                principal,
                kind,
                provider,
                local_midnight(today, zone),
                local_midnight(today + timedelta(days=PREVIEW_DAYS), zone),
                uow=uow,
            )
            for day in scheduling.slot_days(uow, slots, [provider], zone):
                preview.append(
                    PreviewDay(
                        day=day.day,
                        free=len(day.slots),
                        first=day.slots[0].time,
                        last=day.slots[-1].time,
                    )
                )
        return WorkingHours(
            hours=[
                HoursLine(
                    id=str(rule.id),
                    weekday=WEEKDAYS[rule.weekday],
                    hours=f"{_clock(rule.start_time)} to {_clock(rule.end_time)}",
                    location=places[rule.location_id].name if rule.location_id in places else "",
                    effective=_effective(rule, today),
                )
                for rule in rules
            ],
            exceptions=[_exception_line(e, zone) for e in exceptions],
            locations=[Choice(id=str(i), name=loc.name) for i, loc in places.items()],
            visit_types=[Choice(id=str(k.id), name=k.name) for k in kinds],
            preview_type=kind.name if kind else "",
            preview=preview,
        )


def add_hours(
    principal: Principal,
    weekday: int,
    start: time,
    end: time,
    location_id: uuid.UUID,
    effective_from: date,
    effective_until: date | None = None,
    *,
    uow: UnitOfWork,
) -> None:
    require_role(principal, Role.PROVIDER)
    if weekday not in range(7):
        raise ScheduleInvalid("Choose a day of the week.")
    if start >= end:
        raise ScheduleInvalid("The end time must be after the start time.")
    if effective_until is not None and effective_until < effective_from:
        raise ScheduleInvalid("The last day must not be before the first day.")
    with uow:
        provider = _own_provider(uow, principal)
        location = uow.locations.get_for(principal, location_id)
        if location is None:
            raise NotFound
        clash = uow.session.exec(
            select(AvailabilityRule.id).where(
                AvailabilityRule.provider_id == provider.id,
                AvailabilityRule.weekday == weekday,
                AvailabilityRule.start_time < end,
                AvailabilityRule.end_time > start,
                (AvailabilityRule.effective_until.is_(None))
                | (AvailabilityRule.effective_until >= effective_from),
                *([AvailabilityRule.effective_from <= effective_until] if effective_until else []),
            )
        ).first()
        if clash:
            raise ScheduleInvalid(
                f"These hours overlap hours you already work on {WEEKDAYS[weekday]}s."
            )
        rule = AvailabilityRule(
            tenant_id=principal.tenant_id,
            provider_id=provider.id,
            location_id=location.id,
            weekday=weekday,
            start_time=start,
            end_time=end,
            time_zone=location.time_zone,
            effective_from=effective_from,
            effective_until=effective_until,
        )
        uow.session.add(rule)
        uow.session.flush()
        uow.audit.record(
            principal, "availability.hours.add", resource_type="availability", resource_id=rule.id
        )
        uow.commit()


def remove_hours(principal: Principal, rule_id: uuid.UUID, *, uow: UnitOfWork) -> None:
    """Stop weekly hours from today on (earlier dates keep them, for the record)."""
    require_role(principal, Role.PROVIDER)
    with uow:
        provider = _own_provider(uow, principal)
        rule = uow.session.exec(
            select(AvailabilityRule).where(
                AvailabilityRule.id == rule_id, AvailabilityRule.provider_id == provider.id
            )
        ).scalar_one_or_none()
        if rule is None:
            raise NotFound
        today = utcnow().astimezone(ZoneInfo(rule.time_zone)).date()
        if rule.effective_from >= today:
            uow.session.delete(rule)
        else:
            rule.effective_until = today - timedelta(days=1)
        uow.audit.record(
            principal,
            "availability.hours.remove",
            resource_type="availability",
            resource_id=rule_id,
        )
        uow.commit()


def add_exception(
    principal: Principal,
    kind: str,
    day: date,
    start: time,
    end: time,
    note: str = "",
    location_id: uuid.UUID | None = None,
    *,
    uow: UnitOfWork,
) -> int:
    """Time off or an extra clinic on one day (in the practice's zone). Returns how many
    booked appointments fall in new time off: they are kept, for the clinic to move or cancel
    with the patients."""
    require_role(principal, Role.PROVIDER)
    if kind not in (ExceptionKind.TIME_OFF, ExceptionKind.EXTRA_CLINIC):
        raise ScheduleInvalid("Choose time off or an extra clinic.")
    if start >= end:
        raise ScheduleInvalid("The end time must be after the start time.")
    with uow:
        provider = _own_provider(uow, principal)
        zone = scheduling.practice_zone(uow, principal)
        starts_at, ends_at = local_instant(day, start, zone), local_instant(day, end, zone)
        if ends_at <= utcnow():
            raise ScheduleInvalid("That time has already passed.")
        location = None
        if kind == ExceptionKind.EXTRA_CLINIC:
            location = uow.locations.get_for(principal, location_id) if location_id else None
            if location is None:
                raise ScheduleInvalid("Choose where the extra clinic is.")
        exception = AvailabilityException(
            tenant_id=principal.tenant_id,
            provider_id=provider.id,
            location_id=location.id if location else None,
            kind=ExceptionKind(kind),
            starts_at=starts_at,
            ends_at=ends_at,
            note=note.strip()[:200],
        )
        uow.session.add(exception)
        uow.session.flush()
        affected = 0
        if kind == ExceptionKind.TIME_OFF:
            affected = uow.session.exec(
                select(func.count()).where(
                    Appointment.provider_id == provider.id,
                    Appointment.status.in_(ACTIVE_APPOINTMENT_STATUSES),
                    Appointment.starts_at < ends_at,
                    Appointment.ends_at > starts_at,
                )
            ).scalar_one()
        uow.audit.record(
            principal,
            f"availability.{kind}.add",
            resource_type="availability",
            resource_id=exception.id,
        )
        uow.commit()
        return affected


def remove_exception(principal: Principal, exception_id: uuid.UUID, *, uow: UnitOfWork) -> None:
    require_role(principal, Role.PROVIDER)
    with uow:
        provider = _own_provider(uow, principal)
        exception = uow.session.exec(
            select(AvailabilityException).where(
                AvailabilityException.id == exception_id,
                AvailabilityException.provider_id == provider.id,
            )
        ).scalar_one_or_none()
        if exception is None:
            raise NotFound
        uow.session.delete(exception)
        uow.audit.record(
            principal,
            "availability.exception.remove",
            resource_type="availability",
            resource_id=exception_id,
        )
        uow.commit()


# --- the practice's settings (admins) -------------------------------------------------------


def scheduling_settings(principal: Principal, *, uow: UnitOfWork) -> SchedulingSettings:
    require_role(principal, Role.ADMIN)
    with uow:
        practice = uow.session.get(Practice, principal.tenant_id)
        kinds = uow.appointment_types.all(
            uow.appointment_types.scoped(principal).order_by(
                AppointmentType.active.desc(), AppointmentType.name
            )
        )
        holidays = uow.session.exec(
            select(AvailabilityException)
            .where(
                AvailabilityException.tenant_id == principal.tenant_id,
                AvailabilityException.kind == ExceptionKind.HOLIDAY,
                AvailabilityException.ends_at > utcnow(),
            )
            .order_by(AvailabilityException.starts_at)
        ).scalars()
        return SchedulingSettings(
            visit_types=[_type_row(kind) for kind in kinds],
            holidays=[_exception_line(h, practice.time_zone) for h in holidays],
            reminder_minutes_before=practice.reminder_minutes_before,
        )


VISIT_TYPE_LIMITS = {
    "duration_minutes": (5, 480, "The length"),
    "buffer_before_minutes": (0, 120, "The buffer before"),
    "buffer_after_minutes": (0, 120, "The buffer after"),
    "slot_interval_minutes": (5, 240, "The slot interval"),
    "minimum_notice_minutes": (0, 60 * 24 * 30, "The minimum notice"),
    "booking_horizon_days": (1, 365, "The booking horizon"),
    "max_future_bookings": (1, 20, "The most future bookings"),
    "cancellation_cutoff_hours": (0, 24 * 14, "The cancellation cutoff"),
}


def save_visit_type(
    principal: Principal, visit_type_id: uuid.UUID | None, values: dict, *, uow: UnitOfWork
) -> str:
    """Create or change a visit type; every value is checked and a problem named in words."""
    require_role(principal, Role.ADMIN)
    name = str(values.get("name", "")).strip()
    if not 2 <= len(name) <= 120:
        raise ScheduleInvalid("Give the visit type a name of 2 to 120 characters.")
    modality = values.get("modality")
    if modality not in {m.value for m in Modality}:
        raise ScheduleInvalid("Choose in person, video or phone.")
    bookable_by = values.get("bookable_by")
    if bookable_by not in ("all", "new", "established"):
        raise ScheduleInvalid("Choose who may book it: everyone, new or existing patients.")
    numbers = {}
    for key, (low, high, label) in VISIT_TYPE_LIMITS.items():
        try:
            numbers[key] = int(str(values.get(key, "")).strip())
        except ValueError:
            raise ScheduleInvalid(f"{label} must be a whole number.") from None
        if not low <= numbers[key] <= high:
            raise ScheduleInvalid(f"{label} must be between {low} and {high}.")
    texts = {key: str(values.get(key, "")).strip() for key in ("policy_text", "preparation_text")}
    if any(len(text) > 2000 for text in texts.values()):
        raise ScheduleInvalid("Keep the policy and preparation texts under 2,000 characters.")
    with uow:
        if visit_type_id is None:
            kind = AppointmentType(
                tenant_id=principal.tenant_id,
                name=name,
                modality=modality,
                duration_minutes=numbers["duration_minutes"],
            )
            uow.session.add(kind)
        else:
            kind = uow.appointment_types.get_for(principal, visit_type_id)
            if kind is None:
                raise NotFound
        kind.name, kind.modality, kind.bookable_by = name, Modality(modality), bookable_by
        for key, number in numbers.items():
            setattr(kind, key, number)
        kind.policy_text, kind.preparation_text = texts["policy_text"], texts["preparation_text"]
        kind.requires_approval = bool(values.get("requires_approval"))
        kind.active = bool(values.get("active", True))
        uow.session.flush()
        uow.audit.record(
            principal, "visit_type.save", resource_type="appointment_type", resource_id=kind.id
        )
        uow.commit()
        return str(kind.id)


def add_holiday(
    principal: Principal, first_day: date, last_day: date, name: str, *, uow: UnitOfWork
) -> None:
    """Close the practice for whole days (in its zone): no one can book them."""
    require_role(principal, Role.ADMIN)
    name = name.strip()
    if not name:
        raise ScheduleInvalid("Name the holiday, e.g. 'Thanksgiving'.")
    if last_day < first_day:
        raise ScheduleInvalid("The last day must not be before the first day.")
    with uow:
        zone = scheduling.practice_zone(uow, principal)
        holiday = AvailabilityException(
            tenant_id=principal.tenant_id,
            kind=ExceptionKind.HOLIDAY,
            starts_at=local_midnight(first_day, zone),
            ends_at=local_midnight(last_day + timedelta(days=1), zone),
            note=name[:200],
        )
        uow.session.add(holiday)
        uow.session.flush()
        uow.audit.record(
            principal, "holiday.add", resource_type="availability", resource_id=holiday.id
        )
        uow.commit()


def remove_holiday(principal: Principal, holiday_id: uuid.UUID, *, uow: UnitOfWork) -> None:
    require_role(principal, Role.ADMIN)
    with uow:
        holiday = uow.session.exec(
            select(AvailabilityException).where(
                AvailabilityException.id == holiday_id,
                AvailabilityException.tenant_id == principal.tenant_id,
                AvailabilityException.kind == ExceptionKind.HOLIDAY,
            )
        ).scalar_one_or_none()
        if holiday is None:
            raise NotFound
        uow.session.delete(holiday)
        uow.audit.record(
            principal, "holiday.remove", resource_type="availability", resource_id=holiday_id
        )
        uow.commit()


def save_reminder_times(principal: Principal, setting: str, *, uow: UnitOfWork) -> None:
    require_role(principal, Role.ADMIN)
    try:
        offsets = reminder_offsets(setting)
    except OffsetsInvalid as problem:
        raise ScheduleInvalid(str(problem)) from None
    with uow:
        practice = uow.session.get(Practice, principal.tenant_id)
        practice.reminder_minutes_before = ",".join(str(m) for m in offsets)
        uow.audit.record(
            principal, "practice.reminders.save", resource_type="practice", resource_id=practice.id
        )
        uow.commit()


# --- internals ------------------------------------------------------------------------------


def _own_provider(uow: UnitOfWork, principal: Principal) -> Provider:
    provider = uow.providers.get_for(principal, principal.provider_id)
    if provider is None:
        raise NotFound
    return provider


def _clock(wall_clock: time) -> str:
    return f"{wall_clock.hour % 12 or 12}:{wall_clock:%M} {'AM' if wall_clock.hour < 12 else 'PM'}"


def _effective(rule: AvailabilityRule, today: date) -> str:
    since = "" if rule.effective_from <= today else f"from {rule.effective_from:%-d %b %Y}"
    until = f"until {rule.effective_until:%-d %b %Y}" if rule.effective_until else ""
    return " ".join(part for part in (since, until) if part) or "Every week"


def _exception_line(exception: AvailabilityException, zone: str) -> ExceptionLine:
    end = exception.ends_at
    if exception.kind == ExceptionKind.HOLIDAY:
        last = (end - timedelta(seconds=1)).astimezone(ZoneInfo(zone))
        first = exception.starts_at.astimezone(ZoneInfo(zone))
        when = local_day(exception.starts_at, zone)
        if last.date() != first.date():
            when += f" to {local_day(end - timedelta(seconds=1), zone)}"
    else:
        when = f"{local_moment(exception.starts_at, zone)} to {local_time(end, zone)}"
    return ExceptionLine(
        id=str(exception.id),
        kind=EXCEPTION_LABELS[exception.kind],
        when=when,
        note=exception.note,
    )


def _visit_type(uow: UnitOfWork, principal: Principal, visit_type_id: uuid.UUID) -> AppointmentType:
    kind = uow.appointment_types.get_for(principal, visit_type_id)
    if kind is None or not kind.active:
        raise NotFound
    return kind


def _clinic_appointment(
    uow: UnitOfWork, principal: Principal, appointment_id: uuid.UUID
) -> Appointment:
    """An appointment with this provider; anyone else's answers as missing."""
    appointment = uow.appointments.get_for(principal, appointment_id)
    if appointment is None or appointment.provider_id != principal.provider_id:
        raise NotFound
    return appointment


def _not_past(starts_at: datetime) -> None:
    if starts_at.tzinfo is None:
        raise scheduling.BookingRefused("That time is not one we offer. Choose one of the times.")
    if starts_at <= utcnow():
        raise scheduling.BookingRefused("That time has already passed. Choose another time.")


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise scheduling.BookingRefused("Say briefly why, for the patient's record.")
    return reason[:500]


def _is_today_or_past(appointment: Appointment, zone: str) -> bool:
    tz = ZoneInfo(zone)
    return appointment.starts_at.astimezone(tz).date() <= utcnow().astimezone(tz).date()


def _appointments_of(provider: Provider):
    return (
        select(Appointment, Patient, AppointmentType)
        .join(Patient, Patient.id == Appointment.patient_id)
        .join(AppointmentType, AppointmentType.id == Appointment.appointment_type_id)
        .where(Appointment.provider_id == provider.id)
        .order_by(Appointment.starts_at)
    )


def _attendance_note(appointment: Appointment) -> str:
    who = f" ({appointment.caused_by})" if appointment.caused_by else ""
    if appointment.status == AppointmentStatus.NO_SHOW:
        return f"Missed{who}"
    if appointment.late_cancellation:
        return f"Late cancellation{who}"
    return ""


def _line(
    uow: UnitOfWork,
    appointment: Appointment,
    patient: Patient,
    kind: AppointmentType,
    zone: str,
    now: datetime,
) -> CalendarLine:
    location = (
        uow.session.get(Location, appointment.location_id) if appointment.location_id else None
    )
    booked = appointment.status == AppointmentStatus.BOOKED
    return CalendarLine(
        id=str(appointment.id),
        visit_type_id=str(kind.id),
        time=local_time(appointment.starts_at, zone),
        end_time=local_time(appointment.ends_at, zone),
        patient=patient.full_name,
        appointment_type=kind.name,
        modality=MODALITY_LABELS[kind.modality],
        location=location.name if location else "",
        status=STATUS_LABELS[appointment.status],
        attendance=_attendance_note(appointment),
        requested=appointment.status == AppointmentStatus.REQUESTED,
        can_check_in=booked and _is_today_or_past(appointment, zone),
        can_mark_missed=booked and appointment.starts_at <= now,
        can_change=appointment.status in ACTIVE_APPOINTMENT_STATUSES
        and appointment.starts_at > now,
    )


def _waitlist_figures(uow: UnitOfWork, provider: Provider, now: datetime) -> tuple[int, int, int]:
    waiting = uow.session.exec(
        select(func.count())
        .select_from(WaitlistEntry)
        .join(Appointment, Appointment.id == WaitlistEntry.appointment_id)
        .where(
            Appointment.provider_id == provider.id,
            WaitlistEntry.status == "waiting",
            Appointment.starts_at > now,
        )
    ).scalar_one()
    offers = select(SlotHold.outcome).where(
        SlotHold.provider_id == provider.id,
        SlotHold.waitlist_entry_id.is_not(None),
        SlotHold.created_at > now - timedelta(days=ATTENDANCE_DAYS),
    )
    outcomes = [row[0] for row in uow.session.exec(offers).all()]
    return waiting, len(outcomes), outcomes.count("booked")


def _attendance(
    uow: UnitOfWork, provider: Provider, zone: str, now: datetime
) -> list[AttendanceLine]:
    rows = uow.session.exec(
        _appointments_of(provider)
        .where(
            Appointment.starts_at > now - timedelta(days=ATTENDANCE_DAYS),
            (Appointment.status == AppointmentStatus.NO_SHOW) | Appointment.late_cancellation,
        )
        .limit(50)
    ).all()
    return [
        AttendanceLine(
            day=local_day(appointment.starts_at, zone),
            time=local_time(appointment.starts_at, zone),
            patient=patient.full_name,
            what=_attendance_note(appointment),
        )
        for appointment, patient, _ in rows
    ]


def _type_row(kind: AppointmentType) -> VisitTypeRow:
    return VisitTypeRow(
        id=str(kind.id),
        name=kind.name,
        modality=kind.modality,
        duration_minutes=kind.duration_minutes,
        buffer_before_minutes=kind.buffer_before_minutes,
        buffer_after_minutes=kind.buffer_after_minutes,
        slot_interval_minutes=kind.slot_interval_minutes,
        minimum_notice_minutes=kind.minimum_notice_minutes,
        booking_horizon_days=kind.booking_horizon_days,
        max_future_bookings=kind.max_future_bookings,
        bookable_by=kind.bookable_by,
        requires_approval=kind.requires_approval,
        cancellation_cutoff_hours=kind.cancellation_cutoff_hours,
        policy_text=kind.policy_text,
        preparation_text=kind.preparation_text,
        active=kind.active,
    )
