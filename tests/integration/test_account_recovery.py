"""Password reset by email, and changing what protects an account after re-authenticating."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from portal.backend import clock, models
from portal.backend.security import totp
from portal.backend.services import account_recovery, account_security, sessions, sign_in
from tests.integration.factories import PASSWORD, mailed_links

NEW_PASSWORD = "a different and longer phrase"


def reset_links(practice, who: str) -> list[str]:
    return mailed_links(practice, "password_reset", practice.emails[who])


def request(practice, email: str) -> None:
    account_recovery.request_password_reset(email, uow=practice.database.unit_of_work())


def token(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


def sign_in_with(practice, who: str, password: str):
    clock.travel(timedelta(seconds=totp.STEP_SECONDS))
    challenge = sign_in.begin_sign_in(
        practice.emails[who], password, client=None, uow=practice.database.unit_of_work()
    )
    return sign_in.complete_sign_in(
        challenge.token,
        practice.code(who),
        client=None,
        device="",
        uow=practice.database.unit_of_work(),
    )


def test_a_reset_sets_a_new_password_ends_sessions_and_still_needs_mfa(practice):
    before = practice.principal("patient_a")
    request(practice, practice.emails["patient_a"])
    link = reset_links(practice, "patient_a")[-1]
    account_recovery.reset_password(token(link), NEW_PASSWORD, uow=practice.database.unit_of_work())
    with practice.database.unit_of_work() as uow:
        assert uow.session.get(models.UserSession, before.session_id).end_reason == (
            "password_changed"
        )
    with pytest.raises(sign_in.SignInFailed):
        sign_in_with(practice, "patient_a", PASSWORD)
    challenge = sign_in.begin_sign_in(
        practice.emails["patient_a"],
        NEW_PASSWORD,
        client=None,
        uow=practice.database.unit_of_work(),
    )
    assert challenge.enroll is False  # the reset did not skip the second factor
    sign_in_with(practice, "patient_a", NEW_PASSWORD)


def test_unknown_addresses_get_the_same_answer_and_no_mail(practice):
    request(practice, "nobody@nowhere.example")
    with practice.database.unit_of_work() as uow:
        assert uow.session.exec(select(models.Notification)).scalars().all() == []


def test_a_reset_link_is_single_use_superseded_and_expires(practice):
    request(practice, practice.emails["provider"])
    request(practice, practice.emails["provider"])
    older, newer = (token(link) for link in reset_links(practice, "provider"))
    with pytest.raises(account_recovery.ResetRefused):
        account_recovery.check_reset_link(older, uow=practice.database.unit_of_work())
    account_recovery.reset_password(newer, NEW_PASSWORD, uow=practice.database.unit_of_work())
    with pytest.raises(account_recovery.ResetRefused):
        account_recovery.reset_password(newer, NEW_PASSWORD, uow=practice.database.unit_of_work())
    request(practice, practice.emails["provider"])
    late = token(reset_links(practice, "provider")[-1])
    clock.travel(account_recovery.RESET_LIFETIME + timedelta(seconds=1))
    with pytest.raises(account_recovery.ResetRefused):
        account_recovery.check_reset_link(late, uow=practice.database.unit_of_work())


def test_a_reset_link_works_for_its_own_account_only(practice):
    request(practice, practice.emails["patient_a"])
    link = token(reset_links(practice, "patient_a")[-1])
    account_recovery.reset_password(link, NEW_PASSWORD, uow=practice.database.unit_of_work())
    sign_in_with(practice, "patient_b", PASSWORD)  # B's password did not change


def test_a_weak_new_password_is_refused_and_the_link_still_works(practice):
    request(practice, practice.emails["patient_a"])
    link = token(reset_links(practice, "patient_a")[-1])
    with pytest.raises(account_recovery.ResetRefused, match="at least 12"):
        account_recovery.reset_password(link, "short", uow=practice.database.unit_of_work())
    account_recovery.reset_password(link, NEW_PASSWORD, uow=practice.database.unit_of_work())


def test_security_changes_need_a_fresh_reauthentication(practice):
    principal = practice.principal("provider")
    uow = practice.database.unit_of_work
    with pytest.raises(account_security.ChangeRefused, match="Confirm it's you"):
        account_security.change_password(principal, NEW_PASSWORD, uow=uow())
    with pytest.raises(account_security.ChangeRefused, match="not right"):
        account_security.reauthenticate(
            principal, "wrong password", practice.code("provider"), uow=uow()
        )
    account_security.reauthenticate(principal, PASSWORD, practice.code("provider"), uow=uow())
    codes = account_security.new_recovery_codes(principal, uow=uow())
    assert len(codes) == 10
    clock.travel(timedelta(minutes=6))
    with pytest.raises(account_security.ChangeRefused, match="Confirm it's you"):
        account_security.new_recovery_codes(principal, uow=uow())


def test_a_new_authenticator_replaces_the_old_one_and_ends_every_session(practice):
    principal = practice.principal("admin")
    other = practice.principal("admin")
    uow = practice.database.unit_of_work
    account_security.reauthenticate(principal, PASSWORD, practice.code("admin"), uow=uow())
    setup = account_security.start_new_authenticator(principal, uow=uow())
    new_secret = setup.secret.replace(" ", "")
    with pytest.raises(account_security.ChangeRefused):
        account_security.finish_new_authenticator(principal, practice.code("admin"), uow=uow())
    clock.travel(timedelta(seconds=totp.STEP_SECONDS))
    account_security.finish_new_authenticator(principal, totp.code_for(new_secret), uow=uow())
    for session in (principal, other):
        with uow() as unit:
            assert unit.session.get(models.UserSession, session.session_id).ended_at
    practice.secrets["admin"] = new_secret
    sign_in_with(practice, "admin", PASSWORD)


def test_changing_the_password_ends_every_session(practice):
    principal = practice.principal("patient_b")
    uow = practice.database.unit_of_work
    account_security.reauthenticate(principal, PASSWORD, practice.code("patient_b"), uow=uow())
    account_security.change_password(principal, NEW_PASSWORD, uow=uow())
    assert sessions.devices(practice.principal("patient_b"), uow=uow())[1:] == []
    sign_in_with(practice, "patient_b", NEW_PASSWORD)
