"""The care team's patient list and chart, through the service layer, on SQLite and PostgreSQL:
each kind of search, partial names through the hashed pieces, filters, the bounded list, the
audit trail, the backfill of patients created before the search, and who may see what."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from portal.backend import models
from portal.backend.models.base import utcnow
from portal.backend.patient_index import index_patient, name_pieces
from portal.backend.security.principal import NotFound, PermissionDenied
from portal.backend.services import patient_chart, patient_search, profiles
from portal.backend.services.patient_access import BreakGlassNeeded
from portal.backend.services.patient_query import SearchInvalid
from tests.dates import practice_today
from tests.integration.factories import build_practice

BORN = date(1970, 1, 2)  # the factory's two patients share it


def uow(practice):
    return practice.database.unit_of_work()


def search(practice, query: str = "", filters=(), who: str = "provider"):
    return patient_search.search_patients(
        practice.principal(who), query, filters, uow=practice.database.unit_of_work()
    )


def names(result) -> list[str]:
    return [line.name for line in result.lines]


def add_patient(
    practice,
    first: str,
    last: str,
    born: date = date(1985, 6, 15),
    *,
    indexed: bool = True,
    **fields,
) -> uuid.UUID:
    with uow(practice) as work:
        row = models.Patient(
            tenant_id=practice.tenant_id,
            care_team_id=practice.care_team_id,
            medical_record_number=f"MRN-{uuid.uuid4().hex[:6]}",
            legal_first_name=first,
            legal_last_name=last,
            date_of_birth=born,
            name_dob_index="not indexed yet",
            **fields,
        )
        work.session.add(row)
        work.session.flush()
        if indexed:
            index_patient(work, row)
        work.commit()
        return row.id


def audit_events(practice, action: str) -> list[models.AuditEvent]:
    with uow(practice) as work:
        return list(
            work.session.exec(
                select(models.AuditEvent)
                .where(models.AuditEvent.action == action)
                .order_by(models.AuditEvent.occurred_at)
            ).scalars()
        )


# --- each kind of search --------------------------------------------------------------------


def test_a_date_of_birth_finds_every_patient_born_that_day_by_last_name(practice):
    add_patient(practice, "Other", "Born another day", date(1970, 1, 3))
    for typed in ("1970-01-02", "01/02/1970", "1/2/1970", "  1970-01-02 "):
        result = search(practice, typed)
        assert result.kind == "date of birth"
        assert names(result) == [practice.patient_a.full_name, "Bob Beta"]
        assert result.lines[0].date_of_birth == "2 Jan 1970"
        assert result.lines[0].medical_record_number.endswith("patient_a")
        assert result.matched == 2 and result.more == 0 and not result.too_many


def test_a_last_name_with_a_date_of_birth_finds_exactly_that_patient(practice):
    for typed in ("Beta 1970-01-02", "01/02/1970 beta", "  BETA   1970-01-02"):
        result = search(practice, typed)
        assert result.kind == "last name and date of birth"
        assert names(result) == ["Bob Beta"]
    assert names(search(practice, "Beta 1970-01-03")) == []


def test_a_phone_number_matches_however_it_is_written(practice):
    add_patient(practice, "Phoebe", "Caller", phone="(555) 010-2233")
    for typed in ("555-010-2233", "+1 555 010 2233", "5550102233", "(555) 010 2233"):
        result = search(practice, typed)
        assert result.kind == "phone number"
        assert names(result) == ["Phoebe Caller"]
    assert names(search(practice, "555-010-2234")) == []


def test_an_email_address_matches_whatever_its_case(practice):
    add_patient(practice, "Zoe", "Quinn", email="Zoe.Quinn@Example.com")
    result = search(practice, "zoe.quinn@example.COM")
    assert result.kind == "email address"
    assert names(result) == ["Zoe Quinn"]


def test_part_of_a_name_matches_regardless_of_case_and_accents(practice):
    add_patient(practice, "José-Luis", "Núñez O'Neil")
    add_patient(practice, "Margarethe", "Vanderberg", preferred_name="Greta")
    for typed in ("jose", "NUNEZ", "luis nún", "o'neil", "neil jos"):
        result = search(practice, typed)
        assert result.kind == "name"
        assert names(result) == ["José-Luis Núñez O'Neil"], typed
    for typed in ("garet", "vander", "greta", "Grét", "greta vanderberg"):
        assert names(search(practice, typed)) == ["Greta Vanderberg"], typed
    assert names(search(practice, "mart")) == []


def test_pieces_that_match_apart_are_not_a_match(practice):
    """The query "ande" asks for the pieces "and" and "nde"; Nde Andy holds both, in different
    words, so the database offers him and the service drops him once his names are opened."""
    add_patient(practice, "Nde", "Andy")
    add_patient(practice, "Karl", "Anders")
    assert name_pieces("ande") <= name_pieces("Nde", "Andy")
    result = search(practice, "ande")
    assert names(result) == ["Karl Anders"]
    assert result.matched == 1
    (event,) = audit_events(practice, "patient.search")
    assert "matched=1" in event.details


def test_short_words_narrow_a_name_and_a_whole_two_letter_name_is_found(practice):
    add_patient(practice, "Wei", "Li")
    add_patient(practice, "Lisa", "Liang")
    assert names(search(practice, "li")) == ["Wei Li"]
    assert names(search(practice, "bob b")) == ["Bob Beta"]
    assert names(search(practice, "lia")) == ["Lisa Liang"]


@pytest.mark.parametrize(
    "typed",
    ["a", "x y", "2026-13-45", "13/45/1970", "555-01", "1970-01-02 1971-01-02", "a@b c", "R2D2"],
)
def test_what_cannot_be_searched_is_refused_in_words(practice, typed):
    with pytest.raises(SearchInvalid) as refused:
        search(practice, typed)
    assert str(refused.value).endswith(".")
    assert audit_events(practice, "patient.search") == []


def test_nothing_typed_and_nothing_ticked_lists_nobody_and_reads_nothing(practice):
    result = search(practice, "   ")
    assert result.lines == [] and result.kind == ""
    assert audit_events(practice, "patient.search") == []


# --- filters and the bounded list -----------------------------------------------------------


def lipid_panel(practice, patient_id, reviewed_at=None) -> models.MedicalRecord:
    """A lab result; waiting for review unless `reviewed_at`."""
    return models.MedicalRecord(
        tenant_id=practice.tenant_id,
        patient_id=patient_id,
        kind=models.RecordKind.LAB_RESULT,
        title="Lipid panel",
        content={},
        reviewed_at=reviewed_at,
    )


def test_filters_keep_patients_with_a_visit_an_unread_message_or_results_to_review(practice):
    newcomer = add_patient(practice, "Nina", "Newcomer", BORN)
    with uow(practice) as work:  # Bob's visit is today: move it to next week
        work.session.execute(
            update(models.Appointment)
            .where(models.Appointment.id == practice.appointment_b)
            .values(starts_at=utcnow() + timedelta(days=7))
        )
        for patient_id in (practice.patient_a.id, newcomer):
            work.session.add(lipid_panel(practice, patient_id))
        work.session.add(lipid_panel(practice, practice.patient_b.id, reviewed_at=utcnow()))
        work.session.execute(  # the team has read Bob's question
            update(models.Message)
            .where(models.Message.conversation_id == practice.conversation_b)
            .values(read_at=utcnow())
        )
        work.commit()
    a, b = practice.patient_a.full_name, "Bob Beta"
    assert names(search(practice, "1970-01-02")) == [a, b, "Nina Newcomer"]
    assert names(search(practice, "1970-01-02", ["upcoming"])) == [a, b]
    assert names(search(practice, "1970-01-02", ["unread"])) == [a]
    assert names(search(practice, "1970-01-02", ["results"])) == [a, "Nina Newcomer"]
    assert names(search(practice, "", ["results", "upcoming"])) == [a]
    assert names(search(practice, "new", ["upcoming"])) == []
    assert names(search(practice, "", ["no such filter"])) == []
    line = search(practice, "1970-01-02").lines[0]
    assert line.next_appointment and line.unread_messages == 1 and line.results_to_review == 1
    filtered = search(practice, "", ["unread"])
    assert filtered.kind == "filters"


def test_results_to_review_count_only_for_patients_the_provider_reads_normally(practice):
    with uow(practice) as work:  # Cleo is on another team and has no visit with the provider
        team = models.CareTeam(tenant_id=practice.tenant_id, name="Heart team")
        work.session.add(team)
        work.session.flush()
        cleo = models.Patient(
            tenant_id=practice.tenant_id,
            care_team_id=team.id,
            medical_record_number="MRN-C",
            legal_first_name="Cleo",
            legal_last_name="Gamma",
            date_of_birth=BORN,
        )
        work.session.add(cleo)
        index_patient(work, cleo)
        for patient_id in (cleo.id, practice.patient_a.id):
            work.session.add(lipid_panel(practice, patient_id))
        work.commit()
    a = practice.patient_a.full_name
    listed = search(practice, "1970-01-02")
    assert names(listed) == [a, "Bob Beta", "Cleo Gamma"]  # the list is the practice's
    assert [line.results_to_review for line in listed.lines] == [1, 0, 0]
    assert names(search(practice, "1970-01-02", ["results"])) == [a]
    assert names(search(practice, "", ["results"])) == [a]


def test_a_long_list_shows_the_first_patients_by_name_and_counts_the_rest(practice):
    for n in range(patient_search.RESULT_LIMIT + 5):
        add_patient(practice, f"Given{chr(65 + n // 26)}{chr(65 + n % 26)}", "Samename")
    result = search(practice, "samename")
    assert len(result.lines) == patient_search.RESULT_LIMIT
    assert result.matched == patient_search.RESULT_LIMIT + 5 and result.more == 5
    assert names(result)[:2] == ["GivenAA Samename", "GivenAB Samename"]
    assert names(result) == sorted(names(result))


def test_too_many_candidates_are_not_opened(practice, monkeypatch):
    monkeypatch.setattr(patient_search, "CANDIDATE_LIMIT", 3)
    for first in ("Ann", "Anna", "Annie", "Anne"):
        add_patient(practice, first, "Common")
    result = search(practice, "common")
    assert result.too_many and result.lines == [] and result.matched == 3
    (event,) = audit_events(practice, "patient.search")
    assert "matched=>3" in event.details and "listed=0" in event.details
    assert audit_events(practice, "patient.lookup") == []


# --- the audit trail ------------------------------------------------------------------------


def test_a_search_is_audited_once_and_each_patient_it_listed_once(practice):
    search(practice, "Alpha 1970-01-02", ["unread"])
    (event,) = audit_events(practice, "patient.search")
    assert event.actor_user_id == practice.user_ids["provider"]
    assert event.details == "by=name_dob; filters=unread; matched=1; listed=1"
    assert "1970" not in event.details  # what was typed is never recorded
    listed = audit_events(practice, "patient.lookup")
    assert {e.patient_id for e in listed} == {practice.patient_a.id}
    search(practice, "bob")
    assert len(audit_events(practice, "patient.search")) == 2
    assert {e.patient_id for e in audit_events(practice, "patient.lookup")} == {
        practice.patient_a.id,
        practice.patient_b.id,
    }


def test_every_chart_tab_read_is_audited_with_the_patient(practice):
    provider = practice.principal("provider")
    patient_id = practice.patient_b.id
    for read in (
        patient_chart.chart_header,
        patient_chart.chart_summary,
        patient_chart.chart_appointments,
        patient_chart.chart_messages,
        profiles.read_profile,  # the Profile tab reads through the profiles service
    ):
        read(provider, patient_id, uow=uow(practice))
    events = audit_events(practice, "patient.chart.read")
    assert [e.details for e in events] == [
        "tab=header",
        "tab=summary",
        "tab=appointments",
        "tab=messages",
    ]
    assert {e.patient_id for e in events} == {patient_id}
    assert [e.patient_id for e in audit_events(practice, "profile.read")] == [patient_id]


# --- the chart ------------------------------------------------------------------------------


def test_the_chart_shows_who_the_patient_is_and_what_needs_attention(practice):
    provider = practice.principal("provider")
    patient_id = practice.patient_a.id
    with uow(practice) as work:
        row = work.session.get(models.Patient, patient_id)
        row.pronouns, row.preferred_name = "she/her", "Annie"
        work.commit()
    header = patient_chart.chart_header(provider, patient_id, uow=uow(practice))
    assert header.name == "Annie Alpha"
    assert header.legal_name == practice.patient_a.legal_first_name + " Alpha"
    assert header.date_of_birth == "2 Jan 1970" and header.pronouns == "she/her"
    assert header.age in {
        patient_search.age_on(BORN, practice_today() + timedelta(days=d)) for d in (-1, 1)
    }
    summary = patient_chart.chart_summary(provider, patient_id, uow=uow(practice))
    assert summary.next_appointment.id == str(practice.appointment_a)
    assert summary.upcoming_appointments == 1
    assert summary.unread_messages == 1 and summary.open_threads == 1
    assert summary.recent_results == 0 and summary.results_to_review == 0
    visits = patient_chart.chart_appointments(provider, patient_id, uow=uow(practice))
    assert [card.id for card in visits.upcoming] == [str(practice.appointment_a)]
    assert visits.past == []
    threads = patient_chart.chart_messages(provider, patient_id, uow=uow(practice)).threads
    assert [t.id for t in threads] == [str(practice.conversation_a)]
    assert threads[0].unread == 1 and threads[0].subject.startswith("subject")
    profile = profiles.read_profile(provider, patient_id, uow=uow(practice))
    assert profile.preferred_name == "Annie" and profile.pronouns == "she/her"


def test_the_chart_shows_past_visits_and_only_the_providers_teams_threads(practice):
    provider = practice.principal("provider")
    with uow(practice) as work:
        other_team = models.CareTeam(tenant_id=practice.tenant_id, name="Other team")
        work.session.add(other_team)
        work.session.flush()
        work.session.add(
            models.Conversation(
                tenant_id=practice.tenant_id,
                patient_id=practice.patient_b.id,
                care_team_id=other_team.id,
                subject="For another team",
                category="other",
            )
        )
        work.session.execute(
            update(models.Appointment)
            .where(models.Appointment.id == practice.appointment_b)
            .values(starts_at=utcnow() - timedelta(days=2))
        )
        work.commit()
    visits = patient_chart.chart_appointments(provider, practice.patient_b.id, uow=uow(practice))
    assert visits.upcoming == [] and [c.id for c in visits.past] == [str(practice.appointment_b)]
    threads = patient_chart.chart_messages(provider, practice.patient_b.id, uow=uow(practice))
    assert [t.id for t in threads.threads] == [str(practice.conversation_b)]


# --- who may see what -----------------------------------------------------------------------


def test_another_practices_patients_are_neither_listed_nor_opened(practice):
    other = build_practice(practice.database, slug="other-practice")
    assert names(search(practice, "1970-01-02")) == [practice.patient_a.full_name, "Bob Beta"]
    assert names(search(practice, "", ["unread"])) == [practice.patient_a.full_name, "Bob Beta"]
    provider = practice.principal("provider")
    for read in (
        patient_chart.chart_header,
        patient_chart.chart_summary,
        patient_chart.chart_appointments,
        patient_chart.chart_messages,
        profiles.read_profile,
    ):
        for patient_id in (other.patient_a.id, uuid.uuid4()):
            with pytest.raises(NotFound):
                read(provider, patient_id, uow=uow(practice))
    assert audit_events(practice, "patient.chart.read") == []


@pytest.mark.parametrize("who", ["patient_a", "admin"])
def test_patients_and_admins_may_not_search_or_open_charts(practice, who):
    with pytest.raises(PermissionDenied):
        search(practice, "1970-01-02", who=who)
    # An admin opens a chart only under break-glass (tests/integration/test_break_glass.py).
    with pytest.raises(PermissionDenied if who == "patient_a" else BreakGlassNeeded):
        patient_chart.chart_header(
            practice.principal(who), practice.patient_a.id, uow=uow(practice)
        )
    assert audit_events(practice, "patient.search") == []


# --- the backfill ---------------------------------------------------------------------------


def test_patients_created_before_the_search_are_indexed_in_batches(practice):
    for first in ("Ulla", "Ursula", "Uma"):
        add_patient(practice, first, "Unindexed", date(1990, 5, 5), indexed=False)
    assert names(search(practice, "1990-05-05")) == []
    assert names(search(practice, "unindex")) == []
    assert patient_search.index_unindexed_patients(uow=uow(practice), batch=2) == 3
    assert names(search(practice, "1990-05-05")) == [
        "Ulla Unindexed",
        "Uma Unindexed",
        "Ursula Unindexed",
    ]
    assert names(search(practice, "ursu")) == ["Ursula Unindexed"]
    assert names(search(practice, "Unindexed 1990-05-05")) == names(search(practice, "unind"))
    assert len(audit_events(practice, "patient.search_index.update")) == 3
    assert patient_search.index_unindexed_patients(uow=uow(practice)) == 0
