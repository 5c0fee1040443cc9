"""The provider's schedule: a day or a week of appointments with what can be done to each,
booking for a patient, the waitlist's figures and recent late cancellations and missed visits."""

from __future__ import annotations

import reflex as rx

from portal import routes
from portal.backend.security.principal import Role
from portal.backend.views import AttendanceLine, CalendarDay, CalendarLine, ClinicCalendar
from portal.components.cards import figure, section
from portal.components.feedback import empty_state, error_alert, notice
from portal.layout import loading, portal_page
from portal.pages.provider.appointment_dialog import action_dialog
from portal.pages.provider.booking import booking_panel
from portal.pages.provider.schedule_state import ScheduleState

ERROR_ID = "schedule-error"
COLUMNS = ("Time", "Patient", "Visit", "How", "Where", "Status", "Actions")


@portal_page(
    routes.PROVIDER_SCHEDULE, title="Schedule", role=Role.PROVIDER, on_load=ScheduleState.load
)
def schedule_page() -> rx.Component:
    data = ScheduleState.calendar
    return rx.cond(
        data,
        rx.vstack(
            rx.heading("Schedule", as_="h1", size="7"),
            rx.text(data.provider_name, color_scheme="gray"),
            figures(data),
            section("Appointments", appointments(data), heading_id="appointments"),
            section("Book for a patient", booking_panel(), heading_id="book"),
            section(
                "Late cancellations and missed visits (last 90 days)",
                attendance(data),
                heading_id="attendance",
            ),
            action_dialog(),
            spacing="4",
            width="100%",
        ),
        loading(),
    )


def figures(data: ClinicCalendar) -> rx.Component:
    return rx.hstack(
        figure("requests waiting for approval", data.requests),
        figure("patients waiting for an earlier time", data.waitlist_waiting),
        figure("earlier times offered (90 days)", data.offers_made),
        figure("offers accepted", data.offers_accepted),
        figure("fill rate of offers", data.fill_rate),
        spacing="6",
        wrap="wrap",
    )


def appointments(data: ClinicCalendar) -> rx.Component:
    return rx.vstack(
        view_controls(),
        rx.cond(ScheduleState.week, rx.text(ScheduleState.week_range, weight="medium")),
        error_alert(ScheduleState.error, element_id=ERROR_ID),
        rx.cond(ScheduleState.message != "", notice(ScheduleState.message)),
        rx.foreach(data.days, calendar_day),
        spacing="3",
        width="100%",
    )


def view_controls() -> rx.Component:
    week = ScheduleState.week
    return rx.hstack(
        rx.hstack(
            rx.button(
                "Day",
                on_click=ScheduleState.show_day,
                variant=rx.cond(week, "outline", "solid"),
                high_contrast=True,
                aria_pressed=rx.cond(week, "false", "true"),
            ),
            rx.button(
                "Week",
                on_click=ScheduleState.show_week,
                variant=rx.cond(week, "solid", "outline"),
                high_contrast=True,
                aria_pressed=rx.cond(week, "true", "false"),
            ),
            role="group",
            aria_label="View",
            spacing="1",
        ),
        rx.hstack(
            rx.button(
                rx.cond(week, "Previous week", "Previous day"),
                on_click=ScheduleState.earlier,
                variant="soft",
                high_contrast=True,
            ),
            rx.button(
                "Today", on_click=ScheduleState.show_today, variant="soft", high_contrast=True
            ),
            rx.button(
                rx.cond(week, "Next week", "Next day"),
                on_click=ScheduleState.later,
                variant="soft",
                high_contrast=True,
            ),
            spacing="1",
        ),
        justify="between",
        wrap="wrap",
        width="100%",
    )


def calendar_day(day: CalendarDay) -> rx.Component:
    return rx.vstack(
        rx.heading(day.day, as_="h3", size="3"),
        rx.cond(
            day.lines.length() > 0,
            rx.box(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            *[rx.table.column_header_cell(c, scope="col") for c in COLUMNS]
                        )
                    ),
                    rx.table.body(rx.foreach(day.lines, appointment_row)),
                    variant="surface",
                    width="100%",
                ),
                overflow_x="auto",
                width="100%",
            ),
            empty_state(
                "No appointments", "Booked visits and requests for this day will appear here."
            ),
        ),
        spacing="2",
        width="100%",
    )


def appointment_row(line: CalendarLine) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(line.time, " to ", line.end_time, white_space="nowrap"),
        rx.table.cell(line.patient),
        rx.table.cell(line.appointment_type),
        rx.table.cell(line.modality),
        rx.table.cell(rx.cond(line.location != "", line.location, "—")),
        rx.table.cell(
            rx.flex(
                rx.badge(line.status, variant="soft", high_contrast=True),
                rx.cond(
                    line.attendance != "",
                    rx.badge(line.attendance, color_scheme="orange", high_contrast=True),
                ),
                wrap="wrap",
                gap="0.25rem",
            )
        ),
        rx.table.cell(line_actions(line)),
    )


def line_actions(line: CalendarLine) -> rx.Component:
    return rx.flex(
        rx.cond(
            line.requested,
            rx.fragment(
                action_button("Approve", line, ScheduleState.approve(line.id)),
                action_button("Decline", line, ScheduleState.open_action("decline", line.id)),
            ),
        ),
        rx.cond(
            line.can_check_in, action_button("Check in", line, ScheduleState.check_in(line.id))
        ),
        rx.cond(
            line.can_mark_missed,
            action_button("Mark missed", line, ScheduleState.open_action("missed", line.id)),
        ),
        rx.cond(
            line.can_change,
            rx.fragment(
                action_button("Reschedule", line, ScheduleState.open_action("reschedule", line.id)),
                action_button("Cancel", line, ScheduleState.open_action("cancel", line.id)),
            ),
        ),
        wrap="wrap",
        gap="0.25rem",
    )


def action_button(text: str, line: CalendarLine, on_click: rx.event.EventSpec) -> rx.Component:
    """A row's action; its accessible name says whose appointment it acts on."""
    return rx.button(
        text,
        on_click=on_click,
        size="1",
        variant="soft",
        high_contrast=True,
        aria_label=f"{text}: {line.patient}, {line.time}",
    )


def attendance(data: ClinicCalendar) -> rx.Component:
    return rx.cond(
        data.attendance.length() > 0,
        rx.box(
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[
                            rx.table.column_header_cell(label, scope="col")
                            for label in ("Day", "Time", "Patient", "What happened")
                        ]
                    )
                ),
                rx.table.body(rx.foreach(data.attendance, attendance_row)),
                variant="surface",
                width="100%",
            ),
            overflow_x="auto",
            width="100%",
        ),
        empty_state(
            "No late cancellations or missed visits",
            "Visits cancelled inside the cutoff or missed in the last 90 days will appear here, "
            "with who caused them.",
        ),
    )


def attendance_row(line: AttendanceLine) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(line.day),
        rx.table.cell(line.time),
        rx.table.cell(line.patient),
        rx.table.cell(rx.badge(line.what, color_scheme="orange", high_contrast=True)),
    )
