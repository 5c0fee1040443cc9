"""Upload tricks, sent the way the browser sends files: a multipart POST to Reflex's `/_upload`
naming the handler, on a tab whose state holds a patient's session. Polyglots, a wrong
extension, an SVG with script, an oversized file and a PNG decompression bomb are refused
and change nothing; a real picture is stored, re-encoded, and served only as an attachment."""

from __future__ import annotations

import io
import urllib.error
import urllib.request
import uuid

import pytest
from PIL import Image
from sqlalchemy import select

from portal.backend import models
from portal.pages.patient.profile_state import ProfileState
from tests.e2e.socket import _connect, in_thread
from tests.security.harness import router

SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>window.__xss=1</script></svg>'
HTML = b"<html><script>window.__xss=1</script></html>"


def png(width: int = 40, height: int = 20) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def bomb() -> bytes:
    """A small PNG (a few hundred kB) that claims 20,000 by 20,000 pixels of one colour."""
    out = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(out, format="PNG", optimize=True)
    return out.getvalue()


TRICKS = {
    "SVG with a script, named .png": ("card.png", SVG, "image/png"),
    "HTML named .jpg": ("card.jpg", HTML, "image/jpeg"),
    "PNG signature then HTML (polyglot)": ("card.png", png()[:8] + HTML, "image/png"),
    "PDF/HTML polyglot": ("card.pdf", b"%PDF-1.4\n" + HTML, "application/pdf"),
    "script with a picture's name": ("card.png", b"#!/bin/sh\necho owned\n", "image/png"),
    "oversized (11 MB)": ("card.png", png()[:8] + b"\0" * (11 * 1024 * 1024), "image/png"),
    "PNG decompression bomb": ("card.png", None, "image/png"),
}


def upload(base: str, session_token: str, handler: str, name: str, data: bytes, kind: str) -> int:
    """Open a tab holding the session, then post one file to its upload handler."""
    tab = uuid.uuid4().hex

    async def prepare() -> None:
        client = await _connect(base, tab, base, session_token=session_token)
        await client.emit(
            "event",
            {
                "name": f"{ProfileState.get_full_name()}.load",
                "payload": {},
                "router_data": router("/profile"),
            },
            namespace="/_event",
        )
        import asyncio

        await asyncio.sleep(1.5)
        await client.disconnect()

    in_thread(prepare())
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
            f"Content-Type: {kind}\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(  # noqa: S310
        f"{base}/_upload",
        data=body,
        method="POST",
        headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Reflex-Client-Token": tab,
            "Reflex-Event-Handler": f"{ProfileState.get_full_name()}.{handler}",
            "Origin": base,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def card(database, patient_id) -> dict:
    with database.unit_of_work() as uow:
        return dict(uow.session.get(models.Patient, patient_id).insurance or {})


@pytest.fixture(scope="module")
def uploader(new_patient, accounts):
    person = new_patient("Uma", "Uploader")
    return person, accounts.session_token(person.email)


@pytest.mark.parametrize("trick", sorted(TRICKS))
def test_a_trick_upload_is_refused_and_stores_nothing(
    trick, uploader, portal_url, portal_database, portal_data_dir
):
    person, token = uploader
    name, data, kind = TRICKS[trick]
    files_before = sorted((portal_data_dir / "files").rglob("*"))
    status = upload(portal_url, token, "upload_front", name, data if data else bomb(), kind)
    assert status < 500
    assert "front_key" not in card(portal_database, person.patient_id), trick
    assert sorted((portal_data_dir / "files").rglob("*")) == files_before


def test_a_real_picture_is_stored_reencoded_and_served_as_an_attachment(
    uploader, portal_url, portal_database
):
    from tests.security.test_downloads import get

    person, token = uploader
    assert upload(portal_url, token, "upload_back", "card.png", png(), "image/png") == 200
    stored = card(portal_database, person.patient_id)
    assert stored.get("back_key") and stored.get("back_type") in ("image/png", "image/jpeg")
    answer = get(portal_url, f"/files/insurance/{person.patient_id}/back", token)
    assert answer.status == 200
    assert answer.headers["content-disposition"].startswith("attachment;")
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["content-type"].split(";")[0] in ("image/png", "image/jpeg")


def test_an_upload_to_another_tabs_state_without_a_session_stores_nothing(
    portal_url, portal_database, demo_ids
):
    before = card(portal_database, demo_ids["patient_id"])
    status = upload(portal_url, "", "upload_front", "card.png", png(), "image/png")
    assert status < 500
    assert card(portal_database, demo_ids["patient_id"]) == before


@pytest.mark.parametrize(
    "name,data",
    [
        ("notes.pdf", b"%PDF-1.4\n" + HTML),
        ("<svg onload=alert(1)>.png", png()[:8] + HTML),
    ],
)
def test_a_polyglot_message_attachment_is_only_ever_downloaded(
    portal_url, portal_database, new_patient, accounts, name, data
):
    """Files are checked by their first bytes, so a polyglot may pass as a PDF or PNG: it is
    then only ever served as that type, as a download, never sniffed, never previewed as-is."""
    from portal.backend.services import messaging
    from portal.backend.services.messaging import NewFile
    from portal.backend.services.sessions import open_session
    from tests.security.test_downloads import get

    person = new_patient("Polly", "Glot")
    with portal_database.unit_of_work() as uow:
        principal = open_session(uow, uow.session.get(models.User, person.user_id)).principal
        uow.commit()
    try:
        thread = messaging.start_thread(
            principal,
            "Files",
            "other",
            "see file",
            [NewFile(name, data)],
            uow=portal_database.unit_of_work(),
        )
    except messaging.MessageRefused:  # refused outright is fine too
        return
    with portal_database.unit_of_work() as uow:
        attachment = uow.session.exec(
            select(models.Attachment.id)
            .join(models.Message, models.Message.id == models.Attachment.message_id)
            .where(models.Message.conversation_id == uuid.UUID(thread))
        ).first()[0]
    token = accounts.session_token(person.email)
    answer = get(portal_url, f"/files/attachments/{attachment}", token)
    assert answer.status == 200
    assert answer.headers["content-type"].split(";")[0] in ("application/pdf", "image/png")
    assert answer.headers["content-disposition"].startswith("attachment;")
    assert answer.headers["x-content-type-options"] == "nosniff"
    preview = get(portal_url, f"/files/attachments/{attachment}/preview", token)
    assert preview.status == 404 or not preview.body.startswith(data[:16])
