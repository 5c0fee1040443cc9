"""Cards and figures used on the home pages."""

from __future__ import annotations

import reflex as rx


def section(title: str, *children: rx.Component, heading_id: str) -> rx.Component:
    """A titled card; the heading labels the region for screen readers."""
    return rx.card(
        rx.vstack(
            rx.heading(title, as_="h2", size="4", id=heading_id),
            *children,
            spacing="3",
            width="100%",
        ),
        role="region",
        aria_labelledby=heading_id,
        width="100%",
    )


def figure(label: str, value: rx.Var | int | str) -> rx.Component:
    """A labelled number, e.g. 'Unread messages 2'."""
    return rx.vstack(
        rx.text(value, size="7", weight="bold"),
        rx.text(label, size="2", color_scheme="gray"),
        spacing="0",
        min_width="8rem",
    )


def detail_row(label: str, value: rx.Var | str) -> rx.Component:
    return rx.hstack(
        rx.text(label, size="2", color_scheme="gray", min_width="7rem"),
        rx.text(value, size="2"),
        spacing="3",
        wrap="wrap",
    )


def calendar_link(appointment_id: rx.Var[str]) -> rx.Component:
    """A download link to an appointment's calendar file. Reflex renders links as client-side
    routes; a `target` makes the router leave the click to the browser, which downloads."""
    return rx.el.a(
        "Add to my calendar (.ics file)",
        href=f"/files/appointments/{appointment_id}/calendar.ics",
        download="appointment.ics",
        target="_blank",
        rel="noopener",
        style={"color": "var(--accent-11)", "text_decoration": "underline"},
    )
