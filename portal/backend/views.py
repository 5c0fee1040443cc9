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
    # For a search from the earliest time the patient may book: the first free time.
    first_free: SlotChoice | None = None


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
    # The account setup after the first sign-in: not finished yet (the home offers to resume
    # it), and never even opened (the patient is sent to it once).
    setup_unfinished: bool = False
    setup_unseen: bool = False


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
    # Lab results the provider ordered that nobody has reviewed yet.
    results_to_review: int = 0
    # Patients' requests to change a legal name or date of birth, waiting for staff.
    profile_changes: int = 0


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


# --- medical records -----------------------------------------------------------------------

RECORD_KIND_LABELS = {
    "lab_result": "Test results",
    "visit_summary": "Visit summaries",
    "medication": "Medications",
    "immunization": "Immunizations",
    "allergy": "Allergies",
    "problem": "Health issues",
    "document": "Documents",
}
FLAG_WORDS = {
    "low": "Below the normal range",
    "high": "Above the normal range",
    "critical": "Critical: far outside the normal range",
}


@dataclass(frozen=True)
class RecordSection:
    """One kind of record on the records home: how many there are and the newest one."""

    kind: str
    label: str
    count: int
    latest: str
    empty_text: str


@dataclass(frozen=True)
class RecordsHome:
    sections: list[RecordSection]


@dataclass(frozen=True)
class RecordLine:
    id: str
    kind: str
    title: str
    day: str
    provider: str
    # A short description: "4 tests, 1 outside the range", "10 mg by mouth daily".
    summary: str
    status: str
    flagged: bool = False
    reviewed: bool = False
    released: bool = True
    # On a provider's review list: whose result it is (for a link to their records).
    patient_id: str = ""


@dataclass(frozen=True)
class RecordList:
    kind: str
    label: str
    lines: list[RecordLine]
    providers: list[Choice]
    empty_text: str


@dataclass(frozen=True)
class TrendPoint:
    day: str
    value: float
    text: str


@dataclass(frozen=True)
class LabValue:
    """One measured value with its range drawn as a bar: positions are percents of the bar."""

    id: str
    test_name: str
    value: str
    unit: str
    reference: str
    flag: str
    flag_words: str
    # -1 when the value or the range is not numeric (no bar is drawn).
    marker_at: int
    range_from: int
    range_to: int
    trend: list[TrendPoint]


@dataclass(frozen=True)
class Fact:
    label: str
    value: str


@dataclass(frozen=True)
class RecordDetail:
    id: str
    kind: str
    kind_label: str
    title: str
    day: str
    provider: str
    status: str
    facts: list[Fact]
    lab_values: list[LabValue]
    reviewed_by: str
    review_comment: str
    released: bool
    has_document: bool


@dataclass(frozen=True)
class AccessLine:
    """One staff access to the patient's record, from the audit log."""

    when: str
    who: str
    role: str
    what: str


@dataclass(frozen=True)
class AccessPage:
    lines: list[AccessLine]
    next_before: str = ""


@dataclass(frozen=True)
class InsuranceView:
    """The patient's insurance; card images are fetched through the authorizing route."""

    payer: str
    member_id: str
    group_number: str
    subscriber: str
    relationship: str  # a code: "self", "spouse", "child", "other"
    relationship_label: str
    # Paths of the card images (`/files/insurance/…`), "" when no image is on file.
    front_image: str = ""
    back_image: str = ""


@dataclass(frozen=True)
class EmergencyContactLine:
    id: str
    name: str
    relationship: str
    phone: str
    may_share: bool


@dataclass(frozen=True)
class RequestedChange:
    """One identity field of a change request: what it is now and what the patient asked for."""

    label: str
    current: str
    requested: str


@dataclass(frozen=True)
class ProfileChangeLine:
    id: str
    patient_id: str
    patient: str
    submitted: str
    status: str  # "pending", "applied", "declined"
    status_label: str
    changes: list[RequestedChange]
    decided: str = ""
    decline_reason: str = ""


@dataclass(frozen=True)
class PatientProfile:
    """A patient's demographics, contact details, insurance and emergency contacts; raw codes
    (for forms) beside their labels (for display)."""

    patient_id: str
    medical_record_number: str
    legal_first_name: str
    legal_last_name: str
    preferred_name: str
    date_of_birth: str  # ISO date, for forms
    date_of_birth_text: str  # e.g. '2 January 1970'
    sex: str
    sex_label: str
    gender_identity: str
    gender_identity_label: str
    pronouns: str
    preferred_language: str
    phone: str
    email: str
    address_line1: str
    address_line2: str
    city: str
    region: str
    postal_code: str
    address_text: str
    contact_method: str
    contact_method_label: str
    insurance: InsuranceView | None
    emergency_contacts: list[EmergencyContactLine]
    # The patient's identity change requests, newest first (pending ones and recent decisions).
    identity_requests: list[ProfileChangeLine] = field(default_factory=list)
    onboarding_step: str = ""
    onboarding_finished: bool = False


@dataclass(frozen=True)
class AuditLine:
    """One audit event as an admin reads it: who did what to which record, never content."""

    key: str
    when: str
    actor: str
    actor_role: str
    action: str
    resource_type: str
    resource_id: str
    patient: str
    outcome: str
    details: str


@dataclass(frozen=True)
class AuditPage:
    lines: list[AuditLine]
    # The cursor of the next page ("" on the last page).
    next_after: str = ""
    # The CSV export's query string for these filters: opaque ids and filter words, no PHI.
    export_query: str = ""


