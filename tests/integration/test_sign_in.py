"""Signing in with a password and a second factor: answers that reveal nothing, a TOTP code
accepted once (also under a race), recovery codes, lockout and the per-address limit."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.backend import clock, models
from portal.backend.security import totp
from portal.backend.security.principal import Role
from portal.backend.services import mfa, sign_in
from tests.integration.factories import PASSWORD

CLIENT = "198.51.100.4"


def begin(practice, who: str, password: str = PASSWORD, client: str = CLIENT):
    email = practice.emails.get(who, who)
    return sign_in.begin_sign_in(
        email, password, client=client, uow=practice.database.unit_of_work()
    )


def complete(practice, challenge, code: str, client: str = CLIENT):
    return sign_in.complete_sign_in(
        challenge.token,
        code,
        client=client,
        device="Test browser",
        uow=practice.database.unit_of_work(),
    )


def next_step() -> None:
    clock.travel(timedelta(seconds=totp.STEP_SECONDS))


def user(practice, who: str) -> models.User:
    with practice.database.unit_of_work() as uow:
        return uow.session.get(models.User, practice.user_ids[who])


def test_password_then_code_opens_a_session(practice):
    challenge = begin(practice, "patient_a")
    assert challenge.enroll is False
    principal = complete(practice, challenge, practice.code("patient_a"))
    assert principal.role == Role.PATIENT
    assert principal.patient_id == practice.patient_a.id
    with practice.database.unit_of_work() as uow:
        session = uow.session.get(models.UserSession, principal.session_id)
        assert session.user_id == practice.user_ids["patient_a"] and session.ended_at is None


def test_a_code_from_the_step_before_or_after_is_accepted(practice):
    for drift in (-1, 1):
        next_step()
        next_step()
        challenge = begin(practice, "provider")
        complete(practice, challenge, practice.code("provider", steps_ahead=drift))


def test_a_code_two_steps_away_is_refused(practice):
    challenge = begin(practice, "provider")
    with pytest.raises(sign_in.SignInFailed):
        complete(practice, challenge, practice.code("provider", steps_ahead=2))


def test_the_first_step_answers_alike_for_wrong_password_unknown_email_and_locked_account(practice):
    with practice.database.unit_of_work() as uow:
        uow.session.get(models.User, practice.user_ids["patient_b"]).locked_until = (
            clock.now() + timedelta(minutes=10)
        )
        uow.commit()
    answers = [
        begin(practice, "patient_a", "wrong password for sure"),
        begin(practice, "nobody@nowhere.example"),
        begin(practice, "patient_b"),
    ]
    assert all(type(a) is sign_in.Challenge and a.enroll is False for a in answers)
    for answer, who in zip(answers, ("patient_a", "patient_a", "patient_b"), strict=True):
        with pytest.raises(sign_in.SignInFailed) as failure:
            complete(practice, answer, practice.code(who))
        assert str(failure.value) == sign_in.SIGN_IN_FAILED


def test_a_code_is_accepted_once(practice):
    code = practice.code("admin")
    complete(practice, begin(practice, "admin"), code)
    with pytest.raises(sign_in.SignInFailed):
        complete(practice, begin(practice, "admin"), code)


def test_two_sign_ins_racing_with_one_code_let_one_in(practice):
    code = practice.code("admin")
    challenges = [begin(practice, "admin") for _ in range(6)]

    def attempt(challenge) -> bool:
        try:
            complete(practice, challenge, code)
        except sign_in.SignInFailed:
            return False
        return True

    with ThreadPoolExecutor(6) as pool:
        outcomes = list(pool.map(attempt, challenges))
    assert outcomes.count(True) == 1


def test_a_challenge_is_single_use_and_short_lived(practice):
    challenge = begin(practice, "provider")
    complete(practice, challenge, practice.code("provider"))
    next_step()
    with pytest.raises(sign_in.SignInFailed):
        complete(practice, challenge, practice.code("provider"))
    late = begin(practice, "provider")
    clock.travel(sign_in.CHALLENGE_LIFETIME + timedelta(seconds=1))
    with pytest.raises(sign_in.SignInFailed):
        complete(practice, late, practice.code("provider"))


def test_the_code_step_without_the_password_step_is_refused_and_audited(practice):
    with pytest.raises(sign_in.SignInFailed):
        complete(practice, sign_in.Challenge("forged-token"), practice.code("patient_a"))
    with practice.database.unit_of_work() as uow:
        outcomes = (
            uow.session.exec(
                select(models.AuditEvent.outcome).where(models.AuditEvent.action == "auth.mfa")
            )
            .scalars()
            .all()
        )
    assert "no_challenge" in outcomes


def test_recovery_codes_work_once_each(practice):
    with practice.database.unit_of_work() as uow:
        codes = mfa.replace_recovery_codes(
            uow, uow.session.get(models.User, practice.user_ids["patient_a"])
        )
        uow.commit()
    assert len(codes) == 10 and len(set(codes)) == 10
    complete(practice, begin(practice, "patient_a"), codes[0].lower().replace("-", " "))
    with pytest.raises(sign_in.SignInFailed):
        complete(practice, begin(practice, "patient_a"), codes[0])
    complete(practice, begin(practice, "patient_a"), codes[1])


def test_five_failures_lock_the_account_for_15_minutes_and_email_its_owner(practice):
    for _ in range(3):
        begin(practice, "patient_a", "wrong password for sure")
    challenge = begin(practice, "patient_a")
    for _ in range(2):
        with pytest.raises(sign_in.SignInFailed):
            complete(practice, challenge, "000000")
    assert user(practice, "patient_a").locked_until is not None
    next_step()
    with pytest.raises(sign_in.SignInFailed):  # the right password and code, but locked
        complete(practice, begin(practice, "patient_a"), practice.code("patient_a"))
    clock.travel(sign_in.LOCKOUT)
    next_step()
    complete(practice, begin(practice, "patient_a"), practice.code("patient_a"))
    with practice.database.unit_of_work() as uow:
        mails = uow.session.exec(select(models.Notification)).scalars().all()
        locks = [m for m in mails if m.template_id == "account_locked"]
        assert len(locks) == 1
        assert locks[0].recipient == practice.emails["patient_a"]
        assert set(locks[0].parameters) == {"practice", "minutes"}


def test_a_success_resets_the_failure_count(practice):
    for _ in range(4):
        begin(practice, "provider", "wrong password for sure")
    complete(practice, begin(practice, "provider"), practice.code("provider"))
    assert user(practice, "provider").failed_sign_ins == 0


def test_an_address_with_too_many_failures_is_refused_for_a_while(practice):
    noisy = "203.0.113.9"
    for index in range(sign_in.ADDRESS_FAILURES_ALLOWED):
        begin(practice, f"nobody{index}@nowhere.example", client=noisy)
    with pytest.raises(sign_in.SignInFailed) as refusal:
        begin(practice, "provider", client=noisy)
    assert str(refusal.value) == sign_in.TOO_MANY_ATTEMPTS
    complete(
        practice,
        begin(practice, "provider", client="203.0.113.10"),
        practice.code("provider"),
        client="203.0.113.10",
    )
    clock.travel(sign_in.ADDRESS_WINDOW)
    assert begin(practice, "provider", client=noisy)


def test_an_account_without_an_authenticator_must_set_one_up_first(practice):
    with practice.database.unit_of_work() as uow:
        account = uow.session.get(models.User, practice.user_ids["admin"])
        account.totp_secret = account.mfa_enrolled_at = None
        uow.commit()
    challenge = begin(practice, "admin")
    assert challenge.enroll is True
    with pytest.raises(sign_in.SignInFailed):  # no way in without enrolling
        complete(practice, challenge, "123456")
    challenge = begin(practice, "admin")
    setup = sign_in.start_enrollment(challenge.token, uow=practice.database.unit_of_work())
    assert setup.qr_code.startswith("data:image/svg+xml;base64,")
    secret = setup.secret.replace(" ", "")
    with pytest.raises(mfa.CodeRejected):
        sign_in.finish_enrollment(
            challenge.token,
            "000000",
            client=CLIENT,
            device="",
            uow=practice.database.unit_of_work(),
        )
    codes, principal = sign_in.finish_enrollment(
        challenge.token,
        totp.code_for(secret),
        client=CLIENT,
        device="",
        uow=practice.database.unit_of_work(),
    )
    assert len(codes) == 10 and principal.role == Role.ADMIN
    with practice.database.unit_of_work() as uow:
        count = uow.session.exec(
            select(func.count())
            .select_from(models.RecoveryCode)
            .where(models.RecoveryCode.user_id == practice.user_ids["admin"])
        ).scalar_one()
    assert count == 10


def test_an_admin_unlocks_a_locked_account_and_it_is_audited(practice):
    from portal.backend.services import accounts

    for _ in range(sign_in.FAILURES_BEFORE_LOCKOUT):
        begin(practice, "patient_b", "wrong password for sure")
    admin = practice.principal("admin")
    locked = accounts.locked_accounts(admin, uow=practice.database.unit_of_work())
    assert [entry.name for entry in locked] == ["Bob Beta"]
    with pytest.raises(Exception):  # noqa: B017  (a patient may not unlock)
        accounts.unlock(
            practice.principal("patient_a"),
            practice.user_ids["patient_b"],
            uow=practice.database.unit_of_work(),
        )
    accounts.unlock(admin, practice.user_ids["patient_b"], uow=practice.database.unit_of_work())
    assert accounts.locked_accounts(admin, uow=practice.database.unit_of_work()) == []
    complete(practice, begin(practice, "patient_b"), practice.code("patient_b"))
    with practice.database.unit_of_work() as uow:
        actions = uow.session.exec(select(models.AuditEvent.action)).scalars().all()
        unlocked = uow.session.exec(
            select(models.AuditEvent).where(models.AuditEvent.action == "admin.unlock")
        ).scalar_one()
    assert "admin.unlock" in actions and "auth.lockout" in actions
    # The patient's id is on the event, so the log filtered by the patient shows the unlock.
    assert unlocked.patient_id == practice.patient_b.id
