"""The portal's HTTP routes in process, on a test's database, called as a browser or Twilio
calls them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from portal.backend import db, monitoring
from portal.backend.config import settings
from portal.backend.db import Database
from portal.backend.security.tokens import SESSION_COOKIE
from tests.loop import run

BASE_URL = "http://portal.test"


@contextmanager
def portal_api(database: Database, monkeypatch, **environment: str) -> Iterator:
    """The routes wrapped as in the app, configured for `database` (and `environment`)."""
    from portal.backend.api import create_api

    config = database.settings
    for name, value in {
        "PORTAL_DATA_DIR": str(config.data_dir),
        "DATABASE_URL": config.database_url,
        **environment,
    }.items():
        monkeypatch.setenv(name, value)
    settings.cache_clear()
    db.database.cache_clear()
    try:
        yield monitoring.ErrorResponses(create_api())
    finally:
        db.database().engine.dispose()
        db.database.cache_clear()
        settings.cache_clear()


def http(
    app, method: str, path: str, *, token: str | None = None, base_url: str = BASE_URL, **options
) -> httpx.Response:
    """One request, with the session cookie `token` when given."""

    async def send() -> httpx.Response:
        cookies = {SESSION_COOKIE: token} if token is not None else None
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url=base_url, cookies=cookies
        ) as client:
            return await client.request(method, path, **options)

    return run(send())
