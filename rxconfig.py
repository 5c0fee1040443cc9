"""Reflex configuration, derived from the portal's own settings (portal/backend/config.py)."""

import os
import sys

import reflex as rx

from portal import production
from portal.backend.config import ConfigError, settings
from portal.frontend_build import FewerScripts, PortalTheme

try:
    portal_settings = settings()
except ConfigError as error:
    print(f"portal: {error}", file=sys.stderr)
    sys.exit(2)

# With several workers (state in Redis), a worker keeps the tabs it serves in memory between
# their events, holding each tab's Redis lock for half the lock's expiry, 15 s (Reflex's
# opportunistic locks): an event then neither fetches nor stores its states in Redis, and
# another worker's claim on the tab ends the lease at once. It more than halved the load
# harness's median (docs/performance.md).
os.environ.setdefault("REFLEX_OPLOCK_ENABLED", "true")

config = rx.Config(
    app_name="portal",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    cors_allowed_origins=list(portal_settings.allowed_origins),
    deploy_url=portal_settings.public_url,
    api_url=portal_settings.public_url,
    # One worker keeps state in memory (never pickled to .states/ on disk); several use Redis.
    state_manager_mode="redis" if portal_settings.redis_url else "memory",
    redis_url=portal_settings.redis_url,
    # A tab's state lives no longer than a signed-in session may sit idle.
    redis_token_expiration=portal_settings.idle_timeout_minutes * 60,
    redis_lock_expiration=30_000,
    disable_plugins=[rx.plugins.SitemapPlugin],
    plugins=[
        FewerScripts(),
        PortalTheme(theme=rx.theme(appearance="light", accent_color="teal", gray_color="slate")),
    ],
)
# Loaded by the server's supervisor before it starts its workers.
production.respawn_failed_workers()
