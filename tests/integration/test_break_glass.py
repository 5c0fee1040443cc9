"""Normal access to a patient's chart and break-glass, on SQLite and PostgreSQL: a provider reads
the patients of their care teams and those with an appointment with them; any other patient
of the practice needs a reason, which opens the chart for 60 minutes, flagged in the audit log
and listed for the admins' review; admins read only under a grant and never write."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.backend import clock, models
from portal.backend.audit import verify_chain
from portal.backend.demo import load_demo
from portal.backend.models.base import utcnow
from portal.backend.patient_index import index_patient
from portal.backend.security.principal import NotFound, PermissionDenied
from portal.backend.services import (
    break_glass_review,
    home,
    patient_access,
    patient_chart,
    profiles,
    record_changes,
    records,
)
from portal.backend.services.patient_access import (
    BREAK_GLASS_MINUTES,
    BreakGlassNeeded,
    BreakGlassRefused,
)
from portal.backend.services.record_entries import AllergyEntry, LabEntry, LabTestEntry
from portal.backend.services.sessions import open_session
from tests.dates import practice_today
from tests.integration.api_client import http
from tests.integration.factories import build_practice

REASON = "Patient collapsed in the waiting room; I need her allergies now."


def uow(practice):
    return practice.database.unit_of_work()


def outside_patient(practice, last: str = "Gamma", born: date = date(1961, 5, 6)) -> uuid.UUID:
    """A patient of the practice on another care team, with no appointment with anyone."""
    with uow(practice) as work:
        team = models.CareTeam(tenant_id=practice.tenant_id, name="Heart team")
        work.session.add(team)
        work.session.flush()
        patient = models.Patient(
            tenant_id=practice.tenant_id,
            care_team_id=team.id,
            medical_record_number="MRN-C",
            legal_first_name="Cleo",
            legal_last_name=last,
            date_of_birth=born,
        )
        work.session.add(patient)
        index_patient(work, patient)
        work.commit()
        return patient.id


def visit(practice, patient_id: uuid.UUID, days_from_now: int, status: str) -> None:
    """An appointment of the patient with the practice's provider."""
    starts = utcnow() + timedelta(days=days_from_now)
    with uow(practice) as work:
        work.session.add(
            models.Appointment(
                tenant_id=practice.tenant_id,
                patient_id=patient_id,
                provider_id=practice.provider.id,
                appointment_type_id=practice.appointment_type_id,
                starts_at=starts,
                ends_at=starts + timedelta(minutes=30),
                blocked_from=starts,
                blocked_until=starts + timedelta(minutes=30),
                status=status,
            )
        )
        work.commit()


def header(practice, who: str, patient_id):
    return patient_chart.chart_header(practice.principal(who), patient_id, uow=uow(practice))


def break_glass(practice, who: str, patient_id, reason: str = REASON):
    return patient_access.break_glass(
        practice.principal(who), patient_id, reason, uow=uow(practice)
    )


def events(practice, **wanted) -> list[models.AuditEvent]:
    with uow(practice) as work:
        query = select(models.AuditEvent).order_by(models.AuditEvent.occurred_at)
        for name, value in wanted.items():
            query = query.where(getattr(models.AuditEvent, name) == value)
        return list(work.session.exec(query).scalars())


def grants(practice) -> list[models.AccessGrant]:
    with uow(practice) as work:
        return list(work.session.exec(select(models.AccessGrant)).scalars())


def allergy(practice, who: str, patient_id) -> uuid.UUID:
    return uuid.UUID(
        record_changes.add_record(
            practice.principal(who),
            patient_id,
            AllergyEntry(substance="Penicillin", reaction="Hives", severity="severe"),
            uow=uow(practice),
        )
    )


# --- normal access --------------------------------------------------------------------------


def test_a_provider_reads_the_patients_of_their_care_teams(practice):
    chart = header(practice, "provider", practice.patient_a.id)
    assert chart.name.endswith("Alpha")
    assert chart.emergency_until == ""
    assert records.records_home(
        practice.principal("provider"), practice.patient_b.id, uow=uow(practice)
    ).sections


@pytest.mark.parametrize(
    "days_from_now, status", [(-300, "completed"), (-20, "cancelled"), (9, "booked")]
)
def test_an_appointment_with_the_provider_opens_the_chart(practice, days_from_now, status):
    outside = outside_patient(practice)
    visit(practice, outside, days_from_now, status)
    assert header(practice, "provider", outside).name == "Cleo Gamma"
    profile = profiles.read_profile(practice.principal("provider"), outside, uow=uow(practice))
    assert profile.legal_last_name == "Gamma"


