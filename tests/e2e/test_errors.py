"""Error pages in the real build: the app's error boundary is the portal's (a sentence and a
reference, never the JavaScript error), the not-found page is friendly, and /healthz reports
the running portal's database, file store and scheduler."""

from __future__ import annotations

from playwright.sync_api import BrowserContext, Page, expect


def test_the_built_app_carries_the_portals_error_page_not_reflexs(page: Page):
    scripts: list[str] = []
    page.on(
        "response",
        lambda r: scripts.append(r.text()) if r.url.endswith(".js") and r.ok else None,
    )
    page.goto("/sign-in")
    expect(page.get_by_role("button", name="Continue")).to_be_visible()
    bundle = "\n".join(scripts)
    assert "contact the practice and quote" in bundle
    assert "An error occurred while rendering this page" not in bundle
    assert "portalReference" in bundle


def test_an_unknown_address_shows_the_not_found_page(page: Page):
    page.goto("/no/such/page")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    expect(page.get_by_role("link", name="Go to your home page")).to_be_visible()


def test_healthz_reports_the_running_portal(context: BrowserContext):
    response = context.request.get("/healthz")
    assert response.status == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-request-id"]
    body = response.json()
    assert body["status"] == "ok"
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "database": "ok",
        "storage": "ok",
        "scheduler": "ok",
    }
    jobs = {job["id"] for job in body["checks"]["scheduler"]["jobs"]}
    assert {"dispatch_notifications", "end_expired_sessions", "appointment_reminders"} <= jobs
