"""Appointment types, provider availability and appointments.

Recurring availability is local wall-clock time with an IANA zone, expanded per date; booked
appointments are UTC instants.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from enum import StrEnum

from sqlalchemy import Index, String
from sqlmodel import Field

from portal.backend.models.base import TenantTable, UTCDateTime, instant, phi


class Modality(StrEnum):
    IN_PERSON = "in_person"
    VIDEO = "video"
    PHONE = "phone"


class AppointmentStatus(StrEnum):
    REQUESTED = "requested"
    BOOKED = "booked"
    ARRIVED = "arrived"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


ACTIVE_APPOINTMENT_STATUSES = (
    AppointmentStatus.REQUESTED,
    AppointmentStatus.BOOKED,
    AppointmentStatus.ARRIVED,
)


class AppointmentType(TenantTable, table=True):
    __tablename__ = "appointment_types"

    name: str = Field(max_length=120)
    modality: Modality = Field(sa_type=String(16))
    duration_minutes: int
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 0
    slot_interval_minutes: int = 15
    minimum_notice_minutes: int = 120
    booking_horizon_days: int = 90
    max_future_bookings: int = 3
    bookable_by: str = Field(default="all", max_length=16)
    requires_approval: bool = False
    cancellation_cutoff_hours: int = 24
    policy_text: str = Field(default="", max_length=2000)
    preparation_text: str = Field(default="", max_length=2000)
    active: bool = True


class AvailabilityRule(TenantTable, table=True):
    """Weekly working hours of a provider at a location, in the location's local time."""

    __tablename__ = "availability_rules"

    provider_id: uuid.UUID = Field(foreign_key="providers.id", index=True)
    location_id: uuid.UUID = Field(foreign_key="locations.id")
    weekday: int = Field(ge=0, le=6)
    start_time: time
    end_time: time
    time_zone: str = Field(max_length=64)
    effective_from: date
    effective_until: date | None = None


class ExceptionKind(StrEnum):
    TIME_OFF = "time_off"
    EXTRA_CLINIC = "extra_clinic"
    HOLIDAY = "holiday"


class AvailabilityException(TenantTable, table=True):
    """Time off (removes time), extra clinic (adds time, at a location) or a practice-wide
    holiday (removes time for every provider; `provider_id` is empty)."""

    __tablename__ = "availability_exceptions"
    __table_args__ = (
        Index("ix_availability_exceptions_provider_start", "provider_id", "starts_at"),
    )

    provider_id: uuid.UUID | None = Field(default=None, foreign_key="providers.id")
    location_id: uuid.UUID | None = Field(default=None, foreign_key="locations.id")
    kind: ExceptionKind = Field(sa_type=String(16))
    starts_at: datetime = instant()
    ends_at: datetime = instant()
    note: str = Field(default="", max_length=200)


class Appointment(TenantTable, table=True):
    """A visit. `blocked_from`..`blocked_until` is the provider's time it takes, buffers
    included; on PostgreSQL an exclusion constraint refuses two active appointments of one
    provider whose blocked times overlap."""

    __tablename__ = "appointments"
    __table_args__ = (
        Index("ix_appointments_provider_start", "provider_id", "starts_at"),
        Index("ix_appointments_patient_start", "patient_id", "starts_at"),
        Index("ix_appointments_tenant_start", "tenant_id", "starts_at"),
        # Slot search reads a provider's busy time from a date on: the blocked end bounds it.
        Index("ix_appointments_provider_blocked_until", "provider_id", "blocked_until"),
    )

    patient_id: uuid.UUID = Field(foreign_key="patients.id")
    provider_id: uuid.UUID = Field(foreign_key="providers.id")
    appointment_type_id: uuid.UUID = Field(foreign_key="appointment_types.id")
    location_id: uuid.UUID | None = Field(default=None, foreign_key="locations.id")
    starts_at: datetime = instant()
    ends_at: datetime = instant()
    blocked_from: datetime = Field(sa_type=UTCDateTime, nullable=False)
    blocked_until: datetime = Field(sa_type=UTCDateTime, nullable=False)
    status: AppointmentStatus = Field(default=AppointmentStatus.BOOKED, sa_type=String(16))
    reason: str | None = phi()
    cancel_reason: str | None = phi()
    cancelled_at: datetime | None = instant(required=False)
    # Who caused a cancellation or a missed visit: "patient" or "clinic".
    caused_by: str | None = Field(default=None, max_length=16)
    late_cancellation: bool = False
    created_at: datetime = instant()
    updated_at: datetime = instant()


class SlotHold(TenantTable, table=True):
    """A time kept for one patient for a few minutes: while they confirm a booking or a
    reschedule, or while a waitlist offer is open. A live hold blocks the time for everyone
    else; `outcome` records how it ended (booked, released, declined, expired) and is empty
    while the hold is open. An open hold past `expires_at` is marked expired when someone
    else holds an overlapping time; on PostgreSQL an exclusion constraint refuses two open
    holds of one provider whose blocked times overlap."""

    __tablename__ = "slot_holds"
    __table_args__ = (Index("ix_slot_holds_provider_expires", "provider_id", "expires_at"),)

    patient_id: uuid.UUID = Field(foreign_key="patients.id", index=True)
    provider_id: uuid.UUID = Field(foreign_key="providers.id")
    appointment_type_id: uuid.UUID = Field(foreign_key="appointment_types.id")
    location_id: uuid.UUID | None = Field(default=None, foreign_key="locations.id")
    starts_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    ends_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    blocked_from: datetime = Field(sa_type=UTCDateTime, nullable=False)
    blocked_until: datetime = Field(sa_type=UTCDateTime, nullable=False)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    reschedule_of: uuid.UUID | None = Field(default=None, foreign_key="appointments.id")
    waitlist_entry_id: uuid.UUID | None = Field(
        default=None, foreign_key="waitlist_entries.id", index=True
    )
    outcome: str | None = Field(default=None, max_length=16)
    created_at: datetime = instant()


class WaitlistEntry(TenantTable, table=True):
    """A patient's wish to move an upcoming appointment earlier, with the same provider and
    visit type. Entries are served in the order they were made."""

    __tablename__ = "waitlist_entries"
    __table_args__ = (Index("ix_waitlist_entries_tenant_status", "tenant_id", "status"),)

    patient_id: uuid.UUID = Field(foreign_key="patients.id", index=True)
    appointment_id: uuid.UUID = Field(foreign_key="appointments.id", unique=True)
    status: str = Field(default="waiting", max_length=16)
    created_at: datetime = instant()
