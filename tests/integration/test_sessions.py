"""Sessions live on the server: idle and absolute expiry, the limit of three, the list of
devices with sign-out, and the scheduler's sweep of expired sessions."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from portal.backend import clock, models
from portal.backend.security.principal import NotFound
from portal.backend.services import branding, notifications, page_entry, sessions


def open_for(practice, who: str, device: str = "Firefox on Linux") -> sessions.SignedIn:
    with practice.database.unit_of_work() as uow:
        signed = sessions.open_session(
            uow, uow.session.get(models.User, practice.user_ids[who]), device=device
        )
        uow.commit()
        return signed


def resolve(practice, token: str):
    return sessions.resolve_session(token, uow=practice.database.unit_of_work())


def ended(practice, session_id) -> str | None:
    with practice.database.unit_of_work() as uow:
        return uow.session.get(models.UserSession, session_id).end_reason


def test_activity_keeps_a_session_alive_and_idleness_ends_it(practice):
    signed = open_for(practice, "patient_a")
    for _ in range(3):
        clock.travel(timedelta(minutes=10))
        assert resolve(practice, signed.token) == signed.principal
    clock.travel(timedelta(minutes=15, seconds=1))
    assert resolve(practice, signed.token) is None
    assert ended(practice, signed.principal.session_id) == "idle_timeout"


def test_checking_a_session_is_not_activity(practice):
    signed = open_for(practice, "patient_a")
    clock.travel(timedelta(minutes=13))
    check = sessions.check_session(signed.token, uow=practice.database.unit_of_work())
    assert check.principal == signed.principal
    assert 110 <= check.idle_seconds_left <= 120
    clock.travel(timedelta(minutes=2, seconds=1))
    assert (
        sessions.check_session(signed.token, uow=practice.database.unit_of_work()).principal is None
    )


@pytest.mark.parametrize("who", ["patient_a", "provider", "admin"])
def test_checking_a_session_is_one_query_that_names_the_whole_principal(practice, who):
    """Checked on every event: the session, the user's role and status, the idle limit and the
    patient or provider id come back together, and no row with PHI is loaded."""
    signed = open_for(practice, who)
    statements: list[str] = []

    def executed(_connection, _cursor, statement, *_args) -> None:
        statements.append(statement)

    engine = practice.database.engine
    event.listen(engine, "before_cursor_execute", executed)
    try:
        check = sessions.check_session(signed.token, uow=practice.database.unit_of_work())
    finally:
        event.remove(engine, "before_cursor_execute", executed)
    assert check.principal == signed.principal
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len([s for s in reads if "data_keys" not in s]) == 1
    assert "users.email" not in reads[-1]


def test_entering_a_page_checks_the_session_and_reads_the_shell(practice):
    """Every page's guard, in one call: the session (as activity), the practice's brand and
    the unread counts."""
    signed = open_for(practice, "patient_a")
    clock.travel(timedelta(minutes=10))
    entry = page_entry.enter_page(signed.token, uow=practice.database.unit_of_work())
    assert entry.principal == signed.principal
    assert entry.brand == branding.brand(practice.tenant_id, uow=practice.database.unit_of_work())
    assert entry.unread == notifications.unread_counts(
        signed.principal, uow=practice.database.unit_of_work()
    )
    clock.travel(timedelta(minutes=14))
    assert resolve(practice, signed.token) == signed.principal  # the entry was activity
    assert page_entry.enter_page("not-a-token", uow=practice.database.unit_of_work()) == (
        page_entry.PageEntry(None)
    )


def test_a_service_called_inside_another_shares_its_unit_of_work(practice):
    """The inner service's work stands or falls with the outer one's commit."""
    uow = practice.database.unit_of_work()
    with uow:
        outer = uow.session
        dropped = open_for_in(uow, practice, "patient_a")
        assert uow.session is outer
    with uow:
        kept = open_for_in(uow, practice, "patient_a")
        uow.commit()
    assert resolve(practice, dropped.token) is None
    assert resolve(practice, kept.token) == kept.principal


def open_for_in(uow, practice, who: str) -> sessions.SignedIn:
    with uow:
        return sessions.open_session(uow, uow.session.get(models.User, practice.user_ids[who]))


def test_the_practice_chooses_the_idle_limit(practice):
    with practice.database.unit_of_work() as uow:
        uow.session.get(models.Practice, practice.tenant_id).idle_timeout_minutes = 30
        uow.commit()
    signed = open_for(practice, "patient_a")
    clock.travel(timedelta(minutes=25))
    assert resolve(practice, signed.token) == signed.principal


def test_no_session_outlives_twelve_hours(practice):
    signed = open_for(practice, "provider")
    for _ in range(12 * 6):
        clock.travel(timedelta(minutes=10))
        resolve(practice, signed.token)
    assert resolve(practice, signed.token) is None
    assert ended(practice, signed.principal.session_id) == "absolute_timeout"


def test_a_fourth_session_ends_the_oldest(practice):
    first, *rest = [open_for(practice, "patient_a") for _ in range(4)]
    assert resolve(practice, first.token) is None
    assert ended(practice, first.principal.session_id) == "session_limit"
    assert all(resolve(practice, s.token) == s.principal for s in rest)


def test_devices_lists_only_the_callers_sessions_and_marks_this_one(practice):
    laptop = open_for(practice, "patient_a", "Firefox on Linux")
    phone = open_for(practice, "patient_a", "Safari on iPhone")
    open_for(practice, "patient_b")
    devices = sessions.devices(phone.principal, uow=practice.database.unit_of_work())
    assert [d.description for d in devices] == ["Safari on iPhone", "Firefox on Linux"]
    assert [d.current for d in devices] == [True, False]
    sessions.sign_out_device(
        phone.principal, uuid.UUID(devices[1].id), uow=practice.database.unit_of_work()
    )
    assert resolve(practice, laptop.token) is None


def test_signing_out_another_persons_session_answers_as_missing(practice):
    mine = open_for(practice, "patient_a")
    theirs = open_for(practice, "patient_b")
    with pytest.raises(NotFound):
        sessions.sign_out_device(
            mine.principal, theirs.principal.session_id, uow=practice.database.unit_of_work()
        )
    assert resolve(practice, theirs.token) == theirs.principal


def test_sign_out_everywhere_else_keeps_only_this_session(practice):
    others = [open_for(practice, "provider") for _ in range(2)]
    this = open_for(practice, "provider")
    assert (
        sessions.sign_out_everywhere_else(this.principal, uow=practice.database.unit_of_work()) == 2
    )
    assert all(resolve(practice, other.token) is None for other in others)
    assert resolve(practice, this.token) == this.principal


def test_sign_out_ends_the_session_for_good(practice):
    signed = open_for(practice, "admin")
    sessions.sign_out(signed.principal, uow=practice.database.unit_of_work())
    assert resolve(practice, signed.token) is None


def test_a_deactivated_user_loses_their_session(practice):
    signed = open_for(practice, "provider")
    with practice.database.unit_of_work() as uow:
        uow.session.get(models.User, signed.principal.user_id).status = "deactivated"
        uow.commit()
    assert resolve(practice, signed.token) is None


def test_garbage_tokens_resolve_to_nobody(practice):
    for token in ["", "x", "' OR 1=1 --", "a" * 10_000]:
        assert resolve(practice, token) is None


def test_the_sweep_ends_every_expired_session(practice):
    idle = open_for(practice, "patient_a")
    clock.travel(timedelta(minutes=10))
    active = open_for(practice, "patient_b")
    clock.travel(timedelta(minutes=6))
    assert sessions.end_expired_sessions(uow=practice.database.unit_of_work()) == 1
    assert ended(practice, idle.principal.session_id) == "idle_timeout"
    assert ended(practice, active.principal.session_id) is None
    with practice.database.unit_of_work() as uow:
        actions = uow.session.exec(select(models.AuditEvent.action)).scalars().all()
    assert "auth.session_idle_timeout" in actions
