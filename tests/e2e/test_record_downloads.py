"""The record download routes of the running portal: the patient gets their record as PDF and
as FHIR, and their documents; another patient, an admin or nobody asking with the same ids
gets exactly the answer for an id that does not exist."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.backend import models
from portal.backend.demo import DEMO_PATIENT_EMAIL
from tests.dates import practice_today

OTHER_PATIENT = "james.wilson@example.com"
MISSING = "00000000-0000-0000-0000-000000000000"


@pytest.fixture(scope="module")
def demo_records(portal_database) -> dict[str, str]:
    """The id of one of the demo patient's records of each kind."""
    with portal_database.unit_of_work() as uow:
        rows = uow.session.exec(
            select(models.MedicalRecord.kind, models.MedicalRecord.id)
            .join(models.Patient, models.Patient.id == models.MedicalRecord.patient_id)
            .join(models.User, models.User.id == models.Patient.user_id)
            .where(models.User.email_index == uow.keyring.blind_index("email", DEMO_PATIENT_EMAIL))
        ).all()
    return {str(kind): str(record_id) for kind, record_id in rows}


def test_the_patient_downloads_their_record_as_pdf_and_fhir(new_context, demo_records):
    context = new_context(DEMO_PATIENT_EMAIL)
    for path, content_type, start in (
        (f"/files/records/{demo_records['lab_result']}/record.pdf", "application/pdf", b"%PDF-"),
        (f"/files/records/{demo_records['document']}/document", "application/pdf", b"%PDF-"),
        ("/files/records/health-record.json", "application/fhir+json", b'{"resourceType"'),
    ):
        response = context.request.get(path)
        assert response.status == 200, path
        assert response.headers["content-type"].startswith(content_type)
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["content-disposition"].startswith("attachment;")
        assert response.body().startswith(start)
    bundle = json.loads(context.request.get("/files/records/health-record.json").body())
    patient = bundle["entry"][0]["resource"]
    assert patient["name"][0]["family"] == "Garcia"
    today = practice_today()
    summary = context.request.get(
        f"/files/records/summary.pdf?from={today - timedelta(days=400)}&to={today}"
    )
    assert summary.status == 200 and summary.body().startswith(b"%PDF-")
    backwards = context.request.get(f"/files/records/summary.pdf?from={today}&to=2000-01-01")
    assert backwards.status == 400 and b"after the end date" in backwards.body()


def test_nobody_else_can_tell_a_record_exists(new_context, demo_records):
    other, anonymous = new_context(OTHER_PATIENT), new_context()
    admin = new_context("admin@riverside.example")
    for suffix in ("record.pdf", "document"):
        missing = other.request.get(f"/files/records/{MISSING}/{suffix}")
        assert missing.status == 404
        for context in (other, anonymous, admin):
            for kind in ("lab_result", "document"):
                response = context.request.get(f"/files/records/{demo_records[kind]}/{suffix}")
                assert (response.status, response.body()) == (missing.status, missing.body())
    for path in (
        "/files/records/health-record.json",
        "/files/records/summary.pdf?from=2020-01-01&to=2030-01-01",
    ):
        assert anonymous.request.get(path).status == 404
        assert admin.request.get(path).status == 404
    theirs = other.request.get("/files/records/health-record.json").body()
    assert b"Garcia" not in theirs and b"Wilson" in theirs
