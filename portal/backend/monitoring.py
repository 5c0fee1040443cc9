"""Errors, correlation ids, structured logs and the exception tracker, without PHI.

- Every unexpected error gets a short reference (a correlation id). The person sees a sentence
  and the reference; the log line and the exception report carry the reference, the exception
  type and the code locations. Exception messages never leave: they can quote data.
- `ErrorResponses` wraps the whole HTTP side (the portal's routes and Reflex's own): an
  exception becomes a plain page with a reference instead of a traceback or a bare 500, and
  every response carries `X-Request-Id`.
- `PORTAL_LOG_FORMAT=json` writes one JSON object per log record (after the redaction filter).
- With `SENTRY_DSN` set, errors go to Sentry through `scrub_event`, which builds a new event
  from an allow-list: exception types and code locations, never messages, local variables,
  request bodies, cookies, query strings, users or breadcrumb texts.
"""

from __future__ import annotations

import contextvars
import html
import json
import logging
import re
import secrets
import sys
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.backend.config import Settings

logger = logging.getLogger("portal.errors")

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
SORRY = "Something went wrong on our side. Please try again."

_correlation: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "portal_correlation_id", default=None
)


def new_reference() -> str:
    """Twelve hex digits ending in a letter: never a run of digits the log redaction would mask
    as a record number, so the reference the person quotes is the one in the log."""
    return uuid.uuid4().hex[:11] + secrets.choice("abcdef")


def correlation_id() -> str | None:
    """The id of the request or event being handled, when there is one."""
    return _correlation.get()


@contextmanager
def correlated(value: str) -> Iterator[str]:
    token = _correlation.set(value)
    try:
        yield value
    finally:
        _correlation.reset(token)


def code_locations(exception: BaseException) -> str:
    """Where an exception passed, innermost first: file, line and function only."""
    frames = traceback.extract_tb(exception.__traceback__)
    return " <- ".join(f"{f.filename}:{f.lineno} {f.name}" for f in reversed(frames))


def report_exception(
    exception: BaseException,
    *,
    origin: str,
    reference: str | None = None,
    request: dict[str, str] | None = None,
    **tags: str,
) -> str:
    """Log an unexpected error by type and place (never its message), send it to Sentry when
    configured, and return the reference to show."""
    reference = reference or new_reference()
    logger.error(
        "error %s: %s at %s",
        reference,
        type(exception).__name__,
        code_locations(exception),
        extra={"correlation_id": reference},
    )
    if _sentry_enabled():
        import sentry_sdk

        with sentry_sdk.new_scope() as scope:
            scope.set_tag("reference", reference)
            scope.set_tag("origin", origin)
            for name, value in tags.items():
                scope.set_tag(name, value)
            if request:
                scope.add_event_processor(lambda event, _hint: {**event, "request": request})
            sentry_sdk.capture_exception(exception)
    return reference


def report_frontend_error(error_type: str, reference: str) -> None:
    """A browser-side error: only its JavaScript type and the reference are known to be safe."""
    logger.error(
        "frontend error %s: %s", reference, error_type, extra={"correlation_id": reference}
    )
    if _sentry_enabled():
        import sentry_sdk

        with sentry_sdk.new_scope() as scope:
            scope.set_tag("reference", reference)
            scope.set_tag("origin", "frontend")
            scope.set_tag("error_type", error_type)
            sentry_sdk.capture_message(FRONTEND_ERROR, level="error")


# ---------------------------------------------------------------------------------------------
# HTTP


class ErrorResponses:
    """ASGI middleware: a request id for every HTTP request, and a plain page with a reference
    for any exception (from the portal's routes, Reflex's or Starlette's own 500)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get("x-request-id", "")
        request_id = incoming if REQUEST_ID.match(incoming) else new_reference()
        held: list[Message] = []
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["X-Request-Id"] = request_id
                if message["status"] >= 500:
                    # Held until the app returns: Starlette answers an exception with its own
                    # bare 500 and then raises it, and that answer is replaced by ours.
                    held.append(message)
                    return
                started = True
            elif held:
                held.append(message)
                return
            await send(message)

        with correlated(request_id):
            try:
                await self.app(scope, receive, send_with_id)
                for message in held:
                    await send(message)
            except Exception as error:  # every failure gets the same answer
                report_exception(
                    error,
                    origin="http",
                    reference=request_id,
                    request={"method": scope.get("method", ""), "url": scope.get("path", "")},
                )
                if not started:
                    await _error_response(scope, send, request_id)


async def _error_response(scope: Scope, send: Send, reference: str) -> None:
    accept = Headers(scope=scope).get("accept", "")
    if "text/html" in accept:
        body = ERROR_PAGE.format(sorry=html.escape(SORRY), reference=reference).encode()
        content_type = "text/html; charset=utf-8"
    else:
        body = f"{SORRY} Reference: {reference}\n".encode()
        content_type = "text/plain; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [
                (b"content-type", content_type.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
                (b"x-content-type-options", b"nosniff"),
                (b"x-request-id", reference.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


ERROR_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Something went wrong · Patient portal</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 32rem; margin: 10vh auto; \
padding: 0 1rem">
<main><h1>Something went wrong</h1><p>{sorry}</p>
<p>If it keeps happening, contact the practice and quote <strong>{reference}</strong>.</p>
<p><a href="/">Go to your home page</a></p></main></body></html>
"""


