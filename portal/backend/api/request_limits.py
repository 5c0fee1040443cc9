"""How large a request the portal reads, and uploads that never touch the disk unencrypted.

- Starlette's multipart parser, behind Reflex's `/_upload`, writes every uploaded file past
  1 MB to an unencrypted temporary file. `keep_uploads_in_memory()` raises that threshold to
  the largest body `/_upload` accepts: no file inside such a body can reach it, so uploads stay
  in memory until a handler hands them to the encrypted file store.
- `RequestSizeLimit` refuses a body over its route's cap with 413: at once when its
  Content-Length says so, and by counting while it streams (a chunked body has none), reading
  no further than the cap. Uploads may carry the most a form sends (five message attachments);
  every other route takes small bodies. Websocket frames have their own cap in Reflex's socket
  server (REFLEX_SOCKET_MAX_HTTP_BUFFER_SIZE) and are left to it.
"""

from __future__ import annotations

import logging

from starlette.datastructures import Headers
from starlette.formparsers import MultiPartParser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.backend.services.messaging import FILE_LIMIT_BYTES, FILES_PER_MESSAGE
from portal.backend.services.profiles import CARD_LIMIT_BYTES
from portal.backend.services.record_entries import DOCUMENT_LIMIT_BYTES

logger = logging.getLogger("portal.requests")

UPLOAD_PATH = "/_upload"
# Boundaries, each part's headers and file name, and Reflex's field of bound arguments.
MULTIPART_ALLOWANCE_BYTES = 64 * 1024
UPLOAD_REQUEST_LIMIT_BYTES = (
    max(FILES_PER_MESSAGE * FILE_LIMIT_BYTES, CARD_LIMIT_BYTES, DOCUMENT_LIMIT_BYTES)
    + MULTIPART_ALLOWANCE_BYTES
)
# Every other route takes a small form (Twilio's callbacks: a few kilobytes) or no body.
REQUEST_LIMIT_BYTES = 64 * 1024
TOO_LARGE = b"The request is too large.\n"


def keep_uploads_in_memory() -> None:
    """Uploaded files stay in memory (see the module's docstring); call once at start-up."""
    MultiPartParser.spool_max_size = UPLOAD_REQUEST_LIMIT_BYTES


def limit_for(scope: Scope) -> int:
    """The largest body a request may carry, by its method and path."""
    if scope.get("method") == "POST" and scope.get("path") == UPLOAD_PATH:
        return UPLOAD_REQUEST_LIMIT_BYTES
    return REQUEST_LIMIT_BYTES


class RequestTooLarge(Exception):
    """Raised into the app from `receive` once a body passes its cap (never caught by the
    parsers, which catch only their own errors)."""


class RequestSizeLimit:
    """ASGI middleware: 413 for a body over its route's cap, whatever the app would have said."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope)
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _refuse(scope, send, limit)
            return
        received = 0
        refused = started = False

        async def counted_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refused = True
                    raise RequestTooLarge
            return message

        async def send_unless_refused(message: Message) -> None:
            nonlocal started
            if refused and not started:
                return  # the app's answer to a cut-off body is replaced by the 413
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, send_unless_refused)
        except Exception:
            if not refused or started:
                raise
        if refused and not started:
            await _refuse(scope, send, limit)


async def _refuse(scope: Scope, send: Send, limit: int) -> None:
    logger.warning("refused a %s request body over %d KB", scope.get("method"), limit // 1024)
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(TOO_LARGE)).encode()),
                (b"cache-control", b"no-store"),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": TOO_LARGE})
