"""Booking (or rescheduling) in steps: visit type, clinician, day and time, review, done.

The chosen time is held for the patient while they review it; going back gives it up. If
someone else got the time first, the patient is told so and shown the next free times.
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import date, datetime, timedelta

import reflex as rx

from portal import routes
from portal.backend.security.principal import NotFound, Role
from portal.backend.services import scheduling
from portal.backend.services.free_times import FreeDay, FreeTime, FreeWeek, free_week
from portal.backend.services.scheduling import BookingRefused, SlotTaken
from portal.backend.views import (
    AppointmentCard,
    BookingOptions,
    HeldTime,
    ProviderOption,
    SlotChoice,
    TimeSearch,
    VisitOption,
)
from portal.components.cards import calendar_link, detail_row, section
from portal.components.feedback import empty_state, error_alert, notice
from portal.components.forms import text_of
from portal.layout import loading, portal_page
from portal.state.base import Screen, practice_today, run_service, screen_state
from portal.state.session import signed_in

ANY = "any"
STEPS = ["type", "provider", "time", "review"]
STEP_LABELS = {"type": "Visit", "provider": "Clinician", "time": "Time", "review": "Review"}


@screen_state
class BookingState(Screen):
    options: BookingOptions | None = None
    step: str = "type"
    visit_type_id: str = ""
    visit_type: str = ""
    provider_id: str = ANY
    first_day: str = ""
    week_label: str = ""
    search: FreeWeek | None = None
    first_free: SlotChoice | None = None
    searching: bool = False
    held: HeldTime | None = None
    booked: AppointmentCard | None = None
    next_times: list[SlotChoice] = []
    rescheduling: str = ""  # the appointment being moved, as "Tuesday 1 December 2026 at 9:00 AM"
    error: str = ""
    pending: bool = False
    _reschedule_of: str = ""
    _today: str = ""

    @rx.event
    async def load(self):
        self.reset()
        principal = await signed_in(self, Role.PATIENT)
        if principal is None:
            return
        self.options = await run_service(self, scheduling.booking_options, principal)
        self._today = (await practice_today(self, principal)).isoformat()
        moving = self.router.url.query_parameters.get("reschedule", "")
        if not moving:
            return
        try:
            detail = await run_service(
                self, scheduling.appointment_detail, principal, uuid.UUID(moving[:40])
            )
        except (ValueError, NotFound):
            self.error = "That appointment was not found. You can book a new one below."
            return
        card = detail.card
        if not card.changeable:
            self.error = (
                "This appointment can no longer be changed online. Please call the practice"
                + (f" at {detail.phone}." if detail.phone else ".")
            )
            return
        self._reschedule_of = card.id
        self.rescheduling = f"{card.day} at {card.time}"
        self.visit_type_id, self.visit_type = card.visit_type_id, card.appointment_type
        self.provider_id = card.provider_id
        await self._show_times(self._practice_today())

    @rx.event
    async def choose_type(self, visit_type_id: str):
        if self.options is None:  # the page has not loaded: nothing to choose from
            return
        chosen = [v for v in self.options.visit_types if v.id == visit_type_id]
        if not chosen:
            return
        self.visit_type_id, self.visit_type, self.error = chosen[0].id, chosen[0].name, ""
        self.step = "provider"

    @rx.event
    async def choose_provider(self, provider_id: str):
        if self.options is None or not self.visit_type_id:
            return
        if provider_id != ANY and provider_id not in [p.id for p in self.options.providers]:
            return
        self.provider_id, self.error = provider_id, ""
        found = await self._show_times(self._practice_today())
        self.first_free = found.first_free if found else None

    @rx.event
    async def go_to_step(self, step: str):
        if step not in STEPS[: STEPS.index(self.step)] or self._reschedule_of:
            return
        await self._give_back_hold()
        self.step, self.error, self.next_times = step, "", []

    @rx.event
    async def move_week(self, weeks: int):
        """Earlier or later by whole weeks, from the week on screen (not the one a click saw,
        so quick clicks add up)."""
        if weeks not in (-1, 1) or not self.first_day:
            return
        day = date.fromisoformat(self.first_day) + timedelta(weeks=weeks)
        await self._show_times(max(day, self._practice_today()))

    @rx.event
    async def jump_to(self, first_day: str):
        if not self.visit_type_id:
            return
        try:
            day = date.fromisoformat(first_day)
        except ValueError:
            return
        await self._show_times(max(day, self._practice_today()))

    def _practice_today(self) -> date:
        return date.fromisoformat(self._today)

    async def _show_times(self, first_day: date) -> TimeSearch | None:
        principal = await signed_in(self, Role.PATIENT)
        if principal is None:
            return None
        self.step, self.first_day, self.searching = "time", first_day.isoformat(), True
        self.week_label = f"{first_day:%A} {first_day.day} {first_day:%B %Y}"
        try:
            found = await run_service(
                self,
                scheduling.find_times,
                principal,
                uuid.UUID(self.visit_type_id),
                None if self.provider_id == ANY else uuid.UUID(self.provider_id),
                first_day,
                reschedule_of=uuid.UUID(self._reschedule_of) if self._reschedule_of else None,
            )
            self.search = free_week(found)
        except (BookingRefused, NotFound) as refused:
            found, self.search = None, None
            self.error = str(refused) or "That choice is not available. Please start again."
        self.searching = False
        return found

    @rx.event
    async def choose_time(self, provider_id: str, starts_at: str):
        principal = await signed_in(self, Role.PATIENT)
        if principal is None:
            return
        self.error, self.next_times, self.pending = "", [], True
        yield
        try:
            self.held = await run_service(
                self,
                scheduling.hold_time,
                principal,
                uuid.UUID(self.visit_type_id),
                uuid.UUID(provider_id),
                datetime.fromisoformat(starts_at),
                reschedule_of=uuid.UUID(self._reschedule_of) if self._reschedule_of else None,
            )
            self.step = "review"
        except SlotTaken as taken:
            self.error, self.next_times = str(taken), taken.next_times
        except BookingRefused as refused:
            self.error = str(refused)
        except (ValueError, NotFound):
            self.error = "That time is not available. Please choose another."
        self.pending = False

    @rx.event
    async def back_to_times(self):
        if not self.visit_type_id:
            return
        await self._give_back_hold()
        self.error, self.next_times = "", []
        await self._show_times(date.fromisoformat(self.first_day or self._today))

    async def _give_back_hold(self) -> None:
        principal = await signed_in(self, Role.PATIENT)
        if self.held is not None and principal is not None:
            with contextlib.suppress(NotFound):  # it lapsed or was taken: nothing to give back
                await run_service(self, scheduling.release_hold, principal, uuid.UUID(self.held.id))
        self.held = None

    @rx.event
    async def confirm(self, form_data: dict):
        principal = await signed_in(self, Role.PATIENT)
        if principal is None or self.held is None:
            return
        self.error, self.pending = "", True
        yield
        try:
            self.booked = await run_service(
                self,
                scheduling.confirm_hold,
                principal,
                uuid.UUID(self.held.id),
                text_of(form_data, "reason", 600),
            )
            self.step = "done"
        except SlotTaken as taken:
            self.error, self.next_times = str(taken), taken.next_times
            self.held, self.step = None, "time"
        except BookingRefused as refused:
            self.error = str(refused)
        except NotFound:
            self.error = "That time is no longer held for you. Please choose a time again."
            self.held, self.step = None, "time"
        self.pending = False


@portal_page(
    routes.BOOK_APPOINTMENT,
    title="Book an appointment",
    role=Role.PATIENT,
    on_load=BookingState.load,
)
def booking_page() -> rx.Component:
    return rx.vstack(
        rx.heading(
            rx.cond(
                BookingState.rescheduling != "", "Reschedule an appointment", "Book an appointment"
            ),
            as_="h1",
            size="7",
        ),
        rx.cond(
            BookingState.rescheduling != "",
            rx.text(
                f"Moving your appointment on {BookingState.rescheduling}.", color_scheme="gray"
            ),
        ),
        rx.cond(BookingState.step != "done", progress()),
        error_alert(BookingState.error, element_id="booking-error"),
        rx.cond(BookingState.next_times.length() > 0, next_free_times()),
        rx.cond(
            BookingState.options,
            rx.match(
                BookingState.step,
                ("type", choose_visit()),
                ("provider", choose_provider()),
                ("time", choose_time()),
                ("review", review()),
                ("done", done()),
                choose_visit(),
            ),
            loading(),
        ),
        spacing="4",
        width="100%",
        max_width="48rem",
    )


def progress() -> rx.Component:
    return rx.el.ol(
        *[
            rx.el.li(
                rx.cond(
                    BookingState.step == step,
                    rx.text(f"{n}. {STEP_LABELS[step]}", weight="bold", aria_current="step"),
                    rx.text(f"{n}. {STEP_LABELS[step]}", color_scheme="gray"),
                ),
            )
            for n, step in enumerate(STEPS, start=1)
        ],
        aria_label="Booking steps",
        style={
            "display": "flex",
            "gap": "1.25rem",
            "list_style": "none",
            "padding": 0,
            "flex_wrap": "wrap",
            "margin": 0,
        },
    )


def choose_visit() -> rx.Component:
    return section(
        "What kind of visit?",
        rx.cond(
            BookingState.options.visit_types.length() > 0,
            rx.vstack(rx.foreach(BookingState.options.visit_types, visit_button), width="100%"),
            empty_state(
                "No visits can be booked online for you",
                "Please call the practice to book.",
            ),
        ),
        heading_id="visit-type",
    )


def visit_button(visit: VisitOption) -> rx.Component:
    return rx.button(
        rx.vstack(
            rx.text(visit.name, weight="bold"),
            rx.text(
                f"{visit.modality} · {visit.minutes} minutes",
                rx.cond(visit.requires_approval, " · the practice confirms your request", ""),
                size="2",
            ),
            align="start",
            spacing="0",
        ),
        on_click=BookingState.choose_type(visit.id),
        variant="outline",
        size="4",
        width="100%",
        justify="start",
        height="auto",
        padding_y="0.75rem",
    )


def choose_provider() -> rx.Component:
    return section(
        f"Who would you like to see for your {BookingState.visit_type.lower()}?",
        rx.vstack(
            rx.button(
                "Anyone on my care team (the first free time)",
                on_click=BookingState.choose_provider(ANY),
                variant="outline",
                size="3",
                width="100%",
                justify="start",
            ),
            rx.foreach(BookingState.options.providers, provider_button),
            rx.button("Back", variant="ghost", on_click=BookingState.go_to_step("type")),
            width="100%",
        ),
        heading_id="provider",
    )


def provider_button(provider: ProviderOption) -> rx.Component:
    return rx.button(
        provider.name,
        on_click=BookingState.choose_provider(provider.id),
        variant="outline",
        size="3",
        width="100%",
        justify="start",
    )


def choose_time() -> rx.Component:
    search = BookingState.search
    return section(
        "Choose a day and time",
        rx.cond(
            BookingState.first_free,
            rx.hstack(
                rx.text(
                    f"The first free time is {BookingState.first_free.day} at "
                    f"{BookingState.first_free.time} with {BookingState.first_free.provider}."
                ),
                rx.button(
                    "Take the first free time",
                    on_click=BookingState.choose_time(
                        BookingState.first_free.provider_id, BookingState.first_free.starts_at
                    ),
                    high_contrast=True,
                ),
                align="center",
                wrap="wrap",
            ),
        ),
        rx.text(f"Free times for the week from {BookingState.week_label}", role="status"),
        rx.hstack(
            rx.button(
                "Earlier week",
                variant="soft",
                on_click=BookingState.move_week(-1),
            ),
            rx.button(
                "Later week",
                variant="soft",
                on_click=BookingState.move_week(1),
            ),
            spacing="3",
        ),
        rx.cond(
            BookingState.searching,
            loading(),
            rx.cond(
                search & (search.days.length() > 0),
                rx.vstack(rx.foreach(search.days, day_of_times), spacing="4", width="100%"),
                rx.vstack(
                    empty_state(
                        "No free times this week",
                        "Try a later week, or choose anyone on your care team.",
                    ),
                    rx.cond(
                        search & (search.next_free_date != ""),
                        rx.button(
                            f"Go to the first free day: {search.next_free_day}",
                            on_click=BookingState.jump_to(search.next_free_date),
                            high_contrast=True,
                        ),
                    ),
                    width="100%",
                ),
            ),
        ),
        rx.cond(
            BookingState.rescheduling == "",
            rx.button("Back", variant="ghost", on_click=BookingState.go_to_step("provider")),
        ),
        heading_id="times",
    )


def day_of_times(day: FreeDay) -> rx.Component:
    return rx.vstack(
        rx.heading(day.day, as_="h3", size="3"),
        rx.flex(rx.foreach(day.times, lambda free: time_button(day, free)), wrap="wrap", gap="2"),
        spacing="2",
        width="100%",
    )


def time_button(day: FreeDay, free: FreeTime) -> rx.Component:
    provider = BookingState.search.providers[free.provider]
    return rx.button(
        free.time,
        on_click=BookingState.choose_time(provider.id, free.starts_at),
        variant="surface",
        size="3",
        min_width="6.5rem",
        disabled=BookingState.pending,
        aria_label=f"{day.day} at {free.time} with {provider.name}",
        title=provider.name,
    )


def next_free_times() -> rx.Component:
    return rx.vstack(
        rx.text("Next free times:", weight="bold"),
        rx.flex(
            rx.foreach(
                BookingState.next_times,
                lambda choice: rx.button(
                    f"{choice.day}, {choice.time}",
                    on_click=BookingState.choose_time(choice.provider_id, choice.starts_at),
                    variant="surface",
                ),
            ),
            wrap="wrap",
            gap="2",
        ),
        width="100%",
    )


def review() -> rx.Component:
    held = BookingState.held
    return rx.cond(
        held,
        section(
            "Check and confirm",
            notice(f"We are keeping this time for you until {held.held_until}."),
            rx.text(f"{held.day} at {held.time}", size="5", weight="bold"),
            rx.cond(held.replaces != "", rx.text(f"Instead of {held.replaces}.", size="2")),
            detail_row("Visit", held.appointment_type),
            detail_row("With", held.provider),
            detail_row("How", held.modality),
            rx.cond(held.location != "", detail_row("Where", f"{held.location}, {held.address}")),
            rx.cond(held.how_to_join != "", rx.text(held.how_to_join, size="2")),
            rx.cond(held.preparation != "", detail_row("Before you come", held.preparation)),
            rx.cond(held.policy != "", detail_row("Cancellation policy", held.policy)),
            rx.cond(
                held.requires_approval,
                rx.text(
                    "This visit is a request: the practice confirms it, and we will let you know.",
                    size="2",
                ),
            ),
            rx.form(
                rx.vstack(
                    rx.cond(
                        held.replaces == "",
                        rx.vstack(
                            rx.el.label(
                                "What is the visit for? (optional)",
                                html_for="reason",
                                font_weight="500",
                            ),
                            rx.text_area(
                                id="reason",
                                name="reason",
                                max_length=500,
                                width="100%",
                                aria_describedby="booking-error",
                            ),
                            width="100%",
                        ),
                    ),
                    rx.hstack(
                        rx.button(
                            rx.cond(held.replaces != "", "Move my appointment", "Confirm booking"),
                            type="submit",
                            size="3",
                            loading=BookingState.pending,
                            high_contrast=True,
                        ),
                        rx.button(
                            "Choose another time",
                            type="button",
                            variant="soft",
                            color_scheme="gray",
                            size="3",
                            on_click=BookingState.back_to_times,
                        ),
                        spacing="3",
                        wrap="wrap",
                    ),
                    spacing="3",
                    width="100%",
                ),
                on_submit=BookingState.confirm,
                width="100%",
            ),
            heading_id="review",
        ),
    )


def done() -> rx.Component:
    booked = BookingState.booked
    return rx.cond(
        booked,
        section(
            rx.cond(
                BookingState.rescheduling != "",
                "Your appointment is moved",
                rx.cond(booked.status == "Requested", "Your request is sent", "You are booked"),
            ),
            rx.text(f"{booked.day} at {booked.time}", size="5", weight="bold"),
            detail_row("Visit", booked.appointment_type),
            detail_row("With", booked.provider),
            detail_row("Status", booked.status),
            rx.text("We have sent you a confirmation.", size="2"),
            rx.hstack(
                calendar_link(booked.id),
                rx.link("See all my appointments", href=routes.APPOINTMENTS),
                spacing="5",
                wrap="wrap",
            ),
            heading_id="done",
        ),
    )
