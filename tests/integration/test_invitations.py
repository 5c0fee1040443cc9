"""Invitations and enrollment, and patient self-registration: single-use links, the identity
check, the password rules, the authenticator, and answers that reveal nothing."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from portal.backend import clock, models
from portal.backend.security import totp
from portal.backend.security.principal import NotFound, Role
from portal.backend.services import invitations, session_tickets, sessions
from tests.integration.factories import mailed_links

DOB = date(1970, 1, 2)
GOOD_PASSWORD = "a calm evening by the river"


def invitation_links(practice, to: str) -> list[str]:
    return mailed_links(practice, "invitation", to)


def token_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


def make_invitable(practice) -> None:
    """Patient B has a record but no account yet."""
    with practice.database.unit_of_work() as uow:
        patient = uow.session.get(models.Patient, practice.patient_b.id)
        account = uow.session.get(models.User, patient.user_id)
        account.status = models.UserStatus.INVITED
        uow.commit()


def invite_b(practice, email: str = "bob.new@example.org") -> str:
    invitations.invite_patient(
        practice.principal("admin"),
        practice.patient_b.id,
        email,
        uow=practice.database.unit_of_work(),
    )
    return token_of(invitation_links(practice, email)[-1])


def enroll(practice, token: str, dob: date | None = DOB, password: str = GOOD_PASSWORD):
    setup = invitations.choose_password(token, dob, password, uow=practice.database.unit_of_work())
    code = totp.code_for(setup.secret.replace(" ", ""))
    return invitations.finish_invitation(
        token, dob, code, device="Chrome on Android", uow=practice.database.unit_of_work()
    )


def test_an_invited_patient_enrolls_and_is_signed_in(practice):
    make_invitable(practice)
    token = invite_b(practice)
    opened = invitations.open_invitation(token, uow=practice.database.unit_of_work())
    assert (opened.email, opened.role, opened.needs_date_of_birth) == (
        "bob.new@example.org",
        "patient",
        True,
    )
    codes, principal = enroll(practice, token)
    assert len(codes) == 10
    assert principal.patient_id == practice.patient_b.id
    with practice.database.unit_of_work() as uow:
        account = uow.session.get(models.User, principal.user_id)
        assert account.status == models.UserStatus.ACTIVE and account.mfa_enrolled_at
        assert account.password_hash.startswith("$argon2id$")


def test_the_link_is_single_use(practice):
    make_invitable(practice)
    token = invite_b(practice)
    enroll(practice, token)
    with pytest.raises(invitations.InvitationRefused, match="expired or was already used"):
        invitations.open_invitation(token, uow=practice.database.unit_of_work())


def test_a_newer_invitation_replaces_an_older_one(practice):
    make_invitable(practice)
    first, second = invite_b(practice), invite_b(practice)
    with pytest.raises(invitations.InvitationRefused):
        invitations.open_invitation(first, uow=practice.database.unit_of_work())
    enroll(practice, second)


def test_a_link_expires_after_seven_days(practice):
    make_invitable(practice)
    token = invite_b(practice)
    clock.travel(invitations.INVITATION_LIFETIME + timedelta(seconds=1))
    with pytest.raises(invitations.InvitationRefused):
        invitations.open_invitation(token, uow=practice.database.unit_of_work())


@pytest.mark.parametrize("forged", ["", "x" * 43, "' OR 1=1 --"])
def test_forged_links_are_refused(practice, forged):
    with pytest.raises(invitations.InvitationRefused):
        invitations.open_invitation(forged, uow=practice.database.unit_of_work())


def test_a_wrong_date_of_birth_changes_nothing_and_five_spend_the_link(practice):
    make_invitable(practice)
    token = invite_b(practice)
    for _ in range(4):
        with pytest.raises(invitations.InvitationRefused, match="does not match our records"):
            invitations.choose_password(
                token, date(1971, 1, 2), GOOD_PASSWORD, uow=practice.database.unit_of_work()
            )
    with practice.database.unit_of_work() as uow:
        assert uow.session.get(models.User, practice.user_ids["patient_b"]).password_hash
    with pytest.raises(invitations.InvitationRefused, match="expired or was already used"):
        invitations.choose_password(
            token, date(1971, 1, 2), GOOD_PASSWORD, uow=practice.database.unit_of_work()
        )
    with pytest.raises(invitations.InvitationRefused):
        enroll(practice, token)


@pytest.mark.parametrize("password", ["short", "1qaz2wsx3edc", "Bob Beta's good password"])
def test_weak_passwords_are_refused_with_the_reason(practice, password):
    make_invitable(practice)
    token = invite_b(practice)
    with pytest.raises(invitations.InvitationRefused):
        invitations.choose_password(token, DOB, password, uow=practice.database.unit_of_work())


def test_finishing_without_the_earlier_steps_is_refused(practice):
    make_invitable(practice)
    token = invite_b(practice)
    with practice.database.unit_of_work() as uow:
        uow.session.get(models.User, practice.user_ids["patient_b"]).password_hash = None
        uow.commit()
    with pytest.raises(invitations.InvitationRefused, match="Choose a password first"):
        invitations.finish_invitation(
            token, DOB, "123456", device="", uow=practice.database.unit_of_work()
        )


def test_staff_are_invited_without_a_date_of_birth(practice):
    invitations.invite_staff(
        practice.principal("admin"),
        Role.PROVIDER,
        name="Dr. New Person",
        email="new.doctor@example.org",
        credentials="MD",
        specialty="Dermatology",
        uow=practice.database.unit_of_work(),
    )
    token = token_of(invitation_links(practice, "new.doctor@example.org")[-1])
    assert not invitations.open_invitation(
        token, uow=practice.database.unit_of_work()
    ).needs_date_of_birth
    _, principal = enroll(practice, token, dob=None)
    assert principal.role == Role.PROVIDER and principal.provider_id


def test_only_staff_invite_and_emails_stay_unique(practice):
    make_invitable(practice)
    with pytest.raises(Exception):  # noqa: B017
        invitations.invite_patient(
            practice.principal("patient_a"),
            practice.patient_b.id,
            "x@example.org",
            uow=practice.database.unit_of_work(),
        )
    with pytest.raises(invitations.InvitationRefused, match="already uses this email"):
        invite_b(practice, email=practice.emails["provider"])
    with pytest.raises(invitations.InvitationRefused, match="already has a portal account"):
        invitations.invite_patient(
            practice.principal("admin"),
            practice.patient_a.id,
            "a@example.org",
            uow=practice.database.unit_of_work(),
        )
    other_practice_patient = practice.patient_a.id
    with pytest.raises(NotFound):
        from tests.integration.factories import build_practice

        other = build_practice(practice.database, slug="other-place")
        invitations.invite_patient(
            other.principal("admin"),
            other_practice_patient,
            "y@example.org",
            uow=practice.database.unit_of_work(),
        )


def allow_registration(practice) -> None:
    with practice.database.unit_of_work() as uow:
        uow.session.get(models.Practice, practice.tenant_id).patient_self_registration = True
        uow.commit()


def test_self_registration_invites_a_matching_patient_only(practice):
    make_invitable(practice)
    allow_registration(practice)
    register = invitations.request_registration
    register("Bob", "Beta", DOB, "bob.self@example.org", uow=practice.database.unit_of_work())
    register("Nobody", "Known", DOB, "stranger@example.org", uow=practice.database.unit_of_work())
    register(
        "Ann", "Alpha", DOB, practice.emails["patient_a"], uow=practice.database.unit_of_work()
    )
    with practice.database.unit_of_work() as uow:
        sent = {
            (m.recipient, m.template_id)
            for m in uow.session.exec(select(models.Notification)).scalars()
        }
    assert ("bob.self@example.org", "invitation") in sent
    assert ("stranger@example.org", "registration_unmatched") in sent
    assert (practice.emails["patient_a"], "registration_existing") in sent
    enroll(practice, token_of(invitation_links(practice, "bob.self@example.org")[-1]))


def test_self_registration_is_off_unless_the_practice_allows_it(practice):
    with pytest.raises(invitations.InvitationRefused, match="does not offer"):
        invitations.request_registration(
            "Bob", "Beta", DOB, "b@example.org", uow=practice.database.unit_of_work()
        )


def test_enrolling_opens_a_session_like_any_sign_in(practice):
    make_invitable(practice)
    _, principal = enroll(practice, invite_b(practice))
    ticket = session_tickets.issue_ticket(principal, uow=practice.database.unit_of_work())
    signed = session_tickets.redeem_ticket(ticket, uow=practice.database.unit_of_work())
    assert sessions.resolve_session(signed.token, uow=practice.database.unit_of_work()) == principal
