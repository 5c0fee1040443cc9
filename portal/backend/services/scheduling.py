"""Booking, rescheduling and cancelling appointments, for patients and on their behalf.

Slot search loads a fixed set of rows (working hours, exceptions, appointments and live holds
of the providers in question) and computes free times in memory (`availability`). A chosen
time is held for a few minutes while the patient reviews it; confirming places the
appointment. Placing re-checks the time inside the transaction (SQLite serializes writers), and
on PostgreSQL the `appointments_no_overlap` exclusion constraint refuses a concurrent overlap,
so two patients can never get one time: the loser gets `SlotTaken` with the next free times.

Waitlist offers are holds too: a patient waiting for an earlier time is offered a freed time,
held for them for `OFFER_MINUTES`, in the order they joined.
"""

from __future__ import annotations

import itertools
import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from portal.backend.availability import (
    Slot,
    Span,
    VisitRules,
    WeeklyHours,
    Window,
    free_slots,
    local_midnight,
    weekly_windows,
)
from portal.backend.db import UnitOfWork
from portal.backend.models import (
    ACTIVE_APPOINTMENT_STATUSES,
    Appointment,
    AppointmentStatus,
    AppointmentType,
    AvailabilityException,
    AvailabilityRule,
    CareTeamMember,
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
from portal.backend.notify import links
from portal.backend.notify.outbox import notify_patient, portal_link
from portal.backend.security.principal import NotFound, Principal, Role, require_role
from portal.backend.services.patient_access import own_patient
from portal.backend.views import (
    MODALITY_LABELS,
    STATUS_LABELS,
    AppointmentCard,
    AppointmentDetail,
    BookingOptions,
    HeldTime,
    MyAppointments,
    ProviderOption,
    SlotChoice,
    SlotDay,
    TimeSearch,
    VisitOption,
    local_day,
    local_time,
)

HOLD_MINUTES = 5
OFFER_MINUTES = 15
MAX_SEARCH_DAYS = 14
NEXT_TIMES = 5
REASON_LIMIT = 500
STAFF_HORIZON_DAYS = 365
PAST_SHOWN = 20
HOW_TO_JOIN = {
    Modality.VIDEO: "Join the video visit from this appointment's page in the portal a few "
    "minutes before it starts.",
    Modality.PHONE: "Your clinician will call you at the number in your profile at the time "
    "of the visit.",
    Modality.IN_PERSON: "",
}


class BookingRefused(Exception):
    """The booking, change or cancellation cannot be done; the text says why, in plain words.
    Nothing was changed."""


class SlotTaken(BookingRefused):
    """Someone else got the time first."""

    def __init__(self, next_times: list[SlotChoice]):
        super().__init__("Sorry, that time was just taken. Here are the next free times.")
        self.next_times = next_times


# --- for patients -------------------------------------------------------------------------


def booking_options(principal: Principal, *, uow: UnitOfWork) -> BookingOptions:
    """The visit types this patient may book online and the clinicians of their care team."""
    require_role(principal, Role.PATIENT)
    with uow:
        patient = own_patient(uow, principal)
        established = _is_established(uow, patient.id)
        kinds = uow.session.exec(
            select(AppointmentType)
            .where(AppointmentType.tenant_id == principal.tenant_id, AppointmentType.active)
            .order_by(AppointmentType.name)
        ).scalars()
        practice = uow.session.get(Practice, principal.tenant_id)
        return BookingOptions(
            visit_types=[
                VisitOption(
                    id=str(kind.id),
                    name=kind.name,
                    modality=MODALITY_LABELS[kind.modality],
                    minutes=kind.duration_minutes,
                    requires_approval=kind.requires_approval,
                    policy=kind.policy_text,
                    preparation=kind.preparation_text,
                )
                for kind in kinds
                if _may_book(kind, established)
            ],
            providers=[
                ProviderOption(id=str(p.id), name=_provider_name(p))
                for p in _team_providers(uow, patient)
            ],
            practice_phone=practice.phone,
        )


def find_times(
    principal: Principal,
    visit_type_id: uuid.UUID,
    provider_id: uuid.UUID | None,
    first_day: date,
    *,
    days: int = 7,
    reschedule_of: uuid.UUID | None = None,
    uow: UnitOfWork,
) -> TimeSearch:
    """Free times from `first_day` for `days` days (in the practice's zone), with one provider
    or any of the patient's care team. A search that starts at the earliest time the patient
    may book also gives the first free time, as `first_available` would."""
    require_role(principal, Role.PATIENT)
    days = max(1, min(days, MAX_SEARCH_DAYS))
    with uow:
        patient = own_patient(uow, principal)
        kind = _bookable_type(uow, principal, patient, visit_type_id)
        providers = _chosen_providers(uow, patient, provider_id)
        zone = practice_zone(uow, principal)
        now = utcnow()
        earliest, latest = _patient_bounds(kind, now)
        start = local_midnight(first_day, zone)
        end = local_midnight(first_day + timedelta(days=days), zone)
        ignore = _ignored_appointment(uow, principal, reschedule_of)
        slots = _free(
            uow,
            principal.tenant_id,
            kind,
            providers,
            max(start, earliest),
            min(end, latest),
            ignore_patient=patient.id,
            ignore_appointment=ignore,
        )
        if provider_id is None:  # "anyone": one choice per time, with the first clinician free
            first_free: dict[datetime, Slot] = {}
            for slot in slots:
                first_free.setdefault(slot.starts_at, slot)
            slots = list(first_free.values())
        result = slot_days(uow, slots, providers, zone)
        from_earliest = start <= earliest
        if slots or end >= latest:
            first = result[0].slots[0] if result and from_earliest else None  # the earliest
            return TimeSearch(days=result, first_free=first)
        later = _first_free(
            uow,
            principal.tenant_id,
            kind,
            providers,
            max(end, earliest),
            latest,
            patient.id,
            ignore,
        )
        if later is None:
            return TimeSearch(days=result)
        local = later.starts_at.astimezone(ZoneInfo(zone))
        return TimeSearch(
            days=result,
            next_free_date=local.date().isoformat(),
            next_free_day=local_day(later.starts_at, zone),
            first_free=_choice_of(uow, later, providers, zone) if from_earliest else None,
        )


def first_available(
    principal: Principal,
    visit_type_id: uuid.UUID,
    provider_id: uuid.UUID | None = None,
    *,
    uow: UnitOfWork,
) -> SlotChoice | None:
    """The first free time with one clinician or anyone on the patient's care team, from the
    minimum notice to the booking horizon."""
    require_role(principal, Role.PATIENT)
    with uow:
        patient = own_patient(uow, principal)
        kind = _bookable_type(uow, principal, patient, visit_type_id)
        providers = _chosen_providers(uow, patient, provider_id)
        earliest, latest = _patient_bounds(kind, utcnow())
        slot = _first_free(uow, principal.tenant_id, kind, providers, earliest, latest, patient.id)
        if slot is None:
            return None
        return _choice_of(uow, slot, providers, practice_zone(uow, principal))


def hold_time(
    principal: Principal,
    visit_type_id: uuid.UUID,
    provider_id: uuid.UUID,
    starts_at: datetime,
    *,
    reschedule_of: uuid.UUID | None = None,
    uow: UnitOfWork,
) -> HeldTime:
    """Keep a time for the patient for `HOLD_MINUTES` while they review and confirm it."""
    require_role(principal, Role.PATIENT)
    with uow:
        patient = own_patient(uow, principal)
        kind = _bookable_type(uow, principal, patient, visit_type_id)
        (provider,) = _chosen_providers(uow, patient, provider_id)
        now = utcnow()
        replacing = None
        if reschedule_of is not None:
            replacing = _changeable(uow, principal, reschedule_of, now)
            if replacing.appointment_type_id != kind.id:
                raise BookingRefused("A reschedule keeps the visit type; choose a new time.")
        else:
            _check_booking_limit(uow, patient.id, kind, now)
        _check_bounds(kind, starts_at, now)
        _release_holds(uow, patient.id)
        slot = _slot_at(uow, principal.tenant_id, kind, provider, starts_at, patient.id, replacing)
        hold = _hold(principal.tenant_id, patient.id, kind, slot, now)
        hold.reschedule_of = replacing.id if replacing else None
        if not _insert_hold(uow, hold, now):
            raise SlotTaken(
                _next_times(
                    uow,
                    principal.tenant_id,
                    kind,
                    provider,
                    starts_at,
                    patient.id,
                    hold.reschedule_of,
                )
            )
        uow.audit.record(
            principal,
            "appointment.hold",
            resource_type="slot_hold",
            resource_id=hold.id,
            patient_id=patient.id,
        )
        uow.commit()
        return _held_time(uow, hold, kind, now)


def confirm_hold(
    principal: Principal, hold_id: uuid.UUID, reason: str = "", *, uow: UnitOfWork
) -> AppointmentCard:
    """Book (or move an appointment to) the held time. A hold that lapsed still books if the
    time is free; a reschedule that fails leaves the original appointment as it was."""
    require_role(principal, Role.PATIENT)
    reason = reason.strip()
    if len(reason) > REASON_LIMIT:
        raise BookingRefused(f"Please keep the reason under {REASON_LIMIT} characters.")
    with uow:
        patient = own_patient(uow, principal)
        hold = uow.session.exec(
            select(SlotHold).where(
                SlotHold.id == hold_id,
                SlotHold.tenant_id == principal.tenant_id,
                SlotHold.patient_id == patient.id,
                or_(SlotHold.outcome.is_(None), SlotHold.outcome == "expired"),
            )
        ).scalar_one_or_none()
        if hold is None:
            raise NotFound
        kind = uow.session.get(AppointmentType, hold.appointment_type_id)
        now = utcnow()
        _check_bounds(kind, hold.starts_at, now, offer=hold.waitlist_entry_id is not None)
        replacing = None
        if hold.reschedule_of is not None:
            replacing = _changeable(uow, principal, hold.reschedule_of, now)
        else:
            _check_booking_limit(uow, patient.id, kind, now)
        slot = Slot(hold.starts_at, hold.ends_at, hold.provider_id, hold.location_id)
        appointment = _place(
            uow, principal, patient.id, kind, slot, reason or None, replacing, hold=hold
        )
        hold.outcome = "booked"
        if hold.waitlist_entry_id is not None:
            uow.session.get(WaitlistEntry, hold.waitlist_entry_id).status = "booked"
        uow.commit()
        return appointment_card(uow, appointment, practice_zone(uow, principal))


def release_hold(principal: Principal, hold_id: uuid.UUID, *, uow: UnitOfWork) -> None:
    """Give a held time back (going back to choose another, or saying no to an offer)."""
    require_role(principal, Role.PATIENT)
    with uow:
        hold = uow.session.exec(
            select(SlotHold).where(
                SlotHold.id == hold_id,
                SlotHold.tenant_id == principal.tenant_id,
                SlotHold.patient_id == principal.patient_id,
                SlotHold.outcome.is_(None),
            )
        ).scalar_one_or_none()
        if hold is None:
            raise NotFound
        hold.outcome = "declined" if hold.waitlist_entry_id else "released"
        uow.audit.record(
            principal,
            "appointment.hold.release",
            resource_type="slot_hold",
            resource_id=hold.id,
            patient_id=hold.patient_id,
        )
        uow.commit()


def my_appointments(principal: Principal, *, uow: UnitOfWork) -> MyAppointments:
    require_role(principal, Role.PATIENT)
    with uow:
        patient = own_patient(uow, principal)
        zone = practice_zone(uow, principal)
        now = utcnow()
        mine = uow.appointments.scoped(principal)
        upcoming = uow.appointments.all(
            mine.where(
                Appointment.starts_at >= now,
                Appointment.status.in_(ACTIVE_APPOINTMENT_STATUSES),
            ).order_by(Appointment.starts_at)
        )
        past = uow.appointments.all(
            mine.where(
                or_(
                    Appointment.starts_at < now,
                    Appointment.status.not_in(ACTIVE_APPOINTMENT_STATUSES),
                )
            )
            .order_by(Appointment.starts_at.desc())
            .limit(PAST_SHOWN)
        )
        offers = uow.session.exec(
            select(SlotHold).where(
                SlotHold.patient_id == patient.id,
                SlotHold.waitlist_entry_id.is_not(None),
                SlotHold.outcome.is_(None),
                SlotHold.expires_at > now,
            )
        ).scalars()
        uow.audit.record(
            principal,
            "appointment.list",
            resource_type="patient",
            resource_id=patient.id,
            patient_id=patient.id,
        )
        listed = MyAppointments(
            upcoming=[appointment_card(uow, a, zone, now=now) for a in upcoming],
            past=[appointment_card(uow, a, zone, now=now) for a in past],
            offers=[
                _held_time(
                    uow, hold, uow.session.get(AppointmentType, hold.appointment_type_id), now
                )
                for hold in offers
            ],
        )
        uow.commit()  # after the cards' reads: one transaction, not a second one to build them
        return listed


def appointment_detail(
    principal: Principal, appointment_id: uuid.UUID, *, uow: UnitOfWork
) -> AppointmentDetail:
    require_role(principal, Role.PATIENT)
    with uow:
        appointment = uow.appointments.get_for(principal, appointment_id)
        if appointment is None:
            raise NotFound
        zone = practice_zone(uow, principal)
        now = utcnow()
        kind = uow.session.get(AppointmentType, appointment.appointment_type_id)
        location = _location(uow, appointment.location_id)
        practice = uow.session.get(Practice, principal.tenant_id)
        audit_appointment(uow, principal, "appointment.read", appointment)
        uow.commit()
        return AppointmentDetail(
            card=appointment_card(uow, appointment, zone, now=now),
            address=location.address if location else "",
            phone=(location.phone if location else "") or practice.phone,
            how_to_join=HOW_TO_JOIN[kind.modality],
            policy=kind.policy_text,
            preparation=kind.preparation_text,
            reason=appointment.reason or "",
            cancel_note=_cancel_note(appointment),
            cutoff_hours=kind.cancellation_cutoff_hours,
            upcoming=_is_active(appointment) and appointment.starts_at > now,
        )


def cancel_appointment(
    principal: Principal, appointment_id: uuid.UUID, reason: str, *, uow: UnitOfWork
) -> None:
    """Cancel outside the cutoff; inside it the patient is told to call the practice."""
    require_role(principal, Role.PATIENT)
    reason = _cancel_reason(reason)
    with uow:
        appointment = _changeable(uow, principal, appointment_id, utcnow())
        _cancel(uow, principal, appointment, reason, caused_by="patient", late=False)
        uow.commit()


def join_waitlist(principal: Principal, appointment_id: uuid.UUID, *, uow: UnitOfWork) -> None:
    """Ask to be offered an earlier time for this appointment, same clinician and visit."""
    require_role(principal, Role.PATIENT)
    with uow:
        appointment = _changeable(uow, principal, appointment_id, utcnow())
        entry = uow.session.exec(
            select(WaitlistEntry).where(WaitlistEntry.appointment_id == appointment.id)
        ).scalar_one_or_none()
        if entry is None:
            entry = WaitlistEntry(
                tenant_id=principal.tenant_id,
                patient_id=appointment.patient_id,
                appointment_id=appointment.id,
            )
            uow.session.add(entry)
        else:
            entry.status, entry.created_at = "waiting", utcnow()
        uow.session.flush()
        uow.audit.record(
            principal,
            "waitlist.join",
            resource_type="appointment",
            resource_id=appointment.id,
            patient_id=appointment.patient_id,
        )
        uow.commit()


def leave_waitlist(principal: Principal, appointment_id: uuid.UUID, *, uow: UnitOfWork) -> None:
    require_role(principal, Role.PATIENT)
    with uow:
        appointment = uow.appointments.get_for(principal, appointment_id)
        if appointment is None:
            raise NotFound
        _end_waitlist(uow, appointment.id, "left")
        uow.audit.record(
            principal,
            "waitlist.leave",
            resource_type="appointment",
            resource_id=appointment.id,
            patient_id=appointment.patient_id,
        )
        uow.commit()


def calendar_file(principal: Principal, appointment_id: uuid.UUID, *, uow: UnitOfWork) -> bytes:
    """An iCalendar file for one of the patient's appointments. It names the practice and the
    place, not the clinician or the reason, since calendars are often shared or synced."""
    require_role(principal, Role.PATIENT)
    with uow:
        appointment = uow.appointments.get_for(principal, appointment_id)
        if appointment is None:
            raise NotFound
        practice = uow.session.get(Practice, principal.tenant_id)
        location = _location(uow, appointment.location_id)
        audit_appointment(uow, principal, "appointment.calendar_file", appointment)
        uow.commit()
    calendar = Calendar()
    calendar.add("prodid", "-//Patient Portal//Appointments//EN")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", f"{appointment.id}@patient-portal")
    event.add("dtstamp", utcnow())
    event.add("dtstart", appointment.starts_at.astimezone(UTC))
    event.add("dtend", appointment.ends_at.astimezone(UTC))
    event.add("summary", f"Appointment at {practice.name}")
    if location:
        event.add("location", f"{location.name}, {location.address}")
    event.add("description", f"Details: {portal_link(links.APPOINTMENTS)}")
    if not _is_active(appointment):
        event.add("status", "CANCELLED")
    calendar.add_component(event)
    return calendar.to_ical()


def practice_today(principal: Principal, *, uow: UnitOfWork) -> date:
    """Today's date where the practice is (the server's date can already be tomorrow)."""
    with uow:
        return utcnow().astimezone(ZoneInfo(practice_zone(uow, principal))).date()


# --- shared with the clinic's side ----------------------------------------------------------


def appointment_card(
    uow: UnitOfWork, appointment: Appointment, zone: str, *, now: datetime | None = None
) -> AppointmentCard:
    provider = uow.session.get(Provider, appointment.provider_id)
    kind = uow.session.get(AppointmentType, appointment.appointment_type_id)
    location = _location(uow, appointment.location_id)
    now = now or utcnow()
    upcoming = _is_active(appointment) and appointment.starts_at > now
    waitlisted = upcoming and (
        uow.session.exec(
            select(WaitlistEntry.id).where(
                WaitlistEntry.appointment_id == appointment.id, WaitlistEntry.status == "waiting"
            )
        ).first()
        is not None
    )
    return AppointmentCard(
        id=str(appointment.id),
        day=local_day(appointment.starts_at, zone),
        time=local_time(appointment.starts_at, zone),
        provider=_provider_name(provider),
        appointment_type=kind.name,
        modality=MODALITY_LABELS[kind.modality],
        location=location.name if location else "",
        status=STATUS_LABELS[appointment.status],
        changeable=upcoming and not _inside_cutoff(appointment, kind, now),
        waitlisted=waitlisted,
        visit_type_id=str(kind.id),
        provider_id=str(provider.id),
    )


def staff_times(
    principal: Principal,
    kind: AppointmentType,
    provider: Provider,
    start: datetime,
    end: datetime,
    *,
    uow: UnitOfWork,
    ignore_appointment: uuid.UUID | None = None,
) -> list[Slot]:
    """Free times for staff booking on a patient's behalf: no minimum notice or online
    horizon, but never in the past."""
    now = utcnow()
    return _free(
        uow,
        principal.tenant_id,
        kind,
        [provider],
        max(start, now),
        min(end, now + timedelta(days=STAFF_HORIZON_DAYS)),
        ignore_appointment=ignore_appointment,
    )


def place_for_patient(
    uow: UnitOfWork,
    principal: Principal,
    patient_id: uuid.UUID,
    kind: AppointmentType,
    provider: Provider,
    starts_at: datetime,
    reason: str | None,
    replacing: Appointment | None = None,
) -> Appointment:
    """Staff booking or moving an appointment: the same placing rules as a patient's."""
    slot = _slot_at(uow, principal.tenant_id, kind, provider, starts_at, None, replacing)
    return _place(uow, principal, patient_id, kind, slot, reason, replacing)


def cancel_by_clinic(
    uow: UnitOfWork, principal: Principal, appointment: Appointment, reason: str, caused_by: str
) -> None:
    """Staff cancelling: allowed inside the cutoff, and then recorded as a late cancellation
    caused by the patient or the clinic (shown to staff, never acted on automatically)."""
    kind = uow.session.get(AppointmentType, appointment.appointment_type_id)
    late = _inside_cutoff(appointment, kind, utcnow())
    _cancel(uow, principal, appointment, _cancel_reason(reason), caused_by=caused_by, late=late)


def audit_appointment(
    uow: UnitOfWork, principal: Principal, action: str, appointment: Appointment
) -> None:
    uow.audit.record(
        principal,
        action,
        resource_type="appointment",
        resource_id=appointment.id,
        patient_id=appointment.patient_id,
    )


def notify_of_visit(
    uow: UnitOfWork,
    patient_id: uuid.UUID,
    template_id: str,
    starts_at: datetime,
    *,
    event_key: str,
    **extra: str,
) -> None:
    """Tell the patient about an appointment, PHI-free: the practice, a date and time, and a
    link to their appointments."""
    tenant_id = uow.session.get(Patient, patient_id).tenant_id
    zone = uow.session.get(Practice, tenant_id).time_zone
    notify_patient(
        uow,
        patient_id,
        template_id,
        {
            "date": local_day(starts_at, zone),
            "time": local_time(starts_at, zone),
            "link": portal_link(links.APPOINTMENTS),
            **extra,
        },
        event_key=event_key,
    )


def notify_change(uow: UnitOfWork, appointment: Appointment, template_id: str, event: str) -> None:
    notify_of_visit(
        uow,
        appointment.patient_id,
        template_id,
        appointment.starts_at,
        event_key=f"appointment:{appointment.id}:{event}:{appointment.starts_at.isoformat()}",
    )


def offer_earlier_times(*, uow: UnitOfWork) -> int:
    """The waitlist job: offer each waiting patient, oldest entry first, the first free time
    before their appointment that they have not been offered yet, held for `OFFER_MINUTES`.
    Returns how many offers were made."""
    with uow:
        now = utcnow()
        live_offers = select(SlotHold.waitlist_entry_id).where(
            SlotHold.waitlist_entry_id.is_not(None),
            SlotHold.outcome.is_(None),
            SlotHold.expires_at > now,
        )
        query = (
            select(WaitlistEntry, Appointment)
            .join(Appointment, Appointment.id == WaitlistEntry.appointment_id)
            .where(
                WaitlistEntry.status == "waiting",
                Appointment.status.in_(ACTIVE_APPOINTMENT_STATUSES),
                Appointment.starts_at > now,
                WaitlistEntry.id.not_in(live_offers),
            )
            .order_by(WaitlistEntry.created_at)
            .limit(200)
        )
        if uow.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True, of=WaitlistEntry)
        waiting = uow.session.exec(query).all()
        offered_before = defaultdict(set)
        for entry_id, starts in uow.session.exec(
            select(SlotHold.waitlist_entry_id, SlotHold.starts_at).where(
                SlotHold.waitlist_entry_id.in_([entry.id for entry, _ in waiting])
            )
        ).all():
            offered_before[entry_id].add(starts)
        offers = 0
        for entry, appointment in waiting:
            kind = uow.session.get(AppointmentType, appointment.appointment_type_id)
            provider = uow.session.get(Provider, appointment.provider_id)
            earliest, _ = _patient_bounds(kind, now)
            seen = offered_before[entry.id]
            candidates = _free(
                uow,
                entry.tenant_id,
                kind,
                [provider],
                earliest,
                appointment.starts_at,
                ignore_appointment=appointment.id,
                limit=len(seen) + 1,
            )
            slot = next((s for s in candidates if s.starts_at not in seen), None)
            if slot is None:
                continue
            hold = _hold(entry.tenant_id, entry.patient_id, kind, slot, now, OFFER_MINUTES)
            hold.reschedule_of, hold.waitlist_entry_id = appointment.id, entry.id
            if not _insert_hold(uow, hold, now):
                continue
            notify_of_visit(
                uow,
                entry.patient_id,
                "earlier_time_offered",
                hold.starts_at,
                event_key=f"waitlist-offer:{hold.id}",
                minutes=str(OFFER_MINUTES),
            )
            uow.audit.record(
                None,
                "waitlist.offer",
                resource_type="slot_hold",
                resource_id=hold.id,
                patient_id=entry.patient_id,
                tenant_id=entry.tenant_id,
            )
            offers += 1
        uow.commit()
        return offers