def test_a_visit_more_than_two_years_ago_does_not(practice):
    outside = outside_patient(practice)
    visit(practice, outside, -(patient_access.RECENT_VISIT_DAYS + 10), "completed")
    with pytest.raises(BreakGlassNeeded):
        header(practice, "provider", outside)


def test_another_patient_of_the_practice_needs_break_glass_and_the_refusal_is_audited(practice):
    outside = outside_patient(practice)
    provider = practice.principal("provider")
    for read in (
        lambda: header(practice, "provider", outside),
        lambda: records.records_home(provider, outside, uow=uow(practice)),
        lambda: records.list_records(provider, "allergy", patient_id=outside, uow=uow(practice)),
        lambda: profiles.read_profile(provider, outside, uow=uow(practice)),
        lambda: allergy(practice, "provider", outside),
    ):
        with pytest.raises(BreakGlassNeeded):
            read()
    denied = events(practice, action="patient.access", patient_id=outside)
    assert len(denied) == 5
    assert {event.outcome for event in denied} == {"denied"}
    assert not events(practice, action="patient.chart.read", patient_id=outside)


def test_a_patient_of_another_practice_is_not_found_even_with_a_reason(practice):
    other = build_practice(practice.database, slug="other-practice")
    for attempt in (
        lambda: header(practice, "provider", other.patient_a.id),
        lambda: break_glass(practice, "provider", other.patient_a.id),
        lambda: break_glass(practice, "admin", other.patient_a.id),
        lambda: header(practice, "provider", uuid.uuid4()),
    ):
        with pytest.raises(NotFound) as refused:
            attempt()
        assert not isinstance(refused.value, BreakGlassNeeded)
    assert grants(practice) == []


def test_a_patient_reads_their_own_chart_only(practice):
    patient = practice.principal("patient_a")
    assert records.records_home(patient, uow=uow(practice)).sections
    with pytest.raises(NotFound):
        records.records_home(patient, practice.patient_b.id, uow=uow(practice))
    with pytest.raises(PermissionDenied):
        header(practice, "patient_a", practice.patient_a.id)


# --- break-glass ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reason",
    ["", "    ", "emergency", "need it now please", "x" * 40, "1234567890 1234567890 1234"],
)
def test_break_glass_requires_a_reason_in_words(practice, reason):
    outside = outside_patient(practice)
    with pytest.raises(BreakGlassRefused) as refused:
        break_glass(practice, "provider", outside, reason)
    assert list(refused.value.errors) == ["reason"]
    assert grants(practice) == []
    with pytest.raises(BreakGlassNeeded):
        header(practice, "provider", outside)


def test_break_glass_opens_the_chart_for_sixty_minutes(practice):
    outside = outside_patient(practice)
    access = break_glass(practice, "provider", outside, f"  {REASON}\n")
    assert access.patient_id == str(outside)
    chart = header(practice, "provider", outside)
    assert chart.emergency_until == access.until != ""
    again = break_glass(practice, "provider", outside, "A second reason, typed again in words.")
    assert again.grant_id == access.grant_id
    [grant] = grants(practice)
    assert grant.reason == REASON
    assert grant.expires_at - grant.created_at == timedelta(minutes=BREAK_GLASS_MINUTES)
    clock.travel(timedelta(minutes=BREAK_GLASS_MINUTES - 1))
    assert header(practice, "provider", outside).name == "Cleo Gamma"
    clock.travel(timedelta(minutes=2))
    with pytest.raises(BreakGlassNeeded):
        header(practice, "provider", outside)
    renewed = break_glass(practice, "provider", outside)
    assert renewed.grant_id != access.grant_id


def test_break_glass_is_audited_without_the_reason(practice):
    outside = outside_patient(practice)
    access = break_glass(practice, "provider", outside)
    [event] = events(practice, action="patient.break_glass")
    assert event.patient_id == outside
    assert event.actor_user_id == practice.user_ids["provider"]
    assert access.grant_id in event.details
    assert "allergies" not in (event.details or "")
    with uow(practice) as work:
        stored = work.session.connection().exec_driver_sql("SELECT reason FROM access_grants")
        assert b"allergies" not in bytes(stored.scalar_one())


