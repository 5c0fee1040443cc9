"""Every event handler of every state the app registers, called by name over a raw websocket
with no session, with a patient's session and with a provider's session, with arguments chosen
to do harm: another patient's (or another practice's) real ids, admin role strings, owner,
tenant and status fields in every form. The list is generated from the app, so a new handler
is attacked as soon as it exists.

What must hold: no row outside the caller's own changes (row counts and a checksum of the
stored bytes of every table, PHI columns included), no victim's session ends, and no reply
carries PHI the caller may not see (demo surnames of six letters or more, the demo email, the
other practice's canary).
"""

from __future__ import annotations

import inspect
import typing
from datetime import UTC, datetime, timedelta

import pytest
import reflex as rx
from sqlalchemy import select

from portal.backend import models
from portal.backend.demo import DEMO_PATIENT_EMAIL
from portal.backend.demo.people import PATIENTS
from tests.integration.factories import CANARY
from tests.security.conftest import DEMO_PROVIDER
from tests.security.harness import (
    checksum,
    foreign_changes,
    ownership_changes,
    picture,
    router,
    send_events,
)

DEMO_PHI = [last for _first, last, *_ in PATIENTS if len(last) >= 6] + [DEMO_PATIENT_EMAIL]
# Handlers that end the caller's own session run last, so the others run signed in.
LAST = ("sign_out",)


def registered_states() -> list[type[rx.State]]:
    """Every state class of the app, as registered when portal.portal builds it."""
    from portal.portal import app  # noqa: F401  (registers every page and its states)

    found, stack = [], [rx.State]
    while stack:
        state = stack.pop()
        for substate in state.get_substates():
            stack.append(substate)
            if not substate.__module__.startswith("reflex"):
                found.append(substate)
    return sorted(found, key=lambda state: state.get_full_name())


def handlers() -> list[tuple[type[rx.State], str, typing.Any]]:
    """(state, name, handler) for every handler a client can call by name. Reflex's generic
    `setvar` is refused for every state by portal/middleware.py (and attacked once below);
    upload handlers take their files through `/_upload` (test_uploads.py)."""
    found = []
    for state in registered_states():
        for name, handler in state.event_handlers.items():
            parameters = inspect.signature(handler.fn).parameters
            if name != "setvar" and "files" not in parameters:
                found.append((state, name, handler))
    return found


def harmful_form(target: dict) -> dict[str, str]:
    """A form as a hand-written client would post it: every owner, role, tenant and status
    field a handler must ignore, and real ids of someone else's things."""
    ids = {key: str(value) for key, value in target.items() if value is not None}
    return {
        **ids,
        "id": ids.get("appointment_id", ""),
        "thread_id": ids.get("conversation_id", ""),
        "result_id": ids.get("record_id", ""),
        "role": "admin",
        "status": "cancelled",
        "owner_id": ids.get("user_id", ""),
        "email": "attacker@evil.example",
        "patient_email": "attacker@evil.example",
        "staff_email": "attacker@evil.example",
        "password": "not the password, but long",
        "new_password": "Mallory takes over 2026!",
        "code": "123456",
        "name": "Mallory Admin",
        "credentials": "MD",
        "specialty": "x",
        "query": f"Ann{CANARY}",
        "subject": "Mallory subject",
        "body": "Mallory body",
        "text": "Mallory text",
        "reason": "Mallory reason",
        "comment": "Mallory comment",
        "legal_first_name": "Mallory",
        "legal_last_name": "Evil",
        "date_of_birth": "1980-01-01",
        "preferred_name": "Mallory",
        "phone": "555-234-0000",
        "payer": "Evil",
        "member_id": "E1",
        "relationship": "friend",
        "title": "Mallory title",
        "starts_at": target["starts_at"],
        "date": target["starts_at"][:10],
    }


def argument(name: str, annotation, target: dict):
    by_name = {
        "form_data": harmful_form(target),
        "form": "contact",
        "role": "admin",
        "screen": "",
        "task": "password",
        "tab": "profile",
        "kind": "lab_result",
        "action": "cancel",
        "side": "front",
        "target": str(target["contact_id"]),
        "step": "review",
        "starts_at": target["starts_at"],
        "first_day": target["starts_at"][:10],
        "wanted": str(target["record_id"]),
        "result_id": str(target["record_id"]),
        "field": "body",
        "position": "0",
    }
    if name in by_name:
        return by_name[name]
    if name in target and target[name] is not None:
        return str(target[name])
    if annotation in (bool, "bool"):
        return True
    if annotation in (int, "int"):
        return 1
    if name.startswith("_"):
        return ""
    return "Mallory"


def events_for(target: dict) -> list[tuple[str, dict, dict]]:
    events, last = [], []
    for state, name, handler in handlers():
        parameters = list(inspect.signature(handler.fn).parameters.values())[1:]
        payload = {p.name: argument(p.name, p.annotation, target) for p in parameters}
        records = "records" in state.__module__
        query = {
            "id": str(target["record_id" if records else "conversation_id"]),
            "patient": str(target["patient_id"]),
            "reschedule": str(target["appointment_id"]),
            "token": "forged-link-token-" + "x" * 30,
            "tab": "profile",
        }
        event = (f"{state.get_full_name()}.{name}", payload, router("/", query))
        (last if name in LAST else events).append(event)
    # Reflex's generic setter, aimed at the principal and the role.
    for state in registered_states()[:3]:
        for var in ("_principal", "role", "session_token"):
            events.append(
                (f"{state.get_full_name()}.setvar", {"var_name": var, "value": "admin"}, router())
            )
    return events + last


