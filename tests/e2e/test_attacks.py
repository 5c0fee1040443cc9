"""A raw websocket client calls every event handler of every provider and admin state by name,
with no session and with a patient's session, with arguments chosen to do harm: nothing
changes and no PHI comes back. A signed-out tab's token is reused: no PHI either."""

from __future__ import annotations

import inspect

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from portal.backend import models
from portal.backend.demo import DEMO_PATIENT_EMAIL
from portal.backend.demo.people import PATIENTS
from portal.pages.admin.home import AdminHomeState
from portal.pages.admin.invitations import InvitationsState
from portal.pages.admin.mailbox import MailboxState
from portal.pages.patient.home import PatientHomeState
from portal.pages.provider.home import ProviderHomeState
from portal.state.session import SessionState
from tests.e2e.socket import call_handlers

STAFF_STATES = [ProviderHomeState, AdminHomeState, InvitationsState, MailboxState]
PHI = [last for _first, last, *_ in PATIENTS if len(last) >= 6] + [DEMO_PATIENT_EMAIL]
HARMFUL_FORM = {
    "patient_email": "attacker@evil.example",
    "staff_email": "attacker@evil.example",
    "name": "Mallory Admin",
    "role": "admin",
    "credentials": "MD",
    "specialty": "x",
}


def arguments(handler, patient_id: str) -> dict:
    values = {
        "form_data": HARMFUL_FORM,
        "patient_id": patient_id,
        "role": "admin",
        "screen": "",
        "session_id": patient_id,
        "task": "password",
        "_moment": "",
    }
    parameters = list(inspect.signature(handler.fn).parameters)[1:]
    return {name: values.get(name, "") for name in parameters}


def staff_events(patient_id: str) -> list[tuple[str, dict]]:
    events = []
    for state in STAFF_STATES:
        for name, handler in state.event_handlers.items():
            if name == "setvar":  # Reflex's own; the portal refuses it outright
                payload = {"var_name": "patients", "value": []}
            else:
                payload = arguments(handler, patient_id)
            events.append((f"{state.get_full_name()}.{name}", payload))
    events.append((f"{InvitationsState.get_full_name()}.pick_patient", {"patient_id": patient_id}))
    events.append(
        (f"{InvitationsState.get_full_name()}.invite_patient", {"form_data": HARMFUL_FORM})
    )
    return events


def snapshot(database) -> dict[str, int]:
    with database.unit_of_work() as uow:
        tables = (
            models.User,
            models.AccountToken,
            models.Notification,
            models.Provider,
            models.Patient,
            models.Appointment,
            models.Message,
        )
        counts = {
            table.__tablename__: uow.session.exec(
                select(func.count()).select_from(table)
            ).scalar_one()
            for table in tables
        }
        counts["open sessions"] = uow.session.exec(
            select(func.count())
            .select_from(models.UserSession)
            .where(models.UserSession.ended_at.is_(None))
        ).scalar_one()
        return counts


@pytest.fixture(scope="module")
def demo_patient_id(portal_database) -> str:
    with portal_database.unit_of_work() as uow:
        return str(uow.session.exec(select(models.Patient.id)).first()[0])


@pytest.mark.parametrize("who", ["nobody", "patient"])
def test_staff_handlers_do_nothing_for_outsiders(
    portal_url, accounts, portal_database, demo_patient_id, who
):
    session_token = accounts.session_token(DEMO_PATIENT_EMAIL) if who == "patient" else ""
    before = snapshot(portal_database)
    replies = call_handlers(
        portal_url, staff_events(demo_patient_id), session_token=session_token, path="/admin"
    )
    after = snapshot(portal_database)
    if who == "patient":
        assert after.pop("open sessions") == before.pop("open sessions")
    assert after == before
    assert replies and not any(reply.startswith("timeout") for reply in replies)
    leaked = [marker for marker in PHI if any(marker in reply for reply in replies)]
    assert leaked == []
    if who == "patient":  # the session was live, so the role check is what refused
        assert any('"role_rx_state_": "patient"' in reply for reply in replies)


def test_a_signed_out_tabs_token_reaches_no_phi(new_context, portal_url, accounts):
    email = "hannah.schmidt@example.com"
    context = new_context(email)
    session_token = context.cookies()[0]["value"]
    page = context.new_page()
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Hannah")
    tab_token = page.evaluate("() => sessionStorage.getItem('token')")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_contain_text("You were signed out")
    replies = call_handlers(
        portal_url,
        [
            (f"{SessionState.get_full_name()}.enter", {"role": "patient", "screen": ""}),
            (f"{PatientHomeState.get_full_name()}.load", {}),
        ],
        session_token=session_token,
        tab_token=tab_token,
    )
    assert replies
    assert not any(marker in reply for reply in replies for marker in ("Hannah", "Schmidt"))