def test_every_read_under_a_grant_is_flagged_in_the_audit_log(practice):
    outside = outside_patient(practice)
    provider = practice.principal("provider")
    access = break_glass(practice, "provider", outside)
    record_id = allergy(practice, "provider", outside)
    header(practice, "provider", outside)
    patient_chart.chart_summary(provider, outside, uow=uow(practice))
    records.list_records(provider, "allergy", patient_id=outside, uow=uow(practice))
    records.record_detail(provider, record_id, uow=uow(practice))
    profiles.read_profile(provider, outside, uow=uow(practice))
    header(practice, "provider", practice.patient_a.id)

    flag = f"break_glass={access.grant_id}"
    under_grant = [
        e for e in events(practice, patient_id=outside) if e.action != "patient.break_glass"
    ]
    assert {e.action for e in under_grant} >= {
        "record.create",
        "patient.chart.read",
        "record.list",
        "record.read",
        "profile.read",
    }
    assert all(flag in (e.details or "") for e in under_grant)
    assert [e.details for e in under_grant if e.action == "record.list"] == [f"allergy; {flag}"]
    normal = events(practice, patient_id=practice.patient_a.id, action="patient.chart.read")
    assert all("break_glass" not in (e.details or "") for e in normal)
    report = verify_chain(practice.database.engine, practice.database.keyring)
    assert report.intact, str(report)


def test_an_admin_reads_only_under_a_grant_and_never_writes(practice):
    admin = practice.principal("admin")
    patient = practice.patient_a.id
    record_id = allergy(practice, "provider", patient)
    with pytest.raises(BreakGlassNeeded):
        header(practice, "admin", patient)
    with pytest.raises(NotFound):
        records.record_detail(admin, record_id, uow=uow(practice))
    break_glass(practice, "admin", patient)
    assert header(practice, "admin", patient).emergency_until != ""
    assert records.record_detail(admin, record_id, uow=uow(practice)).title == "Penicillin"
    assert profiles.read_profile(admin, patient, uow=uow(practice)).legal_last_name == "Alpha"
    patient_chart.chart_appointments(admin, patient, uow=uow(practice))
    for write in (
        lambda: allergy(practice, "admin", patient),
        lambda: record_changes.correction_entry(admin, record_id, uow=uow(practice)),
        lambda: record_changes.mark_reviewed(admin, record_id, uow=uow(practice)),
        lambda: patient_chart.chart_messages(admin, patient, uow=uow(practice)),
    ):
        with pytest.raises(PermissionDenied):
            write()
    with uow(practice) as work:
        assert work.session.get(models.MedicalRecord, record_id).reviewed_at is None


def test_patients_cannot_break_glass_or_review(practice):
    outside = outside_patient(practice)
    with pytest.raises(NotFound):
        break_glass(practice, "patient_a", outside)
    with pytest.raises(NotFound):
        break_glass(practice, "patient_a", practice.patient_a.id)
    break_glass(practice, "provider", outside)
    [grant] = grants(practice)
    for who in ("patient_a", "provider"):
        caller = practice.principal(who)
        with pytest.raises(PermissionDenied):
            break_glass_review.grants_for_review(caller, uow=uow(practice))
        with pytest.raises(PermissionDenied):
            break_glass_review.mark_reviewed(caller, grant.id, uow=uow(practice))
        with pytest.raises(PermissionDenied):
            break_glass_review.emergency_open(
                caller, "Gamma", "1961-05-06", REASON, uow=uow(practice)
            )
    assert grants(practice)[0].reviewed_at is None


# --- the admins' review ---------------------------------------------------------------------


def test_the_review_lists_grants_and_marking_one_reviewed_is_audited(practice):
    outside = outside_patient(practice)
    admin = practice.principal("admin")
    provider_access = break_glass(practice, "provider", outside)
    header(practice, "provider", outside)
    profiles.read_profile(practice.principal("provider"), outside, uow=uow(practice))
    clock.travel(timedelta(minutes=1))
    admin_access = break_glass(practice, "admin", practice.patient_b.id)

    review = break_glass_review.grants_for_review(admin, uow=uow(practice))
    assert [line.id for line in review.lines] == [admin_access.grant_id, provider_access.grant_id]
    assert review.unreviewed == 2
    newest, oldest = review.lines
    assert (oldest.staff, oldest.staff_role, oldest.patient) == (
        "Dr. Test",
        "Provider",
        "Cleo Gamma",
    )
    assert oldest.reason == REASON
    assert oldest.accesses == 2
    assert oldest.live and not oldest.reviewed and not oldest.own
    assert newest.own and newest.accesses == 0

    break_glass_review.mark_reviewed(admin, uuid.UUID(oldest.id), uow=uow(practice))
    [event] = events(practice, action="access_grant.review")
    assert (event.resource_id, event.patient_id) == (oldest.id, outside)
    waiting = break_glass_review.grants_for_review(admin, unreviewed_only=True, uow=uow(practice))
    assert [line.id for line in waiting.lines] == [newest.id]
    everything = break_glass_review.grants_for_review(admin, uow=uow(practice))
    reviewed = next(line for line in everything.lines if line.id == oldest.id)
    assert reviewed.reviewed and reviewed.reviewed_by == "Admin Test"
    listed = events(practice, action="access_grant.list")
    assert [e.details for e in listed] == [
        "filter=all; listed=2",
        "filter=unreviewed; listed=1",
        "filter=all; listed=2",
    ]
    with pytest.raises(BreakGlassRefused):
        break_glass_review.mark_reviewed(admin, uuid.UUID(newest.id), uow=uow(practice))


