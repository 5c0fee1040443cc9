"""HTTP routes beside the Reflex app: authorized file downloads (message attachments,
appointments' calendar files, records as PDF or FHIR and their documents, the admins'
audit-log export), setting and clearing the session cookie, Twilio's callbacks and a health
check.

They authenticate with the same session cookie as the pages and answer 404 for anything the
caller may not have, so a missing and a forbidden file look alike.
"""

from __future__ import annotations

import asyncio
import functools
import uuid
from datetime import date

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from portal.backend.api import session_cookie, twilio
from portal.backend.db import database
from portal.backend.health import check_database, check_scheduler, check_storage, run_checks
from portal.backend.security.principal import NotFound, PermissionDenied
from portal.backend.security.tokens import SESSION_COOKIE
from portal.backend.services import branding, call, record_exports, sessions
from portal.backend.services.audit_review import EXPORT_PATH, AuditCriteria, export_audit_csv
from portal.backend.services.files import FileDownload, download_attachment
from portal.backend.services.profiles import download_insurance_card
from portal.backend.services.scheduling import calendar_file
from portal.backend.storage import attachment_disposition

PRIVATE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
NOT_FOUND = PlainTextResponse("Not found.", status_code=404, headers=PRIVATE)


async def _authorized(request: Request, service, id_parameter: str | None = None):
    """Run `service(principal, id)` (or `service(principal)` for a route without an id) for
    the session's principal; None for a missing session, a malformed id, or anything the
    caller may not have."""
    arguments = []
    if id_parameter:
        try:
            arguments.append(uuid.UUID(request.path_params[id_parameter]))
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
        return await asyncio.to_thread(call, service, principal, *arguments, client_address=client)
    except (NotFound, PermissionDenied):
        return None


def _file(download: FileDownload | None) -> Response:
    """A download as a response that always saves (or a redirect to a short-lived link)."""
    if download is None:
        return NOT_FOUND
    if download.link:
        return RedirectResponse(download.link, status_code=303, headers=PRIVATE)
    return Response(
        download.data,
        media_type=download.content_type,
        headers={**PRIVATE, "Content-Disposition": attachment_disposition(download.filename)},
    )


async def attachment(request: Request) -> Response:
    return _file(await _authorized(request, download_attachment, "attachment_id"))


async def attachment_preview(request: Request) -> Response:
    preview = functools.partial(download_attachment, preview=True)
    download = await _authorized(request, preview, "attachment_id")
    if download is None:
        return NOT_FOUND
    return Response(download.data, media_type="image/png", headers=PRIVATE)


async def insurance_card(request: Request) -> Response:
    """One side of a patient's insurance card, for the patient or their practice's providers."""
    card = functools.partial(download_insurance_card, side=request.path_params["side"])
    return _file(await _authorized(request, card, "patient_id"))


async def appointment_calendar(request: Request) -> Response:
    data = await _authorized(request, calendar_file, "appointment_id")
    if data is None:
        return NOT_FOUND
    return Response(
        data,
        media_type="text/calendar",
        headers={**PRIVATE, "Content-Disposition": 'attachment; filename="appointment.ics"'},
    )


async def audit_log_export(request: Request) -> Response:
    """The admin's filtered audit log as CSV. The filters are opaque ids and words in the query
    string; anyone but an admin of the practice, and any id not of it, gets the same 404."""
    try:
        criteria = AuditCriteria.from_query(request.query_params.multi_items())
    except NotFound:
        return NOT_FOUND
    export = await _authorized(request, functools.partial(export_audit_csv, criteria=criteria))
    if export is None:
        return NOT_FOUND
    return Response(
        export.data,
        media_type="text/csv; charset=utf-8",
        headers={
            **PRIVATE,
            "Content-Disposition": f'attachment; filename="{export.filename}"',
            "X-Export-Rows": str(export.rows),
            "X-Export-Truncated": "true" if export.truncated else "false",
        },
    )


async def record_document(request: Request) -> Response:
    return _file(await _authorized(request, record_exports.record_document, "record_id"))


async def record_pdf(request: Request) -> Response:
    return _file(await _authorized(request, record_exports.record_pdf, "record_id"))


async def records_summary_pdf(request: Request) -> Response:
    try:
        since = date.fromisoformat(request.query_params.get("from", ""))
        until = date.fromisoformat(request.query_params.get("to", ""))
    except ValueError:
        return PlainTextResponse("Choose a start and an end date.", 400, headers=PRIVATE)
    if since > until:
        return PlainTextResponse("The start date is after the end date.", 400, headers=PRIVATE)
    summary = functools.partial(record_exports.summary_pdf, since=since, until=until)
    return _file(await _authorized(request, summary))


async def health_record(request: Request) -> Response:
    return _file(await _authorized(request, record_exports.health_record))


async def brand_logo(request: Request) -> Response:
    """A practice's logo, for its pages and the sign-in page: public like its name (no PHI,
    no session needed), cached for a few minutes (a new logo gets a new address)."""
    try:
        practice_id = uuid.UUID(request.path_params["practice_id"])
    except ValueError:
        return NOT_FOUND
    logo = await asyncio.to_thread(call, branding.logo_file, practice_id)
    if logo is None:
        return NOT_FOUND
    data, content_type = logo
    return Response(
        data,
        media_type=content_type,
        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
    )


async def health(request: Request) -> Response:
    """The database, the file store and the scheduler, each time-boxed: 200 when all answer,
    503 when any does not (see docs/monitoring.md). No PHI, addresses or error texts."""
    db = database()
    healthy, report = await run_checks(
        {
            "database": functools.partial(check_database, db),
            "storage": functools.partial(check_storage, db),
            "scheduler": check_scheduler,
        }
    )
    return JSONResponse(report, status_code=200 if healthy else 503, headers=PRIVATE)


def create_api() -> Starlette:
    return Starlette(
        routes=[
            Route("/files/attachments/{attachment_id}", attachment, methods=["GET"]),
            Route(
                "/files/attachments/{attachment_id}/preview",
                attachment_preview,
                methods=["GET"],
            ),
            Route("/files/insurance/{patient_id}/{side}", insurance_card, methods=["GET"]),
            Route(
                "/files/appointments/{appointment_id}/calendar.ics",
                appointment_calendar,
                methods=["GET"],
            ),
            Route(EXPORT_PATH, audit_log_export, methods=["GET"]),
            Route("/files/records/summary.pdf", records_summary_pdf, methods=["GET"]),
            Route("/files/records/health-record.json", health_record, methods=["GET"]),
            Route("/files/records/{record_id}/document", record_document, methods=["GET"]),
            Route("/files/records/{record_id}/record.pdf", record_pdf, methods=["GET"]),
            Route("/files/brand/{practice_id}/logo", brand_logo, methods=["GET"]),
            Route("/healthz", health, methods=["GET"]),
            *session_cookie.ROUTES,
            *twilio.ROUTES,
        ]
    )
