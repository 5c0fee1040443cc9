"""The main patient flows with the keyboard alone (Tab, Shift+Tab, Enter, Space, arrows and
typing through `page.keyboard`): booking, a conversation with the care team answered by the
provider, and a lab result with its trend table. Every element that takes focus on the way
shows a focus ring, and focus always moves on (no traps).

Daniel Martinez and Dr. Ramirez (the paediatrics team) are used by no other end-to-end test;
the trend is read (read-only) from the demo patient, the only one with repeated results."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Locator, Page, expect

from portal import routes
from portal.backend.demo import DEMO_PATIENT_EMAIL

PATIENT = "daniel.martinez@example.com"
PROVIDER = "dr.ramirez@riverside.example"
MOST_PRESSES = 150
DATE_TYPES = {"date", "time", "datetime-local", "month", "week"}
DATE_PARTS = 3

FOCUS = """() => {
    const element = document.activeElement;
    window.__focusIds = window.__focusIds || new WeakMap();
    if (!window.__focusIds.has(element)) {
        window.__focusCount = (window.__focusCount || 0) + 1;
        window.__focusIds.set(element, window.__focusCount);
    }
    const drawn = (node) => {
        const style = getComputedStyle(node);
        const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2
            && style.outlineColor !== 'rgba(0, 0, 0, 0)' && style.outlineColor !== 'transparent';
        const shadow = style.boxShadow && style.boxShadow !== 'none';
        return outline ? 'outline' : shadow ? 'box-shadow' : '';
    };
    const ring = drawn(element) || (element.parentElement ? drawn(element.parentElement) : '');
    return {
        id: String(window.__focusIds.get(element)) + ':' + element.tagName,
        tag: element.tagName,
        type: element.type || '',
        name: (element.getAttribute('aria-label') || element.innerText || element.id || '')
            .trim().slice(0, 60),
        ring,
    };
}"""


def focus(page: Page) -> dict:
    return page.evaluate(FOCUS)


def press_until(page: Page, target: Locator, key: str = "Tab") -> list[str]:
    """Press `key` until `target` has focus; on the way every focused element must show a ring
    and focus must move each time. Returns the names of the stops."""
    expect(target).to_be_visible()
    handle = target.element_handle()
    stops: list[str] = []
    previous, repeats = None, 0
    for _ in range(MOST_PRESSES):
        page.keyboard.press(key)
        now = focus(page)
        repeats = repeats + 1 if now["id"] == previous else 0
        if now["tag"] != "BODY":
            # Tab walks through the parts of a date or time field (day, month, year) first.
            allowed = DATE_PARTS if now["type"] in DATE_TYPES else 0
            assert repeats <= allowed, f"focus is stuck on {now['name']!r} after {stops}"
            assert now["ring"], f"no visible focus ring on {now['tag']} {now['name']!r}"
            stops.append(now["name"])
        previous = now["id"]
        if page.evaluate("(element) => element === document.activeElement", handle):
            return stops
    raise AssertionError(f"{key} never reached {target} after {len(stops)} stops: {stops[-15:]}")


def tab_to(page: Page, target: Locator) -> None:
    press_until(page, target)


def test_a_patient_books_an_appointment_with_the_keyboard_alone(new_context):
    page = new_context(PATIENT).new_page()
    page.goto(routes.BOOK_APPOINTMENT, wait_until="networkidle")
    expect(page.get_by_role("heading", level=1)).to_have_text("Book an appointment")
    # The first stop is the skip link, and it takes focus to the main content.
    page.keyboard.press("Tab")
    assert focus(page)["name"] == "Skip to main content"
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main-content"

    visit = page.get_by_role("button", name=re.compile("^Follow-up visit"))
    tab_to(page, visit)
    page.keyboard.press("Enter")
    anyone = page.get_by_role("button", name=re.compile("^Anyone on my care team"))
    tab_to(page, anyone)
    page.keyboard.press("Space")

    later = page.get_by_role("button", name="Later week")
    tab_to(page, later)
    for _ in range(4):  # clear of the demo's own bookings near today
        page.keyboard.press("Enter")
        expect(page.get_by_role("status", name="Loading")).to_have_count(0)
    times = page.get_by_role("region", name="Choose a day and time")
    first_time = times.get_by_role("button", name=re.compile(r" at \d{1,2}:\d{2} (AM|PM) with "))
    tab_to(page, first_time.first)
    chosen = first_time.first.get_attribute("aria-label")
    page.keyboard.press("Enter")

    review = page.get_by_role("region", name="Check and confirm")
    expect(review).to_contain_text("We are keeping this time for you until")
    reason = review.get_by_label("What is the visit for? (optional)")
    tab_to(page, reason)
    page.keyboard.type("Check-up before the school year")
    # Shift+Tab goes back the way it came, then Tab forward again.
    page.keyboard.press("Shift+Tab")
    assert focus(page)["name"] != ""
    press_until(page, page.get_by_role("button", name="Confirm booking"))
    page.keyboard.press("Enter")
    done = page.get_by_role("region", name="You are booked")
    expect(done).to_be_visible()
    day_and_time = chosen.split(" with ")[0]
    expect(done).to_contain_text(day_and_time.split(" at ")[1])


def test_a_conversation_is_started_and_answered_with_the_keyboard_alone(new_context):
    subject = f"Keyboard question {uuid.uuid4().hex[:6]}"
    page = new_context(PATIENT).new_page()
    page.goto(routes.MESSAGES, wait_until="networkidle")
    form = page.get_by_role("region", name="Write to your care team")
    tab_to(page, form.get_by_label("Subject"))
    page.keyboard.type(subject)
    category = form.get_by_label("What is it about?")
    tab_to(page, category)
    page.keyboard.press("ArrowDown")
    expect(category).not_to_have_value("")
    tab_to(page, form.get_by_label("Your message"))
    page.keyboard.type("Is it fine to swim after the cast comes off?")
    tab_to(page, form.get_by_role("button", name="Send to my care team"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=subject)).to_be_visible()
    expect(page.get_by_role("list", name="Messages")).to_contain_text("swim after the cast")

    provider = new_context(PROVIDER).new_page()
    provider.goto(routes.PROVIDER_INBOX, wait_until="networkidle")
    thread_link = provider.get_by_role("link", name=re.compile(re.escape(subject)))
    tab_to(provider, thread_link)
    provider.keyboard.press("Enter")
    expect(provider.get_by_role("heading", name=subject)).to_be_visible()
    tab_to(provider, provider.get_by_label("Your reply"))
    provider.keyboard.type("Yes, two days after it comes off.")
    tab_to(provider, provider.get_by_role("button", name="Send reply"))
    provider.keyboard.press("Enter")
    expect(provider.get_by_role("list", name="Messages")).to_contain_text("two days after")

    # The patient sees the answer arrive (live) and can reply, still by keyboard.
    expect(page.get_by_role("list", name="Messages")).to_contain_text(
        "two days after", timeout=10_000
    )
    tab_to(page, page.get_by_label("Your reply"))
    page.keyboard.type("Thank you!")
    tab_to(page, page.get_by_role("button", name="Send reply"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("list", name="Messages")).to_contain_text("Thank you!")


def test_a_result_and_its_trend_table_are_read_with_the_keyboard_alone(new_context):
    page = new_context(DEMO_PATIENT_EMAIL).new_page()
    page.goto(routes.RECORDS, wait_until="networkidle")
    expect(page.get_by_role("heading", level=1)).to_have_text("Medical records")
    tab_to(page, page.get_by_role("link", name="See all test results"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Test results")
    lines = page.get_by_role("list", name="Test results").get_by_role("listitem")
    tab_to(page, lines.first.get_by_role("link", name="Lipid panel"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Lipid panel")
    ldl = (
        page.get_by_role("region", name="Your results")
        .locator(".lab-value")
        .filter(has=page.get_by_role("heading", name="LDL cholesterol"))
    )
    toggle = ldl.locator("summary")
    tab_to(page, toggle)
    page.keyboard.press("Enter")
    trend = ldl.get_by_role("table", name="LDL cholesterol over time")
    expect(trend).to_be_visible()
    expect(trend.get_by_role("row")).to_have_count(4)  # a header and three results
    page.keyboard.press("Space")  # and closed again
    expect(trend).to_be_hidden()
    # Back the way it came: Shift+Tab reaches the page's way out.
    press_until(page, page.get_by_role("link", name="← All test results"), key="Shift+Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Test results")
