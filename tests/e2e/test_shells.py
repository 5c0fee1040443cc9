"""The three shells in Chromium: sign-in, each role's home with real data, guards, sign-out,
the not-found page, phone width, accessibility and what the browser keeps."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from portal.backend.demo import DEMO_PASSWORD, demo_logins

LOGINS = {login.role: login for login in demo_logins()}
HOMES = {"patient": "/", "provider": "/provider", "admin": "/admin"}
HEADINGS = {"patient": "Hello, Maria", "provider": "Today,", "admin": "Riverside Family Health"}
SERIOUS = {"serious", "critical"}


def at(base: str, path: str) -> re.Pattern:
    """The URL of `path`, with or without the trailing slash the static server may add."""
    return re.compile(re.escape(base + path.rstrip("/")) + "/?$")


def sign_in(page: Page, role: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/sign-in")
    page.get_by_label("Email address").fill(LOGINS[role].email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def assert_accessible(page: Page) -> None:
    results = Axe().run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in SERIOUS]
    assert not serious, results.generate_report()


def test_sign_in_page_is_accessible(page: Page):
    page.goto("/sign-in")
    expect(page.get_by_role("heading", level=1)).to_have_text("Patient portal")
    assert_accessible(page)


@pytest.mark.parametrize("role", ["patient", "provider", "admin"])
def test_each_role_signs_in_to_its_own_home_with_real_data(page: Page, portal_url: str, role: str):
    sign_in(page, role)
    expect(page).to_have_url(at(portal_url, HOMES[role]))
    expect(page.get_by_role("heading", level=1)).to_contain_text(HEADINGS[role])
    assert_accessible(page)


def test_patient_home_shows_next_appointment_and_messages(page: Page):
    sign_in(page, "patient")
    next_visit = page.get_by_role("region", name="Your next appointment")
    expect(next_visit).to_contain_text("With")
    expect(next_visit).to_contain_text("upcoming appointment")
    messages = page.get_by_role("region", name="Messages from your care team")
    expect(messages).to_contain_text("unread")


def test_provider_home_lists_todays_schedule(page: Page):
    sign_in(page, "provider")
    schedule = page.get_by_role("region", name="Schedule")
    expect(schedule.get_by_role("row")).to_have_count(7)  # a header and six appointments


def test_a_wrong_password_is_refused_and_keeps_the_email(page: Page, portal_url: str):
    sign_in(page, "patient", password="not the right password")
    expect(page.get_by_role("alert")).to_contain_text("do not match an account")
    expect(page.get_by_label("Email address")).to_have_value(LOGINS["patient"].email)
    expect(page.get_by_label("Password")).to_have_value("")
    expect(page).to_have_url(at(portal_url, "/sign-in"))


@pytest.mark.parametrize("path", ["/", "/provider", "/admin"])
def test_signed_out_visitors_are_sent_to_sign_in(page: Page, portal_url: str, path: str):
    page.goto(path)
    expect(page).to_have_url(at(portal_url, "/sign-in"))
    expect(page.get_by_label("Email address")).to_be_visible()


def test_a_patient_cannot_enter_the_provider_or_admin_shell(page: Page, portal_url: str):
    sign_in(page, "patient")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")
    for path in ("/provider", "/admin"):
        page.goto(path)
        expect(page).to_have_url(at(portal_url, "/"))
        expect(page.get_by_role("heading", level=1)).to_contain_text("Hello, Maria")
    expect(page.get_by_text("Schedule")).to_have_count(0)


def test_sign_out_ends_the_session_and_clears_the_screen(page: Page, portal_url: str):
    sign_in(page, "patient")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello, Maria")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_contain_text("You were signed out")
    page.goto("/")
    expect(page).to_have_url(at(portal_url, "/sign-in"))
    page.go_back()
    expect(page.get_by_text("Hello, Maria")).to_have_count(0)


def test_unknown_addresses_show_the_not_found_page(page: Page):
    assert page.goto("/no/such/page").status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(page.get_by_role("link", name="Go to your home page")).to_be_visible()
    assert_accessible(page)


def test_the_browser_keeps_no_phi(page: Page):
    sign_in(page, "patient")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello, Maria")
    stored = page.evaluate(
        "() => JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage),"
        " document.cookie])"
    )
    for phi in ("Maria", "Garcia", "maria.garcia", "appointment", "Dr."):
        assert phi not in stored
    cookies = {cookie["name"] for cookie in page.context.cookies()}
    assert cookies <= {"portal_session"}


def test_phone_width_has_no_sideways_scrolling(browser, portal_url: str):
    context = browser.new_context(base_url=portal_url, viewport={"width": 360, "height": 740})
    page = context.new_page()
    for role in ("patient", "provider"):
        sign_in(page, role)
        expect(page.get_by_role("heading", level=1)).to_contain_text(HEADINGS[role])
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_role("status")).to_contain_text("You were signed out")
    context.close()


def test_the_websocket_refuses_a_foreign_origin(portal_url: str):
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    import socketio

    async def connect(origin: str) -> bool:
        client = socketio.AsyncClient(reconnection=False)
        try:
            await client.connect(
                f"{portal_url}?token=origin-probe",
                socketio_path="/_event",
                namespaces=["/_event"],
                transports=["websocket"],
                headers={"Origin": origin},
                wait_timeout=10,
            )
        except socketio.exceptions.ConnectionError:
            return False
        await client.disconnect()
        return True

    def attempt(origin: str) -> bool:
        # Playwright's sync API keeps an event loop on this thread; the client gets its own.
        with ThreadPoolExecutor(1) as thread:
            return thread.submit(asyncio.run, connect(origin)).result(timeout=60)

    assert attempt(portal_url) is True
    assert attempt("https://attacker.example") is False
