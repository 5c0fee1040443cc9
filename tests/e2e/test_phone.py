"""Phone-sized screens: no sideways scrolling on any patient or public page at 360 px wide or
zoomed to 200% (a 640 px viewport at twice the pixel density, as a 1280 px window at 200%), and
touch targets of at least 24 by 24 CSS pixels (44 high for the main buttons) on a 375 by 812
phone while a patient signs in with a code, books, writes to the care team and reads a result.

Olivia Davis (paediatrics) is used by no other end-to-end test; the page sweep reads only."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from portal import routes
from portal.backend.demo import DEMO_PASSWORD
from portal.backend.security.tokens import SESSION_COOKIE
from tests.e2e.test_accessibility import PATIENT, ROUTES, query_strings, settled
from tests.e2e.test_booking import week_label

PHONE_PATIENT = "olivia.davis@example.com"
PAGES = [route for route, role in ROUTES.items() if role in ("patient", None)]
SCREENS = {
    "360px": {"viewport": {"width": 360, "height": 740}},
    "zoom200": {"viewport": {"width": 640, "height": 400}, "device_scale_factor": 2},
}
SMALLEST = 24


@pytest.fixture(scope="module")
def demo_ids(portal_database, accounts) -> dict[str, str]:
    return query_strings(portal_database, accounts)


PRIMARY = 44

# Every visible control's box; a control inside a label counts the label (which also toggles
# it), a link inside a sentence is exempt (WCAG 2.5.8's inline exception), and visually hidden
# inputs (1 px, such as a file input worked through its button) are not targets.
TARGETS = """() => {
    const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary, '
        + '[role=button], [role=radio], [role=checkbox], [role=tab], [tabindex="0"]';
    const found = [];
    for (const element of document.querySelectorAll(selector)) {
        const style = getComputedStyle(element);
        if (style.visibility === 'hidden' || element.closest('[aria-hidden=true]')) continue;
        let box = element.getBoundingClientRect();
        if (box.width <= 1 || box.height <= 1 || box.right <= 0 || box.bottom <= 0) continue;
        const label = element.closest('label');
        if (label) box = label.getBoundingClientRect();
        const block = element.parentElement;
        if (element.tagName === 'A' && block && getComputedStyle(element).display === 'inline'
            && block.innerText.trim().length > element.innerText.trim().length + 10) continue;
        found.push({
            name: (element.getAttribute('aria-label') || element.innerText || element.id
                || element.tagName).trim().slice(0, 50),
            width: Math.round(box.width * 10) / 10,
            height: Math.round(box.height * 10) / 10,
        });
    }
    return found;
}"""


def assert_no_sideways_scroll(page: Page, where: str) -> None:
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{where} scrolls sideways by {overflow}px"


def assert_targets_big_enough(page: Page, where: str, primary: list[str] = ()) -> None:
    small = [
        target
        for target in page.evaluate(TARGETS)
        if target["width"] < SMALLEST or target["height"] < SMALLEST
    ]
    assert not small, f"{where}: targets under {SMALLEST}px: {small}"
    for name in primary:
        box = page.get_by_role("button", name=name).bounding_box()
        assert box["height"] >= PRIMARY, f"{where}: {name!r} is {box['height']}px high"


@pytest.mark.parametrize("screen", list(SCREENS))
def test_patient_and_public_pages_never_scroll_sideways(
    browser, portal_url, accounts, demo_ids, screen
):
    signed_in = browser.new_context(base_url=portal_url, **SCREENS[screen])
    visitor = browser.new_context(base_url=portal_url, **SCREENS[screen])
    try:
        signed_in.add_cookies(
            [
                {
                    "name": SESSION_COOKIE,
                    "value": accounts.session_token(PATIENT),
                    "url": portal_url,
                    "httpOnly": True,
                    "sameSite": "Strict",
                }
            ]
        )
        tabs = {"patient": signed_in.new_page(), None: visitor.new_page()}
        for route in PAGES:
            page = tabs[ROUTES[route]]
            page.goto(route + demo_ids.get(route, ""), wait_until="networkidle")
            settled(page)
            assert_no_sideways_scroll(page, f"{route} at {screen}")
    finally:
        signed_in.close()
        visitor.close()


def test_a_patient_signs_in_books_writes_and_reads_a_result_on_a_phone(new_context, accounts):
    page = new_context(
        viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True
    ).new_page()
    page.goto(routes.SIGN_IN, wait_until="networkidle")
    assert_targets_big_enough(page, "sign-in", ["Continue"])
    page.get_by_label("Email address").fill(PHONE_PATIENT)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Continue").tap()
    code = page.get_by_label("Code from your authenticator app")
    expect(code).to_be_visible()
    assert_targets_big_enough(page, "sign-in code", ["Sign in"])
    code.fill(accounts.code(PHONE_PATIENT))
    page.get_by_role("button", name="Sign in").tap()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello, Olivia")
    settled(page)
    assert_targets_big_enough(page, "home")

    page.goto(routes.BOOK_APPOINTMENT, wait_until="networkidle")
    settled(page)
    assert_targets_big_enough(page, "booking: visit type")
    page.get_by_role("button", name=re.compile("^Follow-up visit")).tap()
    assert_targets_big_enough(page, "booking: clinician")
    page.get_by_role("button", name=re.compile("^Anyone on my care team")).tap()
    later = page.get_by_role("button", name="Later week")
    for _ in range(5):  # clear of the demo's bookings and of the keyboard test's
        later.tap()
        expect(page.get_by_role("status", name="Loading")).to_have_count(0)
    expect(page.get_by_text(f"for the week from {week_label(35)}")).to_be_visible()
    times = page.get_by_role("region", name="Choose a day and time")
    expect(times.get_by_role("button", name=re.compile(" with ")).first).to_be_visible()
    assert_no_sideways_scroll(page, "booking: times")
    assert_targets_big_enough(page, "booking: times")
    times.get_by_role("button", name=re.compile(r" at \d{1,2}:\d{2} (AM|PM) with ")).first.tap()
    review = page.get_by_role("region", name="Check and confirm")
    expect(review).to_contain_text("We are keeping this time for you until")
    assert_targets_big_enough(page, "booking: review", ["Confirm booking"])
    review.get_by_role("button", name="Confirm booking").tap()
    expect(page.get_by_role("region", name="You are booked")).to_be_visible()
    assert_targets_big_enough(page, "booking: done")

    subject = f"Phone question {uuid.uuid4().hex[:6]}"
    page.goto(routes.MESSAGES, wait_until="networkidle")
    settled(page)
    assert_targets_big_enough(page, "messages", ["Send to my care team"])
    form = page.get_by_role("region", name="Write to your care team")
    form.get_by_label("Subject").fill(subject)
    form.get_by_label("What is it about?").select_option(index=1)
    form.get_by_label("Your message").fill("Can the rash cream be used twice a day?")
    form.get_by_role("button", name="Send to my care team").tap()
    expect(page.get_by_role("heading", name=subject)).to_be_visible()
    assert_no_sideways_scroll(page, "thread")
    assert_targets_big_enough(page, "thread", ["Send reply"])

    page.goto(f"{routes.RECORDS_LIST}?kind=lab_result", wait_until="networkidle")
    settled(page)
    assert_targets_big_enough(page, "records list")
    page.get_by_role("list", name="Test results").get_by_role("link").first.tap()
    expect(page.get_by_role("region", name="Your results")).to_be_visible()
    assert_no_sideways_scroll(page, "result")
    assert_targets_big_enough(page, "result")
