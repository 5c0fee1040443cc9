"""The admin's list of users: filters, search by email and by part of a name, deactivation,
changes of role and MFA resets that end sessions, one session ended at a time, the refusals
that keep a practice administrable, tenant scoping and the audit trail."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from portal.backend import models
from portal.backend.models.base import utcnow
from portal.backend.notify.templates import TEMPLATES
from portal.backend.security.principal import NotFound, PermissionDenied
from portal.backend.services import (
    account_security,
    patient_search,
    sessions,
    sign_in,
    user_changes,
    users,
)
from portal.backend.services.users import UsersRefused
from portal.components.forms import record_id
from tests.integration.factories import CANARY, PASSWORD, build_practice


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
    assert users.list_users(admin, query="nobody@test.example", uow=uow(practice)).lines == []
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
    user_changes.deactivate(admin, patient.user_id, uow=uow(practice))
    assert status_of(practice, "patient_a") == "deactivated"
    assert sessions.resolve_session(token, uow=uow(practice)) is None
    line = users.list_users(admin, status="deactivated", uow=uow(practice)).lines[0]
    assert line.open_sessions == 0
    user_changes.reactivate(admin, patient.user_id, uow=uow(practice))
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
        user_changes.deactivate(admin, admin.user_id, uow=uow(practice))
    with uow(practice) as unit:
        unit.session.get(models.User, practice.user_ids["provider"]).role = "admin"
        unit.commit()
    other = practice.principal("provider")
    user_changes.deactivate(other, admin.user_id, uow=uow(practice))
    with pytest.raises(UsersRefused, match="at least one active administrator"):
        user_changes.deactivate(admin, other.user_id, uow=uow(practice))
    assert status_of(practice, "provider") == "active"


def test_another_practices_user_or_a_malformed_id_is_not_found(practice):
    other = build_practice(practice.database, slug="other-practice")
    admin = practice.principal("admin")
    stranger = other.user_ids["patient_a"]
    for action in (user_changes.deactivate, user_changes.reactivate, users.end_sessions):
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
    for action in (user_changes.deactivate, user_changes.reactivate, users.end_sessions):
        with pytest.raises(PermissionDenied):
            action(principal, target, uow=uow(practice))
    assert status_of(practice, "patient_b") == "active"


def events(practice, action: str) -> list[models.AuditEvent]:
    with uow(practice) as unit:
        return list(
            unit.session.exec(
                select(models.AuditEvent)
                .where(models.AuditEvent.action == action)
                .order_by(models.AuditEvent.occurred_at)
            )
            .scalars()
            .all()
        )


def user_of(practice, who: str) -> models.User:
    with uow(practice) as unit:
        return unit.session.get(models.User, practice.user_ids[who])


def open_sessions(practice, who: str) -> int:
    with uow(practice) as unit:
        return len(
            unit.session.exec(
                select(models.UserSession).where(
                    models.UserSession.user_id == practice.user_ids[who],
                    models.UserSession.ended_at.is_(None),
                )
            )
            .scalars()
            .all()
        )


def reauthenticated_admin(practice):
    admin = practice.principal("admin")
    account_security.reauthenticate(admin, PASSWORD, practice.code("admin"), uow=uow(practice))
    return admin


def free_provider_of_work(practice) -> None:
    """The factory's provider is on the team and has visits; an empty calendar and no team."""
    with uow(practice) as unit:
        unit.session.execute(delete(models.CareTeamMember))
        for row in unit.session.exec(select(models.Appointment)).scalars():
            row.status = "cancelled"
        unit.commit()


# --- name search -------------------------------------------------------------------------------


def test_search_by_part_of_a_name_finds_patients_and_staff(practice):
    admin = practice.principal("admin")
    assert names(users.list_users(admin, query="bet", uow=uow(practice))) == ["Bob Beta"]
    assert names(users.list_users(admin, query="BOB be", uow=uow(practice))) == ["Bob Beta"]
    assert names(users.list_users(admin, query="test", uow=uow(practice))) == [
        "Dr. Test",
        "Admin Test",
    ]
    assert names(users.list_users(admin, query="test", role="admin", uow=uow(practice))) == [
        "Admin Test"
    ]
    assert users.list_users(admin, query="nobody", uow=uow(practice)).lines == []
    with pytest.raises(UsersRefused, match="letters only"):
        users.list_users(admin, query="1970", uow=uow(practice))
    with pytest.raises(UsersRefused, match="three letters"):
        users.list_users(admin, query="b", uow=uow(practice))
    listed = events(practice, "user.list")
    assert listed[0].details.startswith("by=name;")
    assert all("bet" not in (event.details or "") for event in listed)  # never the text typed


