"""Secure messaging through the service layer, on SQLite and PostgreSQL: threads, replies,
read receipts both ways, uploads checked by content, the care team's inbox, and ids that are
not the caller's."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from portal.backend import models
from portal.backend.security.principal import NotFound, PermissionDenied, Principal, Role
from portal.backend.services import messaging
from portal.backend.services.files import download_attachment
from portal.backend.services.messaging import MessageRefused, NewFile, text_parts
from portal.backend.views import TextPart
from tests.integration.factories import PDF

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def uow(practice):
    return practice.database.unit_of_work()


def start(practice, who="patient_a", body="Is my dose right?", files=()) -> uuid.UUID:
    return uuid.UUID(
        messaging.start_thread(
            practice.principal(who),
            "Dose question",
            "prescription",
            body,
            list(files),
            uow=uow(practice),
        )
    )


def test_a_thread_reaches_the_care_team_and_the_reply_is_read_both_ways(practice):
    thread = start(practice, files=[NewFile("lab.pdf", PDF)])
    provider = practice.principal("provider")
    assert messaging.unread_messages(provider, uow=uow(practice)) >= 1
    page = messaging.inbox(provider, uow=uow(practice))
    line = next(line for line in page.lines if line.id == str(thread))
    assert line.unread == 1 and line.waiting.endswith("min") and line.patient.startswith("Ann")

    seen = messaging.read_thread(provider, thread, uow=uow(practice))
    assert seen.messages[0].attachments[0].filename == "lab.pdf"
    patient_view = messaging.read_thread(practice.principal("patient_a"), thread, uow=uow(practice))
    assert patient_view.messages[0].receipt.startswith("Read by the care team at")

    patient = practice.principal("patient_a")
    earlier = messaging.unread_messages(patient, uow=uow(practice))  # the factory's own thread
    messaging.send_reply(provider, thread, "Yes, see https://example.org/dose.", uow=uow(practice))
    assert messaging.unread_messages(patient, uow=uow(practice)) == earlier + 1
    view = messaging.read_thread(patient, thread, uow=uow(practice))
    reply = view.messages[-1]
    assert reply.sender == "Dr. Test" and not reply.mine
    assert TextPart("https://example.org/dose", href="https://example.org/dose") in reply.lines[0]
    assert messaging.unread_messages(patient, uow=uow(practice)) == earlier
    mine = messaging.read_thread(provider, thread, uow=uow(practice)).messages[-1]
    assert mine.receipt.startswith("Read by the patient at")
    assert view.assigned == "Dr. Test" and view.waiting == ""


def test_the_patient_is_told_of_a_reply_without_its_content(practice):
    thread = start(practice)
    messaging.send_reply(
        practice.principal("provider"), thread, "ZZCANARY results are fine", uow=uow(practice)
    )
    with uow(practice) as work:
        sent = (
            work.session.exec(
                select(models.Notification).where(models.Notification.template_id == "new_message")
            )
            .scalars()
            .all()
        )
    assert sent and all("ZZCANARY" not in repr(n.parameters) for n in sent)


@pytest.mark.parametrize(
    ("body", "message"),
    [("   ", "Write your message"), ("x" * 5001, "up to 5,000 characters; this one has 5,001")],
)
def test_empty_and_overlong_messages_are_refused(practice, body, message):
    with pytest.raises(MessageRefused, match=message):
        start(practice, body=body)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("notes.pdf", b"<html><script>alert(1)</script></html>", "none of those"),
        ("logo.svg", b"<svg onload=alert(1)></svg>", "none of those"),
        ("scan.pdf.exe", b"MZ\x90\x00", "none of those"),
        ("empty.pdf", b"", "empty"),
        ("big.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024), "larger than 10 MB"),
    ],
)
def test_upload_tricks_are_refused_and_nothing_is_sent(practice, name, data, message):
    with pytest.raises(MessageRefused, match=message):
        start(practice, files=[NewFile(name, data)])
    with uow(practice) as work:
        assert work.session.exec(select(models.Conversation)).scalars().all().__len__() == 2


def test_file_names_lose_their_paths(practice):
    thread = start(practice, files=[NewFile("../../etc/<img src=x>.png", PNG)])
    view = messaging.read_thread(practice.principal("patient_a"), thread, uow=uow(practice))
    assert view.messages[0].attachments[0].filename == "<img src=x>.png"


def test_only_http_links_become_links():
    lines = text_parts("a javascript:alert(1) b\n<img src=x onerror=alert(1)> http://x.org/a).")
    assert all(part.href == "" for part in lines[0])
    assert lines[1] == [
        TextPart("<img src=x onerror=alert(1)> "),
        TextPart("http://x.org/a", href="http://x.org/a"),
        TextPart(")."),
    ]


def test_another_patients_thread_answers_as_missing_and_changes_nothing(practice):
    intruder = practice.principal("patient_a")
    theirs = practice.conversation_b
    for attempt in (
        lambda: messaging.read_thread(intruder, theirs, uow=uow(practice)),
        lambda: messaging.send_reply(intruder, theirs, "hello", uow=uow(practice)),
        lambda: messaging.thread_version(intruder, theirs, uow=uow(practice)),
    ):
        with pytest.raises(NotFound):
            attempt()
    with uow(practice) as work:
        unread = work.session.exec(
            select(models.Message).where(
                models.Message.conversation_id == theirs, models.Message.read_at.is_(None)
            )
        ).all()
        count = len(
            work.session.exec(
                select(models.Message).where(models.Message.conversation_id == theirs)
            ).all()
        )
    assert len(unread) == 2 and count == 2


def test_staff_of_another_practice_and_admins_cannot_open_threads(practice, database):
    from tests.integration.factories import build_practice

    other = build_practice(database, slug="other-practice")
    with pytest.raises(NotFound):
        messaging.read_thread(
            other.principal("provider"), practice.conversation_a, uow=uow(practice)
        )
    with pytest.raises(PermissionDenied):
        messaging.read_thread(
            practice.principal("admin"), practice.conversation_a, uow=uow(practice)
        )


def test_a_message_to_another_care_team_is_refused(practice):
    with pytest.raises(MessageRefused, match="only your own care team"):
        messaging.start_thread(
            practice.principal("patient_a"),
            "Hi",
            "other",
            "Hello",
            care_team_id=uuid.uuid4(),
            uow=uow(practice),
        )


def test_inbox_filters_assigns_closes_and_pages(practice):
    provider = practice.principal("provider")
    threads = [start(practice, who="patient_b", body=f"question {n}") for n in range(3)]
    page = messaging.inbox(provider, category="prescription", uow=uow(practice))
    assert {line.id for line in page.lines} == {str(t) for t in threads}
    (member,) = messaging.team_members(provider, uow=uow(practice))
    messaging.assign(provider, threads[0], uuid.UUID(member.id), uow=uow(practice))
    mine = messaging.inbox(provider, assignee="me", uow=uow(practice))
    assert [line.id for line in mine.lines] == [str(threads[0])]
    with pytest.raises(MessageRefused):
        messaging.assign(provider, threads[0], uuid.uuid4(), uow=uow(practice))
    messaging.mark_done(provider, threads[1], True, uow=uow(practice))
    done = messaging.inbox(provider, status="done", uow=uow(practice))
    assert [line.id for line in done.lines] == [str(threads[1])]
    everything = [
        line.id for line in messaging.inbox(provider, status="all", uow=uow(practice)).lines
    ]
    first = messaging.inbox(provider, status="all", uow=uow(practice))
    assert first.next_after == ""
    assert len(everything) == 5
    messaging.PAGE_SIZE, size = 2, messaging.PAGE_SIZE
    try:
        pages, after = [], ""
        while True:
            page = messaging.inbox(provider, status="all", after=after, uow=uow(practice))
            pages.extend(line.id for line in page.lines)
            after = page.next_after
            if not after:
                break
    finally:
        messaging.PAGE_SIZE = size
    assert pages == everything


def test_images_get_a_metadata_free_preview_only_their_readers_can_fetch(practice):
    import io

    from PIL import Image

    photo = io.BytesIO()
    Image.new("RGB", (1200, 800), "teal").save(photo, format="JPEG", exif=b"Exif\x00\x00GPS")
    thread = start(practice, files=[NewFile("rash.jpg", photo.getvalue())])
    view = messaging.read_thread(practice.principal("patient_a"), thread, uow=uow(practice))
    (picture,) = view.messages[0].attachments
    assert picture.preview and picture.kind == "JPEG"
    preview = download_attachment(
        practice.principal("provider"), uuid.UUID(picture.id), preview=True, uow=uow(practice)
    )
    image = Image.open(io.BytesIO(preview.data))
    assert image.format == "PNG" and max(image.size) == 320 and not image.info.get("exif")
    with pytest.raises(NotFound):
        download_attachment(
            practice.principal("patient_b"), uuid.UUID(picture.id), preview=True, uow=uow(practice)
        )


def test_a_provider_outside_the_care_team_cannot_open_or_download(practice):
    with uow(practice) as work:
        outsider = models.Provider(tenant_id=practice.tenant_id, display_name="Dr. Elsewhere")
        work.session.add(outsider)
        work.commit()
    provider = practice.principal("provider")
    elsewhere = Principal(
        provider.user_id,
        Role.PROVIDER,
        practice.tenant_id,
        provider.session_id,
        provider_id=outsider.id,
    )
    with pytest.raises(NotFound):
        messaging.read_thread(elsewhere, practice.conversation_a, uow=uow(practice))
    with pytest.raises(NotFound):
        download_attachment(elsewhere, practice.attachment_a, uow=uow(practice))
    assert messaging.inbox(elsewhere, status="all", uow=uow(practice)).lines == []


def test_the_inbox_version_changes_with_new_messages_and_reads(practice):
    provider = practice.principal("provider")
    before = messaging.inbox_version(provider, uow=uow(practice))
    thread = start(practice)
    after_message = messaging.inbox_version(provider, uow=uow(practice))
    messaging.read_thread(provider, thread, uow=uow(practice))
    after_read = messaging.inbox_version(provider, uow=uow(practice))
    assert len({before, after_message, after_read}) == 3
    (member,) = messaging.team_members(provider, thread, uow=uow(practice))
    assert member.name == "Dr. Test"
