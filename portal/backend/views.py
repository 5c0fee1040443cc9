"""Frozen display objects: what a screen shows, already decrypted and formatted.

Views carry ids as opaque strings and times as text in the practice's time zone, so the
interface layer never handles rows, keys or time-zone arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class AppointmentCard:
    id: str
    day: str
    time: str
    provider: str
    appointment_type: str
    modality: str
    location: str
    status: str


@dataclass(frozen=True)
class ConversationLine:
    id: str
    subject: str
    last_activity: str
    unread: int


@dataclass(frozen=True)
class PatientHome:
    first_name: str
    practice_name: str
    next_appointment: AppointmentCard | None
    upcoming_count: int
    unread_messages: int
    conversations: list[ConversationLine] = field(default_factory=list)


@dataclass(frozen=True)
class ScheduleLine:
    id: str
    time: str
    patient: str
    appointment_type: str
    modality: str
    location: str
    status: str


@dataclass(frozen=True)
class ProviderToday:
    provider_name: str
    date: str
    unread_messages: int
    appointments: list[ScheduleLine] = field(default_factory=list)


@dataclass(frozen=True)
class RoleCount:
    role: str
    active: int
    invited: int
    deactivated: int


@dataclass(frozen=True)
class AdminOverview:
    practice_name: str
    patients: int
    signed_in_now: int
    roles: list[RoleCount] = field(default_factory=list)


MODALITY_LABELS = {"in_person": "In person", "video": "Video visit", "phone": "Phone call"}
STATUS_LABELS = {
    "requested": "Requested",
    "booked": "Booked",
    "arrived": "Arrived",
    "completed": "Completed",
    "cancelled": "Cancelled",
    "no_show": "Missed",
}


def local_day(instant: datetime, time_zone: str) -> str:
    """E.g. 'Tuesday 1 December 2026'."""
    local = instant.astimezone(ZoneInfo(time_zone))
    return f"{local:%A} {local.day} {local:%B %Y}"


def local_time(instant: datetime, time_zone: str) -> str:
    """E.g. '9:30 AM'."""
    local = instant.astimezone(ZoneInfo(time_zone))
    return f"{local.hour % 12 or 12}:{local:%M %p}"


def local_moment(instant: datetime, time_zone: str) -> str:
    """E.g. '1 Dec, 9:30 AM'."""
    local = instant.astimezone(ZoneInfo(time_zone))
    return f"{local.day} {local:%b}, {local_time(instant, time_zone)}"
