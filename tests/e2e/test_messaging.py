"""Secure messaging in Chromium with two browser contexts: a patient sends a message with a
PDF; the provider's unread badge rises live; when the care team reads it the patient sees
"Read by the care team" and then the reply, live, and downloads its attachment intact. Bad
input (an empty or overlong message, a file over the limit) keeps the draft; another patient's
thread is not there."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect
from sqlalchemy import select

from portal.backend import models
from portal.backend.services import messaging
from portal.backend.services.messaging import FILE_LIMIT_BYTES, NewFile
from portal.components.messages import FILES_REFUSED
from tests.e2e.test_booking import _principal
from tests.e2e.test_shells import assert_accessible

PATIENT = "michael.brown@example.com"
PROVIDER = "dr.okafor@riverside.example"  # on both adult care teams
PDF = b"%PDF-1.4\n% a test letter\n%%EOF\n"


def unread_in_inbox(page) -> int:
    name = page.get_by_role("link", name=re.compile(r"^Inbox")).get_attribute("aria-label")
    found = re.search(r"(\d+) unread", name or "")
    return int(found.group(1)) if found else 0


def test_a_message_with_a_pdf_is_read_and_answered_live(
    new_context, portal_database, accounts, tmp_path
):
    provider_page = new_context(PROVIDER).new_page()
    provider_page.goto("/provider", wait_until="networkidle")
    before = unread_in_inbox(provider_page)

    page = new_context(PATIENT).new_page()
    page.goto("/messages", wait_until="networkidle")
    expect(page.get_by_role("note")).to_contain_text("Messages are not for emergencies")
    form = page.get_by_role("region", name="Write to your care team")
    form.get_by_label("Subject").fill("Knee pain after running")
    form.get_by_label("What is it about?").select_option("medical_question")
    form.get_by_label("Your message").fill("It hurts on stairs.\nShould I rest it?")
    expect(form.get_by_text("37 of 5,000 characters")).to_be_visible()
    letter = tmp_path / "knee letter.pdf"
    letter.write_bytes(PDF)
    form.locator("input[type=file]").set_input_files(str(letter))
    expect(form.get_by_text("knee letter.pdf")).to_be_visible()
    form.get_by_role("button", name="Send to my care team").click()
    expect(page.get_by_role("heading", name="Knee pain after running")).to_be_visible()
    expect(page.get_by_role("list", name="Messages")).to_contain_text("Should I rest it?")
    expect(page.get_by_text("Not read yet")).to_be_visible()
    assert_accessible(page)
    thread_id = uuid.UUID(page.url.split("id=")[1])

    expect(provider_page.get_by_role("link", name=re.compile(r"^Inbox"))).to_have_attribute(
        "aria-label", f"Inbox, {before + 1} unread", timeout=5000
    )
    provider = _principal(portal_database, PROVIDER, accounts)
    messaging.read_thread(provider, thread_id, uow=portal_database.unit_of_work())
    expect(page.get_by_text(re.compile("^Read by the care team at"))).to_be_visible(timeout=5000)

    messaging.send_reply(
        provider,
        thread_id,
        "Rest it for a week. See https://example.org/knee for exercises.",
        [NewFile("exercises.pdf", PDF)],
        uow=portal_database.unit_of_work(),
    )
    messages = page.get_by_role("list", name="Messages")
    expect(messages).to_contain_text("Rest it for a week.", timeout=5000)
    expect(messages.get_by_role("link", name="https://example.org/knee")).to_have_attribute(
        "href", "https://example.org/knee"
    )
    with page.expect_download() as download:
        messages.get_by_role("link", name=re.compile("exercises.pdf")).click()
    assert download.value.path().read_bytes() == PDF


def test_an_empty_or_overlong_message_or_a_too_large_file_keeps_the_draft(new_context, tmp_path):
    page = new_context(PATIENT).new_page()
    page.goto("/messages", wait_until="networkidle")
    form = page.get_by_role("region", name="Write to your care team")
    form.get_by_label("Subject").fill("A long one")
    form.get_by_label("What is it about?").select_option("other")
    form.get_by_role("button", name="Send to my care team").click()
    expect(form.get_by_role("alert")).to_contain_text("Write your message before sending it")
    form.get_by_label("Your message").fill("x" * 5001)
    form.get_by_role("button", name="Send to my care team").click()
    expect(form.get_by_role("alert")).to_contain_text("this one has 5,001")
    expect(form.get_by_label("Subject")).to_have_value("A long one")
    expect(form.get_by_label("Your message")).to_have_value("x" * 5001)
    # A file over the limit is turned away in the browser, in words; it is never sent.
    too_large = tmp_path / "scan.pdf"
    too_large.write_bytes(PDF.ljust(FILE_LIMIT_BYTES + 1, b" "))
    form.locator("input[type=file]").set_input_files(str(too_large))
    expect(form.get_by_role("alert")).to_contain_text(FILES_REFUSED)
    expect(form.get_by_text("scan.pdf")).to_have_count(0)
    expect(form.get_by_label("Subject")).to_have_value("A long one")
    expect(form.get_by_label("Your message")).to_have_value("x" * 5001)


def test_another_patients_thread_is_not_there(new_context, portal_database, accounts):
    intruder = "emily.thompson@example.com"
    user_id = accounts.user(intruder).id
    with portal_database.unit_of_work() as uow:
        theirs = (
            uow.session.exec(
                select(models.Conversation)
                .join(models.Patient, models.Patient.id == models.Conversation.patient_id)
                .where(models.Patient.user_id != user_id)
            )
            .scalars()
            .first()
        )
        subject = theirs.subject
    page = new_context(intruder).new_page()
    page.goto(f"/messages/thread?id={theirs.id}", wait_until="networkidle")
    expect(page.get_by_text("This conversation was not found")).to_be_visible()
    expect(page.get_by_text(subject)).to_have_count(0)


PAYLOADS = ["<img src=x onerror=alert(1)>", '"><svg onload=alert(2)>', "javascript:alert(3)"]


def test_stored_xss_in_a_thread_renders_inert_for_the_patient(
    new_context, portal_database, accounts
):
    patient = _principal(portal_database, PATIENT, accounts)
    thread = messaging.start_thread(
        patient,
        PAYLOADS[0],
        "other",
        "\n".join(PAYLOADS),
        [NewFile(f"{PAYLOADS[1]}.pdf", PDF)],
        uow=portal_database.unit_of_work(),
    )
    page = new_context(PATIENT).new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto("/messages", wait_until="networkidle")
    expect(page.get_by_role("link", name=re.compile(re.escape(PAYLOADS[0])))).to_be_visible()
    page.goto(f"/messages/thread?id={thread}", wait_until="networkidle")
    messages = page.get_by_role("list", name="Messages")
    for payload in PAYLOADS:
        expect(messages).to_contain_text(payload)
    expect(page.get_by_role("heading", level=1)).to_have_text(PAYLOADS[0])
    assert messages.locator("[onload], [onerror]").count() == 0
    assert messages.locator("a[href^='javascript']").count() == 0
    page.wait_for_timeout(1000)
    assert dialogs == []
