"""What a user sees when something breaks: a plain sentence and a reference, never internals.

- An event handler that raises: a toast with a reference (`handle_backend_exception`).
- A page that fails to render in the browser: the error boundary shows a sentence and a
  reference instead of Reflex's default (which prints the JavaScript error and its stack).
  The browser sends the backend only the error's type and that reference.
- Errors the browser reports otherwise (`handle_frontend_exception`): logged by type only.

The log line carries the reference, the exception type and the code locations only; exception
messages can quote data (SQL parameters, values) and are left out so no PHI reaches the log or
the exception tracker (portal/backend/monitoring.py).
"""

# No `from __future__ import annotations`: Reflex evaluates the handlers' annotations.
import re

import reflex as rx
from reflex.state import FrontendEventExceptionState
from reflex.vars.base import Var
from reflex_components_core.base.error_boundary import ErrorBoundary

from portal.backend import monitoring

# A class, not an id: an id would make Reflex reference a React ref the fallback does not have.
ERROR_PAGE_CLASS = "portal-error-page"
_REFERENCE = re.compile(r"\breference=([0-9a-f]{12})\b")
_ERROR_TYPE = re.compile(r"\btype=([A-Za-z_$][\w$.]{0,63})")
_LEADING_TYPE = re.compile(r"^\s*(?:\[SID: [^\]]*\]\s*)?([A-Za-z_$][\w$.]{0,63})(?::|$)")


def handle_backend_exception(exception: Exception) -> rx.event.EventSpec:
    reference = monitoring.report_exception(exception, origin="event")
    return rx.toast.error(
        monitoring.SORRY,
        description=f"If it keeps happening, contact the practice and quote {reference}.",
        id="backend-error",
        position="top-center",
    )


def handle_frontend_exception(exception: Exception) -> None:
    """Reports from the browser: the error boundary's `reference=… type=…`, or Reflex's own
    reports (`TypeError: message…`). Only the reference and the type are kept."""
    text = str(exception)
    reference = _REFERENCE.search(text)
    error_type = _ERROR_TYPE.search(text) or _LEADING_TYPE.search(text)
    monitoring.report_frontend_error(
        error_type.group(1) if error_type else "unknown",
        reference.group(1) if reference else monitoring.new_reference(),
    )


# The reference of a caught error, made as `monitoring.new_reference` makes them, once, and kept
# on the error object, so the page shown and the report sent name the same one (React renders
# the fallback, then calls onError).
_REFERENCE_OF = (
    "((e) => { const fresh = () => Array.from(crypto.getRandomValues(new Uint8Array(6)), "
    "(b) => b.toString(16).padStart(2, '0')).join('').slice(0, 11) + "
    "'abcdef'[crypto.getRandomValues(new Uint8Array(1))[0] % 6]; "
    "try { if (e !== null && typeof e === 'object') { return e.portalReference ??= fresh(); } }"
    " catch (_) {} return fresh(); })"
)
# Reflex reloads the page for some errors (a state update racing a reconnect), matching on
# "TypeError: Cannot read properties of null"; the handler keeps only the reference and type.
_RELOAD_HINT = "((e) => String(e && e.name) + ': ' + String(e && e.message).slice(0, 200))"
_TYPE_OF = "((e) => String((e && e.name) || typeof e).replace(/[^A-Za-z0-9_$.]/g, '').slice(0, 64))"


def error_boundary(*children: rx.Component, stateful: bool = True) -> rx.Component:
    """Reflex's error boundary with the portal's page and report: the message and stack of
    the JavaScript error are never shown; the report carries the reference and the type (and
    the message's start for Reflex's reload check, dropped by `handle_frontend_exception`)."""
    props = {}
    if stateful:
        props["on_error"] = lambda _error, info: (
            FrontendEventExceptionState.handle_frontend_exception(
                Var(
                    _js_expr=f"('reference=' + {_REFERENCE_OF}(_error)"
                    f" + ' type=' + {_TYPE_OF}(_error) + ' | ' + {_RELOAD_HINT}(_error))",
                    _var_type=str,
                ),
                "",
            )
        )
    else:
        props["on_error"] = rx.event.noop()
    return ErrorBoundary.create(*children, fallback_render=_error_page(), **props)


def _error_page() -> rx.Component:
    reference = Var(_js_expr=f"{_REFERENCE_OF}(event_args.error)", _var_type=str)
    return rx.el.main(
        rx.el.h1("Something went wrong", style={"font_size": "1.5rem", "margin": "0 0 1rem"}),
        rx.el.p(monitoring.SORRY),
        rx.el.p(
            "If it keeps happening, contact the practice and quote ",
            rx.el.strong(reference),
            ".",
        ),
        rx.el.p(rx.el.a("Go to your home page", href="/")),
        class_name=ERROR_PAGE_CLASS,
        role="alert",
        style={
            "font_family": "system-ui, sans-serif",
            "max_width": "32rem",
            "margin": "10vh auto",
            "padding": "0 1rem",
            "background": "#fff",
            "color": "#111",
        },
    )