# --- internals ------------------------------------------------------------------------------


def practice_zone(uow: UnitOfWork, principal: Principal) -> str:
    return uow.session.get(Practice, principal.tenant_id).time_zone


def _location(uow: UnitOfWork, location_id: uuid.UUID | None) -> Location | None:
    return uow.session.get(Location, location_id) if location_id else None


def _provider_name(provider: Provider) -> str:
    return f"{provider.display_name}, {provider.credentials}".rstrip(", ")


def _is_active(appointment: Appointment) -> bool:
    return appointment.status in ACTIVE_APPOINTMENT_STATUSES


def _is_established(uow: UnitOfWork, patient_id: uuid.UUID) -> bool:
    return (
        uow.session.exec(
            select(Appointment.id).where(
                Appointment.patient_id == patient_id,
                Appointment.status == AppointmentStatus.COMPLETED,
            )
        ).first()
        is not None
    )


def _may_book(kind: AppointmentType, established: bool) -> bool:
    return kind.bookable_by == "all" or (kind.bookable_by == "established") == established


def _bookable_type(
    uow: UnitOfWork, principal: Principal, patient: Patient, visit_type_id: uuid.UUID
) -> AppointmentType:
    kind = uow.appointment_types.get_for(principal, visit_type_id)
    if kind is None or not kind.active:
        raise NotFound
    if not _may_book(kind, _is_established(uow, patient.id)):
        who = "new" if kind.bookable_by == "new" else "existing"
        raise BookingRefused(
            f"{kind.name} can be booked online only by {who} patients. Please call the "
            "practice, or choose another visit type."
        )
    return kind


