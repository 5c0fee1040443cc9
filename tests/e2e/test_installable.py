"""The portal can be installed to a phone's home screen: every page links a web app manifest and
an apple-touch-icon, the manifest is served as JSON with its icons, and no service worker is
registered (nothing, least of all PHI, is cached for offline use)."""

from __future__ import annotations

import io
import json

from PIL import Image
from playwright.sync_api import Page, expect

from portal import routes

PATIENT = "william.anderson@example.com"


def test_the_manifest_is_served_as_json_with_its_icons(page: Page):
    reply = page.request.get("/manifest.webmanifest")
    assert reply.status == 200
    assert reply.headers["content-type"].split(";")[0] == "application/manifest+json"
    manifest = json.loads(reply.body())
    assert manifest["name"] and manifest["short_name"]
    assert manifest["start_url"] == "/"
    assert manifest["display"] == "standalone"
    assert manifest["theme_color"].startswith("#")
    sizes = {}
    for icon in manifest["icons"]:
        image = page.request.get(icon["src"])
        assert image.status == 200, icon["src"]
        assert image.headers["content-type"] == "image/png"
        width, height = Image.open(io.BytesIO(image.body())).size
        assert icon["sizes"] == f"{width}x{height}"
        sizes.setdefault(icon.get("purpose", "any"), set()).add(width)
    assert {192, 512} <= sizes["any"]
    assert 512 in sizes["maskable"]


def test_every_shell_links_the_manifest_and_registers_no_service_worker(new_context):
    for email, path in ((None, routes.SIGN_IN), (PATIENT, routes.PATIENT_HOME)):
        page = new_context(email).new_page()
        page.goto(path, wait_until="networkidle")
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        expect(page.locator("head link[rel=manifest]")).to_have_attribute(
            "href", "/manifest.webmanifest"
        )
        touch_icon = page.locator("head link[rel=apple-touch-icon]")
        expect(touch_icon).to_have_count(1)
        assert page.request.get(touch_icon.get_attribute("href")).status == 200
        expect(page.locator("head meta[name=theme-color]")).to_have_count(1)
        workers = page.evaluate(
            "async () => navigator.serviceWorker"
            " ? (await navigator.serviceWorker.getRegistrations()).length : 0"
        )
        assert workers == 0
        assert page.evaluate("() => navigator.serviceWorker?.controller ?? null") is None
