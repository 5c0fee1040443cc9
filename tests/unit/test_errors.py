"""An unexpected error shows a plain sentence with a reference; the log has no data from it,
and no HTTP answer, toast or error page carries a stack trace, an exception text or SQL."""

from __future__ import annotations

import asyncio
import logging
import re

import httpx
import reflex as rx
from sqlalchemy.exc import OperationalError
from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse, StreamingResponse
from starlette.routing import Mount, Route

from portal.backend.monitoring import ErrorResponses, new_reference
from portal.backend.redaction import redact
from portal.errors import error_boundary, handle_backend_exception, handle_frontend_exception
from tests.loop import run

CANARY = "ZZCANARY"
SQL_ERROR = OperationalError(
    "SELECT * FROM patients WHERE last_name = 'ZZCANARY'", {"p": CANARY}, Exception(CANARY)
)


def test_errors_are_logged_by_type_and_place_without_their_message(caplog):
    try:
        raise ValueError("patient ZZCANARY born 1970-01-02")
    except ValueError as error:
        with caplog.at_level(logging.ERROR, logger="portal.errors"):
            toast = handle_backend_exception(error)
    logged = caplog.text
    assert "ValueError" in logged and "test_errors.py" in logged
    assert "ZZCANARY" not in logged and "1970" not in logged
    shown = str(toast)
    assert "Something went wrong" in shown
    assert "ZZCANARY" not in shown and "ValueError" not in shown and "Traceback" not in shown
    reference = logged.split("error ", 1)[1][:12]
    assert reference in shown


def test_frontend_reports_keep_only_the_error_type_and_the_reference(caplog):
    with caplog.at_level(logging.ERROR, logger="portal.errors"):
        handle_frontend_exception(
            Exception("reference=0123456789ab type=TypeError | TypeError: ZZCANARY type=x")
        )
        handle_frontend_exception(
            Exception("[SID: abc] TypeError: cannot read ZZCANARY of undefined\n at x (y.js:1)")
        )
        handle_frontend_exception(Exception("ZZCANARY maria.garcia@example.com"))
    lines = [record.getMessage() for record in caplog.records]
    assert lines[0] == "frontend error 0123456789ab: TypeError"
    assert re.fullmatch(r"frontend error [0-9a-f]{12}: TypeError", lines[1])
    assert re.fullmatch(r"frontend error [0-9a-f]{12}: unknown", lines[2])
    assert CANARY not in caplog.text and "maria" not in caplog.text


def test_no_reference_looks_like_phi_to_the_log_redaction():
    # A reference of digits alone (or up to three letters and digits) was masked as a record
    # number in the log line naming it, about 1 in 130.
    for _ in range(20_000):
        reference = new_reference()
        assert re.fullmatch(r"[0-9a-f]{11}[a-f]", reference)
        assert (
            redact(f"frontend error {reference}: TypeError")
            == f"frontend error {reference}: TypeError"
        )


def test_the_error_boundary_neither_shows_nor_sends_the_javascript_error():
    fallback, report = error_boundary(rx.text("page")).render()["props"]
    rendered = fallback + report
    assert fallback.startswith("fallbackRender:") and report.startswith("onError:")
    assert "Something went wrong" in fallback and "quote" in fallback
    for internal in (".message", ".stack", "componentStack", "Copy", "reflex.dev"):
        assert internal not in fallback
    for internal in (".stack", "componentStack"):
        assert internal not in report
    # The page and the report name the same reference, kept on the error object.
    assert rendered.count("portalReference ??=") == 2
    assert "reference=" in rendered and " type=" in rendered


def test_a_stateless_page_gets_the_same_page_without_reporting():
    rendered = str(error_boundary(rx.text("page"), stateful=False).render())
    assert "Something went wrong" in rendered
    assert "handle_frontend_exception" not in rendered


# --- HTTP ----------------------------------------------------------------------------------


async def _raises(request):
    secret = CANARY  # noqa: F841  (a local that must not be shown)
    raise SQL_ERROR


async def _service_unavailable(request):
    return JSONResponse({"status": "failing"}, status_code=503)


async def _fine(request):
    return PlainTextResponse("fine")


async def _fails_while_streaming(request):
    async def body():
        yield b"first part "
        raise RuntimeError(CANARY)

    return StreamingResponse(body(), media_type="text/plain")


def reflex_like_backend(scope, receive, send):
    """Stands in for the Reflex app mounted under the portal's routes."""

    async def app(scope, receive, send):
        raise KeyError(CANARY)

    return app(scope, receive, send)


def portal_http():
    inner = Starlette(
        routes=[
            Route("/boom", _raises),
            Route("/healthz", _service_unavailable),
            Route("/fine", _fine),
            Route("/stream", _fails_while_streaming),
            Mount("/reflex", reflex_like_backend),
        ]
    )
    return ErrorResponses(inner)


def get(path: str, **headers: str) -> httpx.Response:
    async def send_request() -> httpx.Response:
        transport = httpx.ASGITransport(app=portal_http(), raise_app_exceptions=True)
        async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as c:
            return await c.get(path, headers=headers)

    return run(send_request())


def assert_no_internals(text: str) -> None:
    for internal in (CANARY, "Traceback", "SELECT", "OperationalError", "KeyError", "File "):
        assert internal not in text


def test_an_exception_in_a_route_answers_a_sentence_and_a_reference(caplog):
    with caplog.at_level(logging.ERROR):
        response = get("/boom")
    assert response.status_code == 500
    assert response.headers["cache-control"] == "no-store"
    reference = response.headers["x-request-id"]
    assert (
        response.text
        == f"Something went wrong on our side. Please try again. Reference: {reference}\n"
    )
    assert_no_internals(response.text)
    assert f"error {reference}: OperationalError at" in caplog.text
    assert CANARY not in caplog.text and "SELECT" not in caplog.text


def test_a_browser_gets_an_html_page_with_the_reference():
    response = get("/reflex/anything", accept="text/html,application/xhtml+xml")
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["x-request-id"] in response.text
    assert "<h1>Something went wrong</h1>" in response.text
    assert_no_internals(response.text)


def test_every_response_carries_a_request_id_and_a_sane_one_is_kept():
    fine = get("/fine")
    assert fine.status_code == 200 and fine.text == "fine"
    assert re.fullmatch(r"[0-9a-f]{12}", fine.headers["x-request-id"])
    kept = get("/fine", **{"x-request-id": "lb-1234567890abcdef"})
    assert kept.headers["x-request-id"] == "lb-1234567890abcdef"
    replaced = get("/fine", **{"x-request-id": "<script>"})
    assert replaced.headers["x-request-id"] != "<script>"


def test_a_deliberate_server_error_answer_passes_unchanged():
    response = get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "failing"}


def test_a_failure_after_the_answer_started_is_logged_not_raised(caplog):
    """The server then ends the connection, so the download fails visibly; nothing is shown."""
    sent = []
    requested = []

    async def receive():
        if requested:  # the client stays connected
            await asyncio.sleep(3600)
        requested.append(True)
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/stream",
        "raw_path": b"/stream",
        "root_path": "",
        "scheme": "http",
        "query_string": b"",
        "headers": [],
        "server": ("portal.test", 80),
        "client": ("127.0.0.1", 1),
        "http_version": "1.1",
    }
    with caplog.at_level(logging.ERROR):
        run(portal_http()(scope, receive, send))
    assert sent[0]["status"] == 200
    assert all(CANARY.encode() not in m.get("body", b"") for m in sent)
    assert "RuntimeError" in caplog.text and CANARY not in caplog.text