def test_grants_of_another_practice_are_neither_listed_nor_reviewed(practice):
    other = build_practice(practice.database, slug="other-practice")
    patient_access.break_glass(
        other.principal("admin"), other.patient_a.id, REASON, uow=uow(practice)
    )
    [grant] = grants(practice)
    admin = practice.principal("admin")
    assert break_glass_review.grants_for_review(admin, uow=uow(practice)).lines == []
    with pytest.raises(NotFound):
        break_glass_review.mark_reviewed(admin, grant.id, uow=uow(practice))
    with pytest.raises(NotFound):
        break_glass_review.mark_reviewed(admin, uuid.uuid4(), uow=uow(practice))


def test_an_admin_opens_a_chart_by_last_name_and_date_of_birth(practice):
    outside = outside_patient(practice)
    admin = practice.principal("admin")

    def open_chart(last_name, born, reason=REASON):
        return break_glass_review.emergency_open(admin, last_name, born, reason, uow=uow(practice))

    with pytest.raises(BreakGlassRefused) as refused:
        open_chart("", "6 May 1961", "")
    assert set(refused.value.errors) == {"last_name", "date_of_birth", "reason"}
    with pytest.raises(BreakGlassRefused) as refused:
        open_chart("Gamma", "1961-05-07")
    assert "No patient" in refused.value.errors["last_name"]
    assert grants(practice) == []
    access = open_chart(" gamma ", "1961-05-06")
    assert access.patient_id == str(outside)
    assert header(practice, "admin", outside).emergency_until == access.until


# --- lists and downloads --------------------------------------------------------------------


def test_results_to_review_show_only_patients_of_normal_access(practice):
    outside = outside_patient(practice)
    provider = practice.principal("provider")
    break_glass(practice, "provider", outside)
    lab = LabEntry(
        title="Basic metabolic panel",
        collected_on=practice_today().isoformat(),
        tests=[LabTestEntry("Glucose", "91", "mg/dL", "70", "99", loinc="2345-7")],
    )
    for patient in (outside, practice.patient_a.id):
        record_changes.add_record(provider, patient, lab, uow=uow(practice))
    waiting = records.awaiting_review(provider, uow=uow(practice))
    assert [line.patient_id for line in waiting] == [str(practice.patient_a.id)]
    assert home.provider_today(provider, uow=uow(practice)).results_to_review == 1


def test_record_downloads_honour_break_glass(practice, api):
    outside = outside_patient(practice)
    break_glass(practice, "provider", outside)
    record_id = allergy(practice, "provider", outside)
    clock.travel(timedelta(minutes=BREAK_GLASS_MINUTES + 1))
    path = f"/files/records/{record_id}/record.pdf"
    for who in ("provider", "admin"):
        assert http(api, "GET", path, token=practice.token(who)).status_code == 404
    break_glass(practice, "provider", outside)
    break_glass(practice, "admin", outside)
    for who in ("provider", "admin"):
        reply = http(api, "GET", path, token=practice.token(who))
        assert reply.status_code == 200
        assert reply.headers["content-type"] == "application/pdf"
    downloads = events(practice, action="record.pdf", outcome="success")
    assert len(downloads) == 2
    assert all("break_glass=" in event.details for event in downloads)


def test_insurance_cards_honour_break_glass(practice, api):
    outside = outside_patient(practice)
    with uow(practice) as work:
        patient = work.session.get(models.Patient, outside)
        key = work.files.put(b"\x89PNG card", "image/png")
        patient.insurance = {"front_key": key, "front_type": "image/png"}
        work.commit()
    path = f"/files/insurance/{outside}/front"
    assert http(api, "GET", path, token=practice.token("provider")).status_code == 404
    break_glass(practice, "provider", outside)
    reply = http(api, "GET", path, token=practice.token("provider"))
    assert reply.status_code == 200
    [event] = events(practice, action="insurance_card.download", outcome="success")
    assert "break_glass=" in event.details


def test_the_demo_has_a_past_grant_waiting_for_review(database):
    load_demo(uow=database.unit_of_work())
    with database.unit_of_work() as work:
        admin = work.session.exec(
            select(models.User).where(models.User.role == "admin")
        ).scalar_one()
        principal = open_session(work, admin).principal
        work.commit()
    review = break_glass_review.grants_for_review(principal, uow=database.unit_of_work())
    [line] = review.lines
    assert (line.staff, line.staff_role) == ("Dr. Sofia Ramirez", "Provider")
    assert not line.live and not line.reviewed and review.unreviewed == 1