def _team_providers(uow: UnitOfWork, patient: Patient) -> list[Provider]:
    if patient.care_team_id is None:
        return []
    return list(
        uow.session.exec(
            select(Provider)
            .join(CareTeamMember, CareTeamMember.provider_id == Provider.id)
            .where(CareTeamMember.care_team_id == patient.care_team_id)
            .order_by(Provider.display_name)
        ).scalars()
    )


def _chosen_providers(
    uow: UnitOfWork, patient: Patient, provider_id: uuid.UUID | None
) -> list[Provider]:
    """One clinician of the patient's care team, or all of them for "any"; a clinician outside
    the team answers as if it did not exist."""
    team = _team_providers(uow, patient)
    if provider_id is None:
        if not team:
            raise BookingRefused("You have no care team yet. Please call the practice to book.")
        return team
    chosen = [p for p in team if p.id == provider_id]
    if not chosen:
        raise NotFound
    return chosen


def _patient_bounds(kind: AppointmentType, now: datetime) -> tuple[datetime, datetime]:
    return (
        now + timedelta(minutes=kind.minimum_notice_minutes),
        now + timedelta(days=kind.booking_horizon_days),
    )


def _check_bounds(
    kind: AppointmentType, starts_at: datetime, now: datetime, *, offer: bool = False
) -> None:
    if starts_at.tzinfo is None:
        raise BookingRefused("That time is not one we offer. Please choose one of the times.")
    earliest, latest = _patient_bounds(kind, now)
    if starts_at <= now:
        raise BookingRefused("That time has already passed. Please choose another time.")
    if starts_at < earliest and not offer:
        hours = kind.minimum_notice_minutes / 60
        raise BookingRefused(
            f"That time is too soon to book online: we need {hours:g} hours' notice. "
            "Please choose a later time or call the practice."
        )
    if starts_at > latest:
        raise BookingRefused(
            f"We book up to {kind.booking_horizon_days} days ahead. Please choose an earlier time."
        )


