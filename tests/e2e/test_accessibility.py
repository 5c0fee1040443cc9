"""Every page of the portal through axe-core in Chromium, signed in as the role the page is for
(public pages signed out); the list comes from the routes the app registers, so a new page is
checked without editing this file. Also: form errors announced and tied to their fields in each
shell, and animations off for people who ask for reduced motion.

Read-only apart from audit events: the patient is William Anderson and the provider's thread is
Ethan Clark's with Dr. Ramirez, people no other end-to-end test uses."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Locator, Page, Response, expect
from sqlalchemy import select

from portal import routes
from portal.backend import models
from portal.backend.demo.people import CARE_TEAMS
from portal.backend.models.records import RecordKind
from portal.backend.security.principal import Role
from portal.backend.security.tokens import SESSION_COOKIE

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PATIENT = "william.anderson@example.com"
PROVIDER = "dr.chen@riverside.example"
ADMIN = "admin@riverside.example"
# The paediatrics team's provider and a patient of that team with a thread (for the one page
# that marks messages read when a provider opens it).
THREAD_PROVIDER = "dr.ramirez@riverside.example"
THREAD_PATIENT = "ethan.clark@example.com"
ACCOUNT_OF_ROLE = {"patient": PATIENT, "provider": PROVIDER, "admin": ADMIN, None: None}
ACCOUNT_OF_ROUTE = {routes.PROVIDER_THREAD: THREAD_PROVIDER}
ROLE_OF_EMAIL = {PATIENT: Role.PATIENT, PROVIDER: Role.PROVIDER, ADMIN: Role.ADMIN}
# Pages that only show their content for a link's token: checked as a visitor without one sees
# them (the "this link cannot be used" state).
TOKEN_PAGES = {routes.WELCOME, routes.RESET_PASSWORD}
# A page that sends a visitor elsewhere: the demo patient finished setting up long ago.
REDIRECTED = {routes.ONBOARDING: routes.PATIENT_HOME}
AXE_OPTIONS = {"resultTypes": ["violations"]}
# Reflex's hydration of a loaded page ends when the state says `is_hydrated`: after the page's
# on_load handlers have run (their data is in), or at once for a page without any. The page's
# websocket carries it; this script, run before the page's own, notes it for `open_page`.
WATCH_HYDRATION = """(() => {
    const Native = window.WebSocket;
    window.WebSocket = class extends Native {
        constructor(...args) {
            super(...args);
            this.addEventListener("message", (message) => {
                if (/"is_hydrated_rx_state_":\\s*true/.test(message.data)) {
                    window.__portalHydrated = true;
                }
            });
        }
    };
})();"""

_ROUTE_TABLE = """
import json
import portal.portal
from portal.layout import ROLE_OF_ROUTE
print(json.dumps({route: role.value if role else None for route, role in ROLE_OF_ROUTE.items()}))
"""


def registered_routes() -> dict[str, str | None]:
    """Every page the app registers and the role it needs, read in a separate process (importing
    the app installs its logging and error handling)."""
    done = subprocess.run(
        [sys.executable, "-c", _ROUTE_TABLE],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the app's pages could not be listed:\n{done.stderr[-3000:]}")
    table = json.loads(done.stdout.strip().splitlines()[-1])
    return {("/" + route.lstrip("/")): role for route, role in sorted(table.items())}


ROUTES = registered_routes()


def open_page(page: Page, address: str) -> Response | None:
    """Load a page and wait until its on_load handlers have run (the tab's hydration ends with
    `is_hydrated` set, which `WATCH_HYDRATION` sees on the websocket)."""
    response = page.goto(address)
    page.wait_for_function("() => window.__portalHydrated === true", timeout=15_000)
    return response


def axe_violations(page: Page) -> list[dict]:
    return Axe().run(page, options=AXE_OPTIONS).response["violations"]


def describe(violations: list[dict]) -> str:
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']}\n"
        + "\n".join(f"    {node['target']} {node['failureSummary'][:160]!r}" for node in v["nodes"])
        for v in violations
    )


def assert_no_violations(page: Page) -> None:
    violations = axe_violations(page)
    assert not violations, f"{page.url}\n{describe(violations)}"


def settled(page: Page) -> None:
    """The page's own content is on screen: no loading spinner, and the main landmark holds
    text (a page without a level-one heading is left for axe to report)."""
    expect(page.get_by_role("main")).to_be_visible(timeout=15_000)
    expect(page.get_by_role("status", name="Loading")).to_have_count(0, timeout=15_000)
    expect(page.get_by_role("main")).not_to_have_text("", timeout=15_000)
    page.mouse.move(0, 0)  # nothing hovered


@pytest.fixture(scope="module")
def demo_ids(portal_database, accounts) -> dict[str, str]:
    return query_strings(portal_database, accounts)


def query_strings(portal_database, accounts) -> dict[str, str]:
    """Real ids for the pages that take one in their address."""
    patient_user = accounts.user(PATIENT).id
    thread_user = accounts.user(THREAD_PATIENT).id
    with portal_database.unit_of_work() as uow:
        session = uow.session
        patient = session.exec(
            select(models.Patient).where(models.Patient.user_id == patient_user)
        ).scalar_one()
        thread_patient = session.exec(
            select(models.Patient.id).where(models.Patient.user_id == thread_user)
        ).scalar_one()
        conversation = session.exec(
            select(models.Conversation.id).where(models.Conversation.patient_id == patient.id)
        ).scalars()
        lab = session.exec(
            select(models.MedicalRecord.id)
            .where(
                models.MedicalRecord.patient_id == patient.id,
                models.MedicalRecord.kind == RecordKind.LAB_RESULT,
            )
            .order_by(models.MedicalRecord.effective_at.desc())
        ).scalars()
        other_thread = session.exec(
            select(models.Conversation.id).where(models.Conversation.patient_id == thread_patient)
        ).scalars()
        # A patient of Dr. Chen's own care team: she reads the chart without break-glass.
        chart_patient = session.exec(
            select(models.Patient.id)
            .join(models.CareTeam, models.CareTeam.id == models.Patient.care_team_id)
            .where(models.CareTeam.name == CARE_TEAMS["family"])
        ).first()[0]
        ids = {}
        article = getattr(models, "Article", None)  # health articles, where the portal has them
        if article is not None and hasattr(routes, "LEARN_ARTICLE"):
            published = session.exec(
                select(article.id).where(article.published_at.is_not(None))
            ).scalars()
            ids[routes.LEARN_ARTICLE] = f"?id={published.first()}"
        return ids | {
            routes.RECORDS_LIST: f"?kind={RecordKind.LAB_RESULT.value}",
            routes.MESSAGE_THREAD: f"?id={conversation.first()}",
            routes.RECORD_DETAIL: f"?id={lab.first()}",
            routes.PROVIDER_THREAD: f"?id={other_thread.first()}",
            routes.PROVIDER_CHART: f"?patient={chart_patient}",
            routes.PROVIDER_RECORDS: f"?patient={chart_patient}",
        }


class AccountTabs:
    """One browser context per account (signed out for None), signed in once, and its current
    tab."""

    def __init__(self, browser: Browser, portal_url: str, accounts) -> None:
        self.browser, self.portal_url, self.accounts = browser, portal_url, accounts
        self.contexts: dict[str | None, BrowserContext] = {}
        self.tabs: dict[str | None, Page] = {}

    def tab(self, email: str | None) -> Page:
        if email not in self.contexts:
            context = self.browser.new_context(
                base_url=self.portal_url, viewport={"width": 1280, "height": 800}
            )
            context.add_init_script(WATCH_HYDRATION)
            if email:
                context.add_cookies(
                    [
                        {
                            "name": SESSION_COOKIE,
                            "value": self.accounts.session_token(email),
                            "url": self.portal_url,
                            "httpOnly": True,
                            "sameSite": "Strict",
                        }
                    ]
                )
            self.contexts[email] = context
        if email not in self.tabs:
            self.tabs[email] = self.contexts[email].new_page()
        return self.tabs[email]

    def close_tab(self, email: str | None) -> None:
        self.tabs.pop(email).close()

    def close(self) -> None:
        for context in self.contexts.values():
            context.close()


@pytest.fixture(scope="module")
def account_tabs(browser: Browser, portal_url: str, accounts) -> Iterator[AccountTabs]:
    """Shared by the module's tests: an account's session is opened once, not once per page."""
    shared = AccountTabs(browser, portal_url, accounts)
    yield shared
    shared.close()


@pytest.fixture
def tabs(request, account_tabs: AccountTabs):
    """The account's shared tab. After a test that failed, the tabs it used are closed (the
    next test opens a new one, still signed in), so a failure leaves nothing behind."""
    used: set[str | None] = set()

    def tab(email: str | None) -> Page:
        used.add(email)
        return account_tabs.tab(email)

    failed_before = request.session.testsfailed
    yield tab
    if request.session.testsfailed > failed_before:
        for email in used:
            account_tabs.close_tab(email)


@pytest.mark.parametrize("route", list(ROUTES), ids=list(ROUTES))
def test_every_page_has_no_axe_violations(tabs, demo_ids, portal_url, route):
    role = ROUTES[route]
    page = tabs(ACCOUNT_OF_ROUTE.get(route, ACCOUNT_OF_ROLE[role]))
    response = open_page(page, route + demo_ids.get(route, ""))
    assert response is not None
    assert response.status == (404 if route == routes.NOT_FOUND else 200)
    settled(page)
    landed = page.url.removeprefix(portal_url).split("?")[0].rstrip("/") or "/"
    assert landed == REDIRECTED.get(route, route), f"{route} sent the tab to {landed}"
    assert_no_violations(page)


def test_the_registered_pages_include_every_shell():
    roles = set(ROUTES.values())
    assert roles == {None, "patient", "provider", "admin"}
    assert {routes.ACCESSIBILITY, routes.PRIVACY, routes.TERMS} <= set(ROUTES)
    assert all(ROUTES[page] is None for page in (routes.ACCESSIBILITY, routes.PRIVACY))


# ---- Form errors: announced (role=alert) and tied to the field (aria-invalid, -describedby) ----


def assert_error_tied(page: Page, field: Locator, words: str) -> None:
    expect(field).to_have_attribute("aria-invalid", "true")
    described = (field.get_attribute("aria-describedby") or "").split()
    assert described, "the field names no description"
    texts = []
    for element_id in described:
        described_by = page.locator(f"[id='{element_id}']")
        expect(described_by).to_have_count(1)
        texts.append(described_by.inner_text())
    assert any(words in text for text in texts), texts
    alert = page.get_by_role("alert").filter(has_text=words)
    expect(alert.first).to_be_visible()
    assert_no_violations(page)


def test_a_sign_in_error_is_announced_and_tied_to_the_fields(tabs):
    page = tabs(None)
    open_page(page, routes.SIGN_IN)
    page.get_by_label("Email address").fill("someone@example.com")
    page.get_by_role("button", name="Continue").click()
    assert_error_tied(page, page.get_by_label("Password"), "Enter both")
    expect(page.get_by_label("Email address")).to_have_value("someone@example.com")


def test_a_patient_form_error_is_announced_and_tied_to_the_field(tabs):
    page = tabs(PATIENT)
    open_page(page, f"{routes.RECORDS_LIST}?kind={RecordKind.LAB_RESULT.value}")
    settled(page)
    filters = page.get_by_role("region", name="Search and filter")
    filters.get_by_label("From", exact=True).fill("2026-02-01")
    filters.get_by_label("To", exact=True).fill("2026-01-01")
    filters.get_by_role("button", name="Search").click()
    assert_error_tied(page, filters.get_by_label("To", exact=True), "before the first")


def test_a_provider_form_error_is_announced_and_tied_to_the_field(tabs):
    page = tabs(PROVIDER)
    open_page(page, routes.PROVIDER_HOURS)
    settled(page)
    page.get_by_role("button", name="Add these hours").click()
    alert = page.get_by_role("alert").first
    expect(alert).to_be_visible()
    words = alert.inner_text().strip()[:20]
    assert_error_tied(page, page.get_by_label("Start", exact=True), words)


def test_an_admin_form_error_is_announced_and_tied_to_the_field(tabs):
    page = tabs(ADMIN)
    open_page(page, routes.ADMIN_SETTINGS)
    settled(page)
    name = page.get_by_label("Practice name")
    kept = name.input_value()
    name.fill("x")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Nothing was changed.")).to_be_visible()
    error = page.locator("[id='name-error']")
    assert_error_tied(page, name, error.inner_text()[:20])
    assert kept != "x"


# ---- Reduced motion ----


def test_animations_and_transitions_stop_when_reduced_motion_is_asked_for(
    browser: Browser, portal_url: str
):
    context = browser.new_context(base_url=portal_url, reduced_motion="reduce")
    context.add_init_script(WATCH_HYDRATION)
    try:
        page = context.new_page()
        open_page(page, routes.SIGN_IN)
        settled(page)
        assert page.evaluate("() => matchMedia('(prefers-reduced-motion: reduce)').matches")
        longest = page.evaluate(
            """() => {
                const seconds = (value) => Math.max(...value.split(',').map((part) =>
                    part.trim().endsWith('ms') ? parseFloat(part) / 1000 : parseFloat(part)));
                let worst = 0;
                for (const element of document.querySelectorAll('*')) {
                    for (const pseudo of [null, '::before', '::after']) {
                        const style = getComputedStyle(element, pseudo);
                        worst = Math.max(worst, seconds(style.transitionDuration),
                                         seconds(style.animationDuration));
                    }
                }
                return worst;
            }"""
        )
        assert longest <= 0.001, f"a transition or animation lasts {longest}s"
        button = page.get_by_role("button", name="Continue")
        assert button.evaluate("(element) => getComputedStyle(element).scrollBehavior") in {
            "auto",
            "",
        }
    finally:
        context.close()


# ---- The statement, privacy policy and terms ----


def test_the_legal_pages_are_public_linked_everywhere_and_name_the_practice(tabs):
    visitor = tabs(None)
    open_page(visitor, routes.SIGN_IN)
    card = visitor.get_by_role("main")
    expect(card.get_by_role("link", name="terms of use")).to_have_attribute("href", routes.TERMS)
    expect(card.get_by_role("link", name="privacy policy")).to_have_attribute(
        "href", routes.PRIVACY
    )
    footer = visitor.get_by_role("navigation", name="About this portal")
    footer.get_by_role("link", name="Privacy policy").click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Privacy policy")
    expect(visitor.get_by_role("main")).to_contain_text("Riverside Family Health")
    rights = visitor.get_by_role("main")
    expect(rights).to_contain_text("Download my health record")
    expect(rights.get_by_role("link", name="Who viewed my record")).to_have_attribute(
        "href", routes.RECORDS_ACCESS
    )
    expect(rights).to_contain_text("(555) 010-2000")
    footer.get_by_role("link", name="Accessibility").click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Accessibility statement")
    expect(visitor.get_by_role("main")).to_contain_text("axe-core")
    expect(visitor.get_by_role("heading", name="Report a problem")).to_be_visible()
    for email in (PATIENT, PROVIDER, ADMIN):
        page = tabs(email)
        open_page(page, routes.SECURITY_OF_ROLE[ROLE_OF_EMAIL[email]])
        links = page.get_by_role("contentinfo").get_by_role("link")
        expect(links).to_have_text(["Accessibility", "Privacy policy", "Terms of use"])
        links.last.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Terms of use")
        expect(page.get_by_role("main")).to_contain_text("Not for emergencies")
