"""The provider's working hours: weekly hours, time off and extra clinics, and a preview of the
free times they give over the next two weeks (shown again after every change)."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx

from portal import routes
from portal.backend.security.principal import Role
from portal.backend.services.clinic_schedule import WEEKDAYS
from portal.backend.views import ExceptionLine, HoursLine, PreviewDay, WorkingHours
from portal.components.cards import section
from portal.components.feedback import empty_state, error_alert, notice
from portal.components.forms import field, form, select_field
from portal.layout import loading, portal_page
from portal.pages.provider.hours_state import EXCEPTION_KINDS, HoursState

HOURS_ERROR_ID = "hours-error"
EXCEPTION_ERROR_ID = "exception-error"


@portal_page(
    routes.PROVIDER_HOURS, title="Working hours", role=Role.PROVIDER, on_load=HoursState.load
)
def hours_page() -> rx.Component:
    view = HoursState.view
    return rx.cond(
        view,
        rx.vstack(
            rx.heading("Working hours", as_="h1", size="7"),
            rx.text(
                "Patients can book the free times these hours give, less holidays, time off and "
                "visits already booked.",
                color_scheme="gray",
            ),
            section("Weekly hours", weekly_hours(view), heading_id="weekly-hours"),
            section("Time off and extra clinics", exceptions(view), heading_id="exceptions"),
            section("Free times in the next two weeks", preview(view), heading_id="preview"),
            spacing="4",
            width="100%",
        ),
        loading(),
    )


def table(
    columns: tuple[str, ...], rows: rx.Var, row: Callable[[rx.Var], rx.Component]
) -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(
                rx.table.row(*[rx.table.column_header_cell(c, scope="col") for c in columns])
            ),
            rx.table.body(rx.foreach(rows, row)),
            variant="surface",
            width="100%",
        ),
        overflow_x="auto",
        width="100%",
    )


def remove_button(label: rx.Var, on_click: rx.event.EventSpec) -> rx.Component:
    return rx.button(
        "Remove",
        on_click=on_click,
        size="1",
        variant="soft",
        high_contrast=True,
        color_scheme="red",
        aria_label=label,
    )


def weekly_hours(view: WorkingHours) -> rx.Component:
    has_error = HoursState.hours_error != ""
    return rx.vstack(
        rx.cond(
            view.hours.length() > 0,
            table(("Day", "Hours", "Where", "When", "Action"), view.hours, hours_row),
            empty_state(
                "No weekly hours",
                "The hours you work each week will appear here; add them below.",
            ),
        ),
        rx.heading("Add weekly hours", as_="h3", size="3"),
        error_alert(HoursState.hours_error, element_id=HOURS_ERROR_ID),
        rx.cond(HoursState.hours_message != "", notice(HoursState.hours_message)),
        rx.box(
            form(
                rx.grid(
                    select_field(
                        "Day of the week",
                        "weekday",
                        [(str(number), name) for number, name in enumerate(WEEKDAYS)],
                        error_id=HOURS_ERROR_ID,
                        has_error=has_error,
                    ),
                    select_field(
                        "Where",
                        "hours_location",
                        view.locations,
                        error_id=HOURS_ERROR_ID,
                        has_error=has_error,
                    ),
                    time_field("Start", "hours_start", HOURS_ERROR_ID, has_error),
                    time_field("End", "hours_end", HOURS_ERROR_ID, has_error),
                    field(
                        "First day",
                        "hours_from",
                        kind="date",
                        default_value=HoursState.first_day,
                        error_id=HOURS_ERROR_ID,
                        has_error=has_error,
                    ),
                    field(
                        "Last day (optional)",
                        "hours_until",
                        kind="date",
                        hint="Leave empty to keep these hours every week.",
                        error_id=HOURS_ERROR_ID,
                        has_error=has_error,
                    ),
                    columns=rx.breakpoints(initial="1", sm="2"),
                    spacing="3",
                    width="100%",
                ),
                on_submit=HoursState.add_hours,
                button="Add these hours",
                busy="Adding…",
                pending=HoursState.pending,
                max_width="36rem",
            ),
            key=HoursState.hours_added,
            width="100%",
        ),
        spacing="3",
        width="100%",
    )


def time_field(label: str, name: str, error_id: str, has_error: rx.Var[bool]) -> rx.Component:
    return field(label, name, kind="time", error_id=error_id, has_error=has_error)


def hours_row(line: HoursLine) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(line.weekday),
        rx.table.cell(line.hours),
        rx.table.cell(line.location),
        rx.table.cell(line.effective),
        rx.table.cell(
            remove_button(f"Remove {line.weekday} {line.hours}", HoursState.remove_hours(line.id))
        ),
    )


def exceptions(view: WorkingHours) -> rx.Component:
    has_error = HoursState.exception_error != ""
    return rx.vstack(
        rx.cond(
            view.exceptions.length() > 0,
            table(("What", "When", "Note", "Action"), view.exceptions, exception_row),
            empty_state(
                "No time off or extra clinics coming up",
                "Your time off and extra clinics from today on will appear here.",
            ),
        ),
        rx.heading("Add time off or an extra clinic", as_="h3", size="3"),
        error_alert(HoursState.exception_error, element_id=EXCEPTION_ERROR_ID),
        rx.cond(HoursState.exception_message != "", notice(HoursState.exception_message)),
        rx.box(
            form(
                rx.grid(
                    select_field(
                        "What",
                        "exception_kind",
                        EXCEPTION_KINDS,
                        error_id=EXCEPTION_ERROR_ID,
                        has_error=has_error,
                    ),
                    field(
                        "Day",
                        "exception_day",
                        kind="date",
                        error_id=EXCEPTION_ERROR_ID,
                        has_error=has_error,
                    ),
                    time_field("From", "exception_start", EXCEPTION_ERROR_ID, has_error),
                    time_field("Until", "exception_end", EXCEPTION_ERROR_ID, has_error),
                    select_field(
                        "Where (extra clinic only)",
                        "exception_location",
                        view.locations,
                        error_id=EXCEPTION_ERROR_ID,
                        has_error=has_error,
                        blank="Not needed for time off",
                    ),
                    field(
                        "Note (optional)",
                        "exception_note",
                        max_length=200,
                        error_id=EXCEPTION_ERROR_ID,
                        has_error=has_error,
                    ),
                    columns=rx.breakpoints(initial="1", sm="2"),
                    spacing="3",
                    width="100%",
                ),
                on_submit=HoursState.add_exception,
                button="Add",
                busy="Adding…",
                pending=HoursState.pending,
                max_width="36rem",
            ),
            key=HoursState.exceptions_added,
            width="100%",
        ),
        spacing="3",
        width="100%",
    )


def exception_row(line: ExceptionLine) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(line.kind),
        rx.table.cell(line.when),
        rx.table.cell(line.note),
        rx.table.cell(
            remove_button(f"Remove {line.kind} {line.when}", HoursState.remove_exception(line.id))
        ),
    )


def preview(view: WorkingHours) -> rx.Component:
    return rx.vstack(
        rx.box(
            select_field(
                "Kind of visit to preview",
                "preview_type",
                view.visit_types,
                on_change=HoursState.preview_for,
            ),
            max_width="24rem",
            width="100%",
        ),
        rx.text(f"Free times for the {view.preview_type}, from today.", size="2"),
        rx.cond(
            view.preview.length() > 0,
            table(("Day", "Free times", "First", "Last"), view.preview, preview_row),
            empty_state(
                "No free times in the next two weeks",
                "Days with free times will appear here once you add weekly hours or an extra "
                "clinic.",
            ),
        ),
        spacing="3",
        width="100%",
    )


def preview_row(day: PreviewDay) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(day.day),
        rx.table.cell(day.free),
        rx.table.cell(day.first),
        rx.table.cell(day.last),
    )