def _check_booking_limit(
    uow: UnitOfWork, patient_id: uuid.UUID, kind: AppointmentType, now: datetime
) -> None:
    upcoming = uow.session.exec(
        select(func.count()).where(
            Appointment.patient_id == patient_id,
            Appointment.appointment_type_id == kind.id,
            Appointment.status.in_(ACTIVE_APPOINTMENT_STATUSES),
            Appointment.starts_at > now,
        )
    ).scalar_one()
    if upcoming >= kind.max_future_bookings:
        raise BookingRefused(
            f"You already have {upcoming} upcoming {kind.name.lower()} appointments, the most "
            "we book online. Please reschedule one of them, or call the practice."
        )


def _inside_cutoff(appointment: Appointment, kind: AppointmentType, now: datetime) -> bool:
    return now > appointment.starts_at - timedelta(hours=kind.cancellation_cutoff_hours)


def _changeable(
    uow: UnitOfWork, principal: Principal, appointment_id: uuid.UUID, now: datetime
) -> Appointment:
    """The patient's own upcoming appointment, if it may still be changed online."""
    appointment = uow.appointments.get_for(principal, appointment_id)
    if appointment is None:
        raise NotFound
    if not _is_active(appointment) or appointment.starts_at <= now:
        raise BookingRefused("This appointment can no longer be changed.")
    kind = uow.session.get(AppointmentType, appointment.appointment_type_id)
    if _inside_cutoff(appointment, kind, now):
        phone = uow.session.get(Practice, principal.tenant_id).phone
        call = f"call the practice at {phone}" if phone else "call the practice"
        raise BookingRefused(
            f"This appointment is less than {kind.cancellation_cutoff_hours} hours away, so "
            f"it can no longer be changed online. Please {call}. {kind.policy_text}".strip()
        )
    return appointment


