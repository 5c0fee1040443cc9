"""HTTP-level protections of the running portal: headers on everything it serves, and file
downloads that only the record's owner and care team can make."""

from __future__ import annotations

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from portal.backend import models
from portal.backend.config import load_settings
from portal.backend.db import Database
from portal.backend.demo import DEMO_PASSWORD, DEMO_PATIENT_EMAIL

OTHER_PATIENT = "james.wilson@example.com"


@pytest.fixture(scope="module")
def demo_attachment(portal_url: str, portal_data_dir) -> str:
    """The id of a file the care team sent the demo patient."""
    database = Database(load_settings({"PORTAL_DATA_DIR": str(portal_data_dir)}))
    with database.unit_of_work() as uow:
        attachment_id = (
            uow.session.exec(
                select(models.Attachment.id)
                .join(models.Message, models.Message.id == models.Attachment.message_id)
                .join(models.Conversation, models.Conversation.id == models.Message.conversation_id)
                .join(models.Patient, models.Patient.id == models.Conversation.patient_id)
                .join(models.User, models.User.id == models.Patient.user_id)
                .where(
                    models.User.email_index == uow.keyring.blind_index("email", DEMO_PATIENT_EMAIL)
                )
            )
            .scalars()
            .first()
        )
    database.engine.dispose()
    return str(attachment_id)


def sign_in(page: Page, email: str) -> None:
    page.goto("/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Patient portal")


def test_pages_and_routes_carry_the_security_headers(context: BrowserContext):
    for path in ("/sign-in", "/", "/no/such/page", "/healthz", "/files/attachments/x"):
        headers = context.request.get(path).headers
        policy = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["cache-control"] == "no-store"


def test_build_assets_may_be_cached(page: Page):
    assets = []
    page.on("response", lambda r: assets.append(r) if "/assets/" in r.url else None)
    page.goto("/sign-in")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert assets
    assert all(r.headers.get("cache-control") != "no-store" for r in assets)


def test_the_patient_downloads_their_file_with_safe_headers(page: Page, demo_attachment: str):
    sign_in(page, DEMO_PATIENT_EMAIL)
    response = page.context.request.get(f"/files/attachments/{demo_attachment}")
    assert response.status == 200
    assert response.body().startswith(b"%PDF-")
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_nobody_else_can_tell_the_file_exists(
    page: Page, context: BrowserContext, demo_attachment: str
):
    missing = context.request.get("/files/attachments/00000000-0000-0000-0000-000000000000")
    anonymous = context.request.get(f"/files/attachments/{demo_attachment}")
    sign_in(page, OTHER_PATIENT)
    other_patient = context.request.get(f"/files/attachments/{demo_attachment}")
    malformed = context.request.get("/files/attachments/not-an-id")
    for response in (anonymous, other_patient, malformed):
        assert (response.status, response.body()) == (missing.status, missing.body())
    assert missing.status == 404
