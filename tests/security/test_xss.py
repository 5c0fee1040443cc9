"""Stored XSS: script payloads (each carrying the canary) in every free-text field a patient or
the care team types — message subject and body, appointment reason and cancellation reason,
profile fields, insurance, emergency contacts, a requested name change and its decline reason,
record title, note and review comment — rendered in every view that shows them, one Chromium
page per view: no payload runs (`window.__xss` is never set, no dialog opens, no element
carries an event-handler attribute), and the payload shows as text."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.backend import models
from portal.backend.services import messaging
from portal.backend.services.sessions import open_session
from tests.integration.factories import CANARY
from tests.security.conftest import DEMO_ADMIN, DEMO_PROVIDER, add_person

MARK = f"{CANARY}xss"
PAYLOADS = {
    "img": f'<img src=x onerror="window.__xss=1;alert(1)">{MARK}',
    "script": f"<script>window.__xss=2;alert(2)</script>{MARK}",
    "svg": f'"><svg onload="window.__xss=3">{MARK}',
    "link": f"javascript:window.__xss=4//{MARK}",
}
TEXT = " ".join(PAYLOADS.values())
WATCH = """
window.__xss = undefined;
window.alert = window.confirm = window.prompt = () => { window.__xss = 'dialog'; };
"""


def _care_team_of(database, provider_id) -> uuid.UUID:
    """A care team the provider is on, so their inbox and schedule show the patient."""
    with database.unit_of_work() as uow:
        return uow.session.exec(
            select(models.CareTeamMember.care_team_id).where(
                models.CareTeamMember.provider_id == provider_id
            )
        ).first()[0]


@pytest.fixture(scope="module")
def planted(portal_database, demo_ids) -> dict[str, str]:
    """A patient of Dr. Chen's care team whose every free-text field holds the payloads."""
    person = add_person(
        portal_database,
        demo_ids["tenant_id"],
        f"xss.{uuid.uuid4().hex[:8]}@example.org",
        "Xavi",
        "Scripter",
    )
    team = _care_team_of(portal_database, demo_ids["provider_id"])
    now = datetime.now(UTC)
    with portal_database.unit_of_work() as uow:
        patient = uow.session.get(models.Patient, person.patient_id)
        patient.care_team_id = team
        patient.preferred_name = PAYLOADS["img"]
        patient.pronouns = PAYLOADS["script"]
        patient.gender_identity = PAYLOADS["svg"]
        patient.address = {
            "line1": PAYLOADS["img"],
            "line2": PAYLOADS["svg"],
            "city": PAYLOADS["script"],
            "state": "NY",
            "postal_code": "10001",
        }
        patient.insurance = {"payer": PAYLOADS["img"], "member_id": PAYLOADS["script"]}
        patient.emergency_contacts = [
            {
                "id": uuid.uuid4().hex,
                "name": PAYLOADS["img"],
                "relationship": PAYLOADS["script"],
                "phone": "555-234-0101",
            }
        ]
        kind = uow.session.exec(
            select(models.AppointmentType.id).where(
                models.AppointmentType.tenant_id == demo_ids["tenant_id"]
            )
        ).first()[0]
        # Upcoming for the patient, and (but near midnight) on the provider's day.
        today = (now + timedelta(minutes=90)).replace(second=0, microsecond=0)
        upcoming = models.Appointment(
            tenant_id=demo_ids["tenant_id"],
            patient_id=patient.id,
            provider_id=demo_ids["provider_id"],
            appointment_type_id=kind,
            starts_at=today,
            ends_at=today + timedelta(minutes=10),
            blocked_from=today,
            blocked_until=today + timedelta(minutes=10),
            reason=TEXT,
        )
        later = today + timedelta(days=3)
        cancelled = models.Appointment(
            tenant_id=demo_ids["tenant_id"],
            patient_id=patient.id,
            provider_id=demo_ids["provider_id"],
            appointment_type_id=kind,
            starts_at=later,
            ends_at=later + timedelta(minutes=10),
            blocked_from=later,
            blocked_until=later,
            status=models.AppointmentStatus.CANCELLED,
            cancelled_at=now,
            caused_by="patient",
            reason=PAYLOADS["svg"],
            cancel_reason=TEXT,
        )
        record = models.MedicalRecord(
            tenant_id=demo_ids["tenant_id"],
            patient_id=patient.id,
            kind="visit_summary",
            title=PAYLOADS["img"],
            content={
                "summary": TEXT,
                "diagnoses": [PAYLOADS["img"], PAYLOADS["svg"]],
                "instructions": TEXT,
                "follow_up": PAYLOADS["script"],
            },
            provider_id=demo_ids["provider_id"],
            effective_at=now - timedelta(days=1),
            released_at=now - timedelta(hours=1),
            review_comment=TEXT,
        )
        change = models.ProfileChange(
            tenant_id=demo_ids["tenant_id"],
            patient_id=patient.id,
            requested_values={"legal_first_name": PAYLOADS["svg"], "reason": TEXT},
        )
        uow.session.add_all([upcoming, cancelled, record, change])
        principal = open_session(uow, uow.session.get(models.User, person.user_id)).principal
        uow.commit()
        ids = {"record": str(record.id), "patient": str(patient.id)}
    ids["thread"] = messaging.start_thread(
        principal, PAYLOADS["img"], "other", TEXT, uow=portal_database.unit_of_work()
    )
    ids["email"] = person.email
    return ids


