"""The admins' users and care-teams pages in Chromium: finding an account by email or by
name, deactivating and reactivating it, inviting a provider who enrolls, unlocking a patient
and resetting their MFA (after re-authenticating and recording the identity check) so they
must enroll again, then finding it in the audit log; care teams; who may open the pages; and
every handler of both states called over the websocket by a patient and by a provider."""

from __future__ import annotations

import inspect
import re
import uuid
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from portal.backend import models
from portal.backend.demo import DEMO_PASSWORD, DEMO_PATIENT_EMAIL
from portal.backend.demo.people import PRACTICE
from portal.backend.models.base import utcnow
from portal.backend.patient_index import index_patient
from portal.backend.services import sessions
from portal.pages.admin.care_teams_state import CareTeamsState
from portal.pages.admin.users_state import UsersState
from tests.e2e.conftest import watch
from tests.e2e.socket import call_handlers
from tests.e2e.test_identity_flows import code_after, mail_link
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


# Accounts no other end-to-end test uses.
LOCKED_EMAIL = "owen.fitzgerald@example.com"
LOCKED = "Owen Fitzgerald"
NEW_PROVIDER = ("Dr. Rosa Lindqvist", "rosa.lindqvist@riverside.example")
PROVIDER_PASSWORD = "quiet harbour lights at dawn"
TARGET_PROVIDER = "dr.whitfield@riverside.example"


