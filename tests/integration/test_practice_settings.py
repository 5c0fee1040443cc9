"""Practice settings for admins: each field checked on its own and refused in words, the
result release rules as record kinds, the audit trail naming the fields changed (never the
values), tenant scoping and refusals for everyone else."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.backend import models
from portal.backend.models.records import RecordKind
from portal.backend.security.principal import PermissionDenied
from portal.backend.services import practice_settings
from portal.backend.services.practice_settings import RECORD_KINDS, SettingsInvalid
from tests.integration.factories import build_practice

VALID = {
    "name": "Test Practice",
    "time_zone": "America/New_York",
    "idle_timeout_minutes": "15",
    "patient_self_registration": False,
    "message_response_hours": "48",
    "records_held_for_review": [],
}


def uow(practice):
    return practice.database.unit_of_work()


def save(practice, **changes):
    return practice_settings.save_practice_settings(
        practice.principal("admin"), {**VALID, **changes}, uow=uow(practice)
    )


def stored(practice) -> models.Practice:
    with uow(practice) as unit:
        return unit.session.get(models.Practice, practice.tenant_id)


def audit_events(practice, action: str) -> list[models.AuditEvent]:
    with uow(practice) as unit:
        return list(
            unit.session.exec(
                select(models.AuditEvent).where(models.AuditEvent.action == action)
            ).scalars()
        )


def test_an_admin_reads_the_settings(practice):
    view = practice_settings.practice_settings(practice.principal("admin"), uow=uow(practice))
    assert (view.name, view.time_zone, view.idle_timeout_minutes) == (
        "Test Practice",
        "America/New_York",
        15,
    )
    assert view.records_held_for_review == [] and view.message_response_hours == 48
    assert len(audit_events(practice, "practice.settings.read")) == 1


def test_a_save_changes_only_what_changed_and_the_audit_names_the_fields(practice):
    changed = save(
        practice,
        name="  Riverside West  ",
        idle_timeout_minutes="30",
        patient_self_registration=True,
        records_held_for_review=["document", "lab_result"],
    )
    assert changed == [
        "name",
        "idle_timeout_minutes",
        "patient_self_registration",
        "records_held_for_review",
    ]
    row = stored(practice)
    assert (row.name, row.idle_timeout_minutes, row.patient_self_registration) == (
        "Riverside West",
        30,
        True,
    )
    assert row.records_held_for_review == "lab_result,document"  # in the kinds' own order
    [event] = audit_events(practice, "practice.settings.save")
    assert (
        event.details
        == "name,idle_timeout_minutes,patient_self_registration,records_held_for_review"
    )
    assert "Riverside" not in event.details and event.resource_id == str(practice.tenant_id)
    same_again = save(
        practice,
        name="Riverside West",
        idle_timeout_minutes="30",
        patient_self_registration=True,
        records_held_for_review=["lab_result", "document"],
    )
    assert same_again == []
    assert audit_events(practice, "practice.settings.save")[-1].details == "none"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("idle_timeout_minutes", "2", "The idle timeout must be between 15 and 30 minutes."),
        ("idle_timeout_minutes", "31", "The idle timeout must be between 15 and 30 minutes."),
        ("idle_timeout_minutes", "fifteen", "The idle timeout must be a whole number of minutes."),
        ("message_response_hours", "0", "between 1 and 168 hours"),
        ("message_response_hours", "1000", "between 1 and 168 hours"),
        ("time_zone", "Mars/Olympus_Mons", "Choose a time zone from the list"),
        ("time_zone", "EST5EDT; DROP TABLE practices", "Choose a time zone from the list"),
        ("name", " ", "Give the practice a name of 2 to 200 characters."),
        ("records_held_for_review", ["lab_result", "psychotherapy_notes"], "kinds of record"),
        ("records_held_for_review", "lab_result", "kinds of record"),
    ],
)
def test_each_bad_field_is_refused_in_words_and_nothing_changes(practice, field, value, message):
    with pytest.raises(SettingsInvalid) as refusal:
        save(practice, **{"idle_timeout_minutes": "20", field: value})
    assert list(refusal.value.problems) == [field]
    assert message in refusal.value.problems[field]
    assert stored(practice).idle_timeout_minutes == 15
    assert audit_events(practice, "practice.settings.save") == []


def test_every_problem_is_named_at_once(practice):
    with pytest.raises(SettingsInvalid) as refusal:
        save(practice, idle_timeout_minutes="2", time_zone="Nowhere", message_response_hours="")
    assert set(refusal.value.problems) == {
        "idle_timeout_minutes",
        "time_zone",
        "message_response_hours",
    }


def test_the_form_offers_every_record_kind_and_valid_zones():
    assert [kind for kind, _ in RECORD_KINDS] == [kind.value for kind in RecordKind]
    zones = practice_settings.time_zones()
    assert "America/New_York" in zones and "Europe/London" in zones and "UTC" in zones


def test_settings_belong_to_the_admins_own_practice(practice):
    other = build_practice(practice.database, slug="elsewhere")
    practice_settings.save_practice_settings(
        other.principal("admin"), {**VALID, "name": "Elsewhere Clinic"}, uow=uow(other)
    )
    assert stored(practice).name == "Test Practice"
    assert stored(other).name == "Elsewhere Clinic"


@pytest.mark.parametrize("who", ["patient_a", "provider"])
def test_patients_and_providers_may_not_read_or_change_settings(practice, who):
    principal = practice.principal(who)
    with pytest.raises(PermissionDenied):
        practice_settings.practice_settings(principal, uow=uow(practice))
    with pytest.raises(PermissionDenied):
        practice_settings.save_practice_settings(
            principal, {**VALID, "idle_timeout_minutes": "30"}, uow=uow(practice)
        )
    assert stored(practice).idle_timeout_minutes == 15
    assert audit_events(practice, "practice.settings.save") == []
