"""The working hours screen's state: the provider's hours, time off and extra clinics, and
the preview of free times, read again after every change."""

from __future__ import annotations

import uuid

import reflex as rx

from portal.backend.security.principal import NotFound, Principal, Role
from portal.backend.services import clinic_schedule
from portal.backend.services.clinic_schedule import ScheduleInvalid
from portal.backend.views import WorkingHours
from portal.components.forms import (
    EntryInvalid,
    clock_of,
    day_of,
    optional_day_of,
    record_id,
    text_of,
)
from portal.state.base import Screen, practice_today, run_service, screen_state
from portal.state.session import signed_in

EXCEPTION_KINDS = [("time_off", "Time off"), ("extra_clinic", "Extra clinic")]


def booked_in_time_off(count: int) -> str:
    if count == 1:
        return (
            "1 booked appointment falls in this time; it is kept — move or cancel it from your "
            "schedule."
        )
    return (
        f"{count} booked appointments fall in this time; they are kept — move or cancel them "
        "from your schedule."
    )


@screen_state
class HoursState(Screen):
    view: WorkingHours | None = None
    first_day: str = ""
    hours_error: str = ""
    hours_message: str = ""
    exception_error: str = ""
    exception_message: str = ""
    # Each addition gives its form a new key, so the next one starts empty.
    hours_added: int = 0
    exceptions_added: int = 0
    pending: bool = False
    _preview_type_id: str = ""

    @rx.event
    async def load(self):
        self.reset()
        principal = await signed_in(self, Role.PROVIDER)
        if principal is None:
            return
        self.first_day = (await practice_today(self, principal)).isoformat()
        await self._refresh(principal)

    async def _refresh(self, principal: Principal) -> None:
        preview = uuid.UUID(self._preview_type_id) if self._preview_type_id else None
        self.view = await run_service(self, clinic_schedule.working_hours, principal, preview)

    @rx.event
    async def preview_for(self, visit_type_id: str):
        principal = await signed_in(self, Role.PROVIDER)
        if principal is None or self.view is None:
            return
        if any(kind.id == visit_type_id for kind in self.view.visit_types):
            self._preview_type_id = visit_type_id
        await self._refresh(principal)

    @rx.event
    async def add_hours(self, form_data: dict):
        principal = await signed_in(self, Role.PROVIDER)
        if principal is None:
            return
        self.pending, self.hours_message = True, ""
        yield
        try:
            weekday = text_of(form_data, "weekday", 2)
            if not weekday.isdigit():
                raise EntryInvalid("Choose a day of the week.")
            await run_service(
                self,
                clinic_schedule.add_hours,
                principal,
                int(weekday),
                clock_of(form_data, "hours_start", "the start time"),
                clock_of(form_data, "hours_end", "the end time"),
                record_id(text_of(form_data, "hours_location", 40)),
                day_of(form_data, "hours_from", "the first day"),
                optional_day_of(form_data, "hours_until", "the last day"),
            )
        except (EntryInvalid, ScheduleInvalid) as problem:
            self.hours_error = str(problem)
            return
        except NotFound:
            self.hours_error = "Choose where you work these hours."
            return
        finally:
            self.pending = False
        self.hours_error, self.hours_message = "", "Hours added."
        self.hours_added += 1
        await self._refresh(principal)

    @rx.event
    async def remove_hours(self, rule_id: str):
        principal = await signed_in(self, Role.PROVIDER)
        if principal is None:
            return
        try:
            await run_service(self, clinic_schedule.remove_hours, principal, record_id(rule_id))
        except NotFound:
            self.hours_error, self.hours_message = "Those hours were not found.", ""
        else:
            self.hours_error, self.hours_message = "", "Hours removed from today on."
        await self._refresh(principal)

    @rx.event
    async def add_exception(self, form_data: dict):
        principal = await signed_in(self, Role.PROVIDER)
        if principal is None:
            return
        kind = text_of(form_data, "exception_kind", 20)
        location = text_of(form_data, "exception_location", 40)
        self.pending, self.exception_message = True, ""
        yield
        try:
            booked = await run_service(
                self,
                clinic_schedule.add_exception,
                principal,
                kind,
                day_of(form_data, "exception_day", "the day"),
                clock_of(form_data, "exception_start", "the start time"),
                clock_of(form_data, "exception_end", "the end time"),
                text_of(form_data, "exception_note", 200),
                record_id(location) if location and kind == "extra_clinic" else None,
            )
        except (EntryInvalid, ScheduleInvalid) as problem:
            self.exception_error = str(problem)
            return
        except NotFound:
            self.exception_error = "Choose where the extra clinic is."
            return
        finally:
            self.pending = False
        added = f"{dict(EXCEPTION_KINDS)[kind]} added."
        self.exception_error = ""
        self.exception_message = f"{added} {booked_in_time_off(booked)}" if booked else added
        self.exceptions_added += 1
        await self._refresh(principal)

    @rx.event
    async def remove_exception(self, exception_id: str):
        principal = await signed_in(self, Role.PROVIDER)
        if principal is None:
            return
        try:
            await run_service(
                self, clinic_schedule.remove_exception, principal, record_id(exception_id)
            )
        except NotFound:
            self.exception_error, self.exception_message = "That was not found.", ""
        else:
            self.exception_error, self.exception_message = "", "Removed."
        await self._refresh(principal)
