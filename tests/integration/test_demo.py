"""The demo practice loads once, with the people and history the README promises."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.backend import models
from portal.backend.demo import DEMO_PASSWORD, demo_logins, load_demo
from portal.backend.services import home, identity


def counts(database) -> dict[str, int]:
    with database.unit_of_work() as uow:
        return {
            table.__tablename__: uow.session.exec(
                select(func.count()).select_from(table)
            ).scalar_one()
            for table in (
                models.Practice,
                models.Provider,
                models.Patient,
                models.Appointment,
                models.Message,
                models.MedicalRecord,
                models.LabComponent,
                models.User,
            )
        }


def test_demo_loads_once_and_a_second_run_changes_nothing(database):
    assert load_demo(uow=database.unit_of_work()) is True
    first = counts(database)
    assert load_demo(uow=database.unit_of_work()) is False
    assert counts(database) == first
    assert first["practices"] == 1
    assert first["providers"] == 5
    assert first["patients"] == 40
    assert first["appointments"] > 80
    assert first["messages"] > 20
    assert first["medical_records"] >= 40


def test_every_documented_demo_login_works_and_has_data(database):
    load_demo(uow=database.unit_of_work())
    services = {
        "patient": home.patient_home,
        "provider": home.provider_today,
        "admin": home.admin_overview,
    }
    for login in demo_logins():
        signed = identity.sign_in(login.email, DEMO_PASSWORD, uow=database.unit_of_work())
        assert signed.principal.role == login.role
        view = services[login.role](signed.principal, uow=database.unit_of_work())
        assert view is not None
    patient = identity.sign_in(
        demo_logins()[0].email, DEMO_PASSWORD, uow=database.unit_of_work()
    ).principal
    patient_view = home.patient_home(patient, uow=database.unit_of_work())
    assert patient_view.next_appointment is not None
    assert patient_view.unread_messages >= 1
    provider = identity.sign_in(
        demo_logins()[1].email, DEMO_PASSWORD, uow=database.unit_of_work()
    ).principal
    assert len(home.provider_today(provider, uow=database.unit_of_work()).appointments) == 6
