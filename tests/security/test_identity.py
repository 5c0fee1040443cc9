"""Attacks on signing in, over real websocket connections to the running portal: one TOTP code
replayed on parallel connections, codes guessed in parallel, the lockout dodged with email
variants (case, spaces, fullwidth letters, invisible characters), a spoofed X-Forwarded-For.
A reset link is used twice and after it expired.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from portal.backend import models
from portal.backend.services import sign_in
from portal.pages.auth.sign_in import SignInState
from tests.e2e.socket import in_thread
from tests.security.conftest import PASSWORD, Person
from tests.security.harness import connect, emit, forget_failed_sign_ins, router

SUBMIT_PASSWORD = f"{SignInState.get_full_name()}.submit_password"
SUBMIT_CODE = f"{SignInState.get_full_name()}.submit_code"


@pytest.fixture(autouse=True)
def address_budget(portal_database):
    forget_failed_sign_ins(portal_database)
    yield
    forget_failed_sign_ins(portal_database)


def sign_in_in_parallel(base: str, email: str, codes: list[list[str]], headers=None) -> None:
    """One connection per list of codes: the password step, then each code in turn."""

    async def one(codes_of_this_tab: list[str]) -> None:
        client = await connect(base, headers=headers)
        await emit(client, SUBMIT_PASSWORD, {"form_data": {"email": email, "password": PASSWORD}})
        await asyncio.sleep(2.5)  # argon2 takes a moment
        for code in codes_of_this_tab:
            await emit(client, SUBMIT_CODE, {"form_data": {"code": code}})
        await asyncio.sleep(4)
        await client.disconnect()

    async def everyone() -> None:
        await asyncio.gather(*(one(c) for c in codes))

    in_thread(everyone())


def sessions_of(database, person: Person) -> int:
    with database.unit_of_work() as uow:
        return uow.session.exec(
            select(func.count())
            .select_from(models.UserSession)
            .where(models.UserSession.user_id == person.user_id)
        ).scalar_one()


def user(database, person: Person) -> models.User:
    with database.unit_of_work() as uow:
        return uow.session.get(models.User, person.user_id)


def can_sign_in(database, email: str, person: Person) -> bool:
    """The right password and a fresh code, straight through the service."""
    challenge = sign_in.begin_sign_in(
        email, PASSWORD, client="198.51.100.20", uow=database.unit_of_work()
    )
    try:
        sign_in.complete_sign_in(
            challenge.token,
            person.code(steps_ahead=1),
            client="198.51.100.20",
            device="test",
            uow=database.unit_of_work(),
        )
    except sign_in.SignInFailed:
        return False
    return True


def test_one_code_replayed_on_six_parallel_connections_opens_one_session(
    portal_url, portal_database, new_patient
):
    person = new_patient("Rhea", "Replay")
    code = person.code()
    sign_in_in_parallel(portal_url, person.email, [[code]] * 6)
    assert sessions_of(portal_database, person) == 1


def test_guessing_codes_on_parallel_connections_locks_the_account(
    portal_url, portal_database, new_patient
):
    person = new_patient("Gus", "Guesser")
    right = {person.code(steps) for steps in (-1, 0, 1)}
    guesses = [f"{n:06d}" for n in range(100_000, 100_012) if f"{n:06d}" not in right]
    sign_in_in_parallel(portal_url, person.email, [guesses[i::4] for i in range(4)])
    assert sessions_of(portal_database, person) == 0
    locked = user(portal_database, person).locked_until
    assert locked is not None
    assert not can_sign_in(portal_database, person.email, person)


@pytest.mark.parametrize(
    "variants",
    [
        ["{e}", "{E}", " {e} ", "{e}\t", "\u00a0{E}"],  # case and spaces reach the account
    ],
)
def test_email_variants_count_towards_one_lockout(portal_database, new_patient, variants):
    person = new_patient("Vera", "Variant")
    for variant in variants:
        email = variant.format(e=person.email, E=person.email.upper())
        sign_in.begin_sign_in(
            email,
            "wrong but long password",
            client="198.51.100.21",
            uow=portal_database.unit_of_work(),
        )
    assert user(portal_database, person).locked_until is not None, "a variant escaped the count"
    assert not can_sign_in(portal_database, person.email, person)


def test_unicode_lookalikes_of_a_locked_email_cannot_sign_in(portal_database, new_patient):
    person = new_patient("Lena", "Lookalike")
    for _ in range(5):
        sign_in.begin_sign_in(
            person.email,
            "wrong but long password",
            client="198.51.100.22",
            uow=portal_database.unit_of_work(),
        )
    assert user(portal_database, person).locked_until is not None
    local, domain = person.email.split("@")
    fullwidth = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in local)
    for lookalike in (
        f"{fullwidth}@{domain}",
        f"{local}\u200b@{domain}",
        f"{local}@{domain}\u3000",
        f"{local.upper()}@{domain.upper()}\u2028",
        f"{local}\uff20{domain}",
    ):
        assert not can_sign_in(portal_database, lookalike, person), repr(lookalike)


def test_a_spoofed_forwarded_for_is_not_taken_as_the_address(portal_url, portal_database):
    """The per-address limit counts the connection's own address: a client cannot name
    another with X-Forwarded-For (Reflex's `trusted_proxy_hops` is 0)."""

    async def attempt() -> None:
        client = await connect(portal_url, headers={"X-Forwarded-For": "203.0.113.99"})
        await emit(
            client,
            SUBMIT_PASSWORD,
            {"form_data": {"email": "nobody@evil.example", "password": "x" * 20}},
        )
        await asyncio.sleep(3)
        await client.disconnect()

    in_thread(attempt())
    with portal_database.unit_of_work() as uow:
        spoofed = sign_in._client_hash(uow, "203.0.113.99")
        real = sign_in._client_hash(uow, "127.0.0.1")
        hashes = [
            row[0] for row in uow.session.exec(select(models.SignInAttempt.client_hash)).all()
        ]
    assert spoofed not in hashes
    assert real in hashes


def test_thirty_failures_block_the_address_whatever_forwarded_for_says(portal_url, portal_database):
    with portal_database.unit_of_work() as uow:
        real = sign_in._client_hash(uow, "127.0.0.1")
        for _ in range(30):
            uow.session.add(models.SignInAttempt(client_hash=real, succeeded=False))
        uow.commit()

    replies: list[str] = []

    async def attempt() -> None:
        client = await connect(portal_url, headers={"X-Forwarded-For": "203.0.113.100"})

        @client.on("event", namespace="/_event")
        async def on_update(data) -> None:
            replies.append(str(data))

        await emit(
            client,
            SUBMIT_PASSWORD,
            {"form_data": {"email": "nobody@evil.example", "password": "x" * 20}},
        )
        await asyncio.sleep(3)
        await client.disconnect()

    in_thread(attempt())
    assert any("Too many" in reply or "too many" in reply for reply in replies), replies[-3:]


def _reset_over_the_socket(base: str, link: str, password: str) -> list[str]:
    """Open the emailed link's page and choose a password, as the page does."""
    from urllib.parse import parse_qs, urlsplit

    from portal.pages.auth.password_reset import ResetPasswordState

    parts = urlsplit(link)
    route = router(parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()})
    name = ResetPasswordState.get_full_name()
    replies: list[str] = []

    async def reset() -> None:
        client = await connect(base)

        @client.on("event", namespace="/_event")
        async def on_update(data) -> None:
            replies.append(str(data))

        await emit(client, f"{name}.load", {}, route)
        await asyncio.sleep(1.5)
        form = {"password": password, "again": password}
        await emit(client, f"{name}.choose", {"form_data": form}, router(parts.path))
        await asyncio.sleep(4)
        await client.disconnect()

    in_thread(reset())
    return replies