def _session_id(database, token: str):
    import hashlib

    digest = hashlib.sha256(token.encode()).hexdigest()
    with database.unit_of_work() as uow:
        return uow.session.exec(
            select(models.UserSession.id).where(models.UserSession.token_hash == digest)
        ).scalar_one()


def _open(database, session_id) -> bool:
    with database.unit_of_work() as uow:
        return uow.session.get(models.UserSession, session_id).ended_at is None


@pytest.fixture(scope="module")
def targets(demo_ids, other_practice, accounts, portal_database) -> dict[str, dict]:
    """What each caller aims at: the demo patient's things (the same practice as the patient
    caller) or the other practice's (for the provider, who may see their own practice)."""
    maria_token = accounts.session_token(DEMO_PATIENT_EMAIL)
    maria_session = _session_id(portal_database, maria_token)
    starts = (datetime.now(UTC) + timedelta(days=2)).replace(hour=15, minute=0, second=0)
    same_practice = {
        "patient_id": demo_ids["patient_id"],
        "user_id": demo_ids["user_id"],
        "appointment_id": demo_ids["appointment_id"],
        "hold_id": demo_ids["appointment_id"],
        "conversation_id": demo_ids["conversation_id"],
        "attachment_id": demo_ids["attachment_id"],
        "record_id": demo_ids["record_id"],
        "contact_id": demo_ids["contact_id"],
        "change_id": demo_ids["appointment_id"],
        "session_id": maria_session,
        "provider_id": other_practice.provider.id,
        "visit_type_id": other_practice.appointment_type_id,
        "rule_id": demo_ids["rule_id"],
        "exception_id": other_practice.exception_id,
        "holiday_id": other_practice.exception_id,
        "article_id": demo_ids["appointment_id"],
        "tenant_id": other_practice.tenant_id,
        "starts_at": starts.isoformat(),
    }
    other = other_practice
    other_practice_ids = {
        **same_practice,
        "patient_id": other.patient_b.id,
        "user_id": demo_ids["user_id"],  # admin-only handlers aimed at the provider's practice
        "appointment_id": other.appointment_b,
        "hold_id": other.appointment_b,
        "conversation_id": other.conversation_b,
        "attachment_id": other.attachment_b,
        "record_id": other.record_id,
        "contact_id": other.contact_id,
        "change_id": other.change_id,
        "rule_id": other.rule_id,
    }
    return {"nobody": same_practice, "patient": same_practice, "provider": other_practice_ids}


@pytest.mark.parametrize("who", ["nobody", "patient", "provider"])
def test_every_handler_refuses_harm_for_every_caller(
    who, portal_url, accounts, portal_database, targets, new_patient, demo_ids, canary_traces
):
    target = targets[who]
    own: list = []
    if who == "patient":
        attacker = new_patient("Quinn", "Intruder")
        session_token = accounts.session_token(attacker.email)
        own = [attacker.user_id, attacker.patient_id]
    elif who == "provider":
        session_token = accounts.session_token(DEMO_PROVIDER)
        own = [demo_ids["provider_user_id"], demo_ids["provider_id"]]
    else:
        session_token = ""
    events = events_for(target)
    before = picture(portal_database)
    replies = send_events(portal_url, events, session_token=session_token)
    after = picture(portal_database)
    canary_traces.replies.extend(replies)

    assert replies and not any(reply.startswith("timeout") for reply in replies)
    assert foreign_changes(before, after, own=own) == []
    # Mass assignment: not even the caller's own user, patient or tenant rows changed hands.
    assert ownership_changes(before, after, tables={"users", "patients", "user_sessions"}) == []
    if who == "nobody":  # nothing at all, by the bytes
        assert checksum(before) == checksum(after)
    assert _open(portal_database, target["session_id"]), "a victim's session was ended"
    markers = [CANARY, CANARY.lower()] + (DEMO_PHI if who != "provider" else [])
    leaked = sorted({m for m in markers if any(m in reply for reply in replies)})
    assert leaked == []
    if who != "nobody":  # the session was live all along: the checks refused, not a dead session
        assert any(f'"role_rx_state_": "{who}"' in reply for reply in replies)


def test_the_generated_list_covers_every_registered_handler():
    """The sweep is generated from the app: every state of every page is in it."""
    names = {f"{state.__name__}.{name}" for state, name, _ in handlers()}
    assert len(names) > 150
    for expected in (
        "SessionState.enter",
        "AdminHomeState.unlock",
        "UsersState.end_sessions",
        "ScheduleState.cancel",
        "ProfileState.remove_contact",
        "RecordsState.save",
        "InboxThreadState.reassign",
        "SecurityState.sign_out_device",
        "ChartState.break_glass",
        "BreakGlassState.mark_reviewed",
        "BreakGlassState.open_chart",
    ):
        assert expected in names


def test_the_database_picture_sees_a_changed_phi_value(portal_database, other_practice):
    """The sweep's detector is not blind: re-sealing one PHI value of another practice's patient
    (the same text, a new nonce) shows as a foreign change, and not as the caller's own."""
    before = picture(portal_database)
    with portal_database.unit_of_work() as uow:
        patient = uow.session.get(models.Patient, other_practice.patient_b.id)
        patient.pronouns = "they/them"
        uow.commit()
    after = picture(portal_database)
    changed = foreign_changes(before, after)
    assert [line for line in changed if line.startswith("patients ")] != []
    assert foreign_changes(before, after, own=[other_practice.patient_b.id]) == []
    assert checksum(before) != checksum(after)
