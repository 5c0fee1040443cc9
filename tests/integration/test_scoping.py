"""Repositories filter by tenant and patient in the query: other people's rows never load."""

from __future__ import annotations

from tests.integration.factories import build_practice


def test_a_patient_cannot_load_another_patients_rows(practice):
    patient_a = practice.principal("patient_a")
    with practice.database.unit_of_work() as uow:
        assert uow.appointments.get_for(patient_a, practice.appointment_b) is None
        assert uow.conversations.get_for(patient_a, practice.conversation_b) is None
        assert uow.patients.get_for(patient_a, practice.patient_b.id) is None
        assert uow.appointments.get_for(patient_a, practice.appointment_a) is not None
        assert uow.patients.get_for(patient_a, practice.patient_a.id) is not None


def test_staff_cannot_load_rows_of_another_practice(practice):
    other = build_practice(practice.database, slug="other-practice")
    provider = practice.principal("provider")
    with practice.database.unit_of_work() as uow:
        assert uow.patients.get_for(provider, other.patient_a.id) is None
        assert uow.appointments.get_for(provider, other.appointment_a) is None
        assert uow.patients.get_for(provider, practice.patient_a.id) is not None
