"""Demo data: one practice with providers, patients, appointments, messages and lab results.

Loading is idempotent (a second run finds the practice and changes nothing) and deterministic
apart from dates, which are placed around the day it runs so the portal always has upcoming
visits and a busy "today".
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from portal.backend.availability import Span
from portal.backend.config import settings
from portal.backend.db import UnitOfWork
from portal.backend.demo import clinical, labs, people
from portal.backend.demo.documents import one_page_pdf
from portal.backend.models import (
    AccessGrant,
    Appointment,
    AppointmentStatus,
    AppointmentType,
    Article,
    Attachment,
    AvailabilityRule,
    CareTeam,
    CareTeamMember,
    Conversation,
    LabComponent,
    Location,
    MedicalRecord,
    Message,
    Modality,
    Patient,
    Practice,
    Provider,
    RecordKind,
    User,
    UserStatus,
)
from portal.backend.models.base import utcnow
from portal.backend.notify import links
from portal.backend.notify.outbox import notify_user, portal_link
from portal.backend.notify.sms import normalize_phone
from portal.backend.patient_index import index_patient
from portal.backend.security import totp
from portal.backend.security.passwords import hash_password
from portal.backend.security.principal import Role
from portal.backend.services.patient_access import BREAK_GLASS_MINUTES
from portal.backend.services.sign_in import normalize_email

DEMO_PASSWORD = "riverside-demo-2026"
DEMO_PATIENT_EMAIL = "maria.garcia@example.com"
PATIENTS_WITHOUT_ACCOUNT = 5
SCHEDULED_DAYS = 15  # the last few patients are invited but have not signed up yet
APPOINTMENT_TYPES = [
    ("New patient visit", Modality.IN_PERSON, 60),
    ("Follow-up visit", Modality.IN_PERSON, 30),
    ("Annual physical", Modality.IN_PERSON, 45),
    ("Video visit", Modality.VIDEO, 20),
    ("Phone consultation", Modality.PHONE, 15),
]
INSTRUCTIONS = [
    "Follow the advice in our message.",
    "Call the practice if your symptoms get worse.",
    "In an emergency, call 911.",
]
FOLLOW_UP = "Thank you. One more question: should I take it with food or on an empty stomach?"
VISIT_REASONS = [
    "Follow-up on blood pressure",
    "Annual check",
    "Cough for two weeks",
    "Medication review",
    "Knee pain",
    "Lab results discussion",
]
BREAK_GLASS_REASON = (
    "Covering the Saturday walk-in clinic: the patient came in short of breath and I needed "
    "their medication list and allergies."
)
CANCELLATION_POLICY = (
    "Please cancel or reschedule at least 24 hours before your visit so that another patient "
    "can use the time. Within 24 hours, call the practice."
)


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    name: str


def demo_logins() -> list[DemoLogin]:
    chen = people.PROVIDERS[0]
    return [
        DemoLogin("patient", DEMO_PATIENT_EMAIL, "Maria Garcia"),
        DemoLogin("provider", chen[3], chen[0]),
        DemoLogin("admin", people.ADMIN[1], people.ADMIN[0]),
    ]


class NotADemo(Exception):
    """Demo codes exist only in demo mode (PORTAL_DEMO=1), for demo accounts."""


def demo_code(email: str, *, uow: UnitOfWork) -> tuple[str, int]:
    """The current authenticator code of a demo account, and the seconds it stays valid."""
    if not settings().demo:
        raise NotADemo("Demo codes are available only in demo mode (PORTAL_DEMO=1).")
    with uow:
        practice_id = uow.session.exec(
            select(Practice.id).where(Practice.slug == people.PRACTICE["slug"])
        ).first()
        index = uow.keyring.blind_index("email", normalize_email(email))
        user = uow.users.first(select(User).where(User.email_index == index))
        if (
            practice_id is None
            or user is None
            or user.tenant_id != practice_id[0]
            or not (user.totp_secret)
        ):
            raise NotADemo(f"{email} is not an enrolled account of the demo practice.")
        left = totp.STEP_SECONDS - int(utcnow().timestamp()) % totp.STEP_SECONDS
        return totp.code_for(user.totp_secret), left


def load_demo(*, uow: UnitOfWork, now: datetime | None = None) -> bool:
    """Create the demo practice unless it exists. Returns whether anything was created."""
    with uow:
        existing = uow.session.exec(
            select(Practice.id).where(Practice.slug == people.PRACTICE["slug"])
        ).first()
        if existing is not None:
            return False
        _DemoBuilder(uow, now or utcnow()).build()
        uow.commit()
        return True


class _DemoBuilder:
    def __init__(self, uow: UnitOfWork, now: datetime):
        self.uow = uow
        self.now = now
        # Repeatable demo data, not security.
        self.random = random.Random(2026)  # nosec B311
        self.password_hash = hash_password(DEMO_PASSWORD)
        self.practice = Practice(
            **people.PRACTICE,
            idle_timeout_minutes=settings().idle_timeout_minutes,
            patient_self_registration=True,
        )
        self.zone = ZoneInfo(self.practice.time_zone)
        self.busy: dict[uuid.UUID, list[Span]] = {}
        self.provider_location: dict[uuid.UUID, Location] = {}
        self.provider_teams: dict[uuid.UUID, list[str]] = {}
        self.patients: list[Patient] = []

    def add(self, row):
        self.uow.session.add(row)
        return row

    def build(self) -> None:
        self.add(self.practice)
        self.uow.session.flush()
        self.locations = [
            self.add(
                Location(
                    tenant_id=self.practice.id,
                    name=name,
                    address=address,
                    phone=phone,
                    time_zone=self.practice.time_zone,
                )
            )
            for name, address, phone in people.LOCATIONS
        ]
        self.teams = {
            key: self.add(CareTeam(tenant_id=self.practice.id, name=name))
            for key, name in people.CARE_TEAMS.items()
        }
        self.types = [
            self.add(
                AppointmentType(
                    tenant_id=self.practice.id,
                    name=name,
                    modality=modality,
                    duration_minutes=minutes,
                    policy_text=CANCELLATION_POLICY,
                    requires_approval=name == "New patient visit",
                )
            )
            for name, modality, minutes in APPOINTMENT_TYPES
        ]
        self.uow.session.flush()
        self.providers = [self._provider(*entry) for entry in people.PROVIDERS]
        self._user(Role.ADMIN, people.ADMIN[1], people.ADMIN[0])
        self.uow.session.flush()
        for index, entry in enumerate(people.PATIENTS):
            self._patient(index, *entry)
        self._clinic_days(self.providers[0])
        self._past_break_glass()
        self._latest_news()
        self._articles()
        self.uow.audit.record(
            None,
            "demo.load",
            tenant_id=self.practice.id,
            resource_type="practice",
            resource_id=self.practice.id,
        )

    def _past_break_glass(self) -> None:
        """A grant from three days ago, not reviewed yet, so the admins' break-glass review has
        something to show: the paediatrician covering the walk-in clinic opened an adult patient
        of the heart team."""
        covering = self.providers[2]
        patient = next(p for p in self.patients if p.care_team_id == self.teams["heart"].id)
        granted = self.now - timedelta(days=3, hours=2)
        self.add(
            AccessGrant(
                tenant_id=self.practice.id,
                user_id=covering.user_id,
                patient_id=patient.id,
                reason=BREAK_GLASS_REASON,
                created_at=granted,
                expires_at=granted + timedelta(minutes=BREAK_GLASS_MINUTES),
            )
        )

    def _latest_news(self) -> None:
        """The demo patient has a result and a reply waiting in the notification centre."""
        link = portal_link(links.SIGN_IN)
        for template_id in ("new_result", "new_message"):
            notify_user(
                self.uow,
                self.demo_patient_user,
                template_id,
                {"link": link},
                event_key=f"demo:{template_id}",
            )

    def _user(self, role: Role, email: str, name: str, *, invited: bool = False) -> User:
        return self.add(
            User(
                tenant_id=self.practice.id,
                role=role,
                status=UserStatus.INVITED if invited else UserStatus.ACTIVE,
                email=email,
                email_index=self.uow.keyring.blind_index("email", normalize_email(email)),
                display_name=name,
                password_hash=None if invited else self.password_hash,
                totp_secret=None if invited else totp.new_secret(),
                mfa_enrolled_at=None if invited else self.now,
            )
        )

    def _provider(self, name, credentials, specialty, email, location_index, teams) -> Provider:
        user = self._user(Role.PROVIDER, email, name)
        self.uow.session.flush()
        provider = self.add(
            Provider(
                tenant_id=self.practice.id,
                user_id=user.id,
                display_name=name,
                credentials=credentials,
                specialty=specialty,
            )
        )
        self.uow.session.flush()
        for team in teams:
            self.add(
                CareTeamMember(
                    care_team_id=self.teams[team].id,
                    provider_id=provider.id,
                    tenant_id=self.practice.id,
                )
            )
        location = self.locations[location_index]
        for weekday in range(5):
            for start, end in ((time(8, 30), time(12, 0)), (time(13, 0), time(17, 0))):
                self.add(
                    AvailabilityRule(
                        tenant_id=self.practice.id,
                        provider_id=provider.id,
                        location_id=location.id,
                        weekday=weekday,
                        start_time=start,
                        end_time=end,
                        time_zone=location.time_zone,
                        effective_from=self.now.date() - timedelta(days=365),
                    )
                )
        self.provider_location[provider.id] = location
        self.provider_teams[provider.id] = teams
        self.busy[provider.id] = []
        return provider

    def _patient(self, index: int, first: str, last: str, sex: str, birth_year: int) -> None:
        rng = self.random
        email = DEMO_PATIENT_EMAIL if index == 0 else f"{first}.{last}@example.com".lower()
        has_account = index < len(people.PATIENTS) - PATIENTS_WITHOUT_ACCOUNT
        user = self._user(Role.PATIENT, email, f"{first} {last}", invited=not has_account)
        self.uow.session.flush()
        birth = date(birth_year, rng.randint(1, 12), rng.randint(1, 28))
        team_key = "children" if birth_year >= 2005 else rng.choice(["family", "family", "heart"])
        phone = f"(555) 01{rng.randint(0, 9)}-{rng.randint(1000, 9999)}"
        user.mobile_phone = normalize_phone(phone) if has_account else None
        if index == 0:
            self.demo_patient_user = user
        patient = self.add(
            Patient(
                tenant_id=self.practice.id,
                user_id=user.id,
                care_team_id=self.teams[team_key].id,
                medical_record_number=f"RFH-{100200 + index * 7}",
                legal_first_name=first,
                legal_last_name=last,
                date_of_birth=birth,
                sex=sex,
                phone=phone,
                email=email,
                address={
                    "line1": f"{rng.randint(3, 980)} {rng.choice(people.STREETS)}",
                    "city": "Riverside",
                    "state": "NY",
                    "postal_code": f"109{rng.randint(10, 99)}",
                },
                insurance={
                    "payer": rng.choice(people.PAYERS),
                    "member_id": f"{rng.choice('ABCDEFGHJK')}{rng.randint(10_000_000, 99_999_999)}",
                    "group_number": f"G{rng.randint(10_000, 99_999)}",
                    "subscriber": f"{first} {last}",
                    "relationship": "self",
                },
                emergency_contacts=[
                    {
                        "name": f"{rng.choice(['Alex', 'Sam', 'Chris', 'Pat', 'Jamie'])} {last}",
                        "relationship": rng.choice(["spouse", "parent", "sibling", "child"]),
                        "phone": f"(555) 01{rng.randint(0, 9)}-{rng.randint(1000, 9999)}",
                        "may_share": rng.random() < 0.5,
                    }
                ],
                # Account holders have used the portal for a while; invitees set up on joining.
                onboarding_finished_at=self.now if has_account else None,
                onboarding_step="done" if has_account else None,
            )
        )
        index_patient(self.uow, patient)
        self.patients.append(patient)
        team = [p for p in self.providers if team_key in self.provider_teams[p.id]]
        self._history(patient, team, demo_patient=index == 0)
        if has_account and (index == 0 or rng.random() < 0.55):
            self._conversations(patient, user, team_key, count=2 if index == 0 else 1)
        self._labs(patient, team[0], reports=3 if index == 0 else rng.randint(1, 2))
        chart_random = random.Random(f"chart-{index}")  # nosec B311
        self._chart(patient, team[0], chart_random, demo_patient=index == 0)

    def _history(self, patient: Patient, team: list[Provider], *, demo_patient: bool) -> None:
        """Past visits (mostly completed) and upcoming ones; the demo patient always has two."""
        rng = self.random
        today = self.now.astimezone(self.zone).date()
        for days_ago in sorted(rng.sample(range(20, 400), rng.randint(1, 3)), reverse=True):
            status = rng.choices(
                [
                    AppointmentStatus.COMPLETED,
                    AppointmentStatus.NO_SHOW,
                    AppointmentStatus.CANCELLED,
                ],
                weights=[8, 1, 1],
            )[0]
            self._appointment(patient, rng.choice(team), today - timedelta(days=days_ago), status)
        upcoming = 2 if demo_patient else rng.randint(0, 2)
        for days_ahead in sorted(rng.sample(range(1, 45), upcoming)):
            provider = team[0] if demo_patient else rng.choice(team)
            self._appointment(
                patient, provider, today + timedelta(days=days_ahead), AppointmentStatus.BOOKED
            )

    def _clinic_days(self, provider: Provider) -> None:
        """A realistic schedule for the demo provider from today through the next two weeks
        (today is always full, so the provider's home has a day to show whenever it loads)."""
        local_now = self.now.astimezone(self.zone)
        slots = [time(9, 0), time(9, 30), time(10, 30), time(11, 0), time(14, 0), time(15, 30)]
        for offset in range(SCHEDULED_DAYS):
            day = local_now.date() + timedelta(days=offset)
            if offset and day.weekday() >= 5:
                continue
            booked = slots if offset == 0 else self.random.sample(slots, self.random.randint(3, 5))
            patients = self.random.sample(self.patients[1:], len(booked))
            for slot, patient in zip(sorted(booked), patients, strict=True):
                past = datetime.combine(day, slot, tzinfo=self.zone) < local_now
                status = AppointmentStatus.COMPLETED if past else AppointmentStatus.BOOKED
                self._appointment(patient, provider, day, status, slot=slot)

    def _appointment(
        self,
        patient: Patient,
        provider: Provider,
        day: date,
        status: AppointmentStatus,
        *,
        slot: time | None = None,
    ) -> None:
        """One visit on `day` (moved to a weekday unless a slot is fixed) at a free time."""
        rng = self.random
        kind = rng.choice(self.types[1:])
        if slot is None:
            day = _working_day(day)
        candidates = (
            [slot]
            if slot
            else [time(hour, minute) for hour in (9, 10, 11, 13, 14, 15, 16) for minute in (0, 30)]
        )
        rng.shuffle(candidates)
        length = timedelta(minutes=kind.duration_minutes)
        free = [
            Span(moment, moment + length)
            for moment in (
                datetime.combine(day, candidate, tzinfo=self.zone).astimezone(UTC)
                for candidate in candidates
            )
            if not any(
                taken.overlaps(Span(moment, moment + length)) for taken in self.busy[provider.id]
            )
        ]
        if not free:
            return
        visit = free[0]
        starts = visit.start
        if status != AppointmentStatus.CANCELLED:
            self.busy[provider.id].append(visit)
        cancelled = status == AppointmentStatus.CANCELLED
        in_person = kind.modality == Modality.IN_PERSON
        self.add(
            Appointment(
                tenant_id=self.practice.id,
                patient_id=patient.id,
                provider_id=provider.id,
                appointment_type_id=kind.id,
                location_id=self.provider_location[provider.id].id if in_person else None,
                starts_at=starts,
                ends_at=visit.end,
                blocked_from=visit.start,
                blocked_until=visit.end,
                status=status,
                reason=rng.choice(VISIT_REASONS),
                cancelled_at=starts - timedelta(days=2) if cancelled else None,
                caused_by="patient" if cancelled else None,
                cancel_reason="Schedule conflict" if cancelled else None,
            )
        )

    def _conversations(self, patient, user, team_key, *, count: int) -> None:
        rng = self.random
        for thread_index, (category, subject, question, answer) in enumerate(
            rng.sample(labs.MESSAGE_THREADS, count)
        ):
            asked = self.now - timedelta(days=rng.randint(1, 20), hours=rng.randint(0, 8))
            answered = asked + timedelta(hours=rng.randint(2, 20))
            answered = min(answered, self.now - timedelta(minutes=30))
            conversation = self.add(
                Conversation(
                    tenant_id=self.practice.id,
                    patient_id=patient.id,
                    care_team_id=self.teams[team_key].id,
                    subject=subject,
                    category=category,
                    last_message_at=answered,
                    created_at=asked,
                )
            )
            self.uow.session.flush()
            self.add(
                Message(
                    tenant_id=self.practice.id,
                    conversation_id=conversation.id,
                    sender_user_id=user.id,
                    from_patient=True,
                    body=question,
                    sent_at=asked,
                    read_at=asked + timedelta(hours=1),
                )
            )
            reply_read = thread_index > 0 or rng.random() < 0.3
            clinician = next(p for p in self.providers if team_key in self.provider_teams[p.id])
            reply = self.add(
                Message(
                    tenant_id=self.practice.id,
                    conversation_id=conversation.id,
                    sender_user_id=clinician.user_id,
                    from_patient=False,
                    body=answer,
                    sent_at=answered,
                    read_at=answered + timedelta(hours=2) if reply_read else None,
                )
            )
            self._attach_instructions(reply, subject)
            if reply_read and rng.random() < 0.5:
                follow_up = min(answered + timedelta(hours=rng.randint(3, 30)), self.now)
                conversation.last_message_at = conversation.waiting_since = follow_up
                self.add(
                    Message(
                        tenant_id=self.practice.id,
                        conversation_id=conversation.id,
                        sender_user_id=user.id,
                        from_patient=True,
                        body=FOLLOW_UP,
                        sent_at=follow_up,
                    )
                )

    def _attach_instructions(self, message: Message, subject: str) -> None:
        """The care team's reply carries a short PDF, stored encrypted like any upload."""
        pdf = one_page_pdf([self.practice.name, f"Re: {subject}", "", *INSTRUCTIONS])
        self.uow.session.flush()
        self.add(
            Attachment(
                tenant_id=self.practice.id,
                message_id=message.id,
                storage_key=self.uow.files.put(pdf, "application/pdf"),
                content_type="application/pdf",
                size_bytes=len(pdf),
                filename="Care team instructions.pdf",
            )
        )

    def _articles(self) -> None:
        """The practice's health education articles, published a few weeks ago."""
        for weeks, (title, summary, tags, body) in enumerate(clinical.ARTICLES, start=1):
            self.add(
                Article(
                    tenant_id=self.practice.id,
                    title=title,
                    summary=summary,
                    tags=",".join(tag.strip() for tag in tags.split(",")),
                    body=body,
                    published_at=self.now - timedelta(weeks=weeks),
                )
            )

    def _chart(
        self, patient: Patient, provider: Provider, rng: random.Random, *, demo_patient: bool
    ) -> None:
        """Medicines, allergies, health issues, vaccines and visit summaries (and, for the
        demo patient, an imaging report), from their own random stream so that adding to the
        chart never changes the rest of the demo."""

        def record(kind: RecordKind, title: str, content: dict, days_ago: int, status="final"):
            moment = self.now - timedelta(days=days_ago)
            return self.add(
                MedicalRecord(
                    tenant_id=self.practice.id,
                    patient_id=patient.id,
                    kind=kind,
                    title=title,
                    content=content,
                    status=status,
                    provider_id=provider.id,
                    effective_at=moment,
                    released_at=moment,
                )
            )

        for name, dose, route, frequency in rng.sample(clinical.MEDICATIONS, rng.randint(1, 3)):
            started = (self.now - timedelta(days=rng.randint(60, 900))).date()
            content = {
                "dose": dose,
                "route": route,
                "frequency": frequency,
                "started_on": started.isoformat(),
                "stopped_on": "",
            }
            record(RecordKind.MEDICATION, name, content, (self.now.date() - started).days, "active")
        for substance, reaction, severity in rng.sample(clinical.ALLERGIES, rng.randint(0, 2)):
            content = {"reaction": reaction, "severity": severity}
            record(RecordKind.ALLERGY, substance, content, rng.randint(200, 2000))
        for condition, status in rng.sample(clinical.PROBLEMS, rng.randint(1, 2)):
            record(RecordKind.PROBLEM, condition, {}, rng.randint(100, 3000), status)
        for vaccine, dose in rng.sample(clinical.VACCINES, rng.randint(1, 3)):
            content = {
                "dose_number": dose,
                "lot": f"{rng.choice('ABCEFK')}{rng.randint(1000, 9999)}",
            }
            record(RecordKind.IMMUNIZATION, vaccine, content, rng.randint(30, 700))
        title, summary, diagnoses, instructions, follow_up = rng.choice(clinical.VISIT_SUMMARIES)
        content = {
            "summary": summary,
            "diagnoses": diagnoses,
            "instructions": instructions,
            "follow_up": follow_up,
        }
        record(RecordKind.VISIT_SUMMARY, title, content, rng.randint(20, 200))
        if demo_patient:
            pdf = one_page_pdf([self.practice.name, *clinical.X_RAY_REPORT])
            content = {
                "filename": "Chest X-ray report.pdf",
                "content_type": "application/pdf",
                "size_bytes": len(pdf),
                "storage_key": self.uow.files.put(pdf, "application/pdf"),
            }
            record(RecordKind.DOCUMENT, "Chest X-ray report", content, 45)

    def _labs(self, patient, provider, *, reports: int) -> None:
        rng = self.random
        panel_names = (
            ["Lipid panel"] * reports if reports == 3 else rng.sample(list(labs.PANELS), reports)
        )
        for report_index, panel in enumerate(panel_names):
            collected = self.now - timedelta(
                days=30 + 120 * (reports - report_index - 1) + rng.randint(0, 20)
            )
            record = self.add(
                MedicalRecord(
                    tenant_id=self.practice.id,
                    patient_id=patient.id,
                    kind=RecordKind.LAB_RESULT,
                    title=panel,
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
            )
            self.uow.session.flush()
            for position, (name, loinc, unit, low, high, typical, spread) in enumerate(
                labs.PANELS[panel]
            ):
                value = round(rng.gauss(typical, spread), 1)
                flag = (
                    "low"
                    if low is not None and value < low
                    else ("high" if high is not None and value > high else None)
                )
                self.add(
                    LabComponent(
                        tenant_id=self.practice.id,
                        record_id=record.id,
                        position=position,
                        test_name=name,
                        loinc_code=loinc,
                        value=f"{value:g}",
                        unit=unit,
                        reference_low=None if low is None else f"{low:g}",
                        reference_high=None if high is None else f"{high:g}",
                        flag=flag,
                        test_index=self.uow.keyring.blind_index("lab_test", loinc),
                    )
                )


def _working_day(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1 if day.weekday() == 6 else 2)
    return day
