"""The patient's appointments: earlier times on offer, upcoming and past visits, and for each
visit its details, a calendar file, cancelling (outside the cutoff) and the waitlist."""

from __future__ import annotations

import uuid

import reflex as rx

from portal import routes
from portal.backend.security.principal import NotFound, Role
from portal.backend.services import scheduling
from portal.backend.services.scheduling import BookingRefused
from portal.backend.views import AppointmentCard, AppointmentDetail, HeldTime
from portal.components.cards import calendar_link, detail_row, section
from portal.components.feedback import empty_state, error_alert, notice
from portal.components.forms import text_of
from portal.layout import loading, portal_page
from portal.state.base import Screen, run_service, screen_state
from portal.state.session import signed_in

NOT_FOUND = "That appointment was not found. It may have been changed; here is your list."


@screen_state
class AppointmentsState(Screen):
    upcoming: list[AppointmentCard] = []
    past: list[AppointmentCard] = []
    offers: list[HeldTime] = []
    loaded: bool = False
    detail: AppointmentDetail | None = None
    detail_open: bool = False
    detail_error: str = ""
    detail_message: str = ""
    message: str = ""
    error: str = ""
    pending: bool = False

    @rx.event
    async def load(self):
        self.reset()
        await self._refresh()

    async def _refresh(self) -> None:
        principal = await signed_in(self, Role.PATIENT)
        if principal is None:
            return
        mine = await run_service(self, scheduling.my_appointments, principal)
        self.upcoming, self.past, self.offers = mine.upcoming, mine.past, mine.offers
        self.loaded = True

    @rx.event
    async def open_details(self, appointment_id: str):
        principal = await signed_in(self, Role.PATIENT)
        if principal is None:
            return
        self.detail_error = self.detail_message = ""
        try:
            self.detail = await run_service(
                self, scheduling.appointment_detail, principal, uuid.UUID(appointment_id)
            )
        except (ValueError, NotFound):
            self.error = NOT_FOUND
            return
        self.detail_open = True

    @rx.event
    def close_details(self, open_: bool = False):
        self.detail_open = open_
        if not open_:
            self.detail, self.detail_error, self.detail_message = None, "", ""

    @rx.event
    async def cancel(self, form_data: dict):
        principal = await signed_in(self, Role.PATIENT)
        if principal is None or self.detail is None:
            return
        card = self.detail.card
        self.pending = True
        yield
        try:
            await run_service(
                self,
                scheduling.cancel_appointment,
                principal,
                uuid.UUID(card.id),
                text_of(form_data, "reason", 600),
            )
        except BookingRefused as refused:
            self.detail_error, self.pending = str(refused), False
            return
        except NotFound:
            self.detail_error, self.pending = NOT_FOUND, False
            return
        self.detail_open, self.detail, self.pending = False, None, False
        self.message = f"Your appointment on {card.day} at {card.time} is cancelled."
        await self._refresh()

    @rx.event
    async def waitlist(self, join: bool):
        principal = await signed_in(self, Role.PATIENT)
        if principal is None or self.detail is None:
            return
        appointment_id = uuid.UUID(self.detail.card.id)
        service = scheduling.join_waitlist if join else scheduling.leave_waitlist
        try:
            await run_service(self, service, principal, appointment_id)
        except BookingRefused as refused:
            self.detail_error = str(refused)
            return
        except NotFound:
            self.detail_error = NOT_FOUND
            return
        self.detail = await run_service(
            self, scheduling.appointment_detail, principal, appointment_id
        )
        self.detail_message = (
            "You are on the waitlist: if an earlier time opens, we will offer it to you."
            if join
            else "You left the waitlist for this appointment."
        )
        await self._refresh()

    @rx.event
    async def accept_offer(self, hold_id: str):
        principal = await signed_in(self, Role.PATIENT)
        if principal is None:
            return
        self.error = self.message = ""
        try:
            card = await run_service(self, scheduling.confirm_hold, principal, uuid.UUID(hold_id))
        except BookingRefused as refused:
            self.error = str(refused)
        except (ValueError, NotFound):
            self.error = "That offer has ended. Here is your list as it is now."
        else:
            self.message = f"Done: your appointment is now on {card.day} at {card.time}."
        await self._refresh()

    @rx.event
    async def decline_offer(self, hold_id: str):
        principal = await signed_in(self, Role.PATIENT)
        if principal is None:
            return
        self.error = self.message = ""
        try:
            await run_service(self, scheduling.release_hold, principal, uuid.UUID(hold_id))
        except (ValueError, NotFound):
            self.error = "That offer has ended."
        else:
            self.message = "No problem: you stay on the waitlist for an earlier time."
        await self._refresh()


