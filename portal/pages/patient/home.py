"""The patient's home: next appointment and messages."""

from __future__ import annotations

import reflex as rx

from portal import routes
from portal.backend.security.principal import Role
from portal.backend.services import home
from portal.backend.views import ConversationLine, PatientHome
from portal.components.cards import detail_row, figure, section
from portal.components.feedback import empty_state
from portal.layout import loading, portal_page
from portal.state.base import Screen, run_service, screen_state
from portal.state.session import signed_in


@screen_state
class PatientHomeState(Screen):
    home: PatientHome | None = None

    @rx.event
    async def load(self):
        principal = await signed_in(self, Role.PATIENT)
        if principal is None:
            self.home = None
            return None
        self.home = await run_service(self, home.patient_home, principal)
        if self.home.setup_unseen:  # sent to the account setup once, after the first sign-in
            return rx.redirect(routes.ONBOARDING, replace=True)
        return None


@portal_page(routes.PATIENT_HOME, title="Home", role=Role.PATIENT, on_load=PatientHomeState.load)
def patient_home() -> rx.Component:
    data = PatientHomeState.home
    return rx.cond(
        data,
        rx.vstack(
            rx.heading(f"Hello, {data.first_name}", as_="h1", size="7"),
            rx.text(data.practice_name, color_scheme="gray"),
            rx.cond(data.setup_unfinished, finish_setup()),
            rx.grid(
                section("Your next appointment", next_appointment(data), heading_id="next-visit"),
                section("Messages from your care team", messages(data), heading_id="messages"),
                columns=rx.breakpoints(initial="1", md="2"),
                spacing="4",
                width="100%",
            ),
            rx.link(
                rx.icon("file-heart", size=16, aria_hidden="true"),
                "Records: test results, medicines, visit summaries",
                href=routes.RECORDS,
                display="inline-flex",
                align_items="center",
                gap="0.4rem",
                high_contrast=True,
            ),
            spacing="4",
            width="100%",
        ),
        loading(),
    )


def finish_setup() -> rx.Component:
    return section(
        "Finish setting up your account",
        rx.text(
            "Confirm your details and add your insurance, an emergency contact and how you "
            "want to hear from us. It takes a few minutes; you can skip any step."
        ),
        rx.link(rx.button("Continue setting up", high_contrast=True), href=routes.ONBOARDING),
        heading_id="finish-setup",
    )


def next_appointment(data) -> rx.Component:
    visit = data.next_appointment
    return rx.cond(
        visit,
        rx.vstack(
            rx.text(visit.day, size="5", weight="bold"),
            rx.text(visit.time, size="4"),
            detail_row("With", visit.provider),
            detail_row("Visit", visit.appointment_type),
            detail_row("How", visit.modality),
            rx.cond(visit.location != "", detail_row("Where", visit.location)),
            detail_row("Status", visit.status),
            rx.text(
                rx.cond(
                    data.upcoming_count > 1,
                    f"You have {data.upcoming_count} upcoming appointments.",
                    "This is your only upcoming appointment.",
                ),
                size="2",
                color_scheme="gray",
            ),
            rx.link("See, change or cancel your appointments", href=routes.APPOINTMENTS),
            spacing="2",
        ),
        rx.vstack(
            empty_state(
                "No upcoming appointments",
                "When you or your care team book a visit, it will appear here.",
            ),
            rx.link(
                rx.button("Book an appointment", high_contrast=True), href=routes.BOOK_APPOINTMENT
            ),
            width="100%",
        ),
    )


def messages(data) -> rx.Component:
    return rx.vstack(
        figure("unread messages", data.unread_messages),
        rx.cond(
            data.conversations.length() > 0,
            rx.el.ul(
                rx.foreach(data.conversations, conversation_line),
                style={"list_style": "none", "padding": 0, "margin": 0, "width": "100%"},
            ),
            empty_state(
                "No messages yet",
                "Messages between you and your care team will appear here.",
            ),
        ),
        spacing="3",
        width="100%",
    )


def conversation_line(line: ConversationLine) -> rx.Component:
    return rx.el.li(
        rx.hstack(
            rx.text(line.subject, weight=rx.cond(line.unread > 0, "bold", "regular")),
            rx.spacer(),
            rx.cond(
                line.unread > 0,
                rx.badge(f"{line.unread} unread", color_scheme="red", high_contrast=True),
            ),
            rx.text(line.last_activity, size="2", color_scheme="gray"),
            spacing="2",
            align="center",
            wrap="wrap",
        ),
        padding_y="0.5rem",
        border_bottom="1px solid var(--gray-a4)",
    )
