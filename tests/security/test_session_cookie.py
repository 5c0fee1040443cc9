"""The session cookie in a real browser and on the served portal: after a real sign-in it is
HttpOnly and SameSite=Strict, no script can read it, and the token never travels over the
websocket or in a URL; signing out clears it and the old token is refused; the routes that set
and clear it refuse other sites' forms."""

from __future__ import annotations

import urllib.error
import urllib.request
from urllib.parse import parse_qs

import pytest
from playwright.sync_api import expect

from portal.backend.api.session_cookie import END_PATH, START_PATH
from portal.backend.security.tokens import SESSION_COOKIE
from portal.backend.services import sessions
from tests.security.conftest import PASSWORD
from tests.security.harness import forget_failed_sign_ins


def test_a_real_sign_in_gets_a_cookie_no_script_or_frame_ever_sees(
    new_context, portal_url, portal_database, new_patient, canary_traces
):
    forget_failed_sign_ins(portal_database)
    person = new_patient("Hedda", "Httponly")
    context = new_context()
    page = context.new_page()
    canary_traces.follow(page)
    frames: list[str] = []
    tickets: list[str] = []

    def watch_socket(socket) -> None:
        socket.on("framereceived", lambda payload: frames.append(str(payload)))
        socket.on("framesent", lambda payload: frames.append(str(payload)))

    def keep_ticket(request) -> None:
        if request.method == "POST" and request.url == f"{portal_url}{START_PATH}":
            tickets.extend(parse_qs(request.post_data or "").get("ticket", []))

    page.on("websocket", watch_socket)
    page.on("request", keep_ticket)
    page.goto("/sign-in", wait_until="networkidle")
    page.get_by_label("Email address").fill(person.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Code from your authenticator app").fill(person.code())
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hedda")

    (cookie,) = [c for c in context.cookies() if c["name"] == SESSION_COOKIE]
    token = cookie["value"]
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/"
    assert SESSION_COOKIE not in page.evaluate("() => document.cookie")
    assert len(tickets) == 1 and tickets[0] not in token
    assert frames and not [frame for frame in frames if token in frame]
    urls = [url for url in canary_traces.urls if url.startswith(portal_url)]
    assert not [url for url in urls if token in url or tickets[0] in url]

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_contain_text("You were signed out")
    assert SESSION_COOKIE not in {c["name"] for c in context.cookies()}
    refused = sessions.check_session(token, uow=portal_database.unit_of_work())
    assert refused.principal is None
    canary_traces.keep_storage(page)


@pytest.mark.parametrize("path", [START_PATH, END_PATH])
def test_another_sites_form_is_refused(portal_url, accounts, path):
    token = accounts.session_token("james.wilson@example.com")
    request = urllib.request.Request(  # noqa: S310
        f"{portal_url}{path}",
        data=b"ticket=forged&landing=/",
        method="POST",
        headers={
            "Origin": "https://attacker.example",
            "Sec-Fetch-Site": "cross-site",
            "Cookie": f"{SESSION_COOKIE}={token}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    with pytest.raises(urllib.error.HTTPError) as refusal:
        urllib.request.urlopen(request, timeout=30)  # noqa: S310
    assert refusal.value.code == 403
    assert refusal.value.headers.get("set-cookie") is None
    assert sessions.check_session(token, uow=accounts.database.unit_of_work()).principal