def test_patients_named_checks_every_word_on_the_opened_names(practice):
    other = build_practice(practice.database, slug="other-names")
    with uow(practice) as unit:
        found, too_many = patient_search.patients_named(unit, practice.tenant_id, ("alp",))
        assert (found, too_many) == ([practice.patient_a.id], False)
        both, _ = patient_search.patients_named(unit, practice.tenant_id, ("ann", "alpha"))
        assert both == [practice.patient_a.id]
        # "bet" is a piece of Beta, "ann" of Ann…: nobody holds both words.
        assert patient_search.patients_named(unit, practice.tenant_id, ("bet", "ann")) == (
            [],
            False,
        )
        theirs, _ = patient_search.patients_named(unit, other.tenant_id, ("beta",))
        assert theirs == [other.patient_b.id]  # their own Bob Beta, never this practice's


# --- change of role ----------------------------------------------------------------------------


def test_a_provider_becomes_an_admin_and_back_and_their_sessions_end(practice):
    practice.principal("provider")
    admin = practice.principal("admin")
    with pytest.raises(UsersRefused, match="on 1 care team"):
        user_changes.change_role(admin, practice.user_ids["provider"], "admin", uow=uow(practice))
    with uow(practice) as unit:
        unit.session.execute(delete(models.CareTeamMember))
        unit.commit()
    with pytest.raises(UsersRefused, match="upcoming appointment"):
        user_changes.change_role(admin, practice.user_ids["provider"], "admin", uow=uow(practice))
    free_provider_of_work(practice)
    user_changes.change_role(admin, practice.user_ids["provider"], "admin", uow=uow(practice))
    assert user_of(practice, "provider").role == "admin"
    assert open_sessions(practice, "provider") == 0
    event = events(practice, "user.role.change")[0]
    assert event.resource_id == str(practice.user_ids["provider"])
    assert event.details == "changed=role; from=provider; to=admin; sessions_ended=1"
    assert "Dr. Test" not in event.details
    # The same change again (a double click, a stale screen) changes nothing.
    user_changes.change_role(admin, practice.user_ids["provider"], "admin", uow=uow(practice))
    assert len(events(practice, "user.role.change")) == 1
    user_changes.change_role(admin, practice.user_ids["provider"], "provider", uow=uow(practice))
    assert user_of(practice, "provider").role == "provider"
    with uow(practice) as unit:  # the provider row came back with them, not a second one
        assert len(unit.session.exec(select(models.Provider)).scalars().all()) == 1
    assert practice.principal("provider").provider_id == practice.provider.id


def test_an_admin_who_becomes_a_provider_gets_a_provider_record(practice):
    with uow(practice) as unit:
        unit.session.get(models.User, practice.user_ids["provider"]).role = "admin"
        unit.commit()
    other_admin = practice.principal("provider")
    user_changes.change_role(other_admin, practice.user_ids["admin"], "provider", uow=uow(practice))
    principal = practice.principal("admin")
    assert principal.role == "provider" and principal.provider_id is not None


def test_role_changes_that_make_no_sense_are_refused_in_words(practice):
    admin = practice.principal("admin")
    patient = practice.user_ids["patient_a"]
    with pytest.raises(UsersRefused, match="stays a patient account"):
        user_changes.change_role(admin, patient, "provider", uow=uow(practice))
    with pytest.raises(UsersRefused, match="provider or administrator"):
        user_changes.change_role(admin, practice.user_ids["provider"], "patient", uow=uow(practice))
    with pytest.raises(UsersRefused, match="provider or administrator"):
        user_changes.change_role(admin, practice.user_ids["provider"], "owner", uow=uow(practice))
    with pytest.raises(UsersRefused, match="your own role"):
        user_changes.change_role(admin, admin.user_id, "provider", uow=uow(practice))
    assert user_of(practice, "patient_a").role == "patient"
    assert events(practice, "user.role.change") == []


