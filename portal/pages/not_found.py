"""The page for any address the portal does not have."""

from __future__ import annotations

import reflex as rx

from portal import routes
from portal.layout import portal_page


@portal_page(routes.NOT_FOUND.strip("/"), title="Page not found", role=None)
def not_found() -> rx.Component:
    return rx.center(
        rx.card(
            rx.vstack(
                rx.heading("Page not found", as_="h1", size="6"),
                rx.text(
                    "There is no page at this address. It may have moved, or the link may "
                    "be mistyped."
                ),
                rx.link("Go to your home page", href=routes.PATIENT_HOME),
                spacing="3",
            ),
            size="3",
            max_width="30rem",
        ),
        padding_top="10vh",
    )
