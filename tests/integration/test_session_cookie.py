"""The session cookie is set and cleared only by HTTP answers, so it is HttpOnly: a sign-in's
one-time ticket is redeemed once, within a minute, from the portal's own pages only, for the
session it names; signing out ends the session and expires the cookie."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.backend import clock, models
from portal.backend.api.session_cookie import END_PATH, START_PATH
from portal.backend.config import settings
from portal.backend.security.principal import NotFound
from portal.backend.security.tokens import SESSION_COOKIE
from portal.backend.services import session_tickets, sessions
from tests.integration.api_client import http, portal_api

OWN_PAGE = {"Sec-Fetch-Site": "same-origin", "Origin": "null"}
FOREIGN = [
    {"Sec-Fetch-Site": "cross-site", "Origin": "https://attacker.example"},
    {"Sec-Fetch-Site": "same-site", "Origin": "null"},
    {"Sec-Fetch-Site": "same-origin", "Origin": "https://attacker.example"},
    {"Origin": "null"},
    {},
]


def ticket_for(practice, who: str):
    principal = practice.principal(who)
    return principal, session_tickets.issue_ticket(principal, uow=practice.database.unit_of_work())


def start(api, ticket: str, landing: str = "/", headers: dict | None = None):
    return http(
        api,
        "POST",
        START_PATH,
        data={"ticket": ticket, "landing": landing},
        headers=OWN_PAGE if headers is None else headers,
    )


def resolve(practice, token: str):
    return sessions.resolve_session(token, uow=practice.database.unit_of_work())


def ticket_outcomes(practice) -> list[str]:
    with practice.database.unit_of_work() as uow:
        return sorted(
            uow.session.exec(
                select(models.AuditEvent.outcome).where(
                    models.AuditEvent.action == "auth.session_cookie"
                )
            )
            .scalars()
            .all()
        )


def test_a_ticket_starts_its_session_once_with_an_httponly_cookie(practice, api):
    principal, ticket = ticket_for(practice, "patient_a")
    reply = start(api, ticket, landing="/welcome/setup")
    assert reply.status_code == 303 and reply.headers["location"] == "/welcome/setup"
    assert reply.headers["cache-control"] == "no-store"
    cookie = reply.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert {"httponly", "samesite=strict", "path=/"} <= {
        part.strip().lower() for part in cookie.split(";")
    }
    assert "secure" not in cookie.lower()  # plain http here; see the https test below
    token = reply.cookies[SESSION_COOKIE]
    assert resolve(practice, token) == principal
    assert ticket.split(".")[1] not in token  # the token is minted at redemption

    again = start(api, ticket)
    assert again.status_code == 303 and again.headers["location"] == "/sign-in?not_started=1"
    assert "set-cookie" not in again.headers
    assert resolve(practice, token) == principal
    assert ticket_outcomes(practice) == ["reused", "success"]


def test_an_expired_unknown_or_forged_ticket_or_an_ended_session_sets_nothing(practice, api):
    _, late = ticket_for(practice, "patient_a")
    clock.travel(session_tickets.TICKET_LIFETIME + timedelta(seconds=1))
    signed_out, ended = ticket_for(practice, "patient_b")
    sessions.sign_out(signed_out, uow=practice.database.unit_of_work())
    _, real = ticket_for(practice, "provider")
    other_session = practice.principal("provider").session_id.hex
    forged = f"{other_session}.{real.split('.', 1)[1]}"
    for ticket in (late, ended, "no-such-ticket", forged):
        reply = start(api, ticket)
        assert reply.headers["location"] == "/sign-in?not_started=1", ticket
        assert "set-cookie" not in reply.headers
    oversized = start(api, "x" * 5000)
    assert oversized.status_code == 400 and "set-cookie" not in oversized.headers
    assert ticket_outcomes(practice) == ["expired", "session_ended", "unknown", "unknown"]


def test_a_ticket_is_only_issued_for_a_live_session(practice):
    principal = practice.principal("patient_a")
    sessions.sign_out(principal, uow=practice.database.unit_of_work())
    with pytest.raises(NotFound):
        session_tickets.issue_ticket(principal, uow=practice.database.unit_of_work())


@pytest.mark.parametrize("headers", FOREIGN, ids=lambda h: ",".join(h.values()) or "none")
def test_a_post_from_anywhere_but_the_portals_pages_is_refused(practice, api, headers):
    principal, ticket = ticket_for(practice, "patient_a")
    refused = start(api, ticket, headers=headers)
    assert refused.status_code == 403 and "set-cookie" not in refused.headers
    token = practice.token("patient_b")
    out = http(api, "POST", END_PATH, token=token, headers=headers)
    assert out.status_code == 403 and "set-cookie" not in out.headers
    assert resolve(practice, token) is not None
    # Nothing was spent: the portal's own page can still redeem the ticket.
    assert resolve(practice, start(api, ticket).cookies[SESSION_COOKIE]) == principal


def test_the_portals_origin_is_enough_for_a_browser_without_fetch_metadata(practice, api):
    _, ticket = ticket_for(practice, "patient_a")
    reply = start(api, ticket, headers={"Origin": settings().public_url})
    assert SESSION_COOKIE in reply.cookies


def test_a_landing_outside_the_portal_leads_home_instead(practice, api):
    for landing in ("//attacker.example/x", "https://attacker.example", "/\\attacker", ""):
        _, ticket = ticket_for(practice, "patient_a")
        assert start(api, ticket, landing=landing).headers["location"] == "/", landing


def test_two_redemptions_racing_with_one_ticket_let_one_in(practice):
    _, ticket = ticket_for(practice, "admin")

    def redeem(_attempt: int):
        return session_tickets.redeem_ticket(ticket, uow=practice.database.unit_of_work())

    with ThreadPoolExecutor(6) as pool:
        redeemed = [signed for signed in pool.map(redeem, range(6)) if signed is not None]
    assert len(redeemed) == 1


def test_signing_out_ends_the_session_and_expires_the_cookie(practice, api):
    token = practice.token("patient_a")
    reply = http(api, "POST", END_PATH, token=token, headers=OWN_PAGE)
    assert reply.status_code == 303 and reply.headers["location"] == "/sign-in?signed_out=1"
    assert reply.headers["cache-control"] == "no-store"
    parts = {part.strip().lower() for part in reply.headers["set-cookie"].split(";")}
    assert {f'{SESSION_COOKIE.lower()}=""', "max-age=0", "httponly", "path=/"} <= parts
    assert resolve(practice, token) is None
    # Without a cookie (a session that already ended, e.g. by timeout) it still clears it.
    cleared = http(api, "POST", END_PATH, headers=OWN_PAGE).headers["set-cookie"]
    assert "max-age=0" in cleared.lower()


def test_behind_https_the_cookie_is_secure(database, practice, monkeypatch):
    public = "https://portal.example.org"
    with portal_api(database, monkeypatch, PORTAL_PUBLIC_URL=public) as app:
        _, ticket = ticket_for(practice, "patient_a")
        reply = start(app, ticket, headers={"Origin": public})
        assert "secure" in {part.strip().lower() for part in reply.headers["set-cookie"].split(";")}