def _password_works(database, person: Person, password: str) -> bool:
    from portal.backend.security.passwords import verify_password

    return verify_password(password, user(database, person).password_hash)[0]


def test_a_reset_link_works_once_and_not_after_it_expires(portal_url, portal_database, new_patient):
    from portal.backend.services import account_recovery

    def link_for(person: Person) -> str:
        account_recovery.request_password_reset(person.email, uow=portal_database.unit_of_work())
        with portal_database.unit_of_work() as uow:
            mails = uow.session.exec(select(models.Notification)).scalars().all()
            links = [
                m.parameters.get("link", "")
                for m in mails
                if m.user_id == person.user_id and m.channel == "email" and "link" in m.parameters
            ]
        assert links
        return links[-1]

    person = new_patient("Reese", "Reset")
    link = link_for(person)
    _reset_over_the_socket(portal_url, link, "first new passphrase 2026")
    assert _password_works(portal_database, person, "first new passphrase 2026")
    _reset_over_the_socket(portal_url, link, "second new passphrase 2026")  # reused
    assert not _password_works(portal_database, person, "second new passphrase 2026")

    late = new_patient("Liam", "Late")
    link = link_for(late)
    with portal_database.unit_of_work() as uow:
        for token in uow.session.exec(
            select(models.AccountToken).where(models.AccountToken.user_id == late.user_id)
        ).scalars():
            token.expires_at = token.created_at
        uow.commit()
    _reset_over_the_socket(portal_url, link, "too late passphrase 2026")
    assert not _password_works(portal_database, late, "too late passphrase 2026")
    assert _password_works(portal_database, late, PASSWORD)
