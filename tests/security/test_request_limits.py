"""Oversized request bodies, announced by their Content-Length, are refused by the running
portal with 413 before a byte of them is read, on Reflex's `/_upload` and on the portal's own
routes alike; the server carries on serving. (Chunked bodies, counted as they stream, and
uploads kept off the disk: tests/integration/test_upload_limits.py.)"""

from __future__ import annotations

import http.client
import urllib.parse

import pytest

from portal.backend.api.request_limits import REQUEST_LIMIT_BYTES, UPLOAD_REQUEST_LIMIT_BYTES
from tests.security.test_downloads import get


def announce(base: str, path: str, length: int, content_type: str) -> http.client.HTTPResponse:
    """A POST whose headers announce `length` bytes, answered before any of them is sent."""
    address = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    connection.putrequest("POST", path)
    for name, value in (
        ("Content-Type", content_type),
        ("Content-Length", str(length)),
        ("Origin", base),
    ):
        connection.putheader(name, value)
    connection.endheaders()
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


@pytest.mark.parametrize(
    ("path", "length", "content_type"),
    [
        ("/_upload", UPLOAD_REQUEST_LIMIT_BYTES + 1, "multipart/form-data; boundary=x"),
        ("/webhooks/twilio/status", REQUEST_LIMIT_BYTES + 1, "application/x-www-form-urlencoded"),
    ],
    ids=["upload", "webhook"],
)
def test_an_oversized_body_is_refused_unread_and_the_server_carries_on(
    portal_url, path, length, content_type
):
    answer = announce(portal_url, path, length, content_type)
    assert answer.status == 413
    assert answer.getheader("cache-control") == "no-store"
    assert answer.getheader("x-request-id")
    assert "frame-ancestors 'none'" in answer.getheader("content-security-policy", "")
    assert get(portal_url, "/sign-in").status == 200
