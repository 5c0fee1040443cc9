"""Choosing a free time of the provider's for a patient, a week at a time (booking on their
behalf, or moving their appointment)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import reflex as rx

from portal.backend.security.principal import Principal, Role
from portal.backend.services import clinic_schedule
from portal.backend.services.free_times import FreeDay, free_days
from portal.backend.views import SlotChoice
from portal.components.feedback import empty_state
from portal.components.forms import text_of
from portal.state.base import practice_today, run_service
from portal.state.session import signed_in

WEEK = timedelta(days=7)


class TimeChoice(rx.State, mixin=True):
    """A week of free times for one visit type; the visit type and the appointment being
    moved are kept server-side, so the browser only ever names a time."""

    times: list[FreeDay] = []
    times_from: str = ""
    times_week: str = ""
    _visit_type_id: str = ""
    _reschedule_of: str = ""

    async def _show_times(self, principal: Principal, first_day: date) -> None:
        """Raises NotFound when the visit type or the appointment is not (any more) there."""
        moving = uuid.UUID(self._reschedule_of) if self._reschedule_of else None
        days = await run_service(
            self,
            clinic_schedule.times_for_patient,
            principal,
            uuid.UUID(self._visit_type_id),
            first_day,
            reschedule_of=moving,
        )
        self.times = free_days([choice for day in days for choice in day.slots])
        last_day = first_day + WEEK - timedelta(days=1)
        self.times_from = first_day.isoformat()
        self.times_week = f"{first_day:%-d %B} to {last_day:%-d %B %Y}"

    def _show_next_times(self, choices: list[SlotChoice]) -> None:
        """After a time was taken: the next free times the service offered instead."""
        self.times = free_days(choices)
        self.times_week = "The next free times"

    def _clear_times(self) -> None:
        self.times, self.times_from, self.times_week = [], "", ""
        self._visit_type_id = self._reschedule_of = ""

    def _chosen_time(self, form_data: dict) -> tuple[datetime, str] | None:
        """The offered time the form names, if it names one: its start and, in words, when."""
        chosen = text_of(form_data, "starts_at", 40)
        return next(
            (
                (datetime.fromisoformat(free.starts_at), f"{day.day} at {free.time}")
                for day in self.times
                for free in day.times
                if free.starts_at == chosen
            ),
            None,
        )

    @rx.event
    async def earlier_times(self):
        await self._turn_week(-WEEK)

    @rx.event
    async def later_times(self):
        await self._turn_week(WEEK)

    async def _turn_week(self, step: timedelta) -> None:
        principal = await signed_in(self, Role.PROVIDER)
        if principal is None or not self._visit_type_id:
            return
        today = await practice_today(self, principal)
        shown = date.fromisoformat(self.times_from) if self.times_from else today
        await self._show_times(principal, max(shown + step, today))


def time_choices(state: type[TimeChoice]) -> rx.Component:
    """The week's free times as one radio group (field `starts_at`), a fieldset per day."""
    return rx.vstack(
        rx.hstack(
            rx.text(state.times_week, weight="medium"),
            rx.spacer(),
            rx.button(
                "Earlier week",
                type="button",
                on_click=state.earlier_times,
                variant="soft",
                high_contrast=True,
                disabled=state.times_from == "",
            ),
            rx.button(
                "Later week",
                type="button",
                on_click=state.later_times,
                variant="soft",
                high_contrast=True,
            ),
            align="center",
            wrap="wrap",
            width="100%",
        ),
        rx.cond(
            state.times.length() > 0,
            rx.radio_group.root(
                rx.vstack(rx.foreach(state.times, day_times), spacing="3", width="100%"),
                name="starts_at",
                width="100%",
            ),
            empty_state(
                "No free times this week",
                "Free times for this visit will appear here; try a later week.",
            ),
        ),
        spacing="3",
        width="100%",
    )


def day_times(day: FreeDay) -> rx.Component:
    return rx.el.fieldset(
        rx.el.legend(day.day, font_weight="500", margin_bottom="0.25rem"),
        rx.flex(
            rx.foreach(
                day.times,
                lambda free: rx.text(
                    rx.flex(rx.radio_group.item(value=free.starts_at), free.time, spacing="1"),
                    as_="label",
                    size="2",
                    min_width="6rem",
                ),
            ),
            wrap="wrap",
            gap="0.75rem",
        ),
        style={"border": "none", "padding": 0, "margin": 0},
    )