def _ignored_appointment(
    uow: UnitOfWork, principal: Principal, reschedule_of: uuid.UUID | None
) -> uuid.UUID | None:
    if reschedule_of is None:
        return None
    return _changeable(uow, principal, reschedule_of, utcnow()).id


def _cancel_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise BookingRefused("Please say briefly why the appointment is cancelled.")
    if len(reason) > REASON_LIMIT:
        raise BookingRefused(f"Please keep the reason under {REASON_LIMIT} characters.")
    return reason


def _cancel_note(appointment: Appointment) -> str:
    if appointment.status == AppointmentStatus.CANCELLED:
        who = {"patient": "by you", "clinic": "by the practice"}.get(appointment.caused_by, "")
        return f"Cancelled {who}".strip() + "."
    if appointment.status == AppointmentStatus.NO_SHOW:
        return "This visit was missed."
    return ""


def _cancel(
    uow: UnitOfWork,
    principal: Principal,
    appointment: Appointment,
    reason: str,
    *,
    caused_by: str,
    late: bool,
) -> None:
    appointment.status = AppointmentStatus.CANCELLED
    appointment.cancel_reason = reason
    appointment.cancelled_at = appointment.updated_at = utcnow()
    appointment.caused_by = caused_by
    appointment.late_cancellation = late
    _end_waitlist(uow, appointment.id, "ended")
    notify_change(uow, appointment, "appointment_cancelled", "cancelled")
    audit_appointment(uow, principal, "appointment.cancel", appointment)