# ---------------------------------------------------------------------------------------------
# Logs


class JsonLogFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, correlation id, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        reference = getattr(record, "correlation_id", None) or correlation_id()
        if reference:
            entry["correlation_id"] = reference
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(log_format: str) -> None:
    """Human-readable logs stay as they are; `json` puts the JSON formatter on the root logger
    and on every handler already installed (uvicorn's, granian's). Call after
    `redaction.install()`, and again once the server has configured its own logging."""
    if log_format != "json":
        return
    formatter = JsonLogFormatter()
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler(sys.stderr))
        if root.level == logging.WARNING:
            root.setLevel(logging.INFO)
    loggers = [root] + [
        item
        for item in logging.root.manager.loggerDict.values()
        if isinstance(item, logging.Logger)
    ]
    for each in loggers:
        for handler in each.handlers:
            handler.setFormatter(formatter)


# ---------------------------------------------------------------------------------------------
# Sentry

FRONTEND_ERROR = "Frontend error"
SAFE_MESSAGES = {FRONTEND_ERROR}
SAFE_TAGS = {"reference", "origin", "error_type", "job", "http_method"}
SAFE_TAG_VALUE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
SAFE_HEADERS = {"accept", "content-length", "content-type", "host", "user-agent", "x-request-id"}
SAFE_CONTEXTS = {"runtime": ("name", "version"), "os": ("name", "version")}
SAFE_FRAME_KEYS = ("filename", "abs_path", "module", "function", "lineno", "in_app")
SAFE_TOP_LEVEL = (
    "event_id",
    "timestamp",
    "platform",
    "level",
    "logger",
    "release",
    "environment",
    "server_name",
    "sdk",
)
SAFE_BREADCRUMB_KEYS = ("timestamp", "type", "category", "level")
# Path segments of the portal's HTTP routes and Reflex's; any other segment (an id, or whatever
# a client put in the address) is sent as "*".
SAFE_PATH_SEGMENTS = {
    "files", "attachments", "preview", "insurance", "front", "back", "appointments",
    "calendar.ics", "audit-log.csv", "records", "summary.pdf", "health-record.json",
    "document", "record.pdf", "healthz", "webhooks", "twilio", "status", "inbound",
    "_event", "_upload", "_health", "ping", "assets",
}  # fmt: skip
_sentry_on = False


def _sentry_enabled() -> bool:
    return _sentry_on


def init_sentry(config: Settings) -> bool:
    """Start the Sentry SDK when `SENTRY_DSN` is set; returns whether it was started."""
    global _sentry_on
    if not config.sentry_dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.logging import LoggingIntegration, ignore_logger

    sentry_sdk.init(
        dsn=config.sentry_dsn,
        environment=config.sentry_environment,
        release=config.sentry_release,
        send_default_pii=False,
        include_local_variables=False,
        include_source_context=False,
        max_request_body_size="never",
        attach_stacktrace=False,
        auto_enabling_integrations=False,
        auto_session_tracking=False,
        traces_sample_rate=None,
        enable_logs=False,
        integrations=[LoggingIntegration(level=logging.INFO, event_level=logging.ERROR)],
        before_send=scrub_event,
        before_send_transaction=drop_transaction,
        before_breadcrumb=scrub_breadcrumb,
    )
    # The portal's own error lines are reported with their exception by report_exception.
    ignore_logger("portal.errors")
    _sentry_on = True
    return True


def stop_sentry() -> None:
    global _sentry_on
    if _sentry_on:
        import sentry_sdk

        sentry_sdk.get_client().close(timeout=2)
        sentry_sdk.get_global_scope().set_client(None)
        _sentry_on = False