def test_changing_the_last_admins_role_is_refused_with_an_explanation(practice):
    # Two admins; one of them is deactivated while their screen is still open (the principal
    # was made before): the other is now the practice's last active admin.
    with uow(practice) as unit:
        unit.session.get(models.User, practice.user_ids["provider"]).role = "admin"
        unit.commit()
    second = practice.principal("provider")
    first = practice.principal("admin")
    user_changes.deactivate(first, second.user_id, uow=uow(practice))
    with pytest.raises(UsersRefused, match="last admin's role is refused"):
        user_changes.change_role(second, first.user_id, "provider", uow=uow(practice))
    assert user_of(practice, "admin").role == "admin"
    assert open_sessions(practice, "admin") == 1
    # A deactivated admin is not the last one: their role may change.
    user_changes.change_role(first, second.user_id, "provider", uow=uow(practice))
    assert user_of(practice, "provider").role == "provider"


# --- MFA reset ---------------------------------------------------------------------------------


def test_an_mfa_reset_needs_a_fresh_reauthentication(practice):
    admin = practice.principal("admin")
    target = practice.user_ids["patient_a"]
    with pytest.raises(UsersRefused, match="Confirm it's you"):
        user_changes.reset_mfa(admin, target, "callback", uow=uow(practice))
    assert user_of(practice, "patient_a").mfa_enrolled_at is not None
    missing = events(practice, "auth.reauthentication_missing")[0]
    assert missing.outcome == "denied" and missing.details == "for=user.mfa.reset"
    account_security.reauthenticate(admin, PASSWORD, practice.code("admin"), uow=uow(practice))
    with uow(practice) as unit:  # five minutes later it has lapsed
        row = unit.session.get(models.UserSession, admin.session_id)
        row.reauthenticated_at = utcnow() - timedelta(minutes=6)
        unit.commit()
    with pytest.raises(UsersRefused, match="Confirm it's you"):
        user_changes.reset_mfa(admin, target, "callback", uow=uow(practice))
    assert user_of(practice, "patient_a").totp_secret is not None


def test_an_mfa_reset_clears_the_authenticator_and_codes_and_they_enroll_again(practice):
    token = practice.token("patient_a")
    admin = reauthenticated_admin(practice)
    with pytest.raises(UsersRefused, match="how you confirmed"):
        user_changes.reset_mfa(admin, practice.user_ids["patient_a"], "trust me", uow=uow(practice))
    with pytest.raises(UsersRefused, match="a call back, in person or by video"):
        user_changes.reset_mfa(
            admin, practice.user_ids["patient_a"], "known_staff", uow=uow(practice)
        )
    user_changes.reset_mfa(admin, practice.user_ids["patient_a"], "in_person", uow=uow(practice))
    user = user_of(practice, "patient_a")
    assert user.totp_secret is None and user.mfa_enrolled_at is None
    assert user.totp_last_step is None and user.pending_totp_secret is None
    assert sessions.resolve_session(token, uow=uow(practice)) is None
    with uow(practice) as unit:
        codes = unit.session.exec(
            select(models.RecoveryCode).where(models.RecoveryCode.user_id == user.id)
        ).scalars()
        assert all(code.used_at is not None for code in codes)
    event = events(practice, "user.mfa.reset")[0]
    assert event.patient_id == practice.patient_a.id
    assert event.details.startswith("identity_check=in_person; cleared=authenticator")
    assert CANARY not in event.details
    # The next sign-in asks for the password, then a new authenticator.
    challenge = sign_in.begin_sign_in(
        practice.emails["patient_a"], PASSWORD, client="203.0.113.9", uow=uow(practice)
    )
    assert challenge.enroll


def test_an_admin_cannot_reset_their_own_mfa_here(practice):
    admin = reauthenticated_admin(practice)
    with pytest.raises(UsersRefused, match="Security page"):
        user_changes.reset_mfa(admin, admin.user_id, "in_person", uow=uow(practice))
    assert user_of(practice, "admin").totp_secret is not None


def notices(practice, template_id: str) -> list[models.Notification]:
    with uow(practice) as unit:
        return list(
            unit.session.exec(
                select(models.Notification).where(models.Notification.template_id == template_id)
            ).scalars()
        )


