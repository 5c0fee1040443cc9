"""Password sign-in, server-side sessions, sign-out and timeouts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from portal.backend import models
from portal.backend.models.base import utcnow
from portal.backend.security.principal import Role
from portal.backend.security.tokens import token_hash
from portal.backend.services import identity
from tests.integration.factories import PASSWORD


def sign_in(practice, who: str, password: str = PASSWORD) -> identity.SignedIn:
    return identity.sign_in(practice.emails[who], password, uow=practice.database.unit_of_work())


def resolve(practice, token: str):
    return identity.resolve_session(token, uow=practice.database.unit_of_work())


def test_sign_in_opens_a_session_for_the_right_person(practice):
    signed = sign_in(practice, "patient_a")
    assert signed.principal.role == Role.PATIENT
    assert signed.principal.patient_id == practice.patient_a.id
    assert resolve(practice, signed.token) == signed.principal


def test_email_is_matched_case_insensitively(practice):
    signed = identity.sign_in(
        "  " + practice.emails["provider"].upper(), PASSWORD, uow=practice.database.unit_of_work()
    )
    assert signed.principal.provider_id == practice.provider.id


def test_every_sign_in_gets_a_new_token_and_only_its_hash_is_stored(practice):
    first, second = sign_in(practice, "admin"), sign_in(practice, "admin")
    assert first.token != second.token
    with practice.database.engine.connect() as connection:
        stored = connection.execute(text("SELECT token_hash FROM user_sessions")).scalars().all()
    assert token_hash(first.token) in stored
    assert first.token not in stored


@pytest.mark.parametrize(
    ("who", "password"),
    [("patient_a", "wrong password for sure"), ("nobody", PASSWORD), ("patient_a", "x" * 5000)],
)
def test_wrong_password_and_unknown_email_get_the_same_answer(practice, who, password):
    practice.emails["nobody"] = "nobody@nowhere.example"
    with pytest.raises(identity.SignInRefused) as refusal:
        sign_in(practice, who, password)
    assert str(refusal.value) == identity.SIGN_IN_REFUSED


def test_an_invited_account_without_a_password_cannot_sign_in(practice):
    with practice.database.unit_of_work() as uow:
        user = uow.session.get(models.User, practice.patient_b.user_id)
        user.status = models.UserStatus.INVITED
        uow.commit()
    with pytest.raises(identity.SignInRefused):
        sign_in(practice, "patient_b")


def test_sign_out_ends_the_session_for_good(practice):
    signed = sign_in(practice, "patient_a")
    identity.sign_out(signed.principal, uow=practice.database.unit_of_work())
    assert resolve(practice, signed.token) is None


def test_other_sessions_of_the_same_user_survive_a_sign_out(practice):
    laptop, phone = sign_in(practice, "patient_a"), sign_in(practice, "patient_a")
    identity.sign_out(laptop.principal, uow=practice.database.unit_of_work())
    assert resolve(practice, phone.token) == phone.principal


@pytest.mark.parametrize(
    ("column", "moment", "reason"),
    [
        ("last_seen_at", lambda: utcnow() - timedelta(minutes=15, seconds=1), "idle_timeout"),
        ("expires_at", lambda: utcnow() - timedelta(seconds=1), "absolute_timeout"),
    ],
)
def test_a_timed_out_session_is_ended_server_side(practice, column, moment, reason):
    signed = sign_in(practice, "patient_a")
    with practice.database.unit_of_work() as uow:
        setattr(uow.session.get(models.UserSession, signed.principal.session_id), column, moment())
        uow.commit()
    assert resolve(practice, signed.token) is None
    with practice.database.unit_of_work() as uow:
        session = uow.session.get(models.UserSession, signed.principal.session_id)
        assert session.ended_at is not None
        assert session.end_reason == reason


def test_a_deactivated_user_loses_their_session(practice):
    signed = sign_in(practice, "provider")
    with practice.database.unit_of_work() as uow:
        uow.session.get(models.User, signed.principal.user_id).status = "deactivated"
        uow.commit()
    assert resolve(practice, signed.token) is None


def test_garbage_tokens_resolve_to_nobody(practice):
    for token in ["", "x", "' OR 1=1 --", "a" * 10_000]:
        assert resolve(practice, token) is None


def test_sign_ins_and_failures_are_audited_without_the_email(practice):
    sign_in(practice, "patient_a")
    with pytest.raises(identity.SignInRefused):
        sign_in(practice, "patient_a", "not the password at all")
    with practice.database.unit_of_work() as uow:
        events = (
            uow.session.exec(select(models.AuditEvent).order_by(models.AuditEvent.occurred_at))
            .scalars()
            .all()
        )
    outcomes = [(e.action, e.outcome) for e in events]
    assert ("auth.sign_in", "success") in outcomes
    assert ("auth.sign_in", "failure") in outcomes
    failure = next(e for e in events if e.outcome == "failure")
    assert failure.actor_user_id == practice.patient_a.user_id
    assert all(practice.emails["patient_a"] not in str(e.model_dump()) for e in events)