@portal_page(
    routes.APPOINTMENTS, title="Appointments", role=Role.PATIENT, on_load=AppointmentsState.load
)
def appointments_page() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("Appointments", as_="h1", size="7"),
            rx.spacer(),
            rx.link(
                rx.button("Book an appointment", size="3", high_contrast=True),
                href=routes.BOOK_APPOINTMENT,
            ),
            width="100%",
            align="center",
            wrap="wrap",
        ),
        rx.cond(AppointmentsState.message != "", notice(AppointmentsState.message)),
        error_alert(AppointmentsState.error, element_id="appointments-error"),
        rx.cond(
            AppointmentsState.loaded,
            rx.vstack(
                rx.cond(
                    AppointmentsState.offers.length() > 0,
                    section(
                        "Earlier times for you",
                        rx.foreach(AppointmentsState.offers, offer_card),
                        heading_id="offers",
                    ),
                ),
                section(
                    "Upcoming",
                    rx.cond(
                        AppointmentsState.upcoming.length() > 0,
                        appointment_list(AppointmentsState.upcoming, "upcoming"),
                        empty_state(
                            "No upcoming appointments",
                            "Book a visit with your care team and it will appear here.",
                        ),
                    ),
                    heading_id="upcoming",
                ),
                section(
                    "Past and cancelled",
                    rx.cond(
                        AppointmentsState.past.length() > 0,
                        appointment_list(AppointmentsState.past, "past"),
                        empty_state(
                            "Nothing here yet",
                            "Visits you have had, and any you cancel, will be listed here.",
                        ),
                    ),
                    heading_id="past",
                ),
                spacing="4",
                width="100%",
            ),
            loading(),
        ),
        details_dialog(),
        spacing="4",
        width="100%",
    )


def offer_card(offer: HeldTime) -> rx.Component:
    return rx.callout.root(
        rx.vstack(
            rx.text(
                f"An earlier time is free: {offer.day} at {offer.time} with {offer.provider}.",
                weight="bold",
            ),
            rx.text(
                f"It would replace your appointment on {offer.replaces}. We keep it for you "
                f"until {offer.held_until}.",
                size="2",
            ),
            rx.hstack(
                rx.button(
                    "Take the earlier time",
                    on_click=AppointmentsState.accept_offer(offer.id),
                    high_contrast=True,
                ),
                rx.button(
                    "No thanks",
                    variant="soft",
                    color_scheme="gray",
                    on_click=AppointmentsState.decline_offer(offer.id),
                ),
                spacing="3",
                wrap="wrap",
            ),
            spacing="2",
        ),
        color_scheme="grass",
        role="status",
        width="100%",
    )


def appointment_list(items, kind: str) -> rx.Component:
    return rx.el.ul(
        rx.foreach(items, appointment_item),
        aria_label=f"{kind} appointments",
        style={"list_style": "none", "padding": 0, "margin": 0, "width": "100%"},
    )


