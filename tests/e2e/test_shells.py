"""The three shells in Chromium: signing in with a password and a code, each role's home with
real data, guards, sign-out, the not-found page, phone width, accessibility and what the
browser keeps."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from portal.backend.demo import DEMO_PASSWORD, demo_logins
from portal.backend.models import Appointment, Practice, Provider
from portal.backend.models.base import utcnow
from tests.e2e.conftest import watch

LOGINS = {login.role: login.email for login in demo_logins()}
HOMES = {"patient": "/", "provider": "/provider", "admin": "/admin"}
HEADINGS = {"patient": "Hello, Maria", "provider": "Today,", "admin": "Riverside Family Health"}
SERIOUS = {"serious", "critical"}
OTHER_PATIENTS = [
    "james.wilson@example.com",
    "aisha.mohammed@example.com",
    "linh.nguyen@example.com",
    "david.kim@example.com",
]


def at(base: str, path: str) -> re.Pattern:
    """The URL of `path`, with or without the trailing slash the static server may add."""
    return re.compile(re.escape(base + path.rstrip("/")) + "/?$")


def sign_in(page: Page, email: str, code: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/sign-in", wait_until="networkidle")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Code from your authenticator app").fill(code)
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
def test_each_role_signs_in_with_a_code_to_its_own_home(page: Page, portal_url, accounts, role):
    sign_in(page, LOGINS[role], accounts.code(LOGINS[role]))
    expect(page).to_have_url(at(portal_url, HOMES[role]))
    expect(page.get_by_role("heading", level=1)).to_contain_text(HEADINGS[role])
    assert_accessible(page)


def test_a_recovery_code_also_signs_in(page: Page, portal_url, accounts):
    email = OTHER_PATIENTS[3]
    codes = accounts.recovery_codes(email)
    sign_in(page, email, codes[0])
    expect(page).to_have_url(at(portal_url, "/"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")


def test_a_wrong_password_is_only_refused_after_the_code(page: Page, portal_url):
    sign_in(page, LOGINS["patient"], "123456", password="not the right password")
    expect(page.get_by_role("alert")).to_contain_text("We could not sign you in")
    expect(page).to_have_url(at(portal_url, "/sign-in"))
    page.get_by_role("button", name="Start over").click()
    expect(page.get_by_label("Email address")).to_have_value(LOGINS["patient"])
    expect(page.get_by_label("Password")).to_have_value("")


def test_empty_fields_are_named_and_nothing_typed_is_lost(page: Page):
    page.goto("/sign-in")
    page.get_by_label("Email address").fill(LOGINS["provider"])
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_contain_text("Enter both your email address and")
    expect(page.get_by_label("Email address")).to_have_value(LOGINS["provider"])
    expect(page.get_by_label("Password")).to_have_attribute("aria-invalid", "true")


@pytest.mark.parametrize("role", ["patient", "provider", "admin"])
def test_each_home_shows_real_data_accessibly(new_context, portal_url, role):
    page = new_context(LOGINS[role]).new_page()
    problems = watch(page)
    page.goto(HOMES[role])
    expect(page.get_by_role("heading", level=1)).to_contain_text(HEADINGS[role])
    assert_accessible(page)
    assert not problems


def test_patient_home_shows_next_appointment_and_messages(new_context):
    page = new_context(LOGINS["patient"]).new_page()
    page.goto("/")
    next_visit = page.get_by_role("region", name="Your next appointment")
    expect(next_visit).to_contain_text("With")
    expect(next_visit).to_contain_text("upcoming appointment")
    expect(page.get_by_role("region", name="Messages from your care team")).to_contain_text(
        "unread"
    )


def visits_today(accounts) -> int:
    """Dr. Chen's visits today, whatever their status: the demo books six, and
    test_clinic_scheduling moves the next two booked ones to just now (in the afternoon, one
    of them from a later day)."""
    with accounts.database.unit_of_work() as uow:
        provider = uow.session.exec(
            select(Provider).where(Provider.user_id == accounts.user(LOGINS["provider"]).id)
        ).scalar_one()
        zone = ZoneInfo(uow.session.get(Practice, provider.tenant_id).time_zone)
        midnight = datetime.combine(utcnow().astimezone(zone).date(), time.min, tzinfo=zone)
        return uow.session.exec(
            select(func.count())
            .select_from(Appointment)
            .where(
                Appointment.provider_id == provider.id,
                Appointment.starts_at >= midnight,
                Appointment.starts_at < midnight + timedelta(days=1),
            )
        ).scalar_one()


def test_provider_home_lists_todays_schedule(new_context, accounts):
    page = new_context(LOGINS["provider"]).new_page()
    page.goto("/provider")
    schedule = page.get_by_role("region", name="Schedule")
    expect(schedule.get_by_role("row")).to_have_count(1 + visits_today(accounts))  # a header


@pytest.mark.parametrize("path", ["/", "/provider", "/admin", "/security", "/admin/invitations"])
def test_signed_out_visitors_are_sent_to_sign_in(page: Page, portal_url: str, path: str):
    page.goto(path)
    expect(page).to_have_url(at(portal_url, "/sign-in"))
    expect(page.get_by_label("Email address")).to_be_visible()


def test_a_patient_cannot_enter_the_provider_or_admin_shell(new_context, portal_url):
    page = new_context(LOGINS["patient"]).new_page()
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello, Maria")
    for path in ("/provider", "/admin", "/admin/invitations", "/admin/mailbox"):
        page.goto(path)
        expect(page).to_have_url(at(portal_url, "/"))
        expect(page.get_by_role("heading", level=1)).to_contain_text("Hello, Maria")
    expect(page.get_by_text("Schedule")).to_have_count(0)


def test_sign_out_ends_the_session_and_clears_the_screen(new_context, portal_url):
    page = new_context(OTHER_PATIENTS[0]).new_page()
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello, James")
    token_before = page.evaluate("() => sessionStorage.getItem('token')")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_contain_text("You were signed out")
    assert page.evaluate("() => sessionStorage.getItem('token')") != token_before
    page.goto("/")
    expect(page).to_have_url(at(portal_url, "/sign-in"))
    page.go_back()
    expect(page.get_by_text("Hello, James")).to_have_count(0)


def test_unknown_addresses_show_the_not_found_page(page: Page):
    assert page.goto("/no/such/page").status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(page.get_by_role("link", name="Go to your home page")).to_be_visible()
    assert_accessible(page)


def test_the_browser_keeps_no_phi(page: Page, accounts):
    sign_in(page, OTHER_PATIENTS[1], accounts.code(OTHER_PATIENTS[1]))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello, Aisha")
    stored = page.evaluate(
        "() => JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage),"
        " document.cookie])"
    )
    for phi in ("Aisha", "Mohammed", "aisha.mohammed", "appointment", "Dr."):
        assert phi not in stored
    assert {cookie["name"] for cookie in page.context.cookies()} <= {"portal_session"}


def test_phone_width_has_no_sideways_scrolling(new_context):
    for role in ("patient", "provider", "admin"):
        page = new_context(LOGINS[role], viewport={"width": 360, "height": 740}).new_page()
        for path in (HOMES[role], "/security" if role == "patient" else f"/{role}/security"):
            page.goto(path)
            expect(page.get_by_role("heading", level=1)).to_be_visible()
            assert page.evaluate("() => document.documentElement.scrollWidth <= innerWidth"), path


def test_the_websocket_refuses_a_foreign_origin(portal_url: str):
    from tests.e2e.socket import connects

    assert connects(portal_url, origin=portal_url) is True
    assert connects(portal_url, origin="https://attacker.example") is False
