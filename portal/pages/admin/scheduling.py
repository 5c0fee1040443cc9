"""The practice's scheduling settings, for admins: visit types, holidays and reminder times."""

from __future__ import annotations

import reflex as rx

from portal import routes
from portal.backend.security.principal import Role
from portal.backend.views import MODALITY_LABELS, ExceptionLine, SchedulingSettings, VisitTypeRow
from portal.components.cards import section
from portal.components.feedback import empty_state, error_alert, notice
from portal.components.forms import field, form, select_field
from portal.layout import loading, portal_page
from portal.pages.admin.scheduling_state import NUMBERS, SchedulingSettingsState

VISIT_TYPE_ERROR_ID = "visit-type-error"
HOLIDAY_ERROR_ID = "holiday-error"
REMINDER_ERROR_ID = "reminder-error"
BOOKABLE_BY = {"all": "Everyone", "new": "New patients", "established": "Existing patients"}


@portal_page(
    routes.ADMIN_SCHEDULING,
    title="Scheduling",
    role=Role.ADMIN,
    on_load=SchedulingSettingsState.load,
)
def scheduling_page() -> rx.Component:
    settings = SchedulingSettingsState.settings
    return rx.cond(
        settings,
        rx.vstack(
            rx.heading("Scheduling", as_="h1", size="7"),
            section("Visit types", visit_types(settings), heading_id="visit-types"),
            section("Holidays", holidays(settings), heading_id="holidays"),
            section("Reminders", reminders(settings), heading_id="reminders"),
            spacing="4",
            width="100%",
        ),
        loading(),
    )


def table(columns: tuple[str, ...], body: rx.Component) -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(
                rx.table.row(*[rx.table.column_header_cell(c, scope="col") for c in columns])
            ),
            rx.table.body(body),
            variant="surface",
            width="100%",
        ),
        overflow_x="auto",
        width="100%",
    )


def visit_types(settings: SchedulingSettings) -> rx.Component:
    state = SchedulingSettingsState
    return rx.vstack(
        rx.cond(state.visit_type_message != "", notice(state.visit_type_message)),
        rx.cond(
            settings.visit_types.length() > 0,
            table(
                ("Name", "How", "Length", "Who may book", "Approval", "Offered", "Action"),
                rx.foreach(settings.visit_types, visit_type_row),
            ),
            empty_state("No visit types yet", "The kinds of visit patients can book appear here."),
        ),
        rx.cond(
            state.editing,
            visit_type_form(state.editing),
            rx.button(
                "New visit type", on_click=state.new_visit_type, variant="soft", high_contrast=True
            ),
        ),
        spacing="3",
        width="100%",
    )


def visit_type_row(row: VisitTypeRow) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(row.name),
        rx.table.cell(rx.match(row.modality, *MODALITY_LABELS.items(), "")),
        rx.table.cell(f"{row.duration_minutes} min"),
        rx.table.cell(rx.match(row.bookable_by, *BOOKABLE_BY.items(), "")),
        rx.table.cell(rx.cond(row.requires_approval, "Needs approval", "Booked at once")),
        rx.table.cell(rx.cond(row.active, "Offered", "Not offered")),
        rx.table.cell(
            rx.button(
                "Edit",
                on_click=SchedulingSettingsState.edit(row.id),
                size="1",
                variant="soft",
                high_contrast=True,
                aria_label=f"Edit {row.name}",
            )
        ),
    )


