"""Every table, imported here so that Alembic and the unit of work see them all."""

from portal.backend.models.audit import AuditEvent
from portal.backend.models.content import Article
from portal.backend.models.identity import (
    AccountToken,
    RecoveryCode,
    Role,
    SignInAttempt,
    TokenPurpose,
    User,
    UserSession,
    UserStatus,
)
from portal.backend.models.keys import DataKey, ReencryptionProgress
from portal.backend.models.messaging import (
    Attachment,
    Conversation,
    ConversationCategory,
    Message,
)
from portal.backend.models.notifications import (
    Notification,
    NotificationAttempt,
    NotificationPreference,
    SmsOptOut,
)
from portal.backend.models.people import (
    AccessGrant,
    CareTeam,
    CareTeamMember,
    Patient,
    PatientNameGram,
    ProfileChange,
    ProfileChangeStatus,
    Provider,
)
from portal.backend.models.practice import Location, Practice
from portal.backend.models.records import LabComponent, MedicalRecord, RecordKind
from portal.backend.models.scheduling import (
    ACTIVE_APPOINTMENT_STATUSES,
    Appointment,
    AppointmentStatus,
    AppointmentType,
    AvailabilityException,
    AvailabilityRule,
    ExceptionKind,
    Modality,
    SlotHold,
    WaitlistEntry,
)

__all__ = [
    "ACTIVE_APPOINTMENT_STATUSES",
    "AccessGrant",
    "AccountToken",
    "Appointment",
    "AppointmentStatus",
    "AppointmentType",
    "Article",
    "Attachment",
    "AuditEvent",
    "AvailabilityException",
    "AvailabilityRule",
    "CareTeam",
    "CareTeamMember",
    "Conversation",
    "ConversationCategory",
    "DataKey",
    "ExceptionKind",
    "LabComponent",
    "Location",
    "MedicalRecord",
    "Message",
    "Modality",
    "Notification",
    "NotificationAttempt",
    "NotificationPreference",
    "Patient",
    "PatientNameGram",
    "Practice",
    "ProfileChange",
    "ProfileChangeStatus",
    "Provider",
    "RecordKind",
    "RecoveryCode",
    "ReencryptionProgress",
    "Role",
    "SignInAttempt",
    "SlotHold",
    "SmsOptOut",
    "TokenPurpose",
    "User",
    "UserSession",
    "UserStatus",
    "WaitlistEntry",
]