def test_an_admin_invites_a_provider_from_the_users_page_and_they_enroll(new_context, portal_url):
    name, email = NEW_PROVIDER
    admin = new_context(LOGINS["admin"])
    page = admin.new_page()
    problems = watch(page)
    page.goto(USERS)
    expect(page.get_by_role("row")).not_to_have_count(1)
    page.get_by_role("button", name="Invite a provider").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading")).to_have_text("Invite a colleague")
    expect(dialog.get_by_role("radio", name="provider")).to_be_checked()
    assert_accessible(page)
    dialog.get_by_label("Full name").fill(name)
    dialog.get_by_label("Email address").fill(email)
    dialog.get_by_label("Credentials (providers)").fill("MD")
    dialog.get_by_role("button", name="Send the invitation").click()
    expect(page.get_by_role("status")).to_contain_text(f"Invitation sent to {email}")
    expect(page.get_by_role("dialog")).to_have_count(0)

    invitee = new_context().new_page()
    invitee.goto(mail_link(admin, email, "/welcome"))
    expect(invitee).to_have_url(at(portal_url, "/welcome"))
    invitee.get_by_label("Choose a password").fill(PROVIDER_PASSWORD)
    invitee.get_by_label("Type it again").fill(PROVIDER_PASSWORD)
    invitee.get_by_role("button", name="Continue").click()
    expect(invitee.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    secret = invitee.locator("code").first.inner_text().replace(" ", "")
    invitee.get_by_label("Code").fill(code_after(secret, -1)[0])
    invitee.get_by_role("button", name="Confirm").click()
    expect(
        invitee.get_by_role("list", name="Recovery codes").get_by_role("listitem")
    ).to_have_count(10)
    invitee.get_by_role("button", name=re.compile("I have kept my codes")).click()
    expect(invitee).to_have_url(at(portal_url, "/provider"))

    page.get_by_label("Name or email address").fill("lindq")
    page.get_by_role("button", name="Search").click()
    row = page.get_by_role("row", name=name)
    expect(page.get_by_role("row")).to_have_count(2)
    expect(row.get_by_role("cell").nth(0)).to_have_text("Provider")
    expect(row.get_by_role("cell").nth(1)).to_have_text("Active")
    expect(row.get_by_role("cell").nth(2)).to_have_text("Enrolled")
    assert not problems, "the browser reported errors:\n" + "\n".join(problems)


def test_an_admin_unlocks_a_patient_resets_their_mfa_and_finds_it_in_the_audit_log(
    new_context, accounts, portal_url
):
    user = accounts.user(LOCKED_EMAIL)
    with accounts.database.unit_of_work() as uow:  # locked as five failed sign-ins lock it
        row = uow.session.get(models.User, user.id)
        row.failed_sign_ins, row.locked_until = 5, utcnow() + timedelta(minutes=15)
        uow.commit()
        patient = uow.session.exec(
            select(models.Patient).where(models.Patient.user_id == user.id)
        ).scalar_one()
    patient_token = accounts.session_token(LOCKED_EMAIL)

    page = new_context(LOGINS["admin"]).new_page()
    problems = watch(page)
    page.goto(USERS)
    page.get_by_label("Name or email address").fill("fitzg")
    page.get_by_role("button", name="Search").click()
    row = page.get_by_role("row", name=LOCKED)
    expect(page.get_by_role("row")).to_have_count(2)
    expect(row.get_by_role("cell").nth(4)).to_have_text("Locked")
    page.get_by_role("button", name=f"Unlock {LOCKED}").click()
    expect(page.get_by_role("status")).to_contain_text("The account is unlocked.")
    expect(row.get_by_role("cell").nth(4)).to_have_text("No")
    assert accounts.user(LOCKED_EMAIL).locked_until is None

    # Their sessions, then the reset: the admin confirms it's them, then the identity check.
    page.get_by_role("button", name=f"Sessions {LOCKED}").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("listitem")).to_have_count(1)
    expect(dialog.get_by_role("listitem")).to_contain_text("Test browser")
    assert_accessible(page)
    dialog.get_by_role("button", name="Close").click()
    page.get_by_role("button", name=f"Reset MFA {LOCKED}").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading")).to_have_text("Reset two-step sign-in")
    dialog.get_by_label("Your password").fill("not my password")
    dialog.get_by_label("Code").fill("000000")
    dialog.get_by_role("button", name="Confirm it's me").click()
    expect(dialog.get_by_role("alert")).to_contain_text("That password or code is not right.")
    dialog.get_by_label("Your password").fill(DEMO_PASSWORD)
    dialog.get_by_label("Code").fill(accounts.code(LOGINS["admin"]))
    dialog.get_by_role("button", name="Confirm it's me").click()
    dialog.get_by_role("radio", name="Called back on the number on file").check()
    assert_accessible(page)
    dialog.get_by_role("button", name="Reset two-step sign-in").click()
    expect(page.get_by_role("status")).to_contain_text(
        f"{LOCKED}'s authenticator and recovery codes are cleared"
    )
    expect(row.get_by_role("cell").nth(2)).to_have_text("Not enrolled")
    reset = accounts.user(LOCKED_EMAIL)
    assert reset.totp_secret is None and reset.mfa_enrolled_at is None
    assert sessions.resolve_session(patient_token, uow=accounts.database.unit_of_work()) is None

    # The patient signs in with their password and must set up an authenticator again.
    owen = new_context().new_page()
    owen.goto("/sign-in", wait_until="networkidle")
    owen.get_by_label("Email address").fill(LOCKED_EMAIL)
    owen.get_by_label("Password").fill(DEMO_PASSWORD)
    owen.get_by_role("button", name="Continue").click()
    expect(owen.get_by_role("heading", name="Set up your authenticator app")).to_be_visible()
    secret = owen.locator("code").first.inner_text().replace(" ", "")
    owen.get_by_label("Code").fill(code_after(secret, -1)[0])
    owen.get_by_role("button", name="Confirm").click()
    expect(owen.get_by_role("list", name="Recovery codes").get_by_role("listitem")).to_have_count(
        10
    )
    assert accounts.user(LOCKED_EMAIL).mfa_enrolled_at is not None

    # The audit log, filtered for the patient, shows the reset and its identity check only.
    page.goto("/admin/audit")
    page.get_by_label("Patient's last name").fill(patient.legal_last_name)
    page.get_by_label("Patient's date of birth").fill(patient.date_of_birth.isoformat())
    page.get_by_role("button", name="Search").click()
    events = page.get_by_role("table").locator("tbody tr")
    reset_row = events.filter(has_text="user.mfa.reset")
    expect(reset_row).to_have_count(1)
    expect(reset_row).to_contain_text("identity_check=callback")
    expect(reset_row).to_contain_text(LOCKED)
    page.get_by_label("Patient's last name").fill("")
    page.get_by_label("Patient's date of birth").fill("")
    page.get_by_label("Person (email)").fill(LOCKED_EMAIL)
    page.get_by_role("button", name="Search").click()
    expect(events.filter(has_text="admin.unlock")).to_have_count(1)
    page.get_by_role("button", name="Verify integrity").click()
    expect(page.get_by_role("status").filter(has_text="The audit log is intact")).to_be_visible()
    assert not problems, "the browser reported errors:\n" + "\n".join(problems)


def unplaced_patient(database, first: str, last: str) -> uuid.UUID:
    """A new patient of the demo practice who has no care team yet."""
    with database.unit_of_work() as uow:
        tenant = uow.session.exec(
            select(models.Practice.id).where(models.Practice.slug == PRACTICE["slug"])
        ).scalar_one()
        patient = models.Patient(
            tenant_id=tenant,
            medical_record_number=f"MRN-{uuid.uuid4().hex[:8]}",
            legal_first_name=first,
            legal_last_name=last,
            date_of_birth=date(1984, 3, 9),
        )
        uow.session.add(patient)
        index_patient(uow, patient)
        uow.commit()
        return patient.id