def appointment_item(card: AppointmentCard) -> rx.Component:
    return rx.el.li(
        rx.hstack(
            rx.vstack(
                rx.text(f"{card.day}, {card.time}", weight="bold"),
                rx.text(f"{card.appointment_type} with {card.provider}", size="2"),
                rx.text(
                    rx.cond(
                        card.location != "", f"{card.modality} · {card.location}", card.modality
                    ),
                    size="2",
                    color_scheme="gray",
                ),
                spacing="1",
            ),
            rx.spacer(),
            rx.badge(card.status, variant="surface", high_contrast=True),
            rx.cond(card.waitlisted, rx.badge("On the waitlist", color_scheme="grass")),
            rx.button(
                "Details",
                variant="outline",
                on_click=AppointmentsState.open_details(card.id),
                aria_label=f"Details of the appointment on {card.day} at {card.time}",
            ),
            align="center",
            wrap="wrap",
            width="100%",
            spacing="3",
        ),
        padding_y="0.75rem",
        border_bottom="1px solid var(--gray-a4)",
    )


def details_dialog() -> rx.Component:
    detail = AppointmentsState.detail
    return rx.dialog.root(
        rx.dialog.content(
            rx.cond(
                detail,
                rx.vstack(
                    rx.dialog.title(f"{detail.card.day}, {detail.card.time}"),
                    rx.dialog.description(
                        f"{detail.card.appointment_type} with {detail.card.provider}"
                    ),
                    detail_row("Status", detail.card.status),
                    detail_row("How", detail.card.modality),
                    rx.cond(detail.card.location != "", detail_row("Where", detail.card.location)),
                    rx.cond(detail.address != "", detail_row("Address", detail.address)),
                    rx.cond(detail.how_to_join != "", rx.text(detail.how_to_join, size="2")),
                    rx.cond(detail.reason != "", detail_row("Reason", detail.reason)),
                    rx.cond(
                        detail.preparation != "", detail_row("Before you come", detail.preparation)
                    ),
                    rx.cond(detail.cancel_note != "", rx.text(detail.cancel_note, size="2")),
                    rx.cond(detail.policy != "", detail_row("Policy", detail.policy)),
                    error_alert(AppointmentsState.detail_error, element_id="detail-error"),
                    rx.cond(
                        AppointmentsState.detail_message != "",
                        notice(AppointmentsState.detail_message),
                    ),
                    rx.cond(detail.upcoming, upcoming_actions(detail)),
                    rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray")),
                    spacing="3",
                    width="100%",
                ),
            ),
            max_width="36rem",
        ),
        open=AppointmentsState.detail_open,
        on_open_change=AppointmentsState.close_details,
    )


def upcoming_actions(detail) -> rx.Component:
    card = detail.card
    return rx.vstack(
        calendar_link(card.id),
        rx.cond(
            card.changeable,
            rx.vstack(
                rx.hstack(
                    rx.link(
                        rx.button("Reschedule", variant="outline"),
                        href=f"{routes.BOOK_APPOINTMENT}?reschedule={card.id}",
                    ),
                    rx.cond(
                        card.waitlisted,
                        rx.button(
                            "Leave the waitlist",
                            variant="soft",
                            on_click=AppointmentsState.waitlist(False),
                        ),
                        rx.button(
                            "Offer me an earlier time if one opens",
                            variant="soft",
                            on_click=AppointmentsState.waitlist(True),
                        ),
                    ),
                    spacing="3",
                    wrap="wrap",
                ),
                rx.form(
                    rx.vstack(
                        rx.el.label(
                            "Why are you cancelling?", html_for="reason", font_weight="500"
                        ),
                        rx.text_area(
                            id="reason",
                            name="reason",
                            max_length=500,
                            width="100%",
                            aria_describedby="detail-error",
                        ),
                        rx.button(
                            "Cancel this appointment",
                            type="submit",
                            color_scheme="red",
                            variant="soft",
                            loading=AppointmentsState.pending,
                        ),
                        spacing="2",
                        width="100%",
                    ),
                    on_submit=AppointmentsState.cancel,
                    width="100%",
                ),
                spacing="3",
                width="100%",
            ),
            rx.callout(
                f"This appointment is less than {detail.cutoff_hours} hours away, so it can no "
                "longer be changed online. To change or cancel it, please call the practice at "
                f"{detail.phone}.",
                icon="phone",
                role="note",
                width="100%",
            ),
        ),
        spacing="3",
        width="100%",
    )
