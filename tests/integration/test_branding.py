"""The practice's branding: a primary colour refused in words unless it is `#rrggbb` and carries
white button text at AA contrast, and a logo that must be a real PNG or JPEG of at most 1 MB,
stored re-encoded (no metadata) in the file store, served publicly by its own route, replaced
and removed with its file, and audited by field name; what every page gets of the brand."""

from __future__ import annotations

import io
import uuid

import pytest
from PIL import Image, PngImagePlugin
from sqlalchemy import select

from portal.backend import models
from portal.backend.security.principal import PermissionDenied
from portal.backend.services import branding, practice_settings
from portal.backend.services.branding import LogoRefused
from portal.backend.services.practice_settings import SettingsInvalid
from tests.integration.api_client import http
from tests.integration.factories import CANARY, PDF, build_practice

SETTINGS = {
    "name": "Test Practice",
    "time_zone": "America/New_York",
    "idle_timeout_minutes": "15",
    "patient_self_registration": False,
    "message_response_hours": "48",
    "records_held_for_review": [],
}


def uow(practice):
    return practice.database.unit_of_work()


def stored(practice) -> models.Practice:
    with uow(practice) as unit:
        return unit.session.get(models.Practice, practice.tenant_id)


def audited(practice, action: str) -> list[models.AuditEvent]:
    with uow(practice) as unit:
        return list(
            unit.session.exec(
                select(models.AuditEvent).where(models.AuditEvent.action == action)
            ).scalars()
        )


def save_colour(practice, colour: str) -> list[str]:
    return practice_settings.save_practice_settings(
        practice.principal("admin"), {**SETTINGS, "brand_colour": colour}, uow=uow(practice)
    )


def png(width: int = 60, height: int = 30, *, note: str = "") -> bytes:
    """A PNG, with a text chunk (metadata a logo must not keep) when `note` is given."""
    info = PngImagePlugin.PngInfo()
    if note:
        info.add_text("Comment", note)
    out = io.BytesIO()
    Image.new("RGBA", (width, height), (29, 78, 216, 255)).save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def upload(practice, data: bytes) -> str:
    return branding.upload_logo(practice.principal("admin"), data, uow=uow(practice))


def test_a_colour_is_saved_in_lower_case_audited_by_name_and_shown_on_every_page(practice):
    assert save_colour(practice, " #1D4ED8 ") == ["brand_colour"]
    assert stored(practice).brand_colour == "#1d4ed8"
    [event] = audited(practice, "practice.settings.save")
    assert event.details == "brand_colour"
    view = practice_settings.practice_settings(practice.principal("admin"), uow=uow(practice))
    assert view.brand_colour == "#1d4ed8" and view.logo_url == ""
    for practice_id in (practice.tenant_id, None):  # signed in, and on the sign-in page
        shown = branding.brand(practice_id, uow=uow(practice))
        assert shown.practice == "Test Practice" and shown.logo_url == ""
        assert "--accent-9:#1d4ed8" in shown.theme_css
        assert "--accent-contrast:#ffffff" in shown.theme_css
    # Empty is the portal's own theme again.
    assert save_colour(practice, "") == ["brand_colour"]
    assert branding.brand(practice.tenant_id, uow=uow(practice)).theme_css == ""


@pytest.mark.parametrize(
    ("colour", "words"),
    [
        ("blue", "Write the colour as # and six hexadecimal digits"),
        ("#12345", "six hexadecimal digits"),
        ("#1d4ed8; background: url(x)", "six hexadecimal digits"),
        ("rgb(0, 0, 255)", "six hexadecimal digits"),
        ("#ffd700", "This colour is too light for white text on buttons; choose a darker shade"),
        ("#20b2aa", "too light for white text"),
    ],
)
def test_a_colour_that_is_not_hex_or_too_light_is_refused_in_words(practice, colour, words):
    with pytest.raises(SettingsInvalid) as refusal:
        save_colour(practice, colour)
    assert list(refusal.value.problems) == ["brand_colour"]
    assert words in refusal.value.problems["brand_colour"]
    assert stored(practice).brand_colour == ""
    assert audited(practice, "practice.settings.save") == []