def test_the_person_is_told_of_an_mfa_reset_and_a_role_change_once_and_without_phi(practice):
    admin = reauthenticated_admin(practice)
    user_changes.reset_mfa(admin, practice.user_ids["patient_a"], "callback", uow=uow(practice))
    free_provider_of_work(practice)
    for _ in range(2):  # the second time changes nothing, and tells nobody again
        user_changes.change_role(admin, practice.user_ids["provider"], "admin", uow=uow(practice))
    for template_id, who, words in (
        ("mfa_reset", "patient_a", "set up two-step verification again"),
        ("role_changed", "provider", "Your role in the Test Practice portal was changed"),
    ):
        told = notices(practice, template_id)
        # In the portal and by email (account notices cannot be turned off), once each.
        assert sorted(notice.channel for notice in told) == ["email", "in_app"]
        assert {notice.user_id for notice in told} == {practice.user_ids[who]}
        assert all(notice.status == "pending" for notice in told)
        email = next(notice for notice in told if notice.channel == "email")
        assert email.recipient == practice.emails[who]
        subject, text = TEMPLATES[template_id].render(**email.parameters)
        assert words in text and "call the practice" in text
        for phi in (CANARY, CANARY.lower(), "Alpha", "Dr. Test", "1970", "MRN"):
            assert phi not in subject + text + str(email.parameters)


# --- sessions ----------------------------------------------------------------------------------


def test_an_admin_sees_a_users_sessions_and_ends_one(practice):
    first = practice.principal("patient_b")
    second = practice.principal("patient_b")
    admin = practice.principal("admin")
    shown = users.account_sessions(admin, practice.user_ids["patient_b"], uow=uow(practice))
    assert [line.id for line in shown] == [str(second.session_id), str(first.session_id)]
    assert all(line.started and line.last_seen for line in shown)
    assert "user.sessions.read" in actions(practice)
    assert users.end_account_session(
        admin, practice.user_ids["patient_b"], first.session_id, uow=uow(practice)
    )
    assert open_sessions(practice, "patient_b") == 1
    # Ending it again (a stale screen) changes nothing.
    assert not users.end_account_session(
        admin, practice.user_ids["patient_b"], first.session_id, uow=uow(practice)
    )
    ended = events(practice, "user.session.end")
    assert len(ended) == 1 and ended[0].resource_id == str(first.session_id)
    assert ended[0].patient_id == practice.patient_b.id
    # Another user's session, named as this user's, is missing.
    with pytest.raises(NotFound):
        users.end_account_session(
            admin, practice.user_ids["patient_a"], second.session_id, uow=uow(practice)
        )
    assert open_sessions(practice, "patient_b") == 1


def test_new_actions_on_another_practices_user_are_not_found(practice):
    other = build_practice(practice.database, slug="other-actions")
    stranger = other.user_ids["provider"]
    admin = reauthenticated_admin(practice)
    foreign_session = other.principal("provider").session_id
    with pytest.raises(NotFound):
        user_changes.change_role(admin, stranger, "admin", uow=uow(practice))
    with pytest.raises(NotFound):
        user_changes.reset_mfa(admin, stranger, "callback", uow=uow(practice))
    with pytest.raises(NotFound):
        users.account_sessions(admin, stranger, uow=uow(practice))
    with pytest.raises(NotFound):
        users.end_account_session(admin, stranger, foreign_session, uow=uow(practice))
    with pytest.raises(NotFound):
        users.end_account_session(
            admin, practice.user_ids["provider"], foreign_session, uow=uow(practice)
        )
    assert user_of(other, "provider").role == "provider"
    assert user_of(other, "provider").totp_secret is not None
    assert open_sessions(other, "provider") == 1
    assert users.list_users(admin, query="test", uow=uow(practice)).lines != []
    assert all(
        line.id not in {str(i) for i in other.user_ids.values()}
        for line in users.list_users(admin, query="beta", uow=uow(practice)).lines
    )


@pytest.mark.parametrize("who", ["patient_a", "provider"])
def test_patients_and_providers_may_not_use_the_new_actions(practice, who):
    principal = practice.principal(who)
    target = practice.user_ids["patient_b"]
    session = practice.principal("patient_b").session_id
    calls = [
        lambda: user_changes.change_role(
            principal, practice.user_ids["admin"], "provider", uow=uow(practice)
        ),
        lambda: user_changes.reset_mfa(principal, target, "callback", uow=uow(practice)),
        lambda: users.account_sessions(principal, target, uow=uow(practice)),
        lambda: users.end_account_session(principal, target, session, uow=uow(practice)),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    assert user_of(practice, "patient_b").totp_secret is not None
    assert user_of(practice, "admin").role == "admin"
    assert open_sessions(practice, "patient_b") == 1
