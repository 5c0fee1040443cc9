"""Uploads never touch the disk unencrypted, and request bodies have a cap.

Real multipart requests go, in process, through Reflex's own `/_upload` endpoint and the
portal's routes, wrapped as portal/portal.py wraps them. Only Reflex's event processor is a
stand-in: it reads the files the way the portal's upload handlers do.
"""

from __future__ import annotations

import logging
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from starlette.formparsers import MultiPartParser

from portal.backend.api import create_api
from portal.backend.api.request_limits import (
    REQUEST_LIMIT_BYTES,
    UPLOAD_REQUEST_LIMIT_BYTES,
    RequestSizeLimit,
)
from portal.backend.config import settings
from portal.backend.services.messaging import FILE_LIMIT_BYTES, FILES_PER_MESSAGE
from portal.pages.patient.messages import MessagesState
from tests.integration.api_client import http
from tests.integration.test_notifications import TWILIO_ENV

MB = 1024 * 1024
SEND = f"{MessagesState.get_full_name()}.send"


class StandInEvents:
    """Reflex's event processor as the upload endpoint uses it: the handler reads each file."""

    def __init__(self):
        self.received: list[int] = []

    async def enqueue_stream_delta(self, token: str, event) -> AsyncIterator[dict]:
        for file in event.payload["files"]:
            self.received.append(len(await file.read()))
        yield {}


class StandInApp:
    def __init__(self):
        self.event_processor = StandInEvents()


@pytest.fixture(scope="module")
def portal_wrappers():
    """The ASGI wrappers portal/portal.py puts around the routes (importing it also keeps
    uploads in memory, as the app's start-up does)."""
    from portal.portal import app

    return app.api_transformer[1:]


@pytest.fixture
def served(portal_wrappers):
    """The portal's routes and Reflex's upload endpoint, wrapped as in the app, under the
    registration of handlers that Reflex's own outermost middleware attaches to each request."""
    from reflex.app import upload
    from reflex_base.registry import RegistrationContext

    reflex = StandInApp()
    routes = create_api()
    routes.add_route("/_upload", upload(reflex), methods=["POST"])
    wrapped = routes
    for wrap in portal_wrappers:
        wrapped = wrap(wrapped)
    registration = RegistrationContext.get()

    async def asgi(scope, receive, send) -> None:
        RegistrationContext.set(registration)
        await wrapped(scope, receive, send)

    return asgi, reflex.event_processor


@pytest.fixture
def temporary_files(tmp_path, monkeypatch) -> Callable[[], list[str]]:
    """The temporary files opened since the test began. Linux opens TemporaryFile without a
    name (O_TMPFILE), so an empty folder alone would not show it: the opening is watched too."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    opened: list[str] = []
    unnamed = tempfile.TemporaryFile

    def watched(*args, **kwargs):
        opened.append("an unnamed TemporaryFile")
        return unnamed(*args, **kwargs)

    monkeypatch.setattr(tempfile, "TemporaryFile", watched)
    return lambda: opened + [path.name for path in folder.iterdir()]


def multipart(files: list[tuple[str, bytes]]) -> tuple[str, bytes]:
    boundary = uuid.uuid4().hex
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
        f"Content-Type: application/pdf\r\n\r\n".encode()
        + data
        + b"\r\n"
        for name, data in files
    )
    return f"multipart/form-data; boundary={boundary}", body + f"--{boundary}--\r\n".encode()


def post(asgi, path: str, body: bytes, *, content_type: str, chunked: bool = False, **headers):
    """POST `body` in 1 MB chunks (without a Content-Length when `chunked`); the answer and
    how many chunks the portal read."""
    chunks = [body[start : start + MB] for start in range(0, len(body), MB)]
    read = 0

    async def stream() -> AsyncIterator[bytes]:
        nonlocal read
        for chunk in chunks:
            read += 1
            yield chunk

    length = {} if chunked else {"Content-Length": str(len(body))}
    answer = http(
        asgi,
        "POST",
        path,
        content=stream(),
        headers={"Content-Type": content_type, **length, **headers},
    )
    return answer, read


def upload(asgi, body: bytes, content_type: str, *, chunked: bool = False):
    return post(
        asgi,
        "/_upload",
        body,
        content_type=content_type,
        chunked=chunked,
        **{"Reflex-Client-Token": uuid.uuid4().hex, "Reflex-Event-Handler": SEND},
    )


def test_the_app_keeps_uploads_in_memory_and_caps_every_request(portal_wrappers):
    assert MultiPartParser.spool_max_size == UPLOAD_REQUEST_LIMIT_BYTES
    assert portal_wrappers[0] is RequestSizeLimit  # inside the request id and the headers
    assert UPLOAD_REQUEST_LIMIT_BYTES >= FILES_PER_MESSAGE * FILE_LIMIT_BYTES


def test_the_largest_upload_allowed_is_handled_without_a_temporary_file(served, temporary_files):
    asgi, handler = served
    letter = b"%PDF-1.4\n".ljust(FILE_LIMIT_BYTES, b"x")
    files = [(f"letter {n}.pdf", letter) for n in range(FILES_PER_MESSAGE)]
    content_type, body = multipart(files)
    answer, _read = upload(asgi, body, content_type)
    assert answer.status_code == 200
    assert handler.received == [FILE_LIMIT_BYTES] * FILES_PER_MESSAGE
    assert temporary_files() == []


def test_the_detector_sees_starlettes_own_spooling(served, temporary_files, monkeypatch):
    """Without the portal's setting, Starlette writes a file over 1 MB to a temporary file."""
    asgi, handler = served
    monkeypatch.setattr(MultiPartParser, "spool_max_size", MB)
    content_type, body = multipart([("scan.pdf", b"%PDF-1.4\n".ljust(2 * MB, b"x"))])
    answer, _read = upload(asgi, body, content_type)
    assert answer.status_code == 200 and handler.received == [2 * MB]
    assert temporary_files()


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_an_upload_over_the_cap_is_refused_with_413_and_read_no_further(
    served, temporary_files, caplog, chunked
):
    asgi, handler = served
    content_type, body = multipart([("huge.pdf", b"%PDF-1.4\n".ljust(60 * MB, b"x"))])
    with caplog.at_level(logging.WARNING):
        answer, read = upload(asgi, body, content_type, chunked=chunked)
    assert answer.status_code == 413
    assert answer.text == "The request is too large.\n"
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["x-request-id"] and answer.headers["x-content-type-options"]
    # Refused before the body (Content-Length), or as soon as the count passed the cap.
    assert read == (UPLOAD_REQUEST_LIMIT_BYTES // MB + 1 if chunked else 0)
    assert handler.received == []
    assert temporary_files() == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.fixture
def twilio_configured(monkeypatch):
    """Twilio's callbacks switched on, so that they read their form before refusing it."""
    for name, value in TWILIO_ENV.items():
        monkeypatch.setenv(name, value)
    settings.cache_clear()
    yield
    settings.cache_clear()


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_other_routes_take_small_bodies_only(served, twilio_configured, chunked):
    asgi, _handler = served
    form = "application/x-www-form-urlencoded"
    small, _read = post(asgi, "/webhooks/twilio/status", b"MessageSid=SM1", content_type=form)
    assert small.status_code == 403  # read, and refused for want of Twilio's signature
    large = b"Body=" + b"x" * REQUEST_LIMIT_BYTES
    answer, _read = post(asgi, "/webhooks/twilio/status", large, content_type=form, chunked=chunked)
    assert answer.status_code == 413
