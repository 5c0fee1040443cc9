"""The demo practice loads once, with the people and history the README promises."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.backend import clock, models
from portal.backend.config import settings
from portal.backend.demo import DEMO_PASSWORD, NotADemo, demo_code, demo_logins, load_demo
from portal.backend.security import totp
from portal.backend.services import home, sign_in


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


def sign_in_as(database, email: str):
    challenge = sign_in.begin_sign_in(
        email, DEMO_PASSWORD, client=None, uow=database.unit_of_work()
    )
    code, _ = demo_code(email, uow=database.unit_of_work())
    return sign_in.complete_sign_in(
        challenge.token, code, client=None, device="", uow=database.unit_of_work()
    )


def test_every_documented_demo_login_works_with_mfa_and_has_data(database, monkeypatch):
    monkeypatch.setenv("PORTAL_DEMO", "1")
    settings.cache_clear()
    load_demo(uow=database.unit_of_work())
    services = {
        "patient": home.patient_home,
        "provider": home.provider_today,
        "admin": home.admin_overview,
    }
    views = {}
    for login in demo_logins():
        clock.travel(timedelta(seconds=totp.STEP_SECONDS))  # a fresh code for each sign-in
        principal = sign_in_as(database, login.email)
        assert principal.role == login.role
        views[login.role] = services[login.role](principal, uow=database.unit_of_work())
    assert views["patient"].next_appointment is not None
    assert views["patient"].unread_messages >= 1
    assert len(views["provider"].appointments) == 6


def test_demo_codes_exist_only_in_demo_mode(database, monkeypatch):
    load_demo(uow=database.unit_of_work())
    monkeypatch.delenv("PORTAL_DEMO", raising=False)
    settings.cache_clear()
    with pytest.raises(NotADemo):
        demo_code(demo_logins()[0].email, uow=database.unit_of_work())
