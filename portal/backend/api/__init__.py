"""HTTP routes beside the Reflex app: authorized file downloads (message attachments and
appointments' calendar files), Twilio's callbacks and a health check.

They authenticate with the same session cookie as the pages and answer 404 for anything the
caller may not have, so a missing and a forbidden file look alike.
"""

from __future__ import annotations

import asyncio
import functools
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
from portal.backend.services.scheduling import calendar_file
from portal.backend.storage import attachment_disposition

PRIVATE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
NOT_FOUND = PlainTextResponse("Not found.", status_code=404, headers=PRIVATE)


async def _authorized(request: Request, service, id_parameter: str):
    """Run `service(principal, id)` for the session's principal; None for a missing session, a
    malformed id, or anything the caller may not have."""
    try:
        resource_id = uuid.UUID(request.path_params[id_parameter])
    except ValueError:
        return None
    client = request.client.host if request.client else None
    principal = await asyncio.to_thread(
        call,
        sessions.resolve_session,
        request.cookies.get(SESSION_COOKIE, ""),
        client_address=client,
    )
    if principal is None:
        return None
    try:
        return await asyncio.to_thread(call, service, principal, resource_id, client_address=client)
    except (NotFound, PermissionDenied):
        return None


async def attachment(request: Request) -> Response:
    download = await _authorized(request, download_attachment, "attachment_id")
    if download is None:
        return NOT_FOUND
    if download.link:
        return RedirectResponse(download.link, status_code=303, headers=PRIVATE)
    return Response(
        download.data,
        media_type=download.content_type,
        headers={**PRIVATE, "Content-Disposition": attachment_disposition(download.filename)},
    )


async def attachment_preview(request: Request) -> Response:
    preview = functools.partial(download_attachment, preview=True)
    download = await _authorized(request, preview, "attachment_id")
    if download is None:
        return NOT_FOUND
    return Response(download.data, media_type="image/png", headers=PRIVATE)


async def appointment_calendar(request: Request) -> Response:
    data = await _authorized(request, calendar_file, "appointment_id")
    if data is None:
        return NOT_FOUND
    return Response(
        data,
        media_type="text/calendar",
        headers={**PRIVATE, "Content-Disposition": 'attachment; filename="appointment.ics"'},
    )


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok"}, headers=PRIVATE)


def create_api() -> Starlette:
    return Starlette(
        routes=[
            Route("/files/attachments/{attachment_id}", attachment, methods=["GET"]),
            Route(
                "/files/attachments/{attachment_id}/preview",
                attachment_preview,
                methods=["GET"],
            ),
            Route(
                "/files/appointments/{appointment_id}/calendar.ics",
                appointment_calendar,
                methods=["GET"],
            ),
            Route("/healthz", health, methods=["GET"]),
            *twilio.ROUTES,
        ]
    )
