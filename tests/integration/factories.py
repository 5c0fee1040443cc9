"""A small practice for integration tests: two patients, one provider, one admin."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from portal.backend import models
from portal.backend.db import Database
from portal.backend.models.base import utcnow
from portal.backend.patient_index import index_patient
from portal.backend.security import totp
from portal.backend.security.passwords import hash_password
from portal.backend.security.principal import Principal, Role
from portal.backend.services.sessions import open_session
from portal.backend.services.sign_in import normalize_email
from tests.dates import PRACTICE_ZONE, practice_today

PASSWORD = "a long enough test passphrase"
_PASSWORD_HASH = hash_password(PASSWORD)
CANARY = "ZZCANARY"
PDF = f"%PDF-1.4\nlab value {CANARY} 5.9 mmol/L\n%%EOF\n".encode()


@dataclass
class Practice:
    database: Database
    tenant_id: uuid.UUID
    patient_a: models.Patient
    patient_b: models.Patient
    provider: models.Provider
    care_team_id: uuid.UUID
    appointment_type_id: uuid.UUID
    location_id: uuid.UUID
    appointment_a: uuid.UUID
    appointment_b: uuid.UUID
    conversation_a: uuid.UUID
    conversation_b: uuid.UUID
    attachment_a: uuid.UUID
    attachment_b: uuid.UUID
    emails: dict[str, str]
    secrets: dict[str, str]
    user_ids: dict[str, uuid.UUID]

    def principal(self, who: str) -> Principal:
        """A signed-in principal for `who`, without going through the sign-in steps."""
        with self.database.unit_of_work() as uow:
            signed_in = open_session(uow, uow.session.get(models.User, self.user_ids[who]))
            uow.commit()
            return signed_in.principal

    def token(self, who: str) -> str:
        """The session cookie of a new session for `who`."""
        with self.database.unit_of_work() as uow:
            signed_in = open_session(uow, uow.session.get(models.User, self.user_ids[who]))
            uow.commit()
            return signed_in.token

    def code(self, who: str, *, steps_ahead: int = 0) -> str:
        """The authenticator code `who` would read now (or a later step's)."""
        return totp.code_for(self.secrets[who], totp.current_step() + steps_ahead)


def build_practice(database: Database, *, slug: str = "test-practice") -> Practice:
    with database.unit_of_work() as uow:
        add = uow.session.add
        practice = models.Practice(
            name="Test Practice", slug=slug, time_zone=PRACTICE_ZONE, phone="(555) 010-0000"
        )
        add(practice)
        uow.session.flush()
        tenant = practice.id
        emails = {
            "patient_a": f"{CANARY.lower()}.a@{slug}.example",
            "patient_b": f"patient.b@{slug}.example",
            "provider": f"provider@{slug}.example",
            "admin": f"admin@{slug}.example",
        }

        secrets: dict[str, str] = {}
        user_ids: dict[str, uuid.UUID] = {}

        def user(role: Role, key: str, name: str) -> models.User:
            row = models.User(
                tenant_id=tenant,
                role=role,
                email=emails[key],
                display_name=name,
                email_index=uow.keyring.blind_index("email", normalize_email(emails[key])),
                password_hash=_PASSWORD_HASH,
                totp_secret=secrets.setdefault(key, totp.new_secret()),
                mfa_enrolled_at=utcnow(),
            )
            add(row)
            uow.session.flush()
            user_ids[key] = row.id
            return row

        team = models.CareTeam(tenant_id=tenant, name="Team")
        add(team)
        provider_user = user(Role.PROVIDER, "provider", "Dr. Test")
        provider = models.Provider(
            tenant_id=tenant, user_id=provider_user.id, display_name="Dr. Test", credentials="MD"
        )
        add(provider)
        uow.session.flush()
        add(models.CareTeamMember(care_team_id=team.id, provider_id=provider.id, tenant_id=tenant))
        user(Role.ADMIN, "admin", "Admin Test")
        kind = models.AppointmentType(
            tenant_id=tenant,
            name="Follow-up visit",
            modality=models.Modality.IN_PERSON,
            duration_minutes=30,
            policy_text="Please give 24 hours' notice.",
        )
        add(kind)
        location = models.Location(
            tenant_id=tenant,
            name="Main Clinic",
            address="1 Test Street",
            phone="(555) 010-0000",
            time_zone=PRACTICE_ZONE,
        )
        add(location)
        uow.session.flush()
        for weekday in range(7):  # every day, so tests need not care what day they run
            add(
                models.AvailabilityRule(
                    tenant_id=tenant,
                    provider_id=provider.id,
                    location_id=location.id,
                    weekday=weekday,
                    start_time=time(9, 0),
                    end_time=time(17, 0),
                    time_zone=PRACTICE_ZONE,
                    effective_from=practice_today() - timedelta(days=30),
                )
            )

        def patient(key: str, first: str, last: str) -> models.Patient:
            account = user(Role.PATIENT, key, f"{first} {last}")
            row = models.Patient(
                tenant_id=tenant,
                user_id=account.id,
                care_team_id=team.id,
                medical_record_number=f"MRN-{CANARY}-{key}",
                legal_first_name=first,
                legal_last_name=last,
                date_of_birth=date(1970, 1, 2),
                phone=f"555-0100 {CANARY}",
                insurance={"payer": "Payer", "member_id": f"{CANARY}-M1"},
            )
            add(row)
            index_patient(uow, row)
            return row

        patient_a = patient("patient_a", f"Ann{CANARY}", "Alpha")
        patient_b = patient("patient_b", "Bob", "Beta")
        uow.session.flush()
        now = utcnow()
        # Noon today in the practice's zone: "today" for the provider whatever the hour.
        noon = now.astimezone(ZoneInfo(PRACTICE_ZONE)).replace(
            hour=12, minute=0, second=0, microsecond=0
        )

        def appointment(p: models.Patient, starts) -> uuid.UUID:
            row = models.Appointment(
                tenant_id=tenant,
                patient_id=p.id,
                provider_id=provider.id,
                appointment_type_id=kind.id,
                starts_at=starts,
                ends_at=starts + timedelta(minutes=30),
                blocked_from=starts,
                blocked_until=starts + timedelta(minutes=30),
                reason=f"reason {CANARY}",
            )
            add(row)
            return row.id

        def conversation(p: models.Patient, subject: str) -> tuple[uuid.UUID, uuid.UUID]:
            """A question and an answer with a PDF; returns the conversation and attachment."""
            row = models.Conversation(
                tenant_id=tenant,
                patient_id=p.id,
                care_team_id=team.id,
                subject=subject,
                category="other",
            )
            add(row)
            uow.session.flush()
            add(
                models.Message(
                    tenant_id=tenant,
                    conversation_id=row.id,
                    from_patient=True,
                    body=f"question {CANARY}",
                )
            )
            answer = models.Message(
                tenant_id=tenant, conversation_id=row.id, from_patient=False, body="answer"
            )
            add(answer)
            uow.session.flush()
            attachment = models.Attachment(
                tenant_id=tenant,
                message_id=answer.id,
                content_type="application/pdf",
                storage_key=uow.files.put(PDF, "application/pdf"),
                size_bytes=len(PDF),
                filename=f"Results {CANARY}.pdf",
            )
            add(attachment)
            return row.id, attachment.id

        conversation_a, attachment_a = conversation(patient_a, f"subject {CANARY}")
        conversation_b, attachment_b = conversation(patient_b, "Patient B's private subject")
        fixture = Practice(
            database=database,
            tenant_id=tenant,
            patient_a=patient_a,
            patient_b=patient_b,
            provider=provider,
            care_team_id=team.id,
            appointment_type_id=kind.id,
            location_id=location.id,
            # Three days from the moment the fixture is built: tests book on other days.
            appointment_a=appointment(patient_a, now + timedelta(days=3)),
            appointment_b=appointment(patient_b, noon),
            conversation_a=conversation_a,
            conversation_b=conversation_b,
            attachment_a=attachment_a,
            attachment_b=attachment_b,
            emails=emails,
            secrets=secrets,
            user_ids=user_ids,
        )
        uow.commit()
        return fixture


def add_clinician(
    practice: Practice, name: str, start: time, end: time, credentials: str | None = None
) -> uuid.UUID:
    """Another clinician of the patients' care team, in clinic from `start` to `end` every day."""
    with practice.database.unit_of_work() as work:
        clinician = models.Provider(
            tenant_id=practice.tenant_id, display_name=name, credentials=credentials
        )
        work.session.add(clinician)
        work.session.flush()
        work.session.add(
            models.CareTeamMember(
                care_team_id=practice.care_team_id,
                provider_id=clinician.id,
                tenant_id=practice.tenant_id,
            )
        )
        for weekday in range(7):
            work.session.add(
                models.AvailabilityRule(
                    tenant_id=practice.tenant_id,
                    provider_id=clinician.id,
                    location_id=practice.location_id,
                    weekday=weekday,
                    start_time=start,
                    end_time=end,
                    time_zone=PRACTICE_ZONE,
                    effective_from=practice_today() - timedelta(days=30),
                )
            )
        work.commit()
        return clinician.id


def time_off(practice: Practice, starts_at, ends_at) -> None:
    """The practice's own clinician takes time off from `starts_at` to `ends_at`."""
    with practice.database.unit_of_work() as work:
        work.session.add(
            models.AvailabilityException(
                tenant_id=practice.tenant_id,
                provider_id=practice.provider.id,
                kind=models.ExceptionKind.TIME_OFF,
                starts_at=starts_at,
                ends_at=ends_at,
            )
        )
        work.commit()


def mailed_links(practice: Practice, template_id: str, to: str) -> list[str]:
    """The links of the `template_id` emails queued for `to`, oldest first."""
    with practice.database.unit_of_work() as uow:
        mails = (
            uow.session.exec(select(models.Notification).order_by(models.Notification.created_at))
            .scalars()
            .all()
        )
        return [
            m.parameters["link"]
            for m in mails
            if m.template_id == template_id and m.recipient == to and m.channel == "email"
        ]
