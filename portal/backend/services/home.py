"""What each role sees first: the patient's next visit and messages, the provider's day, the
admin's practice at a glance."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select

from portal.backend.db import UnitOfWork
from portal.backend.models import (
    ACTIVE_APPOINTMENT_STATUSES,
    Appointment,
    AppointmentType,
    CareTeamMember,
    Conversation,
    Location,
    MedicalRecord,
    Message,
    Patient,
    Practice,
    ProfileChange,
    ProfileChangeStatus,
    RecordKind,
    User,
    UserSession,
)
from portal.backend.models.base import utcnow
from portal.backend.security.principal import NotFound, Principal, Role, require_role
from portal.backend.services.patient_access import normal_access, own_patient
from portal.backend.services.scheduling import appointment_card
from portal.backend.views import (
    MODALITY_LABELS,
    STATUS_LABELS,
    AdminOverview,
    ConversationLine,
    PatientHome,
    ProviderToday,
    RoleCount,
    ScheduleLine,
    local_day,
    local_moment,
    local_time,
)

RECENT_CONVERSATIONS = 5


def patient_home(principal: Principal, *, uow: UnitOfWork) -> PatientHome:
    require_role(principal, Role.PATIENT)
    with uow:
        patient = own_patient(uow, principal)
        practice = uow.session.get(Practice, principal.tenant_id)
        zone = practice.time_zone
        upcoming = (
            uow.appointments.scoped(principal)
            .where(
                Appointment.starts_at >= utcnow(),
                Appointment.status.in_(ACTIVE_APPOINTMENT_STATUSES),
            )
            .order_by(Appointment.starts_at)
        )
        next_visit = uow.appointments.first(upcoming)
        unread = _unread_by_conversation(uow, Message.from_patient.is_(False), principal)
        conversations = uow.conversations.all(
            uow.conversations.scoped(principal)
            .order_by(Conversation.last_message_at.desc())
            .limit(RECENT_CONVERSATIONS)
        )
        uow.audit.record(
            principal,
            "home.read",
            resource_type="patient",
            resource_id=patient.id,
            patient_id=patient.id,
        )
        uow.commit()
        return PatientHome(
            first_name=patient.preferred_name or patient.legal_first_name,
            practice_name=practice.name,
            next_appointment=appointment_card(uow, next_visit, zone) if next_visit else None,
            upcoming_count=uow.appointments.count(upcoming),
            unread_messages=sum(unread.values()),
            conversations=[
                ConversationLine(
                    id=str(c.id),
                    subject=c.subject,
                    last_activity=local_moment(c.last_message_at, zone),
                    unread=unread.get(c.id, 0),
                )
                for c in conversations
            ],
            setup_unfinished=patient.onboarding_finished_at is None,
            setup_unseen=patient.onboarding_finished_at is None and patient.onboarding_step is None,
        )


def provider_today(principal: Principal, *, uow: UnitOfWork) -> ProviderToday:
    require_role(principal, Role.PROVIDER)
    with uow:
        provider = uow.providers.get_for(principal, principal.provider_id)
        if provider is None:
            raise NotFound
        zone = uow.session.get(Practice, principal.tenant_id).time_zone
        start, end = _local_day_bounds(utcnow(), zone)
        rows = uow.session.exec(
            uow.appointments.scoped(principal)
            .add_columns(Patient, AppointmentType, Location)
            .join(Patient, Patient.id == Appointment.patient_id)
            .join(AppointmentType, AppointmentType.id == Appointment.appointment_type_id)
            .outerjoin(Location, Location.id == Appointment.location_id)
            .where(
                Appointment.provider_id == provider.id,
                Appointment.starts_at >= start,
                Appointment.starts_at < end,
            )
            .order_by(Appointment.starts_at)
        ).all()
        team_conversations = select(CareTeamMember.care_team_id).where(
            CareTeamMember.provider_id == provider.id
        )
        unread = _unread_by_conversation(
            uow,
            and_(
                Message.from_patient.is_(True),
                Conversation.care_team_id.in_(team_conversations),
            ),
            principal,
        )
        results_to_review = uow.records.count(
            uow.records.scoped(principal).where(
                MedicalRecord.kind == RecordKind.LAB_RESULT,
                MedicalRecord.reviewed_at.is_(None),
                MedicalRecord.provider_id == provider.id,
                normal_access(principal, MedicalRecord.patient_id),
            )
        )
        profile_changes = uow.session.exec(
            select(func.count()).where(
                ProfileChange.tenant_id == principal.tenant_id,
                ProfileChange.status == ProfileChangeStatus.PENDING,
                normal_access(principal, ProfileChange.patient_id),
            )
        ).scalar_one()
        uow.audit.record(
            principal, "schedule.read", resource_type="provider", resource_id=provider.id
        )
        uow.commit()
        return ProviderToday(
            provider_name=provider.display_name,
            date=local_day(start, zone),
            unread_messages=sum(unread.values()),
            results_to_review=results_to_review,
            profile_changes=profile_changes,
            appointments=[
                ScheduleLine(
                    id=str(appointment.id),
                    time=local_time(appointment.starts_at, zone),
                    patient=patient.full_name,
                    appointment_type=kind.name,
                    modality=MODALITY_LABELS[kind.modality],
                    location=location.name if location else "",
                    status=STATUS_LABELS[appointment.status],
                )
                for appointment, patient, kind, location in rows
            ],
        )


def admin_overview(principal: Principal, *, uow: UnitOfWork) -> AdminOverview:
    require_role(principal, Role.ADMIN)
    with uow:
        practice = uow.session.get(Practice, principal.tenant_id)
        counts = uow.session.exec(
            select(User.role, User.status, func.count())
            .where(User.tenant_id == principal.tenant_id)
            .group_by(User.role, User.status)
        ).all()
        by_role = {role: {} for role in Role}
        for role, status, count in counts:
            by_role[Role(role)][status] = count
        signed_in = uow.sessions.count(
            uow.sessions.scoped(principal).where(
                UserSession.ended_at.is_(None), UserSession.expires_at > utcnow()
            )
        )
        patients = uow.patients.count(uow.patients.scoped(principal))
        uow.audit.record(
            principal, "admin.overview.read", resource_type="practice", resource_id=practice.id
        )
        uow.commit()
        return AdminOverview(
            practice_name=practice.name,
            patients=patients,
            signed_in_now=signed_in,
            roles=[
                RoleCount(
                    role=role.value,
                    active=by_role[role].get("active", 0),
                    invited=by_role[role].get("invited", 0),
                    deactivated=by_role[role].get("deactivated", 0),
                )
                for role in Role
            ],
        )


def _unread_by_conversation(
    uow: UnitOfWork, condition, principal: Principal
) -> dict[uuid.UUID, int]:
    """Unread messages per conversation, counted in the database (no message is decrypted)."""
    query = (
        select(Message.conversation_id, func.count())
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(
            Conversation.tenant_id == principal.tenant_id,
            Message.read_at.is_(None),
            condition,
        )
        .group_by(Message.conversation_id)
    )
    if principal.role == Role.PATIENT:
        query = query.where(Conversation.patient_id == principal.patient_id)
    return dict(uow.session.exec(query).all())


def _local_day_bounds(now: datetime, zone: str) -> tuple[datetime, datetime]:
    """Today in the practice's zone, as UTC instants (a daylight-saving day is 23 or 25 hours)."""
    tz = ZoneInfo(zone)
    today = now.astimezone(tz).date()
    start = datetime.combine(today, time.min, tzinfo=tz)
    end = datetime.combine(today + timedelta(days=1), time.min, tzinfo=tz)
    return start, end
