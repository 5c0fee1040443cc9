"""Notifications in Chromium: the bell's unread badge in the shell, the notification centre,
choosing channels (with a clear refusal when texts have no number), the mobile number behind a
re-authentication, and the admins' delivery page."""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect
from sqlalchemy import select

from portal.backend import models
from portal.backend.demo import DEMO_PASSWORD, DEMO_PATIENT_EMAIL
from tests.e2e.test_shells import assert_accessible


def delivered(database) -> bool:
    with database.unit_of_work() as uow:
        return not uow.session.exec(
            select(models.Notification.id).where(
                models.Notification.channel == "in_app", models.Notification.status == "pending"
            )
        ).first()


def test_the_bell_counts_unread_notifications_and_the_centre_reads_them(
    new_context, portal_database
):
    deadline = time.monotonic() + 30
    while not delivered(portal_database) and time.monotonic() < deadline:
        time.sleep(0.5)  # the scheduler delivers the demo's notifications every 3 seconds
    page = new_context(DEMO_PATIENT_EMAIL).new_page()
    page.goto("/")
    bell = page.get_by_role("link", name=re.compile("^Notifications"))
    expect(bell).to_have_accessible_name("Notifications, 2 unread")
    bell.click()
    latest = page.get_by_role("region", name="Latest")
    expect(latest.get_by_role("listitem")).to_have_count(2)
    expect(latest).to_contain_text("A new result is available")
    expect(latest.get_by_text("New", exact=True)).to_have_count(2)
    expect(page.get_by_role("link", name=re.compile("^Notifications"))).to_have_accessible_name(
        "Notifications"
    )
    assert_accessible(page)
    page.reload()
    expect(page.get_by_role("region", name="Latest").get_by_text("New", exact=True)).to_have_count(
        0
    )


def test_choices_are_saved_and_texts_wait_for_a_number(new_context):
    page = new_context("dr.okafor@riverside.example").new_page()  # no mobile number on file
    page.goto("/provider/notifications")
    choices = page.get_by_role("region", name="How we reach you")
    texts = choices.get_by_role("checkbox", name="New messages: Text message")
    emails = choices.get_by_role("checkbox", name="New results: Email")
    expect(choices.get_by_role("checkbox", name="Account and security: Email")).to_be_disabled()
    emails.click()
    expect(emails).not_to_be_checked()
    page.get_by_role("button", name="Save my choices").click()
    expect(page.get_by_role("status")).to_contain_text("Your choices are saved")
    expect(texts).to_be_disabled()
    expect(texts).not_to_be_checked()
    expect(choices).to_contain_text("You have not given a mobile number for texts.")
    page.reload()
    expect(
        page.get_by_role("region", name="How we reach you").get_by_role(
            "checkbox", name="New results: Email"
        )
    ).not_to_be_checked()


def test_the_mobile_number_changes_only_after_confirming_its_you(new_context, accounts):
    email = "michael.brown@example.com"
    page = new_context(email).new_page()
    page.goto("/security")
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_label("Code from your authenticator app").fill(accounts.code(email))
    page.get_by_role("button", name="Confirm it's me").click()
    page.get_by_role("button", name="Mobile number for texts").click()
    page.get_by_label("Mobile number").fill("555-CALL-NOW")
    page.get_by_role("button", name="Save the number").click()
    expect(page.get_by_role("alert")).to_contain_text("does not look right")
    expect(page.get_by_label("Mobile number")).to_have_value("555-CALL-NOW")
    page.get_by_label("Mobile number").fill("(555) 019-2000")
    page.get_by_role("button", name="Save the number").click()
    expect(page.get_by_role("status")).to_contain_text("Texts now go to +15550192000")


def test_admins_see_delivery_by_channel(new_context):
    page = new_context("admin@riverside.example").new_page()
    page.goto("/admin/delivery")
    expect(page.get_by_role("heading", level=1)).to_have_text("Notification delivery")
    rows = page.get_by_role("region", name="By channel").get_by_role("row")
    expect(rows).to_have_count(4)
    assert_accessible(page)
