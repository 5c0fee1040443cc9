"""Identity end to end in Chromium: an invitation through enrollment to signing in, the idle
warning and the automatic sign-out, signing out other devices live, resetting a password,
and asking for an account."""

from __future__ import annotations

import re
import time
from datetime import timedelta

from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from portal.backend import models
from portal.backend.models.base import utcnow
from portal.backend.security import totp
from portal.backend.security.tokens import SESSION_COOKIE
from tests.e2e.test_shells import at

INVITEE = ("Kowalski", "Adrian", "adrian.k@example.org")
NEW_PASSWORD = "a calm evening by the river"
SECONDS_TO_NOTICE = 25_000  # the shell checks its session every 15 s


def mail_link(admin: BrowserContext, to: str, path: str) -> str:
    page = admin.new_page()
    page.goto("/admin/mailbox")
    mail = page.get_by_role("listitem").filter(has_text=f"Email to: {to}").first
    expect(mail).to_be_visible()
    link = re.search(rf"https?://\S+{path}\?token=[\w-]+", mail.inner_text())[0]
    page.close()
    return link


def code_after(secret: str, used_step: int) -> tuple[str, int]:
    """A code from a step after `used_step` (each step is accepted once), waiting if needed."""
    while totp.current_step() <= used_step:
        time.sleep(1)
    step = totp.current_step()
    return totp.code_for(secret, step), step


def sign_in(page: Page, email: str, password: str, code: str) -> None:
    page.goto("/sign-in", wait_until="networkidle")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Code from your authenticator app").fill(code)
    page.get_by_role("button", name="Sign in").click()


def set_idle(accounts, email: str, seconds_left: int) -> None:
    """Move the account's sessions back in time, as if it had been idle until `seconds_left`
    remain before the 15-minute limit."""
    user = accounts.user(email)
    with accounts.database.unit_of_work() as uow:
        for session in uow.session.exec(
            select(models.UserSession).where(
                models.UserSession.user_id == user.id, models.UserSession.ended_at.is_(None)
            )
        ).scalars():
            session.last_seen_at = (
                utcnow() - timedelta(minutes=15) + timedelta(seconds=seconds_left)
            )
        uow.commit()


