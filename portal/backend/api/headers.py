"""Security headers on every HTTP response the portal sends: pages, API and files.

Pages carry no PHI (it arrives over the websocket), but nothing the portal serves may be framed,
sniffed or leak a referrer, and only the hashed build assets and the practices' logos may be
cached.

Reflex's prerendered pages carry inline bootstrap scripts and its `call_script` event runs code
the server sends through `eval`, so scripts need 'unsafe-inline' and 'unsafe-eval'. What the
policy enforces is the rest: no framing, no plugins, no foreign base or form targets, and
connections, images and fonts from this origin only (nothing can be sent elsewhere).
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# The hashed build assets, and practices' logos (public; a new logo gets a new address).
CACHEABLE_PREFIXES = ("/assets/", "/files/brand/")


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, https: bool):
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cacheable = scope["path"].startswith(CACHEABLE_PREFIXES)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "no-referrer"
                headers["X-Frame-Options"] = "DENY"
                headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
                if self.https:
                    headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
                if not cacheable:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)
