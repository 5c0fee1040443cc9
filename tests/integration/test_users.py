"""The admin's list of users: filters, search by email, deactivation that ends sessions, the
refusals that keep a practice administrable, tenant scoping and the audit trail."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from portal.backend import models
from portal.backend.security.principal import NotFound, PermissionDenied
from portal.backend.services import sessions, users
from portal.backend.services.users import UsersRefused
from portal.components.forms import record_id
from tests.integration.factories import build_practice


def uow(practice):
    return practice.database.unit_of_work()


def names(page) -> list[str]:
    return [line.name for line in page.lines]


def actions(practice) -> list[str]:
    with uow(practice) as unit:
        return list(unit.session.exec(select(models.AuditEvent.action)).scalars().all())


def status_of(practice, who: str) -> str:
    with uow(practice) as unit:
        return unit.session.get(models.User, practice.user_ids[who]).status


def test_an_admin_lists_the_practices_users_with_their_state(practice):
    practice.principal("provider")
    page = users.list_users(practice.principal("admin"), uow=uow(practice))
    assert len(page.lines) == 4 and page.next_after == ""
    provider = next(line for line in page.lines if line.id == str(practice.user_ids["provider"]))
    assert (provider.name, provider.role, provider.status) == ("Dr. Test", "provider", "active")
    assert provider.mfa_enrolled and not provider.locked
    assert provider.open_sessions == 1 and provider.last_sign_in != ""
    assert "user.list" in actions(practice)


def test_filters_and_search_by_exact_email(practice):
    admin = practice.principal("admin")
    assert names(users.list_users(admin, role="provider", uow=uow(practice))) == ["Dr. Test"]
    assert len(users.list_users(admin, status="active", uow=uow(practice)).lines) == 4
    assert users.list_users(admin, status="deactivated", uow=uow(practice)).lines == []
    found = users.list_users(
        admin, query=practice.emails["patient_b"].upper(), uow=uow(practice)
    ).lines
    assert [line.id for line in found] == [str(practice.user_ids["patient_b"])]
    with pytest.raises(UsersRefused):
        users.list_users(admin, query="Test", uow=uow(practice))
    with pytest.raises(UsersRefused):
        users.list_users(admin, role="owner", uow=uow(practice))


def test_pages_follow_on_from_the_cursor(practice, monkeypatch):
    monkeypatch.setattr(users, "PAGE_SIZE", 3)
    admin = practice.principal("admin")
    first = users.list_users(admin, uow=uow(practice))
    second = users.list_users(admin, after=first.next_after, uow=uow(practice))
    assert len(first.lines) == 3 and len(second.lines) == 1 and second.next_after == ""
    assert {line.id for line in first.lines + second.lines} == {
        str(user_id) for user_id in practice.user_ids.values()
    }


def test_deactivating_ends_the_users_sessions_and_reactivating_lets_them_back(practice):
    patient = practice.principal("patient_a")
    with uow(practice) as unit:
        token = sessions.open_session(
            unit, unit.session.get(models.User, practice.user_ids["patient_a"])
        ).token
        unit.commit()
    admin = practice.principal("admin")
    users.deactivate(admin, patient.user_id, uow=uow(practice))
    assert status_of(practice, "patient_a") == "deactivated"
    assert sessions.resolve_session(token, uow=uow(practice)) is None
    line = users.list_users(admin, status="deactivated", uow=uow(practice)).lines[0]
    assert line.open_sessions == 0
    users.reactivate(admin, patient.user_id, uow=uow(practice))
    assert status_of(practice, "patient_a") == "active"
    assert {"user.deactivate", "user.reactivate", "auth.session_deactivated"} <= set(
        actions(practice)
    )


def test_an_admin_ends_a_users_sessions(practice):
    provider = practice.principal("provider")
    ended = users.end_sessions(practice.principal("admin"), provider.user_id, uow=uow(practice))
    assert ended == 1
    assert status_of(practice, "provider") == "active"
    assert "user.sessions.end" in actions(practice)


def test_an_admin_cannot_deactivate_themselves_or_the_last_admin(practice):
    admin = practice.principal("admin")
    with pytest.raises(UsersRefused, match="your own"):
        users.deactivate(admin, admin.user_id, uow=uow(practice))
    with uow(practice) as unit:
        unit.session.get(models.User, practice.user_ids["provider"]).role = "admin"
        unit.commit()
    other = practice.principal("provider")
    users.deactivate(other, admin.user_id, uow=uow(practice))
    with pytest.raises(UsersRefused, match="at least one active administrator"):
        users.deactivate(admin, other.user_id, uow=uow(practice))
    assert status_of(practice, "provider") == "active"


def test_another_practices_user_or_a_malformed_id_is_not_found(practice):
    other = build_practice(practice.database, slug="other-practice")
    admin = practice.principal("admin")
    stranger = other.user_ids["patient_a"]
    for action in (users.deactivate, users.reactivate, users.end_sessions):
        with pytest.raises(NotFound):
            action(admin, stranger, uow=uow(practice))
        with pytest.raises(NotFound):
            action(admin, uuid.uuid4(), uow=uow(practice))
    with pytest.raises(NotFound):
        record_id("not-an-id")
    with pytest.raises(NotFound):
        users.list_users(admin, after="not-an-id", uow=uow(practice))
    assert status_of(other, "patient_a") == "active"
    assert len(users.list_users(admin, uow=uow(practice)).lines) == 4


@pytest.mark.parametrize("who", ["patient_a", "provider"])
def test_patients_and_providers_may_not_manage_users(practice, who):
    principal = practice.principal(who)
    target = practice.user_ids["patient_b"]
    with pytest.raises(PermissionDenied):
        users.list_users(principal, uow=uow(practice))
    for action in (users.deactivate, users.reactivate, users.end_sessions):
        with pytest.raises(PermissionDenied):
            action(principal, target, uow=uow(practice))
    assert status_of(practice, "patient_b") == "active"