@dataclass(frozen=True)
class AuditChoices:
    # The actions and outcomes this practice's log holds, for the filters.
    actions: list[str]
    outcomes: list[Choice]


@dataclass(frozen=True)
class AuditCheck:
    intact: bool
    text: str


@dataclass(frozen=True)
class PracticeSettings:
    name: str
    time_zone: str
    idle_timeout_minutes: int
    patient_self_registration: bool
    message_response_hours: int
    # Record kinds released only after a provider's review.
    records_held_for_review: list[str] = field(default_factory=list)
    # The primary colour ("#rrggbb", "" for the portal's own) and the logo's address ("" for
    # none).
    brand_colour: str = ""
    logo_url: str = ""


@dataclass(frozen=True)
class RateLine:
    """A figure with its parts, for the analytics tables: e.g. 3 of 40 (7.5%)."""

    label: str
    count: int
    total: int
    rate: str


@dataclass(frozen=True)
class ResponseTimes:
    answered: int
    median: str
    p90: str


@dataclass(frozen=True)
class FigureTable:
    """A chart's figures as a table, for screen readers and for reading exact numbers."""

    columns: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class PracticeAnalytics:
    """Counts and rates only: no name, message, result or any other PHI. Chart data are rows
    of {"week" or "channel": label, series key: number}."""

    # Appointments booked per week, one series per visit type: keys "t0", "t1", … in the order
    # of `visit_types`.
    booked: list[dict]
    visit_types: list[str]
    booked_table: FigureTable
    # Per week: "no_show" and "late_cancel" as percentages of the visits due.
    attendance: list[dict]
    attendance_table: FigureTable
    no_show: RateLine
    late_cancel: RateLine
    # Per week: "from_patients" and "from_staff".
    messages: list[dict]
    messages_table: FigureTable
    response: ResponseTimes
    active_patients: RateLine
    mfa: list[RateLine]
    # Per channel: "sent", "pending", "failed", "suppressed".
    delivery: list[dict]
    delivery_table: FigureTable


# --- the care team's patient list and chart -------------------------------------------------


@dataclass(frozen=True)
class PatientLine:
    """One patient on the provider's patient list."""

    id: str
    name: str
    # The legal name when the patient goes by another first name, else "".
    legal_name: str
    date_of_birth: str
    age: int
    medical_record_number: str
    next_appointment: str  # "" when none is booked
    unread_messages: int
    results_to_review: int


@dataclass(frozen=True)
class PatientSearch:
    lines: list[PatientLine]
    # What the search box was read as ("date of birth", "name", …; "" when nothing was asked).
    kind: str
    # Patients that match; with `too_many`, at least this many (they were not opened).
    matched: int
    more: int
    too_many: bool


@dataclass(frozen=True)
class ChartHeader:
    id: str
    name: str
    legal_name: str
    date_of_birth: str
    age: int
    medical_record_number: str
    pronouns: str
    # The practice's time until which the caller reads this chart under break-glass, or "".
    emergency_until: str = ""


@dataclass(frozen=True)
class ChartSummary:
    next_appointment: AppointmentCard | None
    upcoming_appointments: int
    unread_messages: int
    open_threads: int
    recent_results: int
    results_to_review: int
    recent_days: int


@dataclass(frozen=True)
class ChartAppointments:
    upcoming: list[AppointmentCard]
    past: list[AppointmentCard]


@dataclass(frozen=True)
class ChartMessages:
    threads: list[ThreadLine]


# --- the admins' users and care teams ---------------------------------------------------------


@dataclass(frozen=True)
class AccountSessionLine:
    """One open session of an account, for an admin: never the client's address."""

    id: str
    device: str
    started: str
    last_seen: str


@dataclass(frozen=True)
class CareTeamMemberLine:
    provider_id: str
    name: str
    credentials: str


@dataclass(frozen=True)
class CareTeamLine:
    id: str
    name: str
    members: list[CareTeamMemberLine]
    # Patients whose messages go to this team's inbox.
    patients: int


@dataclass(frozen=True)
class CareTeamPatientLine:
    """A patient as the care teams page moves them: their name and team only."""

    id: str
    name: str
    team_id: str  # "" when the patient has no care team yet
    team: str


@dataclass(frozen=True)
class CareTeamPatients:
    """A page of patients, of one team or found by name; `next_after` continues a team's,
    `more` counts the matches of a search beyond the page."""

    lines: list[CareTeamPatientLine]
    next_after: str = ""
    more: int = 0


# --- health education ----------------------------------------------------------------------


@dataclass(frozen=True)
class Inline:
    """A run of an article's text: plain, bold, italic, or a link."""

    text: str
    bold: bool = False
    italic: bool = False
    href: str = ""


@dataclass(frozen=True)
class ListItem:
    parts: list[Inline]


@dataclass(frozen=True)
class ArticleBlock:
    """A heading, subheading or paragraph (`parts`), or a list (`list_items`)."""

    kind: str
    parts: list[Inline] = field(default_factory=list)
    list_items: list[ListItem] = field(default_factory=list)


@dataclass(frozen=True)
class ArticleLine:
    id: str
    title: str
    summary: str
    tags: list[str]
    published: str  # the day it was published, "" for a draft
    updated: str


@dataclass(frozen=True)
class ArticleView:
    id: str
    title: str
    summary: str
    tags: list[str]
    published: str
    blocks: list[ArticleBlock]


@dataclass(frozen=True)
class ArticleDraft:
    """An article as its author typed it, for the editor."""

    id: str
    title: str
    summary: str
    body: str
    tags: str
    published: bool


@dataclass(frozen=True)
class LearnPage:
    tags: list[str]
    articles: list[ArticleLine]
