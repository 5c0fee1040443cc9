"""The care team's inbox in Chromium, as Dr. Chen of the family team: threads waiting with the
response-time target, filters, keyset pages, one patient's threads, live updates; a thread
read, answered with a PDF, reassigned, done and reopened; refusals that keep the draft; stored
script in a subject, a body and a file name shown as inert text; and patients kept out."""

from __future__ import annotations

import inspect
import re
import uuid

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.backend import models
from portal.backend.demo import DEMO_PATIENT_EMAIL
from portal.backend.security.principal import Principal
from portal.backend.services import messaging
from portal.backend.services.messaging import PAGE_SIZE, NewFile
from portal.backend.services.sessions import open_session
from portal.pages.provider.inbox_state import InboxState, InboxThreadState
from tests.e2e.conftest import watch
from tests.e2e.socket import call_handlers
from tests.e2e.test_attacks import PHI
from tests.e2e.test_booking import _principal
from tests.e2e.test_shells import LOGINS, assert_accessible, at

PROVIDER = "dr.chen@riverside.example"
INBOX = "/provider/inbox"
PDF = b"%PDF-1.4\n% a test letter\n%%EOF\n"
PAYLOADS = ("<img src=x onerror=alert(1)>", '"><svg onload=alert(1)>', "javascript:alert(1)")
# Patients other end-to-end tests act as; this file writes as other family-team patients.
TAKEN = [
    DEMO_PATIENT_EMAIL,
    "james.wilson@example.com",
    "aisha.mohammed@example.com",
    "robert.johnson@example.com",
    "linh.nguyen@example.com",
    "david.kim@example.com",
    "michael.brown@example.com",
    "emily.thompson@example.com",
    "hannah.schmidt@example.com",
]


def family_patients(accounts) -> list[Principal]:
    """Signed-in principals of the family team's patients with accounts that no other test
    uses, in a stable order."""
    taken = {accounts.user(email).id for email in TAKEN}
    with accounts.database.unit_of_work() as uow:
        users = [
            user
            for user in uow.session.exec(
                select(models.User)
                .join(models.Patient, models.Patient.user_id == models.User.id)
                .join(models.CareTeam, models.CareTeam.id == models.Patient.care_team_id)
                .where(
                    models.CareTeam.name == "Family Medicine Team",
                    models.User.password_hash.is_not(None),
                )
                .order_by(models.User.created_at)
            ).scalars()
            if user.id not in taken
        ]
        principals = [open_session(uow, user).principal for user in users[:3]]
        uow.commit()
    assert len(principals) == 3, "the demo has too few family-team patients for this test"
    return principals


def start_thread(accounts, patient: Principal, subject: str, body: str, **options) -> str:
    return messaging.start_thread(
        patient,
        subject,
        options.pop("category", "prescription"),
        body,
        uow=accounts.database.unit_of_work(),
        **options,
    )


def open_page(new_context, path: str = INBOX) -> tuple[Page, list[str]]:
    """A page of Dr. Chen's, and the browser errors it reports."""
    page = new_context(PROVIDER).new_page()
    problems = watch(page)
    page.goto(path, wait_until="networkidle")
    return page, problems


def notice(page: Page, text: str):
    return page.get_by_role("status").filter(has_text=text)


def filter_threads(page: Page, **choices: str) -> None:
    """Choose filters by their visible text and apply them."""
    filters = page.get_by_role("region", name="Filters")
    for label, choice in choices.items():
        filters.get_by_label(label.replace("_", " ").capitalize()).select_option(label=choice)
    filters.get_by_role("button", name="Show threads").click()