def test_an_admin_staffs_a_care_team_moves_a_patient_through_it_and_deletes_it(
    new_context, accounts
):
    patient_id = unplaced_patient(accounts.database, "Tamsin", "Quillfeather")
    page = new_context(LOGINS["admin"]).new_page()
    problems = watch(page)
    try:
        page.goto("/admin/care-teams")
        expect(page.get_by_role("heading", level=1)).to_have_text("Care teams")
        pediatrics = page.get_by_role("region", name="Pediatrics Team")
        expect(pediatrics).to_contain_text("Dr. Sofia Ramirez")
        assert_accessible(page)
        # The only member of a team with patients stays, and the page says why.
        pediatrics.get_by_role(
            "button", name="Remove Dr. Sofia Ramirez from Pediatrics Team"
        ).click()
        expect(page.get_by_role("alert")).to_contain_text("is the last member of Pediatrics Team")
        expect(pediatrics.get_by_role("listitem")).to_have_count(1)

        page.get_by_label("Team name").fill("Evening Clinic Team")
        page.get_by_role("button", name="Create the team").click()
        expect(page.get_by_role("status")).to_contain_text(
            "The team Evening Clinic Team is created"
        )
        team = page.get_by_role("region", name="Evening Clinic Team")
        team.get_by_label("Add a provider to Evening Clinic Team").select_option(
            label="Dr. James Whitfield"
        )
        team.get_by_role("button", name="Add to Evening Clinic Team").click()
        expect(team.get_by_role("listitem")).to_have_count(1)
        team.get_by_role("button", name="Rename Evening Clinic Team").click()
        page.get_by_label("New name for Evening Clinic Team").fill("Late Clinic Team")
        page.get_by_role("button", name="Save the name").click()
        renamed = page.get_by_role("region", name="Late Clinic Team")
        expect(renamed).to_contain_text("Dr. James Whitfield")

        # A patient found by name joins the team; a team with patients is not deleted.
        page.get_by_label("Find a patient by name").fill("quillf")
        page.get_by_role("button", name="Find patients").click()
        found = page.get_by_role("list", name="Patients found by name").get_by_role("listitem")
        expect(found).to_have_count(1)
        expect(found).to_contain_text("No care team yet")
        found.get_by_label("Move Tamsin Quillfeather to").select_option(label="Late Clinic Team")
        found.get_by_role("button", name="Move Tamsin Quillfeather").click()
        expect(page.get_by_role("status")).to_contain_text(
            "Tamsin Quillfeather is now looked after by Late Clinic Team."
        )
        expect(renamed).to_contain_text("Looks after 1 patient")
        expect(found).to_contain_text("Late Clinic Team")
        renamed.get_by_role("button", name="Delete Late Clinic Team").click()
        renamed.get_by_role("button", name="Yes, delete Late Clinic Team").click()
        expect(page.get_by_role("alert")).to_contain_text(
            "Late Clinic Team still looks after 1 patient. Move them to another team first"
        )
        assert_accessible(page)

        # Every patient of the team moves on; then the team can go.
        page.get_by_label("From", exact=True).select_option(label="Late Clinic Team")
        page.get_by_label("To", exact=True).select_option(label="Pediatrics Team")
        page.get_by_role("button", name="Move all patients").click()
        expect(page.get_by_role("status")).to_contain_text(
            "1 patient moved from Late Clinic Team to Pediatrics Team."
        )
        expect(renamed).to_contain_text("Looks after 0 patients")
        renamed.get_by_role(
            "button", name="Remove Dr. James Whitfield from Late Clinic Team"
        ).click()
        expect(renamed.get_by_role("listitem")).to_have_count(0)
        renamed.get_by_role("button", name="Delete Late Clinic Team").click()
        renamed.get_by_role("button", name="Yes, delete Late Clinic Team").click()
        expect(page.get_by_role("status")).to_contain_text("The team Late Clinic Team is deleted.")
        expect(page.get_by_role("region", name="Late Clinic Team")).to_have_count(0)
        with accounts.database.unit_of_work() as uow:
            moved = uow.session.get(models.Patient, patient_id)
            pediatrics_id = uow.session.exec(
                select(models.CareTeam.id).where(models.CareTeam.name == "Pediatrics Team")
            ).scalar_one()
            assert moved.care_team_id == pediatrics_id
        assert not problems, "the browser reported errors:\n" + "\n".join(problems)
    finally:  # the new patient leaves the demo's teams as they were
        with accounts.database.unit_of_work() as uow:
            uow.session.get(models.Patient, patient_id).care_team_id = None
            uow.commit()


def test_only_admins_open_the_care_teams_page(new_context, portal_url):
    provider = new_context(LOGINS["provider"]).new_page()
    provider.goto("/admin/care-teams")
    expect(provider).to_have_url(at(portal_url, "/provider"))


