"""The provider's day: today's appointments, and what waits for them: unread patient messages,
results to review, profile changes to approve."""

from __future__ import annotations

import reflex as rx

from portal import routes
from portal.backend.security.principal import Role
from portal.backend.services import home
from portal.backend.views import ProviderToday, ScheduleLine
from portal.components.cards import figure, section
from portal.components.feedback import empty_state
from portal.layout import loading, portal_page
from portal.state.base import Screen, run_service, screen_state
from portal.state.session import signed_in


@screen_state
class ProviderHomeState(Screen):
    today: ProviderToday | None = None

    @rx.event
    async def load(self):
        principal = await signed_in(self, Role.PROVIDER)
        if principal is None:
            self.today = None
            return
        self.today = await run_service(self, home.provider_today, principal)


@portal_page(
    routes.PROVIDER_HOME, title="Today", role=Role.PROVIDER, on_load=ProviderHomeState.load
)
def provider_home() -> rx.Component:
    data = ProviderHomeState.today
    return rx.cond(
        data,
        rx.vstack(
            rx.heading(f"Today, {data.date}", as_="h1", size="7"),
            rx.text(data.provider_name, color_scheme="gray"),
            rx.hstack(
                figure("appointments today", data.appointments.length()),
                rx.link(
                    figure("unread patient messages", data.unread_messages),
                    href=routes.PROVIDER_INBOX,
                ),
                rx.link(
                    figure("results to review", data.results_to_review),
                    href=routes.PROVIDER_RESULTS,
                ),
                rx.link(
                    figure("profile changes to approve", data.profile_changes),
                    href=routes.PROVIDER_PROFILE_CHANGES,
                ),
                spacing="6",
                wrap="wrap",
            ),
            section("Schedule", schedule(data), heading_id="schedule"),
            spacing="4",
            width="100%",
        ),
        loading(),
    )


def schedule(data) -> rx.Component:
    return rx.cond(
        data.appointments.length() > 0,
        rx.box(
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[
                            rx.table.column_header_cell(label, scope="col")
                            for label in ("Time", "Patient", "Visit", "How", "Where", "Status")
                        ]
                    )
                ),
                rx.table.body(rx.foreach(data.appointments, schedule_row)),
                variant="surface",
                width="100%",
            ),
            overflow_x="auto",
            width="100%",
        ),
        empty_state("No appointments today", "Appointments booked for today will appear here."),
    )


def schedule_row(line: ScheduleLine) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(line.time),
        rx.table.cell(line.patient),
        rx.table.cell(line.appointment_type),
        rx.table.cell(line.modality),
        rx.table.cell(line.location),
        rx.table.cell(rx.badge(line.status, variant="soft", high_contrast=True)),
    )
