"""Health education in Chromium: an admin writes an article (a missing title is refused with
the rest kept), previews and publishes it; a patient finds it on the Learn page by its tag and
reads it; patients and providers calling the admin handlers change nothing."""

from __future__ import annotations

import inspect

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from portal.backend import models
from portal.pages.admin.articles import ArticlesState
from tests.e2e.socket import call_handlers
from tests.e2e.test_shells import LOGINS, assert_accessible

PATIENT = "james.wilson@example.com"
PROVIDER = "dr.okafor@riverside.example"
BODY = (
    "## Why sleep matters\nAdults need **seven to nine hours**.\n\n- Keep a routine\n- No screens"
)


def test_an_admin_publishes_an_article_a_patient_reads(new_context):
    admin = new_context(LOGINS["admin"]).new_page()
    admin.goto("/admin/articles")
    expect(admin.get_by_role("heading", name="Understanding your A1c result")).to_be_visible()
    admin.get_by_role("button", name="Write an article").click()
    admin.get_by_label("Conditions (tags)").fill("sleep, wellbeing")
    admin.get_by_label("Article", exact=True).fill(BODY)
    admin.get_by_label("Summary (optional)").click()  # leaves the article box: preview
    preview = admin.get_by_role("region", name="New article")
    expect(preview.get_by_role("heading", name="Why sleep matters")).to_be_visible()
    admin.get_by_role("button", name="Save").click()
    expect(admin.get_by_text("Enter a title.")).to_be_visible()
    expect(admin.get_by_label("Conditions (tags)")).to_have_value("sleep, wellbeing")
    assert_accessible(admin)
    admin.get_by_label("Title").fill("Sleeping well")
    admin.get_by_role("button", name="Save").click()
    expect(admin.get_by_text("The article is saved.")).to_be_visible()
    admin.get_by_role("button", name="Publish Sleeping well").click()
    expect(admin.get_by_text("The article is on the patients' Learn page.")).to_be_visible()

    patient = new_context(PATIENT).new_page()
    patient.goto("/learn")
    expect(patient.get_by_role("heading", name="Learn", level=1)).to_be_visible()
    patient.get_by_role("group", name="Show articles about").get_by_role(
        "button", name="sleep", exact=True
    ).click()
    expect(patient.get_by_role("heading", level=2)).to_have_text(["Sleeping well"])
    patient.get_by_role("link", name="Sleeping well").click()
    expect(patient.get_by_role("heading", level=1)).to_have_text("Sleeping well")
    expect(patient.get_by_text("seven to nine hours")).to_be_visible()
    expect(patient.get_by_role("listitem")).to_have_count(2)
    assert_accessible(patient)

    admin.get_by_role("button", name="Take down Sleeping well").click()
    expect(admin.get_by_text("patients no longer see it")).to_be_visible()
    patient.reload()
    expect(patient.get_by_text("This article is not available")).to_be_visible()


def articles(database) -> tuple[int, int]:
    with database.unit_of_work() as uow:
        return (
            uow.session.exec(select(func.count()).select_from(models.Article)).scalar_one(),
            uow.session.exec(
                select(func.count()).where(models.Article.published_at.is_not(None))
            ).scalar_one(),
        )


@pytest.mark.parametrize("email", [PATIENT, PROVIDER])
def test_article_handlers_do_nothing_for_patients_and_providers(
    portal_url, accounts, portal_database, email
):
    with portal_database.unit_of_work() as uow:
        some_article = str(uow.session.exec(select(models.Article.id)).scalars().first())
    values = {
        "article_id": some_article,
        "published": False,
        "form_data": {"title": "Defaced", "body": "x", "summary": "", "tags": ""},
        "text": "## x",
    }
    events = []
    for name, handler in ArticlesState.event_handlers.items():
        if name == "setvar":
            continue
        parameters = list(inspect.signature(handler.fn).parameters)[1:]
        events.append(
            (f"{ArticlesState.get_full_name()}.{name}", {p: values.get(p, "") for p in parameters})
        )
    before = articles(portal_database)
    replies = call_handlers(
        portal_url,
        events,
        session_token=accounts.session_token(email),
        path="/admin/articles",
    )
    assert articles(portal_database) == before
    assert not any("Understanding your A1c" in reply for reply in replies)
