"""Service functions: a principal and primitives in, frozen views out; one module per domain."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from portal.backend.audit import request_context
from portal.backend.db import database

View = TypeVar("View")


def call(
    service: Callable[..., View],
    *args: Any,
    client_address: str | None = None,
    request_id: str | None = None,
    **kwargs: Any,
) -> View:
    """Run a service in a fresh unit of work, with the request's origin for the audit log."""
    with request_context(client_address, request_id):
        return service(*args, uow=database().unit_of_work(), **kwargs)
