"""HTTP routes beside the Reflex app: authorized file downloads, Twilio's callbacks and a
health check.

They authenticate with the same session cookie as the pages and answer 404 for anything the
caller may not have, so a missing and a forbidden file look alike.
"""

from __future__ import annotations

import asyncio
import uuid

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from portal.backend.api import twilio
from portal.backend.security.principal import NotFound, PermissionDenied
from portal.backend.security.tokens import SESSION_COOKIE
from portal.backend.services import call, sessions
from portal.backend.services.files import download_attachment
from portal.backend.storage import attachment_disposition

PRIVATE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
NOT_FOUND = PlainTextResponse("Not found.", status_code=404, headers=PRIVATE)


async def attachment(request: Request) -> Response:
    try:
        attachment_id = uuid.UUID(request.path_params["attachment_id"])
    except ValueError:
        return NOT_FOUND
    client = request.client.host if request.client else None
    principal = await asyncio.to_thread(
        call,
        sessions.resolve_session,
        request.cookies.get(SESSION_COOKIE, ""),
        client_address=client,
    )
    if principal is None:
        return NOT_FOUND
    try:
        download = await asyncio.to_thread(
            call, download_attachment, principal, attachment_id, client_address=client
        )
    except (NotFound, PermissionDenied):
        return NOT_FOUND
    if download.link:
        return RedirectResponse(download.link, status_code=303, headers=PRIVATE)
    return Response(
        download.data,
        media_type=download.content_type,
        headers={**PRIVATE, "Content-Disposition": attachment_disposition(download.filename)},
    )


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok"}, headers=PRIVATE)


def create_api() -> Starlette:
    return Starlette(
        routes=[
            Route("/files/attachments/{attachment_id}", attachment, methods=["GET"]),
            Route("/healthz", health, methods=["GET"]),
            *twilio.ROUTES,
        ]
    )
