"""Every download route under `/files/...` (portal/backend/api/__init__.py): the owner gets the
file with safe headers; anyone else — nobody, another patient of the same practice, a provider
of another practice, the practice's admin for clinical files, a malformed id — gets exactly
the answer of a file that does not exist. Also the headers on everything the portal serves.
(Moved from tests/e2e/test_security.py.)"""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from portal.backend import models
from portal.backend.demo import DEMO_PATIENT_EMAIL
from portal.backend.security.tokens import SESSION_COOKIE
from tests.security.conftest import DEMO_ADMIN

OTHER_PATIENT = "james.wilson@example.com"
MISSING = "00000000-0000-0000-0000-000000000000"


@dataclass
class Answer:
    status: int
    body: bytes
    headers: dict[str, str]


def get(base: str, path: str, session_token: str = "") -> Answer:
    request = urllib.request.Request(f"{base}{path}")  # noqa: S310
    if session_token:
        request.add_header("Cookie", f"{SESSION_COOKIE}={session_token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            headers = {k.lower(): v for k, v in response.headers.items()}
            return Answer(response.status, response.read(), headers)
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.read(), {k.lower(): v for k, v in error.headers.items()})


@pytest.fixture(scope="module")
def tokens(accounts, other_practice) -> dict[str, str]:
    return {
        "nobody": "",
        "owner": accounts.session_token(DEMO_PATIENT_EMAIL),
        "other patient": accounts.session_token(OTHER_PATIENT),
        "other practice's provider": other_practice.token("provider"),
        "other practice's admin": other_practice.token("admin"),
        "admin": accounts.session_token(DEMO_ADMIN),
        "forged cookie": "forged-" + "a" * 40,
    }


@pytest.fixture(scope="module")
def insurance_card(portal_database, demo_ids) -> str:
    """The demo patient gets a card picture (a real PNG, stored the way uploads are)."""
    from tests.security.test_uploads import png

    with portal_database.unit_of_work() as uow:
        patient = uow.session.get(models.Patient, demo_ids["patient_id"])
        insurance = dict(patient.insurance or {})
        if not insurance.get("front_key"):
            insurance["front_key"] = uow.files.put(png(), "image/png")
            insurance["front_type"] = "image/png"
            patient.insurance = insurance
            uow.commit()
    return f"/files/insurance/{demo_ids['patient_id']}/front"


def routes(ids: dict, card: str) -> dict[str, tuple[str, str]]:
    """Each route with the id of the demo patient's own file, and the same with a missing id."""
    attachment, record = ids["attachment_id"], ids["record_id"]
    document = ids["document_record_id"] or record
    return {
        "attachment": (f"/files/attachments/{attachment}", f"/files/attachments/{MISSING}"),
        "attachment preview": (
            f"/files/attachments/{attachment}/preview",
            f"/files/attachments/{MISSING}/preview",
        ),
        "calendar": (
            f"/files/appointments/{ids['appointment_id']}/calendar.ics",
            f"/files/appointments/{MISSING}/calendar.ics",
        ),
        "record pdf": (
            f"/files/records/{record}/record.pdf",
            f"/files/records/{MISSING}/record.pdf",
        ),
        "record document": (
            f"/files/records/{document}/document",
            f"/files/records/{MISSING}/document",
        ),
        "insurance card": (card, f"/files/insurance/{MISSING}/front"),
        "insurance card, other side name": (
            card.replace("/front", "/front.png"),
            f"/files/insurance/{MISSING}/front",
        ),
    }


# Routes with no id serve the caller's own records: only a patient has any.
OWN_ONLY = {
    "records summary": "/files/records/summary.pdf?from=2000-01-01&to=2100-01-01",
    "health record (FHIR)": "/files/records/health-record.json",
}


@pytest.mark.parametrize(
    "route",
    [
        "attachment",
        "attachment preview",
        "calendar",
        "record pdf",
        "record document",
        "insurance card",
        "insurance card, other side name",
    ],
)
def test_nobody_else_can_tell_a_file_exists(portal_url, tokens, demo_ids, insurance_card, route):
    mine, missing_path = routes(demo_ids, insurance_card)[route]
    missing = get(portal_url, missing_path, tokens["owner"])
    assert missing.status == 404
    for who in (
        "nobody",
        "other patient",
        "other practice's provider",
        "other practice's admin",
        "admin",
        "forged cookie",
    ):
        answer = get(portal_url, mine, tokens[who])
        assert (answer.status, answer.body) == (missing.status, missing.body), who
        assert answer.headers.get("cache-control") == "no-store"
    malformed = get(portal_url, mine.replace(str(demo_ids["attachment_id"]), "not-an-id"))
    assert malformed.status == 404


def test_the_owner_gets_each_file_privately(portal_url, tokens, demo_ids, insurance_card):
    for route in ("attachment", "calendar", "record pdf", "insurance card"):
        answer = get(portal_url, routes(demo_ids, insurance_card)[route][0], tokens["owner"])
        assert answer.status == 200, route
        assert answer.headers["content-disposition"].startswith("attachment;"), route
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["x-content-type-options"] == "nosniff"
    for path in OWN_ONLY.values():
        assert get(portal_url, path, tokens["owner"]).status == 200


@pytest.mark.parametrize("route", sorted(OWN_ONLY))
def test_routes_without_an_id_serve_only_the_callers_own(portal_url, tokens, route):
    refused = get(portal_url, OWN_ONLY[route])
    assert refused.status == 404
    for who in ("other practice's provider", "admin", "forged cookie"):
        answer = get(portal_url, OWN_ONLY[route], tokens[who])
        assert (answer.status, answer.body) == (refused.status, refused.body), who
    other = get(portal_url, OWN_ONLY[route], tokens["other patient"])
    assert DEMO_PATIENT_EMAIL.encode() not in other.body
    assert b"Garcia" not in other.body


def test_the_audit_export_is_for_the_practices_admins_only(
    portal_url, tokens, demo_ids, other_practice
):
    export = "/files/audit-log.csv"
    own = get(portal_url, export, tokens["admin"])
    assert own.status == 200 and own.headers["cache-control"] == "no-store"
    refused = get(portal_url, export)
    for who in ("owner", "other patient", "other practice's provider", "forged cookie"):
        answer = get(portal_url, export, tokens[who])
        assert (answer.status, answer.body) == (refused.status, refused.body), who
    # Another practice's admin naming this practice's patient gets a 404, not their events.
    aimed = f"{export}?patient={demo_ids['patient_id']}"
    assert get(portal_url, aimed, tokens["other practice's admin"]).status == 404
    # Their own export names none of this practice's people (the ids they typed themselves
    # may appear in the record of their own refused attempts).
    theirs = get(portal_url, export, tokens["other practice's admin"])
    assert theirs.status == 200
    assert demo_ids["surname"].encode() not in theirs.body
    assert DEMO_PATIENT_EMAIL.encode() not in theirs.body


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


def test_the_demo_patients_attachment_is_a_pdf_with_safe_headers(portal_url, tokens, demo_ids):
    answer = get(portal_url, f"/files/attachments/{demo_ids['attachment_id']}", tokens["owner"])
    assert answer.status == 200
    assert answer.body.startswith(b"%PDF-")
    assert answer.headers["content-type"] == "application/pdf"