def scrub_event(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """A new event holding only what is known to carry no PHI (see docs/monitoring.md)."""
    clean: dict[str, Any] = {key: event[key] for key in SAFE_TOP_LEVEL if key in event}
    tags = _safe_tags(event.get("tags"))
    if tags:
        clean["tags"] = tags
    contexts = {
        name: {key: value for key, value in event["contexts"][name].items() if key in keys}
        for name, keys in SAFE_CONTEXTS.items()
        if isinstance(event.get("contexts", {}).get(name), dict)
    }
    if contexts:
        clean["contexts"] = contexts
    if "exception" in event:
        clean["exception"] = {
            "values": [_safe_exception(value) for value in event["exception"].get("values", [])]
        }
    if "threads" in event:
        clean["threads"] = {
            "values": [
                {
                    **{k: t[k] for k in ("id", "crashed", "current", "main") if k in t},
                    **({"stacktrace": _safe_stack(t["stacktrace"])} if "stacktrace" in t else {}),
                }
                for t in event["threads"].get("values", [])
            ]
        }
    message = _message_of(event)
    if message in SAFE_MESSAGES and tags.get("origin") == "frontend":
        clean["message"] = message
    elif message is not None:
        clean["message"] = f"An error was logged by {_safe_text(event.get('logger'))}"
    if "request" in event:
        clean["request"] = _safe_request(event["request"])
    crumbs = event.get("breadcrumbs")
    values = crumbs.get("values", []) if isinstance(crumbs, dict) else crumbs or []
    if values:
        clean["breadcrumbs"] = {"values": [scrub_breadcrumb(crumb) for crumb in values]}
    return clean


def scrub_breadcrumb(crumb: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """A breadcrumb keeps when, what kind, which logger and how severe; never its text or data."""
    return {key: crumb[key] for key in SAFE_BREADCRUMB_KEYS if key in crumb}


def drop_transaction(event: dict[str, Any], hint: dict[str, Any] | None = None) -> None:
    """Tracing is off; should a transaction be made anyway, it is not sent (its names and spans
    could quote URLs or SQL)."""
    return None


def _message_of(event: dict[str, Any]) -> str | None:
    if isinstance(event.get("logentry"), dict):
        return str(event["logentry"].get("message", ""))
    if "message" in event:
        return str(event["message"])
    return None


def _safe_tags(tags: Any) -> dict[str, str]:
    if isinstance(tags, list):
        tags = dict(item for item in tags if isinstance(item, list | tuple) and len(item) == 2)
    if not isinstance(tags, dict):
        return {}
    return {
        key: value
        for key, value in tags.items()
        if key in SAFE_TAGS and isinstance(value, str) and SAFE_TAG_VALUE.match(value)
    }


def _safe_exception(value: dict[str, Any]) -> dict[str, Any]:
    clean = {key: _safe_text(value[key]) for key in ("type", "module") if key in value}
    mechanism = value.get("mechanism")
    if isinstance(mechanism, dict):
        clean["mechanism"] = {
            key: mechanism[key]
            for key in ("type", "handled", "exception_id", "parent_id", "is_exception_group")
            if key in mechanism
        }
    if isinstance(value.get("stacktrace"), dict):
        clean["stacktrace"] = _safe_stack(value["stacktrace"])
    return clean


def _safe_stack(stacktrace: dict[str, Any]) -> dict[str, Any]:
    return {
        "frames": [
            {key: frame[key] for key in SAFE_FRAME_KEYS if key in frame}
            for frame in stacktrace.get("frames", [])
            if isinstance(frame, dict)
        ]
    }


def _safe_request(request: dict[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    if isinstance(request.get("method"), str):
        clean["method"] = request["method"][:16]
    if isinstance(request.get("url"), str):
        parts = urlsplit(request["url"])
        path = "/".join(
            segment if segment in SAFE_PATH_SEGMENTS or not segment else "*"
            for segment in parts.path.split("/")
        )
        clean["url"] = urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], path, "", ""))
    headers = request.get("headers")
    if isinstance(headers, list):
        headers = dict(
            item for item in headers if isinstance(item, list | tuple) and len(item) == 2
        )
    if isinstance(headers, dict):
        kept = {
            k: v for k, v in headers.items() if isinstance(k, str) and k.lower() in SAFE_HEADERS
        }
        if kept:
            clean["headers"] = kept
    return clean


def _safe_text(value: Any) -> str:
    text = str(value or "")
    return text if re.fullmatch(r"[A-Za-z0-9_.:<>-]{1,128}", text) else "unknown"