def snapshot(database, target) -> tuple:
    """Accounts, teams, members, the target's open sessions and the admin actions audited."""
    with database.unit_of_work() as uow:
        users = uow.session.exec(
            select(
                models.User.id,
                models.User.role,
                models.User.status,
                models.User.totp_secret.is_not(None),
                models.User.locked_until,
            ).order_by(models.User.id)
        ).all()
        teams = uow.session.exec(select(models.CareTeam.id, models.CareTeam.name)).all()
        placed = uow.session.exec(
            select(models.Patient.id, models.Patient.care_team_id).order_by(models.Patient.id)
        ).all()
        threads = uow.session.exec(
            select(models.Conversation.id, models.Conversation.care_team_id).order_by(
                models.Conversation.id
            )
        ).all()
        members = uow.session.exec(
            select(models.CareTeamMember.care_team_id, models.CareTeamMember.provider_id)
        ).all()
        open_sessions = uow.session.exec(
            select(func.count())
            .select_from(models.UserSession)
            .where(models.UserSession.ended_at.is_(None), models.UserSession.user_id == target)
        ).scalar_one()
        audited = uow.session.exec(
            select(func.count())
            .select_from(models.AuditEvent)
            .where(
                models.AuditEvent.action.like("user.%")
                | models.AuditEvent.action.like("care_team.%")
                | models.AuditEvent.action.in_(["invitation.send", "admin.unlock"])
            )
        ).scalar_one()
        return (
            sorted(map(tuple, users)),
            sorted(teams),
            sorted(members),
            [tuple(row) for row in placed + threads],
            open_sessions,
            audited,
        )


def harmful_payloads(accounts) -> dict:
    """Real ids of this practice: a provider's account and session, a team and a member, a
    patient and another team."""
    target = accounts.user(TARGET_PROVIDER)
    session_token = accounts.session_token(TARGET_PROVIDER)
    with accounts.database.unit_of_work() as uow:
        member = uow.session.exec(select(models.CareTeamMember)).scalars().first()
        patient = (
            uow.session.exec(select(models.Patient).where(models.Patient.care_team_id.is_not(None)))
            .scalars()
            .first()
        )
        other_team = uow.session.exec(
            select(models.CareTeam.id).where(models.CareTeam.id != patient.care_team_id)
        ).first()[0]
        session_id = (
            uow.session.exec(
                select(models.UserSession.id).where(
                    models.UserSession.user_id == target.id, models.UserSession.ended_at.is_(None)
                )
            )
            .scalars()
            .first()
        )
    assert session_token
    return {
        "user_id": str(target.id),
        "session_id": str(session_id),
        "team_id": str(member.care_team_id),
        "provider_id": str(member.provider_id),
        "role": "admin",
        "name": "role",
        "is_open": False,
        "form_data": {
            "role": "admin",
            "new_role": "admin",
            "identity_check": "callback",
            "name": "Mallory",
            "email": "mallory@example.org",
            "password": DEMO_PASSWORD,
            "code": "123456",
            "team_name": "Mallory's Team",
            "new_name": "Mallory's Team",
            "team": str(member.care_team_id),
            "provider": str(member.provider_id),
            "query": "fitz",
            "patient_query": "fitz",
            "patient": str(patient.id),
            "to": str(other_team),
            "from_team": str(patient.care_team_id),
            "to_team": str(other_team),
        },
    }


@pytest.mark.parametrize("who", ["patient", "provider"])
def test_users_and_care_team_handlers_do_nothing_for_patients_and_providers(
    portal_url, accounts, portal_database, who
):
    email = DEMO_PATIENT_EMAIL if who == "patient" else LOGINS["provider"]
    harmful = harmful_payloads(accounts)
    events = []
    for state in (UsersState, CareTeamsState):
        for name, handler in state.event_handlers.items():
            if name == "setvar":
                continue
            parameters = list(inspect.signature(handler.fn).parameters)[1:]
            events.append(
                (f"{state.get_full_name()}.{name}", {p: harmful.get(p, "x") for p in parameters})
            )
    attacker = accounts.session_token(email)
    target = accounts.user(TARGET_PROVIDER).id
    before = snapshot(portal_database, target)
    replies = call_handlers(
        portal_url,
        events,
        session_token=attacker,
        path="/admin/users",
    )
    assert snapshot(portal_database, target) == before
    assert any(f'"role_rx_state_": "{who}"' in reply for reply in replies)  # it ran signed in
    assert not any("Invitation sent" in reply or "is now" in reply for reply in replies)
    assert not any("Fitzgerald" in reply or "Whitfield" in reply for reply in replies)
