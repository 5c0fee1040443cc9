"""The people the load harness signs in: patients of the demo practice with a known password and
authenticator secret. An active patient also has what the simulated work opens: a conversation
with the care team (a question and its answer), a released lab result, a past visit and an
upcoming one. Burst patients only sign in, so they have an account and nothing else."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from portal.backend import models
from portal.backend.db import Database, UnitOfWork
from portal.backend.demo import labs, load_demo, people
from portal.backend.models.base import utcnow
from portal.backend.patient_index import index_patient
from portal.backend.security import totp
from portal.backend.security.passwords import hash_password
from portal.backend.security.principal import Role
from portal.backend.services.sign_in import normalize_email

PASSWORD = "load harness passphrase 2026"  # noqa: S105  (benchmark accounts in a throwaway database)
BATCH = 100
PANEL = "Lipid panel"
VISIT_TYPE = "Follow-up visit"
TEAM = people.CARE_TEAMS["family"]
VISIT_HOURS = 8  # one visit an hour from 9:00, per provider and day


@dataclass(frozen=True)
class Account:
    """What a simulated user knows: how to sign in, and the ids its own screens link to."""

    email: str
    totp_secret: str
    conversation_id: str = ""
    lab_result_id: str = ""


@dataclass(frozen=True)
class _Practice:
    tenant_id: object
    zone: ZoneInfo
    team_id: object
    providers: list[models.Provider]
    visit_type: models.AppointmentType
    location_id: object


def load_practice(database: Database, *, active: int, burst: int) -> tuple[list, list]:
    """The demo practice, `active` patients with something to open and `burst` patients who
    only sign in. Returns both lists of accounts."""
    load_demo(uow=database.unit_of_work())
    password_hash = hash_password(PASSWORD)  # once: every benchmark account shares it
    active_accounts = _add_patients(database, "active", active, password_hash, content=True)
    burst_accounts = _add_patients(database, "burst", burst, password_hash, content=False)
    return active_accounts, burst_accounts


def _add_patients(
    database: Database, kind: str, count: int, password_hash: str, *, content: bool
) -> list[Account]:
    accounts: list[Account] = []
    rng = random.Random(f"load-{kind}")  # noqa: S311  (repeatable data, not security)
    for start in range(0, count, BATCH):
        with database.unit_of_work() as uow:
            practice = _practice(uow)
            for index in range(start, min(count, start + BATCH)):
                accounts.append(
                    _patient(uow, practice, kind, index, password_hash, rng, content=content)
                )
            uow.commit()
    return accounts


def _practice(uow: UnitOfWork) -> _Practice:
    practice = uow.session.exec(
        select(models.Practice).where(models.Practice.slug == people.PRACTICE["slug"])
    ).scalar_one()
    team = uow.session.exec(
        select(models.CareTeam).where(
            models.CareTeam.tenant_id == practice.id, models.CareTeam.name == TEAM
        )
    ).scalar_one()
    providers = (
        uow.session.exec(
            select(models.Provider)
            .join(models.CareTeamMember, models.CareTeamMember.provider_id == models.Provider.id)
            .where(models.CareTeamMember.care_team_id == team.id)
            .order_by(models.Provider.id)
        )
        .scalars()
        .all()
    )
    visit_type = uow.session.exec(
        select(models.AppointmentType).where(
            models.AppointmentType.tenant_id == practice.id,
            models.AppointmentType.name == VISIT_TYPE,
        )
    ).scalar_one()
    location = uow.session.exec(
        select(models.Location.id).where(models.Location.tenant_id == practice.id).limit(1)
    ).scalar_one()
    return _Practice(
        practice.id, ZoneInfo(practice.time_zone), team.id, list(providers), visit_type, location
    )


def _patient(
    uow: UnitOfWork,
    practice: _Practice,
    kind: str,
    index: int,
    password_hash: str,
    rng: random.Random,
    *,
    content: bool,
) -> Account:
    email = f"{kind}.patient.{index}@load.example"
    secret = totp.new_secret()
    first, last, sex, birth_year = people.PATIENTS[index % len(people.PATIENTS)]
    user = models.User(
        tenant_id=practice.tenant_id,
        role=Role.PATIENT,
        email=email,
        email_index=uow.keyring.blind_index("email", normalize_email(email)),
        display_name=f"{first} {last}",
        password_hash=password_hash,
        totp_secret=secret,
        mfa_enrolled_at=utcnow(),
    )
    uow.session.add(user)
    uow.session.flush()
    patient = models.Patient(
        tenant_id=practice.tenant_id,
        user_id=user.id,
        care_team_id=practice.team_id,
        medical_record_number=f"LOAD-{kind}-{index}",
        legal_first_name=first,
        legal_last_name=last,
        date_of_birth=datetime(birth_year, 1 + index % 12, 1 + index % 28).date(),
        sex=sex,
        email=email,
        onboarding_finished_at=utcnow(),
        onboarding_step="done",
    )
    uow.session.add(patient)
    index_patient(uow, patient)
    uow.session.flush()
    if not content:
        return Account(email, secret)
    conversation = _conversation(uow, practice, patient, user, index)
    lab_result = _lab_result(uow, practice, patient, rng)
    for days in (-60, 60):  # one past visit and one upcoming, never overlapping another
        _visit(uow, practice, patient, index, days)
    return Account(email, secret, str(conversation), str(lab_result))


def _conversation(uow, practice: _Practice, patient, user, index: int):
    category, subject, question, answer = labs.MESSAGE_THREADS[index % len(labs.MESSAGE_THREADS)]
    asked = utcnow() - timedelta(days=3)
    conversation = models.Conversation(
        tenant_id=practice.tenant_id,
        patient_id=patient.id,
        care_team_id=practice.team_id,
        subject=subject,
        category=category,
        last_message_at=asked + timedelta(hours=4),
        created_at=asked,
    )
    uow.session.add(conversation)
    uow.session.flush()
    clinician = practice.providers[index % len(practice.providers)]
    for sender, from_patient, body, sent in (
        (user.id, True, question, asked),
        (clinician.user_id, False, answer, asked + timedelta(hours=4)),
    ):
        uow.session.add(
            models.Message(
                tenant_id=practice.tenant_id,
                conversation_id=conversation.id,
                sender_user_id=sender,
                from_patient=from_patient,
                body=body,
                sent_at=sent,
                read_at=sent + timedelta(hours=1),
            )
        )
    return conversation.id


def _lab_result(uow, practice: _Practice, patient, rng: random.Random):
    collected = utcnow() - timedelta(days=30)
    provider = practice.providers[0]
    record = models.MedicalRecord(
        tenant_id=practice.tenant_id,
        patient_id=patient.id,
        kind=models.RecordKind.LAB_RESULT,
        title=PANEL,
        content={
            "collected_at": collected.isoformat(),
            "resulted_at": (collected + timedelta(days=1)).isoformat(),
            "ordering_provider": provider.display_name,
        },
        status="final",
        provider_id=provider.id,
        effective_at=collected,
        released_at=collected + timedelta(days=1),
    )
    uow.session.add(record)
    uow.session.flush()
    for position, (name, loinc, unit, low, high, typical, spread) in enumerate(labs.PANELS[PANEL]):
        value = round(rng.gauss(typical, spread), 1)
        flag = (
            "low"
            if low is not None and value < low
            else ("high" if high is not None and value > high else None)
        )
        uow.session.add(
            models.LabComponent(
                tenant_id=practice.tenant_id,
                record_id=record.id,
                position=position,
                test_name=name,
                loinc_code=loinc,
                value=f"{value:g}",
                unit=unit,
                reference_low=None if low is None else f"{low:g}",
                reference_high=None if high is None else f"{high:g}",
                flag=flag,
                test_index=uow.keyring.blind_index("lab_test", loinc),
            )
        )
    return record.id


def _visit(uow, practice: _Practice, patient, index: int, days: int) -> None:
    """A visit `days` from today (past ones completed), at a provider, day and hour no other
    benchmark visit takes; beyond the demo's 45 days of visits either way."""
    count = len(practice.providers)
    provider = practice.providers[index % count]
    day = datetime.now(practice.zone).date() + timedelta(
        days=days + (1 if days > 0 else -1) * (index // (count * VISIT_HOURS))
    )
    local = datetime.combine(day, time(9 + (index // count) % VISIT_HOURS), tzinfo=practice.zone)
    starts = local.astimezone(UTC)
    ends = starts + timedelta(minutes=practice.visit_type.duration_minutes)
    status = models.AppointmentStatus.BOOKED if days > 0 else models.AppointmentStatus.COMPLETED
    uow.session.add(
        models.Appointment(
            tenant_id=practice.tenant_id,
            patient_id=patient.id,
            provider_id=provider.id,
            appointment_type_id=practice.visit_type.id,
            location_id=practice.location_id,
            starts_at=starts,
            ends_at=ends,
            blocked_from=starts,
            blocked_until=ends,
            status=status,
            reason="Follow-up on blood pressure",
        )
    )