def _end_waitlist(uow: UnitOfWork, appointment_id: uuid.UUID, status: str) -> None:
    entry = uow.session.exec(
        select(WaitlistEntry).where(
            WaitlistEntry.appointment_id == appointment_id, WaitlistEntry.status == "waiting"
        )
    ).scalar_one_or_none()
    if entry is not None:
        entry.status = status


def _release_holds(uow: UnitOfWork, patient_id: uuid.UUID) -> None:
    """A patient reviews one time at a time: choosing a new one gives back the last."""
    for hold in uow.session.exec(
        select(SlotHold).where(
            SlotHold.patient_id == patient_id,
            SlotHold.waitlist_entry_id.is_(None),
            SlotHold.outcome.is_(None),
        )
    ).scalars():
        hold.outcome = "released"


def _first_free(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    kind: AppointmentType,
    providers: list[Provider],
    start: datetime,
    end: datetime,
    patient_id: uuid.UUID | None,
    ignore_appointment: uuid.UUID | None = None,
) -> Slot | None:
    """The first free slot from `start` to `end`, looked for in widening stretches (a day,
    three, a week, two, five, the rest): it is usually near, and each stretch loads only its
    own appointments and windows."""
    bounds = sorted({min(start + timedelta(days=d), end) for d in (0, 1, 3, 7, 14, 35)} | {end})
    for stretch_start, stretch_end in itertools.pairwise(bounds):
        found = _free(
            uow,
            tenant_id,
            kind,
            providers,
            stretch_start,
            stretch_end,
            ignore_patient=patient_id,
            ignore_appointment=ignore_appointment,
            limit=1,
        )
        if found:
            return found[0]
    return None


def _visit_rules(kind: AppointmentType) -> VisitRules:
    return VisitRules(
        duration=timedelta(minutes=kind.duration_minutes),
        buffer_before=timedelta(minutes=kind.buffer_before_minutes),
        buffer_after=timedelta(minutes=kind.buffer_after_minutes),
        interval=timedelta(minutes=kind.slot_interval_minutes),
    )


