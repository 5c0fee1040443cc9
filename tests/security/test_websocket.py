"""The websocket itself: a signed-out tab's token reaches no PHI again (moved from
tests/e2e/test_attacks.py), foreign Origins are refused, and oversized frames are refused
while the server carries on serving everyone else."""

from __future__ import annotations

import asyncio
import urllib.request

import pytest
import socketio
from playwright.sync_api import expect

from portal.pages.patient.home import PatientHomeState
from portal.state.session import SessionState
from tests.e2e.socket import call_handlers, connects, in_thread
from tests.security.harness import connect, emit


def test_a_signed_out_tabs_token_reaches_no_phi(new_context, portal_url, canary_traces):
    email = "hannah.schmidt@example.com"
    context = new_context(email)
    session_token = context.cookies()[0]["value"]
    page = context.new_page()
    canary_traces.follow(page)
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Hannah")
    tab_token = page.evaluate("() => sessionStorage.getItem('token')")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_contain_text("You were signed out")
    assert page.evaluate("() => sessionStorage.getItem('token')") != tab_token
    canary_traces.keep_storage(page)
    replies = call_handlers(
        portal_url,
        [
            (f"{SessionState.get_full_name()}.enter", {"role": "patient", "screen": ""}),
            (f"{PatientHomeState.get_full_name()}.load", {}),
        ],
        session_token=session_token,
        tab_token=tab_token,
    )
    assert replies
    assert not any(marker in reply for reply in replies for marker in ("Hannah", "Schmidt"))
    # The old tab token with no cookie at all: nothing of the signed-in screen is left either.
    replies = call_handlers(
        portal_url, [(f"{PatientHomeState.get_full_name()}.load", {})], tab_token=tab_token
    )
    assert not any(marker in reply for reply in replies for marker in ("Hannah", "Schmidt"))


@pytest.mark.parametrize(
    "origin",
    [
        "https://attacker.example",
        "null",
        "http://127.0.0.1.attacker.example",
        "http://localhost.attacker.example",
    ],
)
def test_a_foreign_origin_is_refused(portal_url, origin):
    assert connects(portal_url, origin=origin) is False


def test_the_portals_own_origin_connects(portal_url):
    assert connects(portal_url, origin=portal_url) is True


def _healthy(base: str) -> bool:
    with urllib.request.urlopen(f"{base}/healthz", timeout=30) as response:  # noqa: S310
        return response.status == 200


@pytest.mark.parametrize("megabytes", [2, 16])
def test_an_oversized_frame_is_refused_and_the_server_carries_on(portal_url, megabytes):
    """A frame over the 1 MB limit is never handed to a handler (a processed one would answer
    "Enter both …"); the server keeps serving."""
    from portal.pages.auth.sign_in import SignInState

    async def flood() -> list[str]:
        client = await connect(portal_url)
        replies: list[str] = []

        @client.on("event", namespace="/_event")
        async def on_update(data) -> None:
            replies.append(str(data))

        big = {"form_data": {"email": "x" * (megabytes * 1024 * 1024), "password": ""}}
        try:
            await emit(client, f"{SignInState.get_full_name()}.submit_password", big)
            await asyncio.sleep(3)
        except socketio.exceptions.SocketIOError:
            pass
        if client.connected:
            await client.disconnect()
        return replies

    replies = in_thread(flood())
    assert not any("Enter both" in reply for reply in replies)
    assert _healthy(portal_url)
    assert connects(portal_url, origin=portal_url) is True
