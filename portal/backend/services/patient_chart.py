"""A patient's chart for the care team: the header and each tab's reading.

Who opens which chart is `patient_access.readable_patient`'s to say: a provider their own
patients (care teams, appointments), staff another patient of the practice under a live
break-glass grant (admins read the header, summary and appointments that way, never messages);
anything else raises `BreakGlassNeeded` or `NotFound`. Every read of the header or a tab is
audited as `patient.chart.read` with the tab, flagged under a grant (the Profile tab's read is
the profiles service's `profile.read`). The Messages tab and the unread count show only threads
with the provider's own care teams, as the inbox does.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select

from portal.backend.db import UnitOfWork
from portal.backend.models import (
    ACTIVE_APPOINTMENT_STATUSES,
    Appointment,
    Conversation,
    MedicalRecord,
    Message,
    Patient,
    Practice,
    RecordKind,
)
from portal.backend.models.base import utcnow
from portal.backend.security.principal import Principal, Role, require_role
from portal.backend.services.messaging import CATEGORY_LABELS
from portal.backend.services.patient_access import (
    care_teams_of,
    emergency_access,
    readable_patient,
)
from portal.backend.services.patient_search import (
    age_on,
    attention_of,
    display_date,
    legal_name_of,
)
from portal.backend.services.scheduling import PAST_SHOWN, appointment_card
from portal.backend.views import (
    ChartAppointments,
    ChartHeader,
    ChartMessages,
    ChartSummary,
    ThreadLine,
    local_moment,
)

RECENT_RESULT_DAYS = 90
THREADS_SHOWN = 50


def chart_header(principal: Principal, patient_id: uuid.UUID, *, uow: UnitOfWork) -> ChartHeader:
    """Who the chart is about: name, date of birth and age, MRN, pronouns; and until when the
    caller reads it under break-glass, if they do."""
    require_role(principal, Role.PROVIDER, Role.ADMIN)
    with uow:
        patient = readable_patient(uow, principal, patient_id)
        _audit_chart(uow, principal, patient, "header")
        uow.commit()
        access = emergency_access(uow, patient)
        return ChartHeader(
            id=str(patient.id),
            name=patient.full_name,
            legal_name=legal_name_of(patient),
            date_of_birth=display_date(patient.date_of_birth),
            age=age_on(patient.date_of_birth, _today(uow, principal)),
            medical_record_number=patient.medical_record_number,
            pronouns=patient.pronouns or "",
            emergency_until=access.until if access else "",
        )


def chart_summary(principal: Principal, patient_id: uuid.UUID, *, uow: UnitOfWork) -> ChartSummary:
    """The next visit and the counts that need the care team: unread messages from the
    patient, results to review, recent results."""
    require_role(principal, Role.PROVIDER, Role.ADMIN)
    with uow:
        patient = readable_patient(uow, principal, patient_id)
        zone = uow.session.get(Practice, principal.tenant_id).time_zone
        now = utcnow()
        upcoming = _upcoming(uow, principal, patient)
        next_visit = uow.appointments.first(upcoming)
        results = select(func.count()).where(
            MedicalRecord.patient_id == patient.id, MedicalRecord.kind == RecordKind.LAB_RESULT
        )
        recent = uow.session.exec(
            results.where(MedicalRecord.effective_at >= now - timedelta(days=RECENT_RESULT_DAYS))
        ).scalar_one()
        unreviewed = uow.session.exec(
            results.where(MedicalRecord.reviewed_at.is_(None))
        ).scalar_one()
        threads = uow.session.exec(
            select(func.count()).where(
                Conversation.patient_id == patient.id,
                Conversation.care_team_id.in_(care_teams_of(principal)),
                Conversation.status == "open",
            )
        ).scalar_one()
        _audit_chart(uow, principal, patient, "summary")
        uow.commit()
        return ChartSummary(
            next_appointment=appointment_card(uow, next_visit, zone, now=now)
            if next_visit
            else None,
            upcoming_appointments=uow.appointments.count(upcoming),
            unread_messages=attention_of(uow, principal, [patient.id], now)[patient.id][1],
            open_threads=threads,
            recent_results=recent,
            results_to_review=unreviewed,
            recent_days=RECENT_RESULT_DAYS,
        )


def chart_appointments(
    principal: Principal, patient_id: uuid.UUID, *, uow: UnitOfWork
) -> ChartAppointments:
    """The patient's upcoming visits and their last PAST_SHOWN past or closed ones, with every
    clinician of the practice."""
    require_role(principal, Role.PROVIDER, Role.ADMIN)
    with uow:
        patient = readable_patient(uow, principal, patient_id)
        zone = uow.session.get(Practice, principal.tenant_id).time_zone
        now = utcnow()
        upcoming = uow.appointments.all(_upcoming(uow, principal, patient))
        past = uow.appointments.all(
            uow.appointments.scoped(principal)
            .where(
                Appointment.patient_id == patient.id,
                or_(
                    Appointment.starts_at < now,
                    Appointment.status.not_in(ACTIVE_APPOINTMENT_STATUSES),
                ),
            )
            .order_by(Appointment.starts_at.desc())
            .limit(PAST_SHOWN)
        )
        _audit_chart(uow, principal, patient, "appointments")
        uow.commit()
        return ChartAppointments(
            upcoming=[appointment_card(uow, a, zone, now=now) for a in upcoming],
            past=[appointment_card(uow, a, zone, now=now) for a in past],
        )


def chart_messages(
    principal: Principal, patient_id: uuid.UUID, *, uow: UnitOfWork
) -> ChartMessages:
    """The patient's threads with the provider's care teams, most recent first; threads with
    other teams are not the provider's to read and are not shown."""
    require_role(principal, Role.PROVIDER)
    with uow:
        patient = readable_patient(uow, principal, patient_id)
        zone = uow.session.get(Practice, principal.tenant_id).time_zone
        threads = uow.conversations.all(
            uow.conversations.scoped(principal)
            .where(
                Conversation.patient_id == patient.id,
                Conversation.care_team_id.in_(care_teams_of(principal)),
            )
            .order_by(Conversation.last_message_at.desc())
            .limit(THREADS_SHOWN)
        )
        unread = dict(
            uow.session.exec(
                select(Message.conversation_id, func.count())
                .where(
                    Message.conversation_id.in_([t.id for t in threads]),
                    Message.from_patient.is_(True),
                    Message.read_at.is_(None),
                )
                .group_by(Message.conversation_id)
            ).all()
        )
        _audit_chart(uow, principal, patient, "messages")
        uow.commit()
        return ChartMessages(
            threads=[
                ThreadLine(
                    id=str(t.id),
                    subject=t.subject,
                    category=CATEGORY_LABELS[t.category],
                    status="Done" if t.status == "done" else "Open",
                    last_activity=local_moment(t.last_message_at, zone),
                    unread=unread.get(t.id, 0),
                    patient=patient.full_name,
                    patient_id=str(patient.id),
                )
                for t in threads
            ]
        )


def _audit_chart(uow: UnitOfWork, principal: Principal, patient: Patient, tab: str) -> None:
    uow.audit.record(
        principal,
        "patient.chart.read",
        resource_type="patient",
        resource_id=patient.id,
        patient_id=patient.id,
        details=f"tab={tab}",
    )


def _upcoming(uow: UnitOfWork, principal: Principal, patient: Patient):
    return (
        uow.appointments.scoped(principal)
        .where(
            Appointment.patient_id == patient.id,
            Appointment.starts_at >= utcnow(),
            Appointment.status.in_(ACTIVE_APPOINTMENT_STATUSES),
        )
        .order_by(Appointment.starts_at)
    )


def _today(uow: UnitOfWork, principal: Principal) -> date:
    zone = uow.session.get(Practice, principal.tenant_id).time_zone
    return utcnow().astimezone(ZoneInfo(zone)).date()
