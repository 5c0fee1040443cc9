"""The provider's schedule screen: the calendar in view and what is done to its appointments,
and booking a visit on a patient's behalf."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, timedelta

import reflex as rx

from portal.backend.security.principal import NotFound, Principal, Role
from portal.backend.services import clinic_schedule
from portal.backend.services.clinic_schedule import ScheduleInvalid
from portal.backend.services.scheduling import BookingRefused, SlotTaken
from portal.backend.views import CalendarLine, Choice, ClinicCalendar, PatientMatch
from portal.components.forms import EntryInvalid, day_of, record_id, text_of
from portal.pages.provider.time_choices import TimeChoice
from portal.state.base import Screen, practice_today, run_service, screen_state
from portal.state.session import signed_in

NOT_FOUND = "That appointment was not found."
ACTIONS = ("decline", "cancel", "missed", "reschedule")


@screen_state
class ScheduleState(TimeChoice, Screen):
    calendar: ClinicCalendar | None = None
    day: str = ""
    week: bool = False
    week_range: str = ""
    error: str = ""
    message: str = ""
    # The appointment whose dialog is open, and which action it is for.
    action: str = ""
    line: CalendarLine | None = None
    line_day: str = ""
    action_error: str = ""
    pending: bool = False

    @rx.event
    async def load(self):
        self.reset()
        principal = await signed_in(self, Role.PROVIDER)
        if principal is None:
            return
        self.day = (await practice_today(self, principal)).isoformat()
        await self._refresh(principal)
        await (await self.get_state(BookingState))._prepare(principal)

    async def _refresh(self, principal: Principal) -> None:
        day = date.fromisoformat(self.day)
        first = day - timedelta(days=day.weekday()) if self.week else day
        self.calendar = await run_service(
            self, clinic_schedule.clinic_calendar, principal, first, 7 if self.week else 1
        )
        days = self.calendar.days
        self.week_range = f"{days[0].day} to {days[-1].day}" if self.week else ""

    def _step(self) -> int:
        return 7 if self.week else 1

    async def _show(self, days_later: int, *, week: bool, today: bool = False) -> None:
        """Move the calendar by whole days from the day in view (or to today)."""
        principal = await signed_in(self, Role.PROVIDER)
        if principal is None or not self.day:  # nothing in view: the page has not loaded
            return
        day = (
            await practice_today(self, principal)
            if today
            else date.fromisoformat(self.day) + timedelta(days=days_later)
        )
        self.day, self.week, self.error, self.message = day.isoformat(), week, "", ""
        await self._refresh(principal)

    @rx.event
    async def show_day(self):
        await self._show(0, week=False)

    @rx.event
    async def show_week(self):
        await self._show(0, week=True)

    @rx.event
    async def earlier(self):
        await self._show(-self._step(), week=self.week)

    @rx.event
    async def later(self):
        await self._show(self._step(), week=self.week)

    @rx.event
    async def show_today(self):
        await self._show(0, week=self.week, today=True)

    def _line_of(self, appointment_id: str) -> tuple[str, CalendarLine | None]:
        """The appointment on the calendar in view, with its day; the browser can only act on
        what it was shown."""
        days = self.calendar.days if self.calendar else []
        found = ((day.day, ln) for day in days for ln in day.lines if ln.id == appointment_id)
        return next(found, ("", None))

    @rx.event
    async def approve(self, appointment_id: str):
        await self._act_now(clinic_schedule.approve_request, appointment_id, "Approved")

    @rx.event
    async def check_in(self, appointment_id: str):
        await self._act_now(clinic_schedule.check_in, appointment_id, "Checked in")

    async def _act_now(self, service: Callable, appointment_id: str, done: str) -> None:
        """An action that needs no more answers: its result shows above the calendar."""
        principal = await signed_in(self, Role.PROVIDER)
        day, line = self._line_of(appointment_id)
        if principal is None:
            return
        self.message = ""
        try:
            if line is None:
                raise NotFound
            await run_service(self, service, principal, record_id(line.id))
        except NotFound:
            self.error = NOT_FOUND
        except BookingRefused as refusal:
            self.error = str(refusal)
        else:
            self.error, self.message = "", f"{done}: {line.patient}, {day} at {line.time}."
        await self._refresh(principal)

    @rx.event
    async def open_action(self, action: str, appointment_id: str):
        """Open the dialog of an action that needs answers (a reason, who caused it, a time)."""
        principal = await signed_in(self, Role.PROVIDER)
        day, line = self._line_of(appointment_id)
        if principal is None:
            return
        if action not in ACTIONS or line is None:
            self.error = NOT_FOUND
            return
        self._close_action()
        self.action, self.line, self.line_day = action, line, day
        self.error = self.message = ""
        if action == "reschedule":
            self._visit_type_id, self._reschedule_of = line.visit_type_id, line.id
            try:
                shown_from = date.fromisoformat(self.calendar.first_date)
                today = await practice_today(self, principal)
                await self._show_times(principal, max(shown_from, today))
            except NotFound:
                self.action_error = NOT_FOUND

    @rx.event
    def dialog_changed(self, is_open: bool):
        if not is_open:
            self._close_action()

    @rx.event
    def keep_as_is(self):
        self._close_action()

    def _close_action(self) -> None:
        self.action, self.line, self.line_day = "", None, ""
        self.action_error, self.pending = "", False
        self._clear_times()

    @rx.event
    async def decline(self, form_data: dict):
        async for update in self._finish(
            clinic_schedule.decline_request, text_of(form_data, "reason", 500), done="Declined"
        ):
            yield update

    @rx.event
    async def cancel(self, form_data: dict):
        async for update in self._finish(
            clinic_schedule.cancel_for_patient,
            text_of(form_data, "reason", 500),
            text_of(form_data, "caused_by", 10),
            done="Cancelled",
        ):
            yield update

    @rx.event
    async def mark_missed(self, form_data: dict):
        async for update in self._finish(
            clinic_schedule.mark_missed,
            text_of(form_data, "caused_by", 10),
            done="Recorded as missed",
        ):
            yield update

    @rx.event
    async def move(self, form_data: dict):
        chosen = self._chosen_time(form_data)
        if chosen is None:
            self.action_error = "Choose one of the free times."
            return
        starts_at, when = chosen
        async for update in self._finish(
            clinic_schedule.move_for_patient, starts_at, done="Moved", new_time=when
        ):
            yield update

    async def _finish(self, service: Callable, *answers, done: str, new_time: str = ""):
        """Carry out the open dialog's action; on a refusal the dialog stays open with the
        reason and what was typed."""
        principal = await signed_in(self, Role.PROVIDER)
        line, day = self.line, self.line_day
        if principal is None or line is None:
            return
        self.pending = True
        yield
        try:
            await run_service(self, service, principal, record_id(line.id), *answers)
        except NotFound:
            self.action_error = NOT_FOUND
        except SlotTaken as taken:
            self._show_next_times(taken.next_times)
            self.action_error = str(taken)
        except BookingRefused as refusal:
            self.action_error = str(refusal)
        else:
            self._close_action()
            self.message = f"{done}: {line.patient}, {day} at {line.time}." + (
                f" New time: {new_time}." if new_time else ""
            )
            await self._refresh(principal)
        self.pending = False


@screen_state
class BookingState(TimeChoice, Screen):
    """Booking on a patient's behalf: find the patient, choose the visit and a free time."""

    visit_types: list[Choice] = []
    matches: list[PatientMatch] = []
    patient: PatientMatch | None = None
    visit_type: str = ""
    error: str = ""
    message: str = ""
    pending: bool = False

    async def _prepare(self, principal: Principal) -> None:
        self.reset()
        self.visit_types = await run_service(self, clinic_schedule.visit_types, principal)

    @rx.event
    async def find_patient(self, form_data: dict):
        principal = await signed_in(self, Role.PROVIDER)
        if principal is None:
            return
        self.patient, self.matches, self.message = None, [], ""
        self._clear_times()
        try:
            born = day_of(form_data, "date_of_birth", "the date of birth")
            self.matches = await run_service(
                self,
                clinic_schedule.find_patient,
                principal,
                text_of(form_data, "last_name", 100),
                born,
            )
        except (EntryInvalid, ScheduleInvalid) as problem:
            self.error = str(problem)
            return
        self.error = (
            "" if self.matches else "No patient of the practice has that last name and birth date."
        )

    @rx.event
    def choose_patient(self, patient_id: str):
        self.patient = next((match for match in self.matches if match.id == patient_id), None)
        self.error = "" if self.patient else "That patient was not found."
        self._clear_times()

    @rx.event
    def choose_another_patient(self):
        self._start_over()

    def _start_over(self) -> None:
        self.patient, self.matches, self.error = None, [], ""
        self._clear_times()

    @rx.event
    async def show_times(self, form_data: dict):
        principal = await signed_in(self, Role.PROVIDER)
        if principal is None or self.patient is None:
            return
        wanted = text_of(form_data, "visit_type", 40)
        kind = next((kind for kind in self.visit_types if kind.id == wanted), None)
        self._clear_times()
        try:
            if kind is None:
                raise EntryInvalid("Choose the kind of visit.")
            first_day = day_of(form_data, "week_from", "the first day to look at")
            self._visit_type_id, self.visit_type = kind.id, kind.name
            today = await practice_today(self, principal)
            await self._show_times(principal, max(first_day, today))
        except EntryInvalid as problem:
            self.error = str(problem)
            return
        except NotFound:
            self._clear_times()
            self.error = "That kind of visit is not offered any more."
            return
        self.error = ""

    @rx.event
    async def book(self, form_data: dict):
        principal = await signed_in(self, Role.PROVIDER)
        patient, chosen = self.patient, self._chosen_time(form_data)
        if principal is None or patient is None or not self._visit_type_id:
            return
        if chosen is None:
            self.error = "Choose one of the free times."
            return
        starts_at, when = chosen
        self.pending = True
        yield
        try:
            await run_service(
                self,
                clinic_schedule.book_for_patient,
                principal,
                uuid.UUID(patient.id),
                uuid.UUID(self._visit_type_id),
                starts_at,
                text_of(form_data, "booking_reason", 500),
            )
        except NotFound:
            self.error = "That patient or kind of visit was not found."
        except SlotTaken as taken:
            self._show_next_times(taken.next_times)
            self.error = str(taken)
        except BookingRefused as refusal:
            self.error = str(refusal)
        else:
            booked = f"Booked: {self.visit_type} for {patient.name}, {when}."
            self._start_over()
            self.message = booked
            await (await self.get_state(ScheduleState))._refresh(principal)
        self.pending = False
