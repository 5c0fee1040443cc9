"""Health education articles through the service layer: admins write, tag and publish; patients
read only what their own practice has published."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from portal.backend import models
from portal.backend.security.principal import NotFound, PermissionDenied
from portal.backend.services import articles
from portal.backend.services.articles import ArticleInvalid
from tests.integration.factories import build_practice

BODY = "## What it is\nA1c shows your average blood sugar.\n\n- Test every 3 months"


def uow(practice):
    return practice.database.unit_of_work()


def write(practice, title="Understanding A1c", tags="diabetes, lab tests", publish=True) -> str:
    admin = practice.principal("admin")
    article_id = articles.save_article(
        admin, None, title, "What the number means", BODY, tags, uow=uow(practice)
    )
    if publish:
        articles.set_published(admin, uuid.UUID(article_id), True, uow=uow(practice))
    return article_id


def test_a_published_article_reaches_the_patients_learn_page(practice):
    article_id = write(practice)
    write(practice, "Draft about sleep", "sleep", publish=False)
    page = articles.learn(practice.principal("patient_a"), uow=uow(practice))
    assert [line.title for line in page.articles] == ["Understanding A1c"]
    assert page.tags == ["diabetes", "lab tests"]
    view = articles.read_article(
        practice.principal("patient_a"), uuid.UUID(article_id), uow=uow(practice)
    )
    assert [block.kind for block in view.blocks] == ["heading", "paragraph", "list"]


def test_patients_filter_by_tag(practice):
    write(practice)
    write(practice, "Heart healthy eating", "heart, diet")
    patient = practice.principal("patient_a")
    titles = [a.title for a in articles.learn(patient, "Heart", uow=uow(practice)).articles]
    assert titles == ["Heart healthy eating"]


def test_drafts_and_other_practices_articles_answer_as_missing(practice):
    draft = write(practice, publish=False)
    other = build_practice(practice.database, slug="elsewhere")
    theirs = write(other)
    patient = practice.principal("patient_a")
    for article_id in (draft, theirs, str(uuid.uuid4())):
        with pytest.raises(NotFound):
            articles.read_article(patient, uuid.UUID(article_id), uow=uow(practice))
    with pytest.raises(NotFound):
        articles.set_published(
            practice.principal("admin"), uuid.UUID(theirs), True, uow=uow(practice)
        )


def test_unpublishing_takes_an_article_off_the_learn_page(practice):
    article_id = uuid.UUID(write(practice))
    articles.set_published(practice.principal("admin"), article_id, False, uow=uow(practice))
    assert articles.learn(practice.principal("patient_a"), uow=uow(practice)).articles == []
    draft = articles.article_draft(practice.principal("admin"), article_id, uow=uow(practice))
    assert (draft.published, draft.tags) == (False, "diabetes, lab tests")


def test_articles_are_refused_field_by_field(practice):
    admin = practice.principal("admin")
    with pytest.raises(ArticleInvalid) as refused:
        articles.save_article(admin, None, "", "x" * 401, "", "ok, <script>", uow=uow(practice))
    assert set(refused.value.errors) == {"title", "summary", "body", "tags"}


def test_only_admins_write_and_only_patients_read(practice):
    for who in ("patient_a", "provider"):
        with pytest.raises(PermissionDenied):
            articles.save_article(
                practice.principal(who), None, "T", "", "Body", "", uow=uow(practice)
            )
    with pytest.raises(PermissionDenied):
        articles.learn(practice.principal("admin"), uow=uow(practice))


def test_admin_changes_are_audited(practice):
    write(practice)
    with uow(practice) as work:
        actions = set(
            work.session.exec(
                select(models.AuditEvent.action).where(models.AuditEvent.resource_type == "article")
            ).scalars()
        )
    assert actions == {"article.create", "article.publish"}
