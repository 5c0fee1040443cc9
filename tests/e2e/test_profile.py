"""The profile end to end in Chromium: a new patient is sent to the account setup after signing
in and finishes it on a phone-sized screen (a card picture over the size limit is turned away
in words, keeping what was typed); the profile page keeps what was typed when a field is
refused; a legal-name change is reviewed by the care team; and the profile's handlers, called
over the websocket with another patient's ids, change nothing of theirs."""

from __future__ import annotations

import inspect
import io
import re

from PIL import Image
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.backend import models
from portal.backend.services.profile_view import contacts_of
from portal.backend.services.profiles import CARD_LIMIT_BYTES
from portal.pages.patient.onboarding import OnboardingState
from portal.pages.patient.profile_state import CARD_REFUSED, ProfileState
from portal.pages.provider.profile_changes import ProfileChangesState
from tests.e2e.conftest import watch
from tests.e2e.socket import call_handlers
from tests.e2e.test_shells import at, sign_in

NEWCOMER = "fatima.hassan@example.com"
EDITOR = "sophia.lee@example.com"
ATTACKER = "lucas.silva@example.com"
VICTIM = "benjamin.rossi@example.com"
PROVIDER = "dr.chen@riverside.example"
REVIEWER = "dr.okafor@riverside.example"  # on Sophia Lee's care team (Dr. Chen is not)


def patient_of(accounts, email: str) -> models.Patient:
    user_id = accounts.user(email).id
    with accounts.database.unit_of_work() as uow:
        return uow.session.exec(
            select(models.Patient).where(models.Patient.user_id == user_id)
        ).scalar_one()


def as_new_patient(accounts, email: str) -> None:
    """The account as it is before its first sign-in: setup never opened, no contacts."""
    patient_id = patient_of(accounts, email).id
    with accounts.database.unit_of_work() as uow:
        patient = uow.session.get(models.Patient, patient_id)
        patient.onboarding_step, patient.onboarding_finished_at = None, None
        patient.emergency_contacts = None
        uow.commit()


def card_picture() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 76), (30, 90, 160)).save(out, format="PNG")
    return out.getvalue()


