"""The scheduling settings screen's state, for admins: visit types, holidays and reminder
times."""

from __future__ import annotations

import reflex as rx

from portal.backend.security.principal import NotFound, Principal, Role
from portal.backend.services import clinic_schedule
from portal.backend.services.clinic_schedule import ScheduleInvalid
from portal.backend.views import SchedulingSettings, VisitTypeRow
from portal.components.forms import EntryInvalid, day_of, optional_day_of, record_id, text_of
from portal.state.base import Screen, run_service, screen_state
from portal.state.session import signed_in

# The numbers of a visit type, in the order the form asks for them: (field, label, hint).
NUMBERS = [
    ("duration_minutes", "Length (minutes)", ""),
    ("slot_interval_minutes", "Start times every (minutes)", "15 lets visits start at :00, :15…"),
    ("buffer_before_minutes", "Free time before (minutes)", ""),
    ("buffer_after_minutes", "Free time after (minutes)", ""),
    ("minimum_notice_minutes", "Minimum notice (minutes)", "How soon patients may book online."),
    ("booking_horizon_days", "Booking horizon (days)", "How far ahead patients may book online."),
    ("max_future_bookings", "Most upcoming visits of this kind per patient", ""),
    (
        "cancellation_cutoff_hours",
        "Cancellation cutoff (hours)",
        "Closer to the visit, patients call instead, and a cancellation is recorded as late.",
    ),
]
NEW_VISIT_TYPE = VisitTypeRow(
    id="",
    name="",
    modality="in_person",
    duration_minutes=30,
    buffer_before_minutes=0,
    buffer_after_minutes=0,
    slot_interval_minutes=15,
    minimum_notice_minutes=120,
    booking_horizon_days=90,
    max_future_bookings=3,
    bookable_by="all",
    requires_approval=False,
    cancellation_cutoff_hours=24,
    policy_text="",
    preparation_text="",
    active=True,
)


@screen_state
class SchedulingSettingsState(Screen):
    settings: SchedulingSettings | None = None
    # The visit type in the form (an empty id for a new one); None when the form is closed.
    editing: VisitTypeRow | None = None
    visit_type_error: str = ""
    visit_type_message: str = ""
    holiday_error: str = ""
    holiday_message: str = ""
    reminder_error: str = ""
    reminder_message: str = ""
    holidays_added: int = 0
    pending: bool = False

    @rx.event
    async def load(self):
        self.reset()
        principal = await signed_in(self, Role.ADMIN)
        if principal is not None:
            await self._refresh(principal)

    async def _refresh(self, principal: Principal) -> None:
        self.settings = await run_service(self, clinic_schedule.scheduling_settings, principal)

    @rx.event
    def edit(self, visit_type_id: str):
        kinds = self.settings.visit_types if self.settings else []
        self.editing = next((kind for kind in kinds if kind.id == visit_type_id), None)
        self.visit_type_error = self.visit_type_message = ""

    @rx.event
    def new_visit_type(self):
        self.editing, self.visit_type_error, self.visit_type_message = NEW_VISIT_TYPE, "", ""

    @rx.event
    def close_editor(self):
        self.editing, self.visit_type_error = None, ""

    @rx.event
    async def save_visit_type(self, form_data: dict):
        principal = await signed_in(self, Role.ADMIN)
        if principal is None or self.editing is None:
            return
        values = {key: text_of(form_data, key, 20) for key, _, _ in NUMBERS} | {
            "name": text_of(form_data, "name", 120),
            "modality": text_of(form_data, "modality", 20),
            "bookable_by": text_of(form_data, "bookable_by", 20),
            "requires_approval": form_data.get("requires_approval") == "on",
            "active": form_data.get("active") == "on",
            "policy_text": text_of(form_data, "policy_text", 2000),
            "preparation_text": text_of(form_data, "preparation_text", 2000),
        }
        self.pending = True
        yield
        try:
            visit_type_id = record_id(self.editing.id) if self.editing.id else None
            await run_service(
                self, clinic_schedule.save_visit_type, principal, visit_type_id, values
            )
        except ScheduleInvalid as problem:
            self.visit_type_error, self.visit_type_message = str(problem), ""
            return
        except NotFound:
            self.visit_type_error, self.visit_type_message = "That visit type was not found.", ""
            return
        finally:
            self.pending = False
        self.editing, self.visit_type_error = None, ""
        self.visit_type_message = f"Saved: {values['name'].strip()}."
        await self._refresh(principal)

    @rx.event
    async def add_holiday(self, form_data: dict):
        principal = await signed_in(self, Role.ADMIN)
        if principal is None:
            return
        self.pending = True
        yield
        try:
            first_day = day_of(form_data, "holiday_first", "the first day")
            last_day = optional_day_of(form_data, "holiday_last", "the last day") or first_day
            await run_service(
                self,
                clinic_schedule.add_holiday,
                principal,
                first_day,
                last_day,
                text_of(form_data, "holiday_name", 200),
            )
        except (EntryInvalid, ScheduleInvalid) as problem:
            self.holiday_error, self.holiday_message = str(problem), ""
            return
        finally:
            self.pending = False
        self.holiday_error, self.holiday_message = "", "Holiday added: no one can book it."
        self.holidays_added += 1
        await self._refresh(principal)

    @rx.event
    async def remove_holiday(self, holiday_id: str):
        principal = await signed_in(self, Role.ADMIN)
        if principal is None:
            return
        try:
            await run_service(
                self, clinic_schedule.remove_holiday, principal, record_id(holiday_id)
            )
        except NotFound:
            self.holiday_error, self.holiday_message = "That holiday was not found.", ""
        else:
            self.holiday_error, self.holiday_message = "", "Holiday removed."
        await self._refresh(principal)

    @rx.event
    async def save_reminder_times(self, form_data: dict):
        principal = await signed_in(self, Role.ADMIN)
        if principal is None:
            return
        self.pending = True
        yield
        try:
            await run_service(
                self,
                clinic_schedule.save_reminder_times,
                principal,
                text_of(form_data, "reminder_minutes", 100),
            )
        except ScheduleInvalid as problem:
            self.reminder_error, self.reminder_message = str(problem), ""
            return
        finally:
            self.pending = False
        self.reminder_error, self.reminder_message = "", "Reminder times saved."
        await self._refresh(principal)