def _free(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    kind: AppointmentType,
    providers: list[Provider],
    earliest: datetime,
    latest: datetime,
    *,
    ignore_patient: uuid.UUID | None = None,
    ignore_appointment: uuid.UUID | None = None,
    limit: int | None = None,
) -> list[Slot]:
    """Free slots of `kind` with any of `providers`, in four queries whatever the range: the
    providers' weekly hours, their exceptions and the holidays, their active appointments,
    and the live holds of other patients."""
    if earliest >= latest or not providers:
        return []
    ids = [p.id for p in providers]
    margin = timedelta(days=1)
    first, last = (earliest - margin).date(), (latest + margin).date()
    rules = uow.session.exec(
        select(AvailabilityRule).where(
            AvailabilityRule.tenant_id == tenant_id,
            AvailabilityRule.provider_id.in_(ids),
            AvailabilityRule.effective_from <= last,
            or_(
                AvailabilityRule.effective_until.is_(None),
                AvailabilityRule.effective_until >= first,
            ),
        )
    ).scalars()
    windows = weekly_windows(
        [
            WeeklyHours(
                r.provider_id,
                r.location_id,
                r.weekday,
                r.start_time,
                r.end_time,
                r.time_zone,
                r.effective_from,
                r.effective_until,
            )
            for r in rules
        ],
        first,
        last,
    )
    removed: dict[uuid.UUID | None, list[Span]] = defaultdict(list)
    for exception in uow.session.exec(
        select(AvailabilityException).where(
            AvailabilityException.tenant_id == tenant_id,
            or_(
                AvailabilityException.provider_id.in_(ids),
                AvailabilityException.kind == ExceptionKind.HOLIDAY,
            ),
            AvailabilityException.starts_at < latest + margin,
            AvailabilityException.ends_at > earliest - margin,
        )
    ).scalars():
        span = Span(exception.starts_at, exception.ends_at)
        if exception.kind == ExceptionKind.EXTRA_CLINIC:
            windows.append(Window(exception.provider_id, exception.location_id, span))
        elif exception.kind == ExceptionKind.HOLIDAY:
            removed[None].append(span)
        else:
            removed[exception.provider_id].append(span)
    busy: dict[uuid.UUID, list[Span]] = defaultdict(list)
    appointments = select(
        Appointment.provider_id, Appointment.blocked_from, Appointment.blocked_until
    ).where(
        Appointment.provider_id.in_(ids),
        Appointment.status.in_(ACTIVE_APPOINTMENT_STATUSES),
        Appointment.blocked_from < latest + margin,
        Appointment.blocked_until > earliest - margin,
    )
    if ignore_appointment is not None:
        appointments = appointments.where(Appointment.id != ignore_appointment)
    holds = select(SlotHold.provider_id, SlotHold.blocked_from, SlotHold.blocked_until).where(
        SlotHold.provider_id.in_(ids),
        SlotHold.outcome.is_(None),
        SlotHold.expires_at > utcnow(),
        SlotHold.blocked_from < latest + margin,
        SlotHold.blocked_until > earliest - margin,
    )
    if ignore_patient is not None:
        holds = holds.where(SlotHold.patient_id != ignore_patient)
    for query in (appointments, holds):
        for provider_id, start, end in uow.session.exec(query).all():
            busy[provider_id].append(Span(start, end))
    in_person = kind.modality == Modality.IN_PERSON
    if not in_person:
        windows = [Window(w.provider_id, None, w.span) for w in windows]
    return free_slots(
        windows=windows,
        removed=removed,
        busy=busy,
        visit=_visit_rules(kind),
        earliest=earliest,
        latest=latest,
        limit=limit,
    )


def _slot_at(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    kind: AppointmentType,
    provider: Provider,
    starts_at: datetime,
    patient_id: uuid.UUID | None,
    replacing: Appointment | None,
) -> Slot:
    """The free slot starting exactly at `starts_at`, or `SlotTaken` with the next ones."""
    ignore = replacing.id if replacing else None
    found = _free(
        uow,
        tenant_id,
        kind,
        [provider],
        starts_at,
        starts_at + timedelta(microseconds=1),
        ignore_patient=patient_id,
        ignore_appointment=ignore,
        limit=1,
    )
    if found and found[0].starts_at == starts_at:
        return found[0]
    raise SlotTaken(_next_times(uow, tenant_id, kind, provider, starts_at, patient_id, ignore))


def _next_times(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    kind: AppointmentType,
    provider: Provider,
    after: datetime,
    patient_id: uuid.UUID | None,
    ignore_appointment: uuid.UUID | None,
) -> list[SlotChoice]:
    now = utcnow()
    earliest, latest = _patient_bounds(kind, now)
    slots = _free(
        uow,
        tenant_id,
        kind,
        [provider],
        max(after, earliest),
        latest,
        ignore_patient=patient_id,
        ignore_appointment=ignore_appointment,
        limit=NEXT_TIMES,
    )
    zone = uow.session.get(Practice, tenant_id).time_zone
    places = _location_names(uow, tenant_id)
    return [_choice(slot, {provider.id: provider}, places, zone) for slot in slots]


def _hold(
    tenant_id: uuid.UUID,
    patient_id: uuid.UUID,
    kind: AppointmentType,
    slot: Slot,
    now: datetime,
    minutes: int = HOLD_MINUTES,
) -> SlotHold:
    blocked = _visit_rules(kind).blocked(slot.starts_at)
    return SlotHold(
        tenant_id=tenant_id,
        patient_id=patient_id,
        provider_id=slot.provider_id,
        appointment_type_id=kind.id,
        location_id=slot.location_id,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        blocked_from=blocked.start,
        blocked_until=blocked.end,
        expires_at=now + timedelta(minutes=minutes),
    )


def _insert_hold(uow: UnitOfWork, hold: SlotHold, now: datetime) -> bool:
    """Add an open hold, first closing the lapsed open holds it overlaps. False if another
    open hold got the time first (PostgreSQL's exclusion constraint; SQLite serializes)."""
    lapsed = uow.session.exec(
        select(SlotHold).where(
            SlotHold.provider_id == hold.provider_id,
            SlotHold.outcome.is_(None),
            SlotHold.expires_at <= now,
            SlotHold.blocked_from < hold.blocked_until,
            SlotHold.blocked_until > hold.blocked_from,
        )
    ).scalars()
    for old in lapsed:
        old.outcome = "expired"
    try:
        with uow.session.begin_nested():
            uow.session.add(hold)
    except IntegrityError:
        return False
    return True


