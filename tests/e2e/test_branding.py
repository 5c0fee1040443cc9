"""Branding in Chromium: an admin's new primary colour and logo reach the admin's own pages at
once and the sign-in page of a signed-out visitor, axe-clean; a colour too light for white
text and a decoy logo are refused beside their fields. The demo's brand is put back after."""

from __future__ import annotations

import io
import re

from PIL import Image
from playwright.sync_api import Locator, Page, expect

from portal.backend import models
from portal.backend.demo.people import PRACTICE
from tests.e2e.conftest import watch
from tests.e2e.test_shells import LOGINS, assert_accessible

NEW_COLOUR = "#7a2e8c"
LOGO_ALT = f"{PRACTICE['name']} logo"
# The accent as Radix's elements read it, once the practice's colour is over it.
BRANDED = re.compile(rf"\s*{NEW_COLOUR}\s*")


def logo_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 40), (122, 46, 140)).save(out, format="PNG")
    return out.getvalue()


def shows_logo(page: Page | Locator) -> None:
    logo = page.get_by_role("img", name=LOGO_ALT)
    expect(logo).to_be_visible()
    assert logo.evaluate("(image) => image.decode().then(() => image.naturalWidth)") == 120


def test_an_admin_sets_a_colour_and_a_logo_and_the_sign_in_page_shows_them(new_context, accounts):
    admin = new_context(LOGINS["admin"]).new_page()
    problems = watch(admin)
    try:
        admin.goto("/admin/settings")
        colour = admin.get_by_label("Primary colour")
        expect(colour).to_have_value(PRACTICE["brand_colour"])
        colour.fill("#ffd700")
        admin.get_by_role("button", name="Save settings").click()
        expect(admin.locator("#brand_colour-error")).to_contain_text(
            "This colour is too light for white text on buttons; choose a darker shade"
        )
        expect(colour).to_have_value("#ffd700")  # what was typed stays
        colour.fill(NEW_COLOUR)
        admin.get_by_role("button", name="Save settings").click()
        expect(admin.get_by_role("status")).to_contain_text("Saved: primary colour.")
        expect(admin.locator("[data-accent-color='teal']").first).to_have_css("--accent-9", BRANDED)

        picture = admin.get_by_label("Logo image")
        picture.set_input_files(
            files=[{"name": "logo.png", "mimeType": "image/png", "buffer": b"GIF89a, not a PNG"}]
        )
        expect(admin.locator("#logo-error")).to_contain_text("must be a PNG or JPEG image")
        picture.set_input_files(
            files=[{"name": "logo.png", "mimeType": "image/png", "buffer": logo_png()}]
        )
        expect(admin.get_by_role("status")).to_contain_text("The logo is saved")
        shows_logo(admin.get_by_role("banner"))
        assert_accessible(admin)

        visitor = new_context().new_page()
        visitor_problems = watch(visitor)
        visitor.goto("/sign-in")
        shows_logo(visitor)
        expect(visitor.locator("[data-accent-color='teal']").first).to_have_css(
            "--accent-9", BRANDED
        )
        assert_accessible(visitor)

        admin.get_by_role("button", name="Remove logo").click()
        expect(admin.get_by_role("status")).to_contain_text("The logo is removed")
        expect(admin.get_by_role("img", name=LOGO_ALT)).to_have_count(0)
        assert not problems + visitor_problems, "the browser reported errors:\n" + "\n".join(
            problems + visitor_problems
        )
    finally:  # the demo's own brand again, for every other test
        with accounts.database.unit_of_work() as uow:
            practice = uow.session.get(models.Practice, accounts.user(LOGINS["admin"]).tenant_id)
            key = practice.logo_storage_key
            practice.brand_colour = PRACTICE["brand_colour"]
            practice.logo_storage_key = practice.logo_content_type = None
            uow.commit()
            if key:
                uow.files.delete(key)
