"""The admins' users page in Chromium: finding an account by email, deactivating it behind a
confirmation and reactivating it, who may open the page, and accessibility."""

from __future__ import annotations

from playwright.sync_api import expect

from portal.backend.services import sessions
from tests.e2e.conftest import watch
from tests.e2e.test_shells import LOGINS, assert_accessible, at

USERS = "/admin/users"
PATIENT_EMAIL = "priyanka.sharma@example.com"
PATIENT = "Priyanka Sharma"


def test_an_admin_finds_a_patient_by_email_and_deactivates_and_reactivates_them(
    new_context, accounts
):
    patient_token = accounts.session_token(PATIENT_EMAIL)
    page = new_context(LOGINS["admin"]).new_page()
    problems = watch(page)
    page.goto(USERS)
    expect(page.get_by_role("heading", level=1)).to_have_text("Users")
    expect(page.get_by_role("navigation").get_by_role("link", name="Users")).to_be_visible()
    expect(page.get_by_role("row")).not_to_have_count(1)
    assert_accessible(page)

    page.get_by_label("Email address").fill(PATIENT_EMAIL.upper())
    page.get_by_role("button", name="Search").click()
    row = page.get_by_role("row", name=PATIENT)
    expect(row).to_be_visible()
    expect(page.get_by_role("row")).to_have_count(2)

    page.get_by_role("button", name=f"Deactivate {PATIENT}").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text(f"Deactivate {PATIENT}?")
    assert_accessible(page)
    dialog.get_by_role("button", name="Deactivate").click()
    expect(page.get_by_role("status")).to_contain_text(f"{PATIENT} is deactivated")
    expect(row.get_by_role("cell").nth(1)).to_have_text("Deactivated")
    assert accounts.user(PATIENT_EMAIL).status == "deactivated"

    assert sessions.resolve_session(patient_token, uow=accounts.database.unit_of_work()) is None

    page.get_by_role("button", name=f"Reactivate {PATIENT}").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Reactivate").click()
    expect(page.get_by_role("status")).to_contain_text(f"{PATIENT} can sign in again")
    expect(row.get_by_role("cell").nth(1)).to_have_text("Active")
    assert accounts.user(PATIENT_EMAIL).status == "active"
    assert not problems, "the browser reported errors:\n" + "\n".join(problems)


def test_only_admins_open_the_users_page(new_context, portal_url):
    patient = new_context("mateo.hernandez@example.com").new_page()
    patient.goto(USERS)
    expect(patient).to_have_url(at(portal_url, "/"))
    expect(patient.get_by_role("heading", name="Users")).to_have_count(0)
