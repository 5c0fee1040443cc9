"""Delivery of notifications, for admins: counts by channel and status, and what failed for good
(without recipients or contents)."""

from __future__ import annotations

import reflex as rx

from portal import routes
from portal.backend.security.principal import Role
from portal.backend.services import notifications
from portal.backend.services.notifications import DeliveryCount, DeliveryFailure
from portal.components.cards import section
from portal.components.feedback import empty_state
from portal.layout import loading, portal_page
from portal.state.base import Screen, run_service, screen_state
from portal.state.session import signed_in

CHANNELS = {"in_app": "In the portal", "email": "Email", "sms": "Text message"}


@screen_state
class DeliveryState(Screen):
    counts: list[DeliveryCount] = []
    failures: list[DeliveryFailure] = []
    loaded: bool = False

    @rx.event
    async def load(self):
        self.reset()
        principal = await signed_in(self, Role.ADMIN)
        if principal is None:
            return
        status = await run_service(self, notifications.delivery_status, principal)
        self.counts, self.failures, self.loaded = status.counts, status.failures, True


@portal_page(routes.ADMIN_DELIVERY, title="Delivery", role=Role.ADMIN, on_load=DeliveryState.load)
def delivery() -> rx.Component:
    return rx.cond(
        DeliveryState.loaded,
        rx.vstack(
            rx.heading("Notification delivery", as_="h1", size="7"),
            section(
                "By channel",
                table(
                    ("Channel", "Waiting", "Sent", "Failed", "Not sent (no address or opted out)"),
                    rx.foreach(DeliveryState.counts, count_row),
                ),
                heading_id="by-channel",
            ),
            section(
                "Failed for good",
                rx.cond(
                    DeliveryState.failures.length() > 0,
                    table(
                        ("Queued", "Channel", "Message", "Attempts", "Last error"),
                        rx.foreach(DeliveryState.failures, failure_row),
                    ),
                    empty_state(
                        "Nothing has failed",
                        "Messages that still fail after five attempts are listed here.",
                    ),
                ),
                heading_id="failures",
            ),
            spacing="4",
            width="100%",
        ),
        loading(),
    )


def table(headers: tuple[str, ...], rows: rx.Component) -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *[rx.table.column_header_cell(label, scope="col") for label in headers]
                )
            ),
            rx.table.body(rows),
            variant="surface",
            width="100%",
        ),
        overflow_x="auto",
        width="100%",
    )


def count_row(count: DeliveryCount) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.match(count.channel, *CHANNELS.items(), count.channel)),
        rx.table.cell(count.pending),
        rx.table.cell(count.sent),
        rx.table.cell(count.failed),
        rx.table.cell(count.suppressed),
    )


def failure_row(failure: DeliveryFailure) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(failure.when),
        rx.table.cell(rx.match(failure.channel, *CHANNELS.items(), failure.channel)),
        rx.table.cell(failure.template),
        rx.table.cell(failure.attempts),
        rx.table.cell(failure.error),
    )
