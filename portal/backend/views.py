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
    # Whether the patient may still cancel or reschedule online (outside the cutoff).
    changeable: bool = False
    waitlisted: bool = False
    visit_type_id: str = ""
    provider_id: str = ""


@dataclass(frozen=True)
class AppointmentDetail:
    card: AppointmentCard
    address: str
    phone: str
    how_to_join: str
    policy: str
    preparation: str
    reason: str
    cancel_note: str
    cutoff_hours: int
    upcoming: bool


@dataclass(frozen=True)
class VisitOption:
    id: str
    name: str
    modality: str
    minutes: int
    requires_approval: bool
    policy: str
    preparation: str


@dataclass(frozen=True)
class ProviderOption:
    id: str
    name: str


@dataclass(frozen=True)
class BookingOptions:
    visit_types: list[VisitOption]
    providers: list[ProviderOption]
    practice_phone: str


@dataclass(frozen=True)
class SlotChoice:
    provider_id: str
    provider: str
    starts_at: str  # ISO 8601, UTC
    day: str
    time: str
    location: str


@dataclass(frozen=True)
class SlotDay:
    date: str  # ISO date in the practice's zone
    day: str
    slots: list[SlotChoice]


@dataclass(frozen=True)
class TimeSearch:
    days: list[SlotDay]
    # When the range has no free time: the first day that has some, if any.
    next_free_date: str = ""
    next_free_day: str = ""


@dataclass(frozen=True)
class HeldTime:
    id: str
    day: str
    time: str
    held_until: str  # a local time, e.g. '10:35 AM'
    minutes: int
    provider: str
    appointment_type: str
    modality: str
    location: str
    address: str
    how_to_join: str
    policy: str
    preparation: str
    requires_approval: bool
    # For a reschedule or an earlier-time offer: the appointment it would replace.
    replaces: str = ""


@dataclass(frozen=True)
class MyAppointments:
    upcoming: list[AppointmentCard]
    past: list[AppointmentCard]
    offers: list[HeldTime]


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


@dataclass(frozen=True)
class CalendarLine:
    id: str
    visit_type_id: str
    time: str
    end_time: str
    patient: str
    appointment_type: str
    modality: str
    location: str
    status: str
    # e.g. "Late cancellation (patient)", "Missed (clinic)"; empty for an ordinary visit.
    attendance: str
    requested: bool
    can_check_in: bool
    can_mark_missed: bool
    can_change: bool


@dataclass(frozen=True)
class CalendarDay:
    date: str
    day: str
    lines: list[CalendarLine]


@dataclass(frozen=True)
class AttendanceLine:
    day: str
    time: str
    patient: str
    what: str


@dataclass(frozen=True)
class ClinicCalendar:
    provider_name: str
    first_date: str
    days: list[CalendarDay]
    requests: int
    waitlist_waiting: int
    offers_made: int
    offers_accepted: int
    fill_rate: str
    attendance: list[AttendanceLine]


@dataclass(frozen=True)
class HoursLine:
    id: str
    weekday: str
    hours: str
    location: str
    effective: str


@dataclass(frozen=True)
class ExceptionLine:
    id: str
    kind: str
    when: str
    note: str


@dataclass(frozen=True)
class PreviewDay:
    day: str
    free: int
    first: str
    last: str


@dataclass(frozen=True)
class Choice:
    """One option of a select: a location, a visit type."""

    id: str
    name: str


@dataclass(frozen=True)
class WorkingHours:
    hours: list[HoursLine]
    exceptions: list[ExceptionLine]
    locations: list[Choice]
    visit_types: list[Choice]
    preview_type: str
    preview: list[PreviewDay]


@dataclass(frozen=True)
class PatientMatch:
    id: str
    name: str
    date_of_birth: str
    medical_record_number: str


@dataclass(frozen=True)
class VisitTypeRow:
    id: str
    name: str
    modality: str
    duration_minutes: int
    buffer_before_minutes: int
    buffer_after_minutes: int
    slot_interval_minutes: int
    minimum_notice_minutes: int
    booking_horizon_days: int
    max_future_bookings: int
    bookable_by: str
    requires_approval: bool
    cancellation_cutoff_hours: int
    policy_text: str
    preparation_text: str
    active: bool


@dataclass(frozen=True)
class SchedulingSettings:
    visit_types: list[VisitTypeRow]
    holidays: list[ExceptionLine]
    reminder_minutes_before: str


@dataclass(frozen=True)
class TextPart:
    """A run of message text; `href` is set only for an http(s) link in it."""

    text: str
    href: str = ""


@dataclass(frozen=True)
class AttachmentLine:
    id: str
    filename: str
    size: str
    kind: str
    preview: bool = False  # a server-made thumbnail of an image


@dataclass(frozen=True)
class MessageLine:
    id: str
    mine: bool
    sender: str
    sent: str
    # Each line of the message, as text and link parts.
    lines: list[list[TextPart]]
    attachments: list[AttachmentLine]
    # For the viewer's own messages: whether the other side has read it, and when.
    receipt: str


@dataclass(frozen=True)
class ThreadView:
    id: str
    subject: str
    category: str
    status: str
    care_team: str
    patient: str
    assigned: str
    assigned_id: str
    waiting: str
    messages: list[MessageLine]
    # Changes whenever a message arrives or is read: live views compare it to refresh.
    version: str


@dataclass(frozen=True)
class ThreadLine:
    id: str
    subject: str
    category: str
    status: str
    last_activity: str
    unread: int
    patient: str = ""
    patient_id: str = ""
    assigned: str = ""
    waiting: str = ""
    overdue: bool = False
    snippet: str = ""


@dataclass(frozen=True)
class InboxPage:
    lines: list[ThreadLine]
    next_after: str
    target_hours: int


@dataclass(frozen=True)
class MessagingContext:
    care_team: str
    response_hours: int
    categories: list[Choice]
    threads: list[ThreadLine]


@dataclass(frozen=True)
class UserLine:
    """One account on the admin's list of the practice's users."""

    id: str
    name: str
    role: str
    status: str
    mfa_enrolled: bool
    last_sign_in: str
    locked: bool
    open_sessions: int


@dataclass(frozen=True)
class UsersPage:
    lines: list[UserLine]
    # The cursor of the next page ("" on the last page).
    next_after: str = ""