def fits(page: Page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= innerWidth")


def test_a_new_patient_is_sent_to_the_setup_once_and_finishes_it_on_a_phone(
    new_context, accounts, portal_url
):
    as_new_patient(accounts, NEWCOMER)
    page = new_context(viewport={"width": 375, "height": 740}).new_page()
    problems = watch(page)
    sign_in(page, NEWCOMER, accounts.code(NEWCOMER))
    expect(page).to_have_url(at(portal_url, "/welcome/setup"))
    expect(page.get_by_role("heading", level=2)).to_have_text("Confirm your details")
    expect(page.get_by_text("Step 1 of 4")).to_be_visible()
    assert fits(page)

    page.get_by_label("Phone", exact=True).fill("555 234 8810")
    page.get_by_label("How should we contact you?").select_option("sms")
    page.get_by_label("Pronouns").fill("she/her")
    page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_role("heading", level=2)).to_have_text("Add your insurance")
    assert fits(page)
    page.get_by_label(re.compile("^Insurer")).fill("Hudson Valley Health Plan")
    page.get_by_label(re.compile("^Member ID")).fill("HV-5550123")
    too_large = card_picture().ljust(CARD_LIMIT_BYTES + 1, b"\0")
    page.get_by_label("Picture of the front of the card").set_input_files(
        files=[{"name": "front.png", "mimeType": "image/png", "buffer": too_large}]
    )
    expect(page.locator("#card-error")).to_contain_text(CARD_REFUSED)
    expect(page.get_by_label(re.compile("^Member ID"))).to_have_value("HV-5550123")
    page.get_by_label("Picture of the front of the card").set_input_files(
        files=[{"name": "front.png", "mimeType": "image/png", "buffer": card_picture()}]
    )
    front = page.get_by_role("img", name="Front of the insurance card")
    expect(front).to_be_visible()
    expect(page.get_by_text("The picture of the front of your card was added.")).to_be_visible()
    assert front.evaluate("image => image.complete && image.naturalWidth") == 120
    page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_role("heading", level=2)).to_have_text("Add an emergency contact")
    expect(page.get_by_text("No emergency contacts")).to_be_visible()
    page.get_by_label(re.compile("^Name")).fill("Omar Hassan")
    page.get_by_label(re.compile("^Relationship to you")).fill("brother")
    page.get_by_label(re.compile("^Phone")).fill("555-234-0042")
    page.get_by_label(re.compile("They may be told about my health")).check()
    page.get_by_role("button", name="Add the contact").click()
    contacts = page.get_by_role("list", name="Emergency contacts")
    expect(contacts).to_contain_text("Omar Hassan")
    expect(contacts).to_contain_text("May be told about your health")
    page.get_by_role("button", name="Continue", exact=True).click()

    expect(page.get_by_role("heading", level=2)).to_have_text("Choose your notifications")
    assert fits(page)
    page.get_by_role("checkbox", name="New results: Email").uncheck()
    page.get_by_role("button", name="Save and finish").click()

    expect(page).to_have_url(at(portal_url, "/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Fatima")
    expect(page.get_by_text("Finish setting up your account")).to_have_count(0)
    patient = patient_of(accounts, NEWCOMER)
    assert patient.onboarding_finished_at is not None
    assert patient.phone == "+15552348810"
    assert patient.contact_method == "sms"
    assert patient.insurance["member_id"] == "HV-5550123" and patient.insurance["front_key"]
    assert [c["name"] for c in patient.emergency_contacts] == ["Omar Hassan"]
    assert not problems, problems

    staff = new_context(PROVIDER).new_page()  # Fatima is on Dr. Chen's care team
    staff.goto("/provider/patients")
    staff.get_by_label("Find a patient").fill(f"{patient.date_of_birth:%m/%d/%Y}")
    staff.get_by_role("button", name="Search").click()
    # The first search of a freshly started server waits for its start-up jobs.
    staff.get_by_role("link", name="Fatima Hassan").click(timeout=20_000)
    expect(staff.get_by_role("heading", level=1)).to_have_text("Fatima Hassan")
    staff.get_by_role("tab", name="Profile").click()
    expect(staff.get_by_role("region", name="Demographics")).to_contain_text("she/her")
    expect(staff.get_by_role("region", name="Emergency contacts")).to_contain_text("Omar Hassan")


def test_setup_left_halfway_is_offered_on_the_home_page_and_resumes(
    new_context, accounts, portal_url
):
    email = "samuel.cohen@example.com"
    as_new_patient(accounts, email)
    page = new_context(email).new_page()
    page.goto("/")
    expect(page).to_have_url(at(portal_url, "/welcome/setup"))
    page.get_by_role("button", name="Skip this step").click()
    expect(page.get_by_role("heading", level=2)).to_have_text("Add your insurance")
    page.get_by_role("button", name="Finish later").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Samuel")
    card = page.get_by_role("region", name="Finish setting up your account")
    expect(card).to_be_visible()
    card.get_by_role("button", name="Continue setting up").click()
    expect(page).to_have_url(at(portal_url, "/welcome/setup"))
    expect(page.get_by_role("heading", level=2)).to_have_text("Add your insurance")
    expect(page.get_by_text("Step 2 of 4")).to_be_visible()


def test_a_refused_field_keeps_what_was_typed_and_a_name_change_is_reviewed(
    new_context, accounts, portal_url
):
    page = new_context(EDITOR).new_page()
    problems = watch(page)
    page.goto("/profile")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your profile")
    page.get_by_role("button", name="Edit these details").click()
    page.get_by_label(re.compile("^Preferred name")).fill("Sofi")
    page.get_by_label("Phone", exact=True).fill("12345")
    page.get_by_label("How should we contact you?").select_option("phone")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("Check the fields marked below")
    phone = page.get_by_label("Phone", exact=True)
    expect(phone).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#phone-error")).to_contain_text("with its area code")
    expect(phone).to_have_value("12345")
    expect(page.get_by_label(re.compile("^Preferred name"))).to_have_value("Sofi")
    phone.fill("(555) 234-7781")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Your changes are saved.")).to_be_visible()
    details = page.get_by_role("region", name="About you and how to reach you")
    expect(details).to_contain_text("Sofi")
    expect(details).to_contain_text("+15552347781")

    page.get_by_role("button", name="Ask to change these").click()
    page.get_by_label(re.compile("^Legal first name")).fill("Sophie")
    page.get_by_role("button", name="Send for review").click()
    identity = page.get_by_role("region", name="Legal name and date of birth")
    expect(identity).to_contain_text("Pending review")
    expect(identity).to_contain_text("Legal first name: Sophia → Sophie")

    staff = new_context(REVIEWER).new_page()
    staff.goto("/provider/profile-changes")
    staff.get_by_role("button", name="Apply the change for Sofi Lee").click()
    expect(staff.get_by_text("The change for Sofi Lee was applied")).to_be_visible()
    expect(staff.get_by_text("Nothing to review")).to_be_visible()

    page.reload()
    identity = page.get_by_role("region", name="Legal name and date of birth")
    expect(identity).to_contain_text("Sophie Lee")
    expect(identity).to_contain_text("Applied")
    assert not problems, problems


def test_profile_handlers_do_nothing_with_another_patients_ids(
    portal_url, accounts, portal_database
):
    """Every handler of the profile, setup and review screens, called by one patient with
    another patient's contact and patient ids: nothing of theirs changes, nothing leaks."""
    victim = patient_of(accounts, VICTIM)
    contact_ids = [c["id"] for c in contacts_of(victim)]
    theirs = {
        "contact_id": contact_ids[0] if contact_ids else victim.id.hex,
        "change_id": str(victim.id),
        "target": contact_ids[0] if contact_ids else "insurance",
        "side": "front",
        "form": "contact",
        "form_data": {
            "name": "Mallory",
            "relationship": "friend",
            "phone": "555-234-0000",
            "payer": "Evil",
            "member_id": "E1",
            "legal_first_name": "Mallory",
            "legal_last_name": "Evil",
            "date_of_birth": "1980-01-01",
            "reason": "x",
        },
    }

    def snapshot() -> tuple:
        with portal_database.unit_of_work() as uow:
            row = uow.session.get(models.Patient, victim.id)
            changes = uow.session.exec(
                select(models.ProfileChange.id).where(models.ProfileChange.patient_id == victim.id)
            ).all()
            return (
                row.legal_first_name,
                row.legal_last_name,
                row.date_of_birth,
                row.phone,
                row.insurance,
                row.emergency_contacts,
                row.onboarding_step,
                len(changes),
            )

    events = []
    for state in (ProfileState, OnboardingState, ProfileChangesState):
        for name, handler in state.event_handlers.items():
            parameters = list(inspect.signature(handler.fn).parameters)[1:]
            if name == "setvar" or "files" in parameters:  # uploads go through /_upload
                continue
            payload = {p: theirs.get(p, theirs["contact_id"]) for p in parameters}
            events.append((f"{state.get_full_name()}.{name}", payload))
    before = snapshot()
    replies = call_handlers(
        portal_url,
        events,
        session_token=accounts.session_token(ATTACKER),
        path="/profile",
    )
    assert snapshot() == before
    leaked = [
        marker
        for marker in (
            victim.legal_last_name,
            *(c["name"] for c in victim.emergency_contacts or []),
        )
        if any(marker in reply for reply in replies)
    ]
    assert leaked == []
    assert any('"role_rx_state_": "patient"' in reply for reply in replies)
