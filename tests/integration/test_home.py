"""Each role's home, through the service layer: the right data for the right person only."""

from __future__ import annotations

import uuid

import pytest

from portal.backend import models
from portal.backend.security.principal import PermissionDenied
from portal.backend.services import home, record_changes, record_entries
from tests.dates import practice_today


def test_patient_home_shows_their_next_visit_and_unread_replies(practice):
    view = home.patient_home(practice.principal("patient_a"), uow=practice.database.unit_of_work())
    assert view.first_name.startswith("Ann")
    assert view.next_appointment.id == str(practice.appointment_a)
    assert view.next_appointment.provider == "Dr. Test, MD"
    assert view.upcoming_count == 1
    assert view.unread_messages == 1
    assert [c.id for c in view.conversations] == [str(practice.conversation_a)]


def test_patient_home_never_includes_another_patients_data(practice):
    view = home.patient_home(practice.principal("patient_b"), uow=practice.database.unit_of_work())
    assert [c.id for c in view.conversations] == [str(practice.conversation_b)]
    assert "ZZCANARY" not in repr(view)


def test_provider_today_lists_todays_appointments_with_patient_names(practice):
    view = home.provider_today(practice.principal("provider"), uow=practice.database.unit_of_work())
    assert [line.id for line in view.appointments] == [str(practice.appointment_b)]
    assert view.appointments[0].patient == "Bob Beta"


def test_provider_sees_unread_patient_messages_of_their_care_team(practice):
    view = home.provider_today(practice.principal("provider"), uow=practice.database.unit_of_work())
    assert view.unread_messages == 2


def test_provider_sees_results_to_review_and_profile_changes_waiting(practice):
    work = practice.database.unit_of_work
    provider = practice.principal("provider")
    assert home.provider_today(provider, uow=work()).results_to_review == 0
    entry = record_entries.AllergyEntry("Latex", "Rash", "mild")
    record_changes.add_record(provider, practice.patient_a.id, entry, uow=work())
    lab = record_entries.LabEntry(
        "Glucose",
        practice_today().isoformat(),
        "final",
        [record_entries.LabTestEntry("Glucose", "99", "mg/dL", "70", "99")],
    )
    record_id = record_changes.add_record(provider, practice.patient_b.id, lab, uow=work())
    with work() as uow:
        uow.session.add(
            models.ProfileChange(
                tenant_id=practice.tenant_id,
                patient_id=practice.patient_a.id,
                requested_values={"legal_last_name": "Alphason"},
            )
        )
        uow.commit()
    view = home.provider_today(provider, uow=work())
    assert (view.results_to_review, view.profile_changes) == (1, 1)
    record_changes.mark_reviewed(provider, uuid.UUID(record_id), uow=work())
    assert home.provider_today(provider, uow=work()).results_to_review == 0


def test_admin_overview_counts_accounts_by_role(practice):
    view = home.admin_overview(practice.principal("admin"), uow=practice.database.unit_of_work())
    counts = {row.role: row.active for row in view.roles}
    assert counts == {"patient": 2, "provider": 1, "admin": 1}
    assert view.patients == 2
    assert view.signed_in_now == 1


@pytest.mark.parametrize(
    ("who", "service"),
    [
        ("provider", home.patient_home),
        ("admin", home.patient_home),
        ("patient_a", home.provider_today),
        ("patient_a", home.admin_overview),
        ("provider", home.admin_overview),
    ],
)
def test_each_home_refuses_other_roles(practice, who, service):
    with pytest.raises(PermissionDenied):
        service(practice.principal(who), uow=practice.database.unit_of_work())
