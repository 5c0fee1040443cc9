"""Transmission security (HIPAA 164.312(e)) where the portal itself decides it: HSTS and
Secure cookies behind https, and email relays reached over TLS unless explicitly local."""

from __future__ import annotations

from portal.backend.api.headers import SecurityHeaders
from portal.backend.config import load_settings
from portal.backend.notify.email import SmtpEmail
from tests.loop import run


def response_headers(*, https: bool, path: str = "/") -> dict[str, str]:
    async def app(scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    sent: list[dict] = []

    async def send(message) -> None:
        sent.append(message)

    async def receive() -> dict:
        return {"type": "http.request", "body": b""}

    scope = {"type": "http", "path": path, "headers": []}
    run(SecurityHeaders(app, https=https)(scope, receive, send))
    return {key.decode(): value.decode() for key, value in sent[0]["headers"]}


def test_https_deployments_send_hsts_and_plain_http_does_not():
    secure = response_headers(https=True)
    assert secure["strict-transport-security"] == "max-age=31536000; includeSubDomains"
    assert "strict-transport-security" not in response_headers(https=False)
    assert secure["cache-control"] == "no-store"


def test_session_cookies_are_secure_when_the_public_url_is_https():
    assert load_settings({"PORTAL_PUBLIC_URL": "https://portal.example.org"}).secure_cookies
    assert not load_settings({"PORTAL_PUBLIC_URL": "http://localhost:3000"}).secure_cookies


def test_email_relays_use_tls_unless_a_local_relay_is_named_plain():
    assert SmtpEmail("smtp://user:pw@mail.example.org:587", "p@x").starttls
    implicit = SmtpEmail("smtps://user:pw@mail.example.org", "p@x")
    assert implicit.secure and implicit.port == 465
    assert not SmtpEmail("smtp://relay:25?tls=off", "p@x").starttls
