"""A file is handed out only to someone who may read the record it belongs to; to anyone else
it answers exactly as a file that does not exist, and every attempt is audited."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from portal.backend import models
from portal.backend.security.principal import NotFound
from portal.backend.services.files import download_attachment
from tests.integration.factories import PDF, build_practice


def download(practice, who: str, attachment_id):
    return download_attachment(
        practice.principal(who), attachment_id, uow=practice.database.unit_of_work()
    )


def test_the_patient_and_their_care_team_can_download(practice):
    for who in ("patient_a", "provider"):
        file = download(practice, who, practice.attachment_a)
        assert file.data == PDF
        assert file.filename == "Results ZZCANARY.pdf"
        assert file.content_type == "application/pdf"


@pytest.mark.parametrize("who", ["patient_b", "admin"])
def test_anyone_else_gets_the_answer_for_a_missing_file(practice, who):
    with pytest.raises(NotFound) as forbidden:
        download(practice, who, practice.attachment_a)
    with pytest.raises(NotFound) as missing:
        download(practice, who, uuid.uuid4())
    assert str(forbidden.value) == str(missing.value)


def test_staff_of_another_practice_cannot_download(practice):
    other = build_practice(practice.database, slug="elsewhere")
    with pytest.raises(NotFound):
        download(other, "provider", practice.attachment_a)


def test_downloads_and_refusals_are_audited(practice):
    download(practice, "patient_a", practice.attachment_a)
    with pytest.raises(NotFound):
        download(practice, "patient_b", practice.attachment_a)
    with practice.database.unit_of_work() as uow:
        events = (
            uow.session.exec(
                select(models.AuditEvent).where(models.AuditEvent.action == "attachment.download")
            )
            .scalars()
            .all()
        )
        outcomes = sorted((e.outcome, e.actor_user_id) for e in events)
    assert outcomes == sorted(
        [("success", practice.patient_a.user_id), ("denied", practice.patient_b.user_id)]
    )