def _place(
    uow: UnitOfWork,
    principal: Principal,
    patient_id: uuid.UUID,
    kind: AppointmentType,
    slot: Slot,
    reason: str | None,
    replacing: Appointment | None,
    *,
    hold: SlotHold | None = None,
) -> Appointment:
    """Insert the appointment (or move `replacing`) if its blocked time is free. The check
    runs inside the write transaction; PostgreSQL's exclusion constraint settles a race."""
    blocked = _visit_rules(kind).blocked(slot.starts_at)
    conflicts = select(Appointment.id).where(
        Appointment.provider_id == slot.provider_id,
        Appointment.status.in_(ACTIVE_APPOINTMENT_STATUSES),
        Appointment.blocked_from < blocked.end,
        Appointment.blocked_until > blocked.start,
    )
    if replacing is not None:
        conflicts = conflicts.where(Appointment.id != replacing.id)
    others_holds = select(SlotHold.id).where(
        SlotHold.provider_id == slot.provider_id,
        SlotHold.outcome.is_(None),
        SlotHold.expires_at > utcnow(),
        SlotHold.patient_id != patient_id,
        SlotHold.blocked_from < blocked.end,
        SlotHold.blocked_until > blocked.start,
    )
    if hold is not None:
        others_holds = others_holds.where(SlotHold.id != hold.id)
    provider = uow.session.get(Provider, slot.provider_id)
    ignore = replacing.id if replacing else None
    if uow.session.exec(conflicts).first() or uow.session.exec(others_holds).first():
        raise SlotTaken(
            _next_times(
                uow, principal.tenant_id, kind, provider, slot.starts_at, patient_id, ignore
            )
        )
    now = utcnow()
    if replacing is None:
        appointment = Appointment(
            tenant_id=principal.tenant_id,
            patient_id=patient_id,
            provider_id=slot.provider_id,
            appointment_type_id=kind.id,
            location_id=slot.location_id,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            blocked_from=blocked.start,
            blocked_until=blocked.end,
            status=AppointmentStatus.REQUESTED
            if kind.requires_approval and principal.role == Role.PATIENT
            else AppointmentStatus.BOOKED,
            reason=reason,
        )
        uow.session.add(appointment)
    else:
        appointment = replacing
        appointment.provider_id = slot.provider_id
        appointment.location_id = slot.location_id
        appointment.starts_at, appointment.ends_at = slot.starts_at, slot.ends_at
        appointment.blocked_from, appointment.blocked_until = blocked.start, blocked.end
        appointment.updated_at = now
        if reason:
            appointment.reason = reason
    try:
        uow.session.flush()
    except IntegrityError:
        uow.session.rollback()
        raise SlotTaken(
            _next_times(
                uow, principal.tenant_id, kind, provider, slot.starts_at, patient_id, ignore
            )
        ) from None
    if replacing is not None:
        action, template = "appointment.reschedule", "appointment_changed"
    elif appointment.status == AppointmentStatus.REQUESTED:
        action, template = "appointment.request", "appointment_requested"
    else:
        action, template = "appointment.book", "appointment_booked"
    notify_change(uow, appointment, template, action.split(".")[1])
    audit_appointment(uow, principal, action, appointment)
    return appointment


def slot_days(
    uow: UnitOfWork, slots: list[Slot], providers: list[Provider], zone: str
) -> list[SlotDay]:
    """Free slots grouped by day in the practice's zone, ready to show."""
    by_id = {p.id: p for p in providers}
    places = _location_names(uow, providers[0].tenant_id) if providers else {}
    days: dict[date, list[Slot]] = {}
    tz = ZoneInfo(zone)
    for slot in slots:
        days.setdefault(slot.starts_at.astimezone(tz).date(), []).append(slot)
    return [
        SlotDay(
            date=day.isoformat(),
            day=local_day(same_day[0].starts_at, zone),
            slots=[_choice(slot, by_id, places, zone) for slot in same_day],
        )
        for day, same_day in days.items()
    ]


def _location_names(uow: UnitOfWork, tenant_id: uuid.UUID) -> dict[uuid.UUID | None, str]:
    rows = uow.session.exec(
        select(Location.id, Location.name).where(Location.tenant_id == tenant_id)
    ).all()
    return {None: "", **dict(rows)}


def _choice_of(uow: UnitOfWork, slot: Slot, providers: list[Provider], zone: str) -> SlotChoice:
    places = _location_names(uow, providers[0].tenant_id)
    return _choice(slot, {p.id: p for p in providers}, places, zone)


def _choice(
    slot: Slot, providers: dict, places: dict[uuid.UUID | None, str], zone: str
) -> SlotChoice:
    return SlotChoice(
        provider_id=str(slot.provider_id),
        provider=_provider_name(providers[slot.provider_id]),
        starts_at=slot.starts_at.isoformat(),
        day=local_day(slot.starts_at, zone),
        time=local_time(slot.starts_at, zone),
        location=places.get(slot.location_id, ""),
    )


def _held_time(uow: UnitOfWork, hold: SlotHold, kind: AppointmentType, now: datetime) -> HeldTime:
    zone = uow.session.get(Practice, hold.tenant_id).time_zone
    provider = uow.session.get(Provider, hold.provider_id)
    location = _location(uow, hold.location_id)
    replaces = ""
    if hold.reschedule_of is not None:
        current = uow.session.get(Appointment, hold.reschedule_of)
        replaces = f"{local_day(current.starts_at, zone)} at {local_time(current.starts_at, zone)}"
    return HeldTime(
        id=str(hold.id),
        day=local_day(hold.starts_at, zone),
        time=local_time(hold.starts_at, zone),
        held_until=local_time(hold.expires_at, zone),
        minutes=max(1, round((hold.expires_at - now).total_seconds() / 60)),
        provider=_provider_name(provider),
        appointment_type=kind.name,
        modality=MODALITY_LABELS[kind.modality],
        location=location.name if location else "",
        address=location.address if location else "",
        how_to_join=HOW_TO_JOIN[kind.modality],
        policy=kind.policy_text,
        preparation=kind.preparation_text,
        requires_approval=kind.requires_approval and hold.reschedule_of is None,
        replaces=replaces,
    )