def test_invitation_to_enrollment_to_sign_in_and_idle_sign_out(new_context, accounts, portal_url):
    last, first, email = INVITEE
    admin = new_context("admin@riverside.example")
    page = admin.new_page()
    page.goto("/admin/invitations", wait_until="networkidle")
    page.get_by_label("Patient", exact=True).click()
    page.get_by_role("option", name=re.compile(f"^{last}, {first}")).click()
    page.get_by_label("Email address").first.fill(email)
    page.get_by_role("button", name="Send the invitation").first.click()
    expect(page.get_by_role("status")).to_contain_text(f"Invitation sent to {email}")
    link = mail_link(admin, email, "/welcome")

    invitee = new_context().new_page()
    invitee.goto(link)
    expect(invitee).to_have_url(at(portal_url, "/welcome"))
    with accounts.database.unit_of_work() as uow:
        born = (
            uow.session.exec(
                select(models.Patient).where(models.Patient.user_id == accounts.user(email).id)
            )
            .scalars()
            .one()
            .date_of_birth
        )
    invitee.get_by_label("Your date of birth").fill(born.isoformat())
    invitee.get_by_role("button", name="Continue").click()
    invitee.get_by_label("Choose a password").fill(NEW_PASSWORD)
    invitee.get_by_label("Type it again").fill(NEW_PASSWORD)
    invitee.get_by_role("button", name="Continue").click()
    expect(invitee.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    secret = invitee.locator("code").first.inner_text().replace(" ", "")
    code, step = code_after(secret, -1)
    invitee.get_by_label("Code").fill(code)
    invitee.get_by_role("button", name="Confirm").click()
    expect(
        invitee.get_by_role("list", name="Recovery codes").get_by_role("listitem")
    ).to_have_count(10)
    with invitee.expect_download() as download:
        invitee.get_by_role("button", name="Download the codes").click()
    assert download.value.suggested_filename == "recovery-codes.txt"
    invitee.get_by_role("button", name=re.compile("I have kept my codes")).click()
    # A new patient is sent to the account setup once (see test_profile.py); later, not again.
    expect(invitee.get_by_role("heading", level=1)).to_have_text("Set up your account")
    invitee.get_by_role("button", name="Finish later").click()
    expect(invitee.get_by_role("heading", level=1)).to_have_text(f"Hello, {first}")

    invitee.get_by_role("button", name="Sign out").click()
    expect(invitee.get_by_role("status")).to_contain_text("You were signed out")
    code, step = code_after(secret, step)
    sign_in(invitee, email, NEW_PASSWORD, code)
    expect(invitee.get_by_role("heading", level=1)).to_have_text(f"Hello, {first}")

    assert SESSION_COOKIE in {cookie["name"] for cookie in invitee.context.cookies()}
    set_idle(accounts, email, seconds_left=90)
    dialog = invitee.get_by_role("alertdialog")
    expect(dialog).to_contain_text("Are you still there?", timeout=SECONDS_TO_NOTICE)
    dialog.get_by_role("button", name="Stay signed in").click()
    expect(dialog).to_have_count(0)
    set_idle(accounts, email, seconds_left=-1)
    expect(invitee).to_have_url(re.compile(r"/sign-in/?\?signed_out=1$"), timeout=SECONDS_TO_NOTICE)
    expect(invitee.get_by_role("status")).to_contain_text("You were signed out")
    # The timeout cleared the (HttpOnly) session cookie too.
    assert SESSION_COOKIE not in {cookie["name"] for cookie in invitee.context.cookies()}
    expect(invitee.get_by_text(f"Hello, {first}")).to_have_count(0)

    code, step = code_after(secret, step)
    sign_in(invitee, email, NEW_PASSWORD, code)
    expect(invitee.get_by_role("heading", level=1)).to_have_text(f"Hello, {first}")


def test_sign_out_everywhere_else_ends_the_other_browser_live(new_context, portal_url):
    email = "grace.okonkwo@example.com"
    laptop, phone = new_context(email).new_page(), new_context(email).new_page()
    for page in (laptop, phone):
        page.goto("/security")
        expect(page.get_by_role("heading", name="Devices")).to_be_visible()
    laptop.reload()
    expect(laptop.get_by_role("region", name="Devices").get_by_role("listitem")).to_have_count(2)
    laptop.get_by_role("button", name="Sign out everywhere else").click()
    expect(laptop.get_by_role("status")).to_contain_text("Signed out of 1 other device")
    expect(phone).to_have_url(re.compile(r"/sign-in/?\?signed_out=1$"), timeout=SECONDS_TO_NOTICE)
    expect(laptop.get_by_role("heading", level=1)).to_have_text("Security")


def test_a_forgotten_password_is_reset_by_email_and_mfa_still_applies(
    new_context, accounts, portal_url
):
    email = "emily.thompson@example.com"
    page = new_context().new_page()
    page.goto("/forgot-password", wait_until="networkidle")
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("status")).to_contain_text("If an account uses that address")
    link = mail_link(new_context("admin@riverside.example"), email, "/reset-password")
    page.goto(link)
    page.get_by_label("New password").fill("short")
    page.get_by_label("Type it again").fill("short")
    page.get_by_role("button", name="Save the new password").click()
    expect(page.get_by_role("alert")).to_contain_text("at least 12 characters")
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_label("Type it again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save the new password").click()
    expect(page.get_by_role("status")).to_contain_text("Your password was changed")
    sign_in(page, email, NEW_PASSWORD, accounts.code(email))
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Emily")
    page.goto(link)
    expect(page.get_by_role("alert")).to_contain_text("expired or was already used")


def test_forged_links_show_a_way_forward(page: Page):
    page.goto("/welcome?token=forged-token")
    expect(page.get_by_role("alert")).to_contain_text("expired or was already used")
    expect(page.get_by_role("link", name="Go to the sign-in page")).to_be_visible()
    page.goto("/reset-password?token=forged-token")
    expect(page.get_by_role("alert")).to_contain_text("expired or was already used")
    expect(page.get_by_role("link", name="Ask for a new link")).to_be_visible()


def test_asking_for_an_account_answers_alike_for_anyone(page: Page):
    for first, last, born, email in [
        ("Naomi", "Brooks", "1959-01-01", "n.b@example.org"),
        ("Nobody", "Known", "1990-05-05", "x.y@example.org"),
    ]:
        page.goto("/register")
        page.get_by_label("First name").fill(first)
        page.get_by_label("Last name").fill(last)
        page.get_by_label("Date of birth").fill(born)
        page.get_by_label("Email address").fill(email)
        page.get_by_role("button", name="Ask for an account").click()
        expect(page.get_by_role("status")).to_contain_text("We have sent an email to that address")