def test_a_logo_is_stored_re_encoded_without_metadata_and_replaced_then_removed(practice):
    first = upload(practice, png(note=f"made at home {CANARY}"))
    row = stored(practice)
    assert row.logo_content_type == "image/png"
    assert first == branding.logo_url(row) and first.startswith(f"/files/brand/{row.id}/logo?v=")
    data, content_type = branding.logo_file(practice.tenant_id, uow=uow(practice))
    assert content_type == "image/png" and CANARY.encode() not in data
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (60, 30) and "Comment" not in image.info
    if practice.database.settings.storage == "local":  # sealed on disk, not a readable PNG
        key = row.logo_storage_key
        on_disk = (practice.database.settings.files_dir / key[:2] / key).read_bytes()
        assert not on_disk.startswith(b"\x89PNG")
    assert branding.brand(None, uow=uow(practice)).logo_url == first

    second = upload(practice, png(80, 40))
    assert second != first
    with pytest.raises(FileNotFoundError):
        practice.database.files.get(row.logo_storage_key)
    replaced = stored(practice).logo_storage_key

    assert branding.remove_logo(practice.principal("admin"), uow=uow(practice)) is True
    assert stored(practice).logo_storage_key is None
    assert stored(practice).logo_content_type is None
    with pytest.raises(FileNotFoundError):
        practice.database.files.get(replaced)
    assert branding.logo_file(practice.tenant_id, uow=uow(practice)) is None
    assert branding.remove_logo(practice.principal("admin"), uow=uow(practice)) is False
    assert [event.details for event in audited(practice, "practice.logo.save")] == ["logo"] * 2
    assert [event.details for event in audited(practice, "practice.logo.remove")] == ["logo"]


def huge_png() -> bytes:
    """Few bytes, many pixels: 5000 by 4000 of one colour."""
    out = io.BytesIO()
    Image.new("1", (5000, 4000)).save(out, format="PNG", optimize=True)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "PNG or JPEG image"),
        (b"just some text saved as logo.png", "PNG or JPEG image"),
        (PDF, "PNG or JPEG image"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "not a picture we can read"),
        (b"\xff\xd8\xff" + b"garbage" * 50, "not a picture we can read"),
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * (1024 * 1024), "larger than 1 MB"),
        (huge_png(), "too many pixels"),
    ],
)
def test_anything_but_a_png_or_jpeg_of_1_mb_is_refused_and_nothing_is_stored(practice, data, words):
    with pytest.raises(LogoRefused, match=words):
        upload(practice, data)
    assert stored(practice).logo_storage_key is None
    assert audited(practice, "practice.logo.save") == []


@pytest.mark.parametrize("who", ["patient_a", "provider"])
def test_only_admins_change_the_branding(practice, who):
    principal = practice.principal(who)
    with pytest.raises(PermissionDenied):
        branding.upload_logo(principal, png(), uow=uow(practice))
    with pytest.raises(PermissionDenied):
        branding.remove_logo(principal, uow=uow(practice))
    with pytest.raises(PermissionDenied):
        practice_settings.save_practice_settings(
            principal, {**SETTINGS, "brand_colour": "#1d4ed8"}, uow=uow(practice)
        )
    assert stored(practice).logo_storage_key is None and stored(practice).brand_colour == ""


def test_each_practice_has_its_own_brand(practice):
    other = build_practice(practice.database, slug="other-brand")
    upload(practice, png())
    save_colour(practice, "#1d4ed8")
    theirs = branding.brand(other.tenant_id, uow=uow(practice))
    assert theirs == branding.Brand(practice="Test Practice", theme_css="", logo_url="")
    assert branding.logo_file(other.tenant_id, uow=uow(practice)) is None


def test_the_logo_route_serves_it_publicly_with_its_type_and_nothing_else(practice, api):
    path = upload(practice, png()).split("?")[0]
    reply = http(api, "GET", path)  # no session: the sign-in page shows it too
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "image/png"
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.headers["cache-control"] == "public, max-age=300"
    assert "content-disposition" not in reply.headers
    assert reply.content == branding.logo_file(practice.tenant_id, uow=uow(practice))[0]
    for missing in (
        f"/files/brand/{uuid.uuid4()}/logo",
        "/files/brand/not-an-id/logo",
    ):
        refused = http(api, "GET", missing)
        assert refused.status_code == 404
        assert refused.headers["cache-control"] == "no-store"
    branding.remove_logo(practice.principal("admin"), uow=uow(practice))
    assert http(api, "GET", path).status_code == 404