def test_the_provider_answers_a_thread_from_the_inbox(new_context, accounts, tmp_path):
    patient = family_patients(accounts)[0]
    subject = f"Refill of my blood pressure pills {uuid.uuid4().hex[:6]}"
    thread_id = start_thread(accounts, patient, subject, "Can I get a refill?\nI have 3 left.")
    page, problems = open_page(new_context)
    expect(page.get_by_role("heading", level=1)).to_have_text("Inbox")
    expect(page.get_by_text(re.compile(r"^Target: answer within \d+ hours$"))).to_be_visible()
    threads = page.get_by_role("region", name="Threads", exact=True)
    row = threads.get_by_role("row").filter(has_text=subject)
    expect(row).to_contain_text("1 unread")
    expect(row).to_contain_text("Can I get a refill? I have 3 left.")
    expect(row.get_by_role("link", name=subject)).to_have_css("font-weight", "700")
    expect(row.get_by_role("cell", name="Nobody")).to_be_visible()
    # the demo's patients are waiting: each wait is shown, with a text mark once over target
    expect(threads.get_by_role("row").nth(2)).to_be_visible()
    expect(threads.get_by_text(re.compile(r"^\d+ (min|h \d+ min|days)$")).first).to_be_visible()
    expect(threads.get_by_text("Over target").first).to_be_visible()
    assert_accessible(page)

    later = f"Another refill {uuid.uuid4().hex[:6]}"
    start_thread(accounts, patient, later, "And one more.")
    expect(threads.get_by_role("link", name=later)).to_be_visible(timeout=5000)

    filter_threads(page, category="Prescription question", assigned_to="Nobody")
    expect(row).to_be_visible()
    expect(threads.get_by_role("row").filter(has_not_text="Prescription question")).to_have_count(
        1  # the header row
    )
    filter_threads(page, assigned_to="Me")
    expect(row).to_have_count(0)
    filter_threads(page, assigned_to="Nobody")
    row.get_by_role("link", name=subject).click()

    expect(page.get_by_role("heading", level=1)).to_have_text(subject)
    assert f"id={thread_id}" in page.url
    messages = page.get_by_role("list", name="Messages")
    expect(messages).to_contain_text("I have 3 left.")
    expect(page.get_by_text("Care team", exact=True)).to_be_visible()
    expect(page.get_by_text("Family Medicine Team")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^\d+ min$"))).to_be_visible()
    assert_accessible(page)

    reply = page.get_by_role("region", name="Reply")
    reply.get_by_label("Your reply").fill("Yes: a 90-day refill is at your pharmacy.")
    expect(reply.get_by_text("41 of 5,000 characters")).to_be_visible()
    letter = tmp_path / "refill plan.pdf"
    letter.write_bytes(PDF)
    reply.locator("input[type=file]").set_input_files(str(letter))
    expect(reply.get_by_role("list", name="Files to attach")).to_contain_text("refill plan.pdf")
    reply.get_by_role("button", name="Send reply").click()
    expect(notice(page, "Your reply was sent.")).to_be_visible()
    expect(messages).to_contain_text("a 90-day refill is at your pharmacy")
    expect(reply.get_by_label("Your reply")).to_have_value("")
    expect(reply.get_by_role("list", name="Files to attach")).to_have_count(0)
    expect(messages.get_by_text("Not read yet")).to_be_visible()
    expect(page.get_by_text("The patient is not waiting for us")).to_be_visible()
    with page.expect_download() as download:
        messages.get_by_role("link", name=re.compile("refill plan.pdf")).click()
    assert download.value.path().read_bytes() == PDF

    handling = page.get_by_role("region", name="Assignment and status")
    expect(page.get_by_text("Dr. Amelia Chen", exact=True).first).to_be_visible()
    handling.get_by_label("Reassign to").select_option(label="Dr. Marcus Okafor")
    handling.get_by_role("button", name="Reassign").click()
    expect(notice(page, "Assigned to Dr. Marcus Okafor.")).to_be_visible()
    handling.get_by_role("button", name="Mark done").click()
    expect(notice(page, "Marked done.")).to_be_visible()
    expect(page.get_by_text("Done", exact=True)).to_be_visible()
    handling.get_by_role("button", name="Reopen").click()
    expect(notice(page, "Reopened.")).to_be_visible()
    expect(handling.get_by_role("button", name="Mark done")).to_be_visible()

    # the patient writes again: it shows within two seconds and is read by being shown
    messaging.send_reply(
        patient, uuid.UUID(thread_id), "Thank you! Same dose?", uow=accounts.database.unit_of_work()
    )
    expect(messages).to_contain_text("Thank you! Same dose?", timeout=5000)
    seen = messaging.read_thread(
        patient, uuid.UUID(thread_id), uow=accounts.database.unit_of_work()
    )
    assert seen.messages[-1].receipt.startswith("Read by the care team at")

    page.get_by_role("link", name="← Back to the inbox").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Inbox")
    filter_threads(page, category="Prescription question", assigned_to="Dr. Marcus Okafor")
    row = (
        page.get_by_role("region", name="Threads", exact=True)
        .get_by_role("row")
        .filter(has_text=subject)
    )
    expect(row.get_by_role("cell", name="Dr. Marcus Okafor")).to_be_visible()
    expect(row).not_to_contain_text("unread")
    assert not problems, problems


def test_a_refused_reply_keeps_the_draft_and_says_why(new_context, accounts, tmp_path):
    patient = family_patients(accounts)[0]
    thread_id = start_thread(accounts, patient, "Dizzy in the mornings", "Since Monday.")
    page, problems = open_page(new_context, f"{INBOX}/thread?id={thread_id}")
    reply = page.get_by_role("region", name="Reply")
    files = reply.locator("input[type=file]")
    chosen = reply.get_by_role("list", name="Files to attach")
    alert = reply.get_by_role("alert")
    box = reply.get_by_label("Your reply")
    note = tmp_path / "blood pressure log.pdf"
    note.write_bytes(PDF)
    files.set_input_files(str(note))
    reply.get_by_role("button", name="Send reply").click()
    expect(alert).to_have_text("Write your message before sending it.")
    expect(chosen).to_contain_text(note.name)

    too_long = "Please keep a log. " * 264  # the service trims the last space: 5,015
    box.fill(too_long)
    expect(reply.get_by_text("5016 of 5,000 characters")).to_be_visible()
    reply.get_by_role("button", name="Send reply").click()
    expect(alert).to_contain_text("this one has 5,015")
    expect(box).to_have_value(too_long)

    # a file is checked by its content, not its name; a kind the reply never takes is not added
    fake = tmp_path / "scan.pdf"
    fake.write_bytes(b"MZ\x90\x00 not a PDF")
    files.set_input_files(str(fake))
    box.fill("Please keep a log for a week.")
    reply.get_by_role("button", name="Send reply").click()
    expect(alert).to_have_text(
        "scan.pdf: Only PDF, PNG and JPEG files can be added; this file is none of those."
    )
    expect(box).to_have_value("Please keep a log for a week.")
    assert_accessible(page)
    reply.get_by_role("button", name="Remove the files").click()
    expect(chosen).to_have_count(0)
    text = tmp_path / "notes.txt"
    text.write_text("notes")
    files.set_input_files(str(text))
    expect(alert).to_contain_text("Some files were not added.")
    expect(chosen).to_have_count(0)
    messages = page.get_by_role("list", name="Messages")
    expect(messages.get_by_role("listitem")).to_have_count(1)

    files.set_input_files(str(note))
    reply.get_by_role("button", name="Send reply").click()
    expect(messages.get_by_role("listitem")).to_have_count(2)
    expect(messages.get_by_role("link", name=re.compile(note.name))).to_be_visible()
    expect(alert).to_have_count(0)
    assert not problems, problems


def test_the_inbox_pages_by_keyset_and_shows_one_patients_threads(new_context, accounts):
    patient = family_patients(accounts)[1]
    provider = _principal(accounts.database, PROVIDER, accounts)
    subjects = [f"Invoice question {number:02}" for number in range(1, PAGE_SIZE + 2)]
    for subject in subjects:
        thread_id = start_thread(accounts, patient, subject, "Why?", category="billing")
        # read, so the navigation's unread count stays as other tests expect it
        messaging.read_thread(provider, uuid.UUID(thread_id), uow=accounts.database.unit_of_work())
    page, problems = open_page(new_context)
    filter_threads(page, category="Billing")
    threads = page.get_by_role("region", name="Threads", exact=True)
    threads.get_by_role("row").filter(has_text="Invoice question").first.get_by_role(
        "link", name=re.compile("^Only this patient: ")
    ).click()
    expect(page).to_have_url(re.compile(r"/provider/inbox\?patient=[0-9a-f-]{36}$"))
    expect(threads).to_contain_text("Only the threads of ")
    rows = threads.get_by_role("row")
    expect(rows).to_have_count(PAGE_SIZE + 1)  # and the header row
    expect(rows.filter(has_text=subjects[0])).to_have_count(1)
    expect(rows.filter(has_text=subjects[-1])).to_have_count(0)
    expect(page.get_by_role("button", name="First page")).to_have_count(0)
    assert_accessible(page)

    page.get_by_role("button", name="Next page").click()
    expect(page.get_by_text("Page 2")).to_be_visible()
    expect(rows.filter(has_text=subjects[-1])).to_have_count(1)
    expect(rows.filter(has_text=subjects[0])).to_have_count(0)
    expect(page.get_by_role("button", name="Next page")).to_have_count(0)
    page.get_by_role("button", name="First page").click()
    expect(page.get_by_text("Page 1")).to_be_visible()
    expect(rows.filter(has_text=subjects[0])).to_have_count(1)

    page.get_by_role("link", name="Show every patient").click()
    expect(page).to_have_url(re.compile(r"/provider/inbox$"))
    expect(threads).not_to_contain_text("Only the threads of ")
    assert not problems, problems


def test_stored_script_in_a_thread_stays_text(new_context, accounts):
    patient = family_patients(accounts)[2]
    subject = " ".join(PAYLOADS)
    body = "\n".join([*PAYLOADS, "[click me](javascript:alert(1))"])
    files = [NewFile(f"{payload}.pdf", PDF) for payload in PAYLOADS]
    thread_id = start_thread(accounts, patient, subject, body, category="other", files=files)
    page, problems = open_page(new_context, f"{INBOX}?patient={patient.patient_id}")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    threads = page.get_by_role("region", name="Threads", exact=True)
    link = threads.get_by_role("link", name=subject)
    expect(link).to_have_text(subject)
    expect(threads).to_contain_text(" ".join([*PAYLOADS, "[click me]"]))
    link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(subject)
    assert f"id={thread_id}" in page.url
    messages = page.get_by_role("list", name="Messages")
    for payload in PAYLOADS:
        expect(messages.get_by_text(payload, exact=True).first).to_be_visible()
        expect(
            messages.get_by_role("link", name=re.compile(re.escape(f"{payload}.pdf")))
        ).to_be_visible()
    expect(messages).to_contain_text("[click me](javascript:alert(1))")
    expect(page.locator("img[src='x'], svg[onload], [onerror]")).to_have_count(0)
    expect(page.locator("a[href^='javascript']")).to_have_count(0)
    assert dialogs == []
    assert not problems, problems


def test_a_patient_is_sent_away_from_the_inbox(new_context, portal_url, accounts):
    with accounts.database.unit_of_work() as uow:
        thread_id = uow.session.exec(select(models.Conversation.id)).scalars().first()
    page = new_context(DEMO_PATIENT_EMAIL).new_page()
    for path in (INBOX, f"{INBOX}/thread?id={thread_id}"):
        page.goto(path)
        expect(page).to_have_url(at(portal_url, "/"))
        expect(page.get_by_role("heading", level=1)).to_contain_text("Hello, Maria")
        expect(page.get_by_role("table")).to_have_count(0)
        expect(page.get_by_role("list", name="Messages")).to_have_count(0)


def test_another_care_teams_thread_is_not_there(new_context, accounts):
    with accounts.database.unit_of_work() as uow:
        theirs = (
            uow.session.exec(
                select(models.Conversation)
                .join(models.CareTeam, models.CareTeam.id == models.Conversation.care_team_id)
                .where(models.CareTeam.name == "Pediatrics Team")
            )
            .scalars()
            .first()
        )
        subject = theirs.subject
    page, problems = open_page(new_context, f"{INBOX}/thread?id={theirs.id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("This conversation was not found")
    expect(page.get_by_text(subject)).to_have_count(0)
    page.goto(f"{INBOX}/thread?id=not-a-thread", wait_until="networkidle")
    expect(page.get_by_role("heading", level=1)).to_have_text("This conversation was not found")
    assert not problems, problems


def thread_rows(database) -> list:
    """Every thread's status and assignee, and every message's read state."""
    with database.unit_of_work() as uow:
        threads = uow.session.exec(
            select(
                models.Conversation.id,
                models.Conversation.status,
                models.Conversation.assigned_provider_id,
                models.Conversation.waiting_since,
            ).order_by(models.Conversation.id)
        ).all()
        messages = uow.session.exec(
            select(models.Message.id, models.Message.read_at).order_by(models.Message.id)
        ).all()
        return [*threads, *messages]


@pytest.mark.parametrize("who", ["nobody", "patient", "admin"])
def test_inbox_handlers_do_nothing_for_anyone_else(portal_url, accounts, who):
    with accounts.database.unit_of_work() as uow:
        okafor = uow.session.exec(
            select(models.Provider.id).where(models.Provider.display_name == "Dr. Marcus Okafor")
        ).scalar_one()
    form = {"status": "all", "category": "", "assignee": str(okafor)}
    events = []
    for state in (InboxState, InboxThreadState):
        for name, handler in state.event_handlers.items():
            if name == "setvar":  # refused outright by the portal's middleware
                continue
            parameters = list(inspect.signature(handler.fn).parameters)[1:]
            payload = {
                p: form if p == "form_data" else [] if p == "files" else "" for p in parameters
            }
            events.append((f"{state.get_full_name()}.{name}", payload))
    token = accounts.session_token(LOGINS[who]) if who in LOGINS else ""
    before = thread_rows(accounts.database)
    replies = call_handlers(portal_url, events, session_token=token, path=INBOX)
    assert thread_rows(accounts.database) == before
    assert replies
    assert [marker for marker in PHI if any(marker in reply for reply in replies)] == []
    if who in LOGINS:  # the session was live, so the role check is what refused
        assert any(f'"role_rx_state_": "{who}"' in reply for reply in replies)
