"""Fixtures of the standing attack suite. It runs against the one served build of the portal
(tests/e2e/fixtures.py) and adds what an attacker needs to aim at:

- `other_practice`: a second practice in the portal's database (tests/integration/factories.py),
  whose PHI carries the canary `ZZCANARY`, with a record, a contact, hours and a request each,
  so that every resource type has a foreign id;
- `new_patient`: a fresh patient of the demo practice with an account, for attacks that spend or
  change an account;
- `canary_traces`: what the suite's browsers stored and visited, swept at the end by
  test_zz_canary_sweep.py.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from portal.backend import models
from portal.backend.demo import DEMO_PATIENT_EMAIL
from portal.backend.models.base import utcnow
from portal.backend.patient_index import index_patient
from portal.backend.security import totp
from portal.backend.security.passwords import hash_password
from portal.backend.security.principal import Role
from portal.backend.services.sign_in import normalize_email
from tests.dates import PRACTICE_ZONE, practice_today
from tests.integration.factories import CANARY, Practice, build_practice

PASSWORD = "a long enough attack-suite passphrase"
_PASSWORD_HASH = hash_password(PASSWORD)
DEMO_PROVIDER = "dr.chen@riverside.example"
DEMO_ADMIN = "admin@riverside.example"


@dataclass
class Person:
    """An account made for one attack, with what is needed to sign in as it."""

    email: str
    user_id: uuid.UUID
    patient_id: uuid.UUID | None
    secret: str
    used_steps: set[int] = field(default_factory=set)

    def code(self, steps_ahead: int = 0) -> str:
        return totp.code_for(self.secret, totp.current_step() + steps_ahead)


def add_person(
    database, tenant_id: uuid.UUID, email: str, first: str, last: str, *, role=Role.PATIENT
) -> Person:
    """A user (a patient of the practice's first care team, unless staff) with a known
    password and authenticator."""
    with database.unit_of_work() as uow:
        secret = totp.new_secret()
        user = models.User(
            tenant_id=tenant_id,
            role=role,
            email=email,
            display_name=f"{first} {last}",
            email_index=uow.keyring.blind_index("email", normalize_email(email)),
            password_hash=_PASSWORD_HASH,
            totp_secret=secret,
            mfa_enrolled_at=utcnow(),
        )
        uow.session.add(user)
        uow.session.flush()
        patient_id = None
        if role == Role.PATIENT:
            team = uow.session.exec(
                select(models.CareTeam.id).where(models.CareTeam.tenant_id == tenant_id)
            ).first()[0]
            patient = models.Patient(
                tenant_id=tenant_id,
                user_id=user.id,
                care_team_id=team,
                medical_record_number=f"MRN-{uuid.uuid4().hex[:8]}",
                legal_first_name=first,
                legal_last_name=last,
                date_of_birth=date(1980, 5, 6),
                email=email,
                onboarding_finished_at=utcnow(),
            )
            uow.session.add(patient)
            index_patient(uow, patient)
            uow.session.flush()
            patient_id = patient.id
        uow.commit()
        return Person(email, user.id, patient_id, secret)


@pytest.fixture(scope="session")
def new_patient(portal_database, demo_ids):
    """A fresh patient of the demo practice (a new one per call)."""

    def make(first: str = "Quinn", last: str = "Attacker") -> Person:
        email = f"attack.{uuid.uuid4().hex[:10]}@example.org"
        return add_person(portal_database, demo_ids["tenant_id"], email, first, last)

    return make


def _first(uow, statement) -> Any:
    row = uow.session.exec(statement).first()
    return row[0] if row is not None else None


@pytest.fixture(scope="session")
def demo_ids(portal_database, accounts) -> dict[str, Any]:
    """Ids of the demo patient's own things (the victim of attacks from the same practice)."""
    maria = accounts.user(DEMO_PATIENT_EMAIL)
    chen = accounts.user(DEMO_PROVIDER)
    with portal_database.unit_of_work() as uow:
        patient = uow.session.exec(
            select(models.Patient).where(models.Patient.user_id == maria.id)
        ).scalar_one()
        provider_id = _first(
            uow, select(models.Provider.id).where(models.Provider.user_id == chen.id)
        )
        conversation_id = _first(
            uow,
            select(models.Conversation.id).where(models.Conversation.patient_id == patient.id),
        )
        attachment_id = _first(
            uow,
            select(models.Attachment.id)
            .join(models.Message, models.Message.id == models.Attachment.message_id)
            .where(models.Message.conversation_id == conversation_id),
        )
        return {
            "tenant_id": maria.tenant_id,
            "user_id": maria.id,
            "patient_id": patient.id,
            "surname": patient.legal_last_name,
            "provider_id": provider_id,
            "provider_user_id": chen.id,
            "appointment_id": _first(
                uow,
                select(models.Appointment.id).where(models.Appointment.patient_id == patient.id),
            ),
            "conversation_id": conversation_id,
            "attachment_id": attachment_id,
            "record_id": _first(
                uow,
                select(models.MedicalRecord.id)
                .where(models.MedicalRecord.patient_id == patient.id)
                .where(models.MedicalRecord.released_at.is_not(None)),
            ),
            "document_record_id": _first(
                uow,
                select(models.MedicalRecord.id)
                .where(models.MedicalRecord.patient_id == patient.id)
                .where(models.MedicalRecord.kind == "document"),
            ),
            "contact_id": next(
                (c["id"] for c in patient.emergency_contacts or [] if c.get("id")), uuid.uuid4().hex
            ),
            "rule_id": _first(
                uow,
                select(models.AvailabilityRule.id).where(
                    models.AvailabilityRule.provider_id == provider_id
                ),
            ),
            "visit_type_id": _first(
                uow,
                select(models.AppointmentType.id).where(
                    models.AppointmentType.tenant_id == maria.tenant_id
                ),
            ),
        }


@dataclass
class OtherPractice:
    practice: Practice
    record_id: uuid.UUID
    contact_id: str
    rule_id: uuid.UUID
    exception_id: uuid.UUID
    change_id: uuid.UUID
    session_id: uuid.UUID

    def __getattr__(self, name: str) -> Any:
        return getattr(self.practice, name)


@pytest.fixture(scope="session")
def other_practice(portal_database) -> OtherPractice:
    """A second practice in the running portal's database, its PHI marked with the canary."""
    practice = build_practice(portal_database, slug=f"zz-other-{uuid.uuid4().hex[:6]}")
    tenant = practice.tenant_id
    with portal_database.unit_of_work() as uow:
        now = utcnow()
        record = models.MedicalRecord(
            tenant_id=tenant,
            patient_id=practice.patient_b.id,
            kind="lab_result",
            title=f"Panel {CANARY}",
            content={"note": f"comment {CANARY}"},
            provider_id=practice.provider.id,
            effective_at=now - timedelta(days=2),
            released_at=now - timedelta(days=1),
        )
        uow.session.add(record)
        patient = uow.session.get(models.Patient, practice.patient_b.id)
        contact_id = uuid.uuid4().hex
        patient.emergency_contacts = [
            {
                "id": contact_id,
                "name": f"Contact {CANARY}",
                "relationship": "friend",
                "phone": "555-234-9999",
            }
        ]
        rule = models.AvailabilityRule(
            tenant_id=tenant,
            provider_id=practice.provider.id,
            location_id=practice.location_id,
            weekday=0,
            start_time=time(9, 0),
            end_time=time(12, 0),
            time_zone=PRACTICE_ZONE,
            effective_from=practice_today() - timedelta(days=30),
        )
        exception = models.AvailabilityException(
            tenant_id=tenant,
            provider_id=practice.provider.id,
            kind=models.ExceptionKind.TIME_OFF,
            starts_at=now + timedelta(days=20),
            ends_at=now + timedelta(days=21),
            note="off",
        )
        change = models.ProfileChange(
            tenant_id=tenant,
            patient_id=practice.patient_b.id,
            requested_values={"legal_last_name": f"Changed{CANARY}"},
        )
        uow.session.add_all([rule, exception, change])
        uow.commit()
        ids = (record.id, rule.id, exception.id, change.id)
    token = practice.token("patient_b")
    with portal_database.unit_of_work() as uow:
        session_id = _first(
            uow,
            select(models.UserSession.id).where(
                models.UserSession.user_id == practice.user_ids["patient_b"]
            ),
        )
    assert token
    return OtherPractice(practice, ids[0], contact_id, ids[1], ids[2], ids[3], session_id)


class CanaryTraces:
    """What the suite's browsers kept and visited, for the final canary sweep."""

    def __init__(self) -> None:
        self.urls: list[str] = []
        self.storage: list[str] = []
        self.replies: list[str] = []
        self.caching: list[tuple[str, str | None]] = []

    def follow(self, page) -> None:
        page.on("framenavigated", lambda frame: self.urls.append(frame.url))
        page.on("request", lambda request: self.urls.append(request.url))
        page.on(
            "response",
            lambda response: self.caching.append(
                (response.url, response.headers.get("cache-control"))
            ),
        )

    def keep_storage(self, page) -> None:
        self.storage.append(
            page.evaluate(
                "() => JSON.stringify([Object.entries(localStorage),"
                " Object.entries(sessionStorage), document.cookie])"
            )
        )
        self.storage.extend(f"{c['name']}={c['value']}" for c in page.context.cookies())


@pytest.fixture(scope="session")
def canary_traces() -> CanaryTraces:
    return CanaryTraces()
