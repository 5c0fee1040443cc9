"""HTTP-level protections of the running portal: headers on everything it serves, and file
downloads that only the record's owner and care team can make."""

from __future__ import annotations

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from portal.backend import models
from portal.backend.demo import DEMO_PATIENT_EMAIL

OTHER_PATIENT = "james.wilson@example.com"


@pytest.fixture(scope="module")
def demo_attachment(portal_database) -> str:
    """The id of a file the care team sent the demo patient."""
    with portal_database.unit_of_work() as uow:
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
    return str(attachment_id)


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
    expect(page.get_by_role("button", name="Continue")).to_be_visible()
    assert assets
    assert all(r.headers.get("cache-control") != "no-store" for r in assets)


def test_the_patient_downloads_their_file_with_safe_headers(new_context, demo_attachment: str):
    context = new_context(DEMO_PATIENT_EMAIL)
    response = context.request.get(f"/files/attachments/{demo_attachment}")
    assert response.status == 200
    assert response.body().startswith(b"%PDF-")
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_nobody_else_can_tell_the_file_exists(new_context, demo_attachment: str):
    anonymous_context, other = new_context(), new_context(OTHER_PATIENT)
    admin = new_context("admin@riverside.example")
    missing = other.request.get("/files/attachments/00000000-0000-0000-0000-000000000000")
    anonymous = anonymous_context.request.get(f"/files/attachments/{demo_attachment}")
    other_patient = other.request.get(f"/files/attachments/{demo_attachment}")
    as_admin = admin.request.get(f"/files/attachments/{demo_attachment}")
    malformed = other.request.get("/files/attachments/not-an-id")
    for response in (anonymous, other_patient, as_admin, malformed):
        assert (response.status, response.body()) == (missing.status, missing.body())
    assert missing.status == 404
