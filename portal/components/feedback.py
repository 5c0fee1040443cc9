"""Messages to the user: errors tied to forms, notices, empty states."""

from __future__ import annotations

import reflex as rx
from reflex_components_core.core.banner import has_too_many_connection_errors

CONNECTING = "Connecting to the portal… If this lasts, check your internet connection."


def error_alert(message: rx.Var[str], *, element_id: str) -> rx.Component:
    """An error announced to screen readers the moment it appears (role=alert)."""
    return rx.cond(
        message != "",
        rx.callout(
            message,
            icon="triangle_alert",
            color_scheme="red",
            # Red 11 on the callout's tint over the shells' grey is 4.4:1; AA needs 4.5:1.
            high_contrast=True,
            role="alert",
            id=element_id,
            width="100%",
        ),
    )


def notice(message: rx.Var[str] | str) -> rx.Component:
    return rx.callout(message, icon="info", role="status", high_contrast=True, width="100%")


def empty_state(title: str, detail: str) -> rx.Component:
    return rx.box(
        rx.text(title, weight="medium"),
        rx.text(detail, size="2", color_scheme="gray"),
        padding="1rem",
        border="1px dashed var(--gray-a7)",
        border_radius="var(--radius-3)",
        width="100%",
    )


def connection_notice() -> rx.Component:
    """Shown while the tab cannot reach the server (a restart, a dropped network), in place of
    Reflex's toast, which names the backend's address and the socket's error. The browser
    retries by itself, 0.2 s later per failed attempt and at most 2 s apart; the notice goes
    once the tab is connected."""
    return rx.cond(
        has_too_many_connection_errors,
        rx.el.div(CONNECTING, role="status", class_name="connection-notice"),
    )