def visit_type_form(kind: VisitTypeRow) -> rx.Component:
    has_error = SchedulingSettingsState.visit_type_error != ""

    def number(key: str, label: str, hint: str) -> rx.Component:
        return field(
            label,
            key,
            kind="number",
            input_mode="numeric",
            hint=hint,
            default_value=getattr(kind, key).to_string(),
            error_id=VISIT_TYPE_ERROR_ID,
            has_error=has_error,
        )

    return rx.vstack(
        rx.heading(
            rx.cond(kind.id == "", "New visit type", f"Edit {kind.name}"), as_="h3", size="3"
        ),
        error_alert(SchedulingSettingsState.visit_type_error, element_id=VISIT_TYPE_ERROR_ID),
        form(
            rx.grid(
                field(
                    "Name",
                    "name",
                    max_length=120,
                    default_value=kind.name,
                    error_id=VISIT_TYPE_ERROR_ID,
                    has_error=has_error,
                ),
                select_field(
                    "How",
                    "modality",
                    list(MODALITY_LABELS.items()),
                    default_value=kind.modality,
                    error_id=VISIT_TYPE_ERROR_ID,
                    has_error=has_error,
                ),
                *[number(*entry) for entry in NUMBERS],
                select_field(
                    "Who may book it online",
                    "bookable_by",
                    list(BOOKABLE_BY.items()),
                    default_value=kind.bookable_by,
                    error_id=VISIT_TYPE_ERROR_ID,
                    has_error=has_error,
                ),
                columns=rx.breakpoints(initial="1", sm="2"),
                spacing="3",
                width="100%",
            ),
            rx.checkbox(
                "Patients' bookings wait for the provider's approval",
                name="requires_approval",
                default_checked=kind.requires_approval,
            ),
            rx.checkbox("Offered for booking", name="active", default_checked=kind.active),
            long_text("Cancellation policy shown to patients", "policy_text", kind.policy_text),
            long_text("How to prepare", "preparation_text", kind.preparation_text),
            on_submit=SchedulingSettingsState.save_visit_type,
            button="Save the visit type",
            busy="Saving…",
            pending=SchedulingSettingsState.pending,
            max_width="40rem",
        ),
        rx.button(
            "Close without saving",
            on_click=SchedulingSettingsState.close_editor,
            variant="soft",
            high_contrast=True,
        ),
        key=kind.id,
        spacing="3",
        width="100%",
    )


def long_text(label: str, name: str, text: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=name, font_weight="500"),
        rx.text_area(
            id=name, name=name, default_value=text, max_length=2000, rows="4", width="100%"
        ),
        spacing="1",
        width="100%",
    )


def holidays(settings: SchedulingSettings) -> rx.Component:
    state = SchedulingSettingsState
    has_error = state.holiday_error != ""
    return rx.vstack(
        rx.cond(
            settings.holidays.length() > 0,
            table(("Holiday", "When", "Action"), rx.foreach(settings.holidays, holiday_row)),
            empty_state(
                "No holidays coming up",
                "Days the practice is closed appear here; no one can book them.",
            ),
        ),
        rx.heading("Add a holiday", as_="h3", size="3"),
        error_alert(state.holiday_error, element_id=HOLIDAY_ERROR_ID),
        rx.cond(state.holiday_message != "", notice(state.holiday_message)),
        rx.box(
            form(
                field(
                    "Name",
                    "holiday_name",
                    max_length=200,
                    hint="For example Thanksgiving.",
                    error_id=HOLIDAY_ERROR_ID,
                    has_error=has_error,
                ),
                field(
                    "First day",
                    "holiday_first",
                    kind="date",
                    error_id=HOLIDAY_ERROR_ID,
                    has_error=has_error,
                ),
                field(
                    "Last day (optional)",
                    "holiday_last",
                    kind="date",
                    hint="Leave empty for a single day.",
                    error_id=HOLIDAY_ERROR_ID,
                    has_error=has_error,
                ),
                on_submit=state.add_holiday,
                button="Add the holiday",
                busy="Adding…",
                pending=SchedulingSettingsState.pending,
                max_width="24rem",
            ),
            key=state.holidays_added,
            width="100%",
        ),
        spacing="3",
        width="100%",
    )


def holiday_row(line: ExceptionLine) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(line.note),
        rx.table.cell(line.when),
        rx.table.cell(
            rx.button(
                "Remove",
                on_click=SchedulingSettingsState.remove_holiday(line.id),
                size="1",
                variant="soft",
                high_contrast=True,
                color_scheme="red",
                aria_label=f"Remove {line.note}",
            )
        ),
    )


def reminders(settings: SchedulingSettings) -> rx.Component:
    state = SchedulingSettingsState
    return rx.vstack(
        error_alert(state.reminder_error, element_id=REMINDER_ERROR_ID),
        rx.cond(state.reminder_message != "", notice(state.reminder_message)),
        form(
            field(
                "Reminder times (minutes before the visit)",
                "reminder_minutes",
                default_value=settings.reminder_minutes_before,
                hint="Separate times with commas: 1440,60 sends one reminder a day before each "
                "visit and another an hour before. Leave empty to send none.",
                error_id=REMINDER_ERROR_ID,
                has_error=state.reminder_error != "",
            ),
            on_submit=state.save_reminder_times,
            button="Save reminder times",
            busy="Saving…",
            pending=SchedulingSettingsState.pending,
            max_width="24rem",
        ),
        spacing="3",
        width="100%",
    )
