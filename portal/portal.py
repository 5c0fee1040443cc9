"""The Reflex app: its pages and the error handler that never shows internals."""

from __future__ import annotations

import asyncio
import contextlib
import gc

import reflex as rx

from portal.backend import jobs, monitoring, redaction
from portal.backend.api import create_api
from portal.backend.api.headers import SecurityHeaders
from portal.backend.api.request_limits import RequestSizeLimit, keep_uploads_in_memory
from portal.backend.config import settings
from portal.components.feedback import connection_notice
from portal.errors import error_boundary, handle_backend_exception, handle_frontend_exception
from portal.layout import PAGES
from portal.middleware import ForgetEndedSessions, RefuseUnusedHandlers
from portal.pages import legal, not_found  # noqa: F401  (pages register themselves)
from portal.pages.account import notifications, security  # noqa: F401
from portal.pages.admin import (  # noqa: F401
    analytics,
    articles,
    audit,
    break_glass,
    care_teams,
    delivery,
    emergency_chart,
    invitations,
    mailbox,
    scheduling,
    settings_page,
    users,
)
from portal.pages.admin import home as admin_home  # noqa: F401
from portal.pages.auth import password_reset, register, sign_in, welcome  # noqa: F401
from portal.pages.patient import (  # noqa: F401
    appointments,
    booking,
    learn,
    messages,
    onboarding,
    profile,
    records,
    records_detail,
)
from portal.pages.patient import home as patient_home  # noqa: F401
from portal.pages.provider import chart as patient_chart  # noqa: F401
from portal.pages.provider import home as provider_home  # noqa: F401
from portal.pages.provider import (  # noqa: F401
    hours,
    inbox,
    profile_changes,
    results,
    schedule,
)
from portal.pages.provider import patients as patient_list  # noqa: F401
from portal.pages.provider import records as provider_records  # noqa: F401
from portal.state.redis_locks import cancel_safe

# The browser chrome of the installed app (the manifest says the same).
THEME_COLOUR = "#008573"
redaction.install()
monitoring.configure_logging(settings().log_format)
monitoring.init_sentry(settings())
# Starlette writes an uploaded file past 1 MB to an unencrypted temporary file: PHI (attachments,
# card pictures, documents) must never rest on disk unencrypted, so uploads stay in memory, up
# to the largest body RequestSizeLimit lets through.
keep_uploads_in_memory()
app = rx.App(
    stylesheets=["/portal.css"],
    # Installable: a manifest and icons (no service worker; nothing is cached offline).
    head_components=[
        rx.el.link(rel="manifest", href="/manifest.webmanifest"),
        rx.el.link(rel="apple-touch-icon", href="/icons/apple-touch-icon.png"),
        rx.el.meta(name="theme-color", content=THEME_COLOUR),
    ],
    html_lang="en",
    backend_exception_handler=handle_backend_exception,
    frontend_exception_handler=handle_frontend_exception,
    api_transformer=[
        create_api(),
        # Innermost of the wrappers: its 413 still gets a request id and the security headers.
        RequestSizeLimit,
        monitoring.ErrorResponses,
        lambda asgi: SecurityHeaders(asgi, https=settings().secure_cookies),
    ],
)
# Reflex's Redis lock, given back when an event is cancelled (portal/state/redis_locks.py).
app._state_manager = cancel_safe(app.state_manager)
app.add_middleware(RefuseUnusedHandlers())
app.add_middleware(ForgetEndedSessions())
# Reflex's own boundary prints the JavaScript error and its stack; the portal's shows a reference.
app.app_wraps[(55, "ErrorBoundary")] = lambda stateful: error_boundary(stateful=stateful)
# Reflex's connection toast names the backend's address and the socket's error; the portal says
# in plain words that it is connecting.
app.app_wraps[(5, "Overlay")] = lambda stateful: connection_notice() if stateful else None
for page in PAGES:
    app.add_page(**page)


@contextlib.asynccontextmanager
async def scheduled_jobs():
    """Notification dispatch and the session sweep run in every worker."""
    scheduler = await asyncio.to_thread(jobs.start)
    # The server configures its own logging after importing the app: JSON applies again.
    monitoring.configure_logging(settings().log_format)
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