VIEWS = {
    "patient home": ("patient", "/"),
    "patient appointments": ("patient", "/appointments"),
    "patient appointment details": ("patient", "/appointments"),
    "patient messages": ("patient", "/messages"),
    "patient thread": ("patient", "/messages/thread?id={thread}"),
    "patient records": ("patient", "/records"),
    "patient records list": ("patient", "/records/list?kind=visit_summary"),
    "patient record": ("patient", "/records/detail?id={record}"),
    "patient profile": ("patient", "/profile"),
    "provider home": ("provider", "/provider"),
    # One patient's threads: other tests add more open threads than one page holds.
    "provider inbox": ("provider", "/provider/inbox?patient={patient}"),
    "provider thread": ("provider", "/provider/inbox/thread?id={thread}"),
    "provider schedule": ("provider", "/provider/schedule"),
    "provider profile changes": ("provider", "/provider/profile-changes"),
    "provider records": ("provider", "/provider/records?patient={patient}"),
    "chart summary": ("provider", "/provider/patients/chart?patient={patient}&tab=summary"),
    "chart appointments": (
        "provider",
        "/provider/patients/chart?patient={patient}&tab=appointments",
    ),
    "chart messages": ("provider", "/provider/patients/chart?patient={patient}&tab=messages"),
    "chart records": ("provider", "/provider/patients/chart?patient={patient}&tab=records"),
    "chart profile": ("provider", "/provider/patients/chart?patient={patient}&tab=profile"),
    "admin audit": ("admin", "/admin/audit"),
}


# Views that show none of the planted text (admins see no clinical text; the appointment list
# shows times, the details dialog the reasons): they must still be inert.
INERT_ONLY = {"admin audit", "patient appointments"}


@pytest.mark.parametrize("view", sorted(VIEWS))
def test_stored_scripts_stay_text(view, planted, new_context, canary_traces):
    role, path = VIEWS[view]
    email = {"patient": planted["email"], "provider": DEMO_PROVIDER, "admin": DEMO_ADMIN}[role]
    context = new_context(email)
    context.add_init_script(WATCH)
    page = context.new_page()
    canary_traces.follow(page)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(path.format(**planted), wait_until="networkidle")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    if view == "patient appointment details":
        page.get_by_role("button", name="Details").first.click()
        expect(page.get_by_role("dialog")).to_be_visible()
    if view not in INERT_ONLY:
        expect(page.locator("body")).to_contain_text(MARK)
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.__xss") is None
    assert dialogs == []
    assert page.locator("[onerror], [onload], script:not([src])").filter(has_text=MARK).count() == 0
    assert page.locator("img[src='x'], svg[onload], [onerror]").count() == 0
    assert page.locator(f"a[href^='javascript']:has-text('{MARK}')").count() == 0
    canary_traces.keep_storage(page)
