"""The Reflex app: its pages and the error handler that never shows internals."""

from __future__ import annotations

import asyncio
import contextlib
import gc

import reflex as rx

from portal.backend import jobs, redaction
from portal.backend.api import create_api
from portal.backend.api.headers import SecurityHeaders
from portal.backend.config import settings
from portal.errors import handle_backend_exception
from portal.layout import PAGES
from portal.middleware import RefuseUnusedHandlers
from portal.pages import not_found  # noqa: F401  (pages register themselves)
from portal.pages.account import notifications, security  # noqa: F401
from portal.pages.admin import delivery, invitations, mailbox, scheduling, users  # noqa: F401
from portal.pages.admin import home as admin_home  # noqa: F401
from portal.pages.auth import password_reset, register, sign_in, welcome  # noqa: F401
from portal.pages.patient import appointments, booking, messages  # noqa: F401
from portal.pages.patient import home as patient_home  # noqa: F401
from portal.pages.provider import home as provider_home  # noqa: F401
from portal.pages.provider import hours, inbox, schedule  # noqa: F401

redaction.install()
app = rx.App(
    stylesheets=["/portal.css"],
    html_lang="en",
    backend_exception_handler=handle_backend_exception,
    api_transformer=[
        create_api(),
        lambda asgi: SecurityHeaders(asgi, https=settings().secure_cookies),
    ],
)
app.add_middleware(RefuseUnusedHandlers())
for page in PAGES:
    app.add_page(**page)


@contextlib.asynccontextmanager
async def scheduled_jobs():
    """Notification dispatch and the session sweep run in every worker."""
    scheduler = await asyncio.to_thread(jobs.start)
    try:
        yield
    finally:
        scheduler.shutdown(wait=False)


@contextlib.asynccontextmanager
async def startup_heap_frozen():
    """What start-up loaded (Reflex, the app, its pages) lives as long as the process: moving it
    out of the cyclic collector's view makes every full collection cheaper (collections were
    about a quarter of a slot search's time; see docs/performance.md)."""
    gc.freeze()
    yield


app.register_lifespan_task(scheduled_jobs)
app.register_lifespan_task(startup_heap_frozen)
