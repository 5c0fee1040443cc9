"""The dialog for an action on one appointment that needs answers first: declining a request,
cancelling, marking a visit missed, or moving it to another time."""

from __future__ import annotations

import reflex as rx

from portal.components.feedback import error_alert
from portal.components.forms import radio_field, reason_field
from portal.pages.provider.schedule_state import ScheduleState
from portal.pages.provider.time_choices import time_choices

ERROR_ID = "appointment-action-error"
TITLES = {
    "decline": "Decline the request",
    "cancel": "Cancel the appointment",
    "missed": "Mark the visit missed",
    "reschedule": "Move the appointment",
}


def action_dialog() -> rx.Component:
    line = ScheduleState.line
    return rx.dialog.root(
        rx.dialog.content(
            rx.vstack(
                rx.dialog.title(rx.match(ScheduleState.action, *TITLES.items(), "")),
                rx.dialog.description(
                    rx.cond(
                        line,
                        f"{line.patient}: {line.appointment_type}, {ScheduleState.line_day}, "
                        f"{line.time} to {line.end_time}.",
                        "",
                    )
                ),
                error_alert(ScheduleState.action_error, element_id=ERROR_ID),
                rx.match(
                    ScheduleState.action,
                    ("decline", decline_form()),
                    ("cancel", cancel_form()),
                    ("missed", missed_form()),
                    ("reschedule", move_form()),
                    rx.fragment(),
                ),
                spacing="3",
                width="100%",
            ),
            max_width="40rem",
        ),
        open=ScheduleState.action != "",
        on_open_change=ScheduleState.dialog_changed,
    )


def decline_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            reason_field(
                "Reason, for the patient's record",
                "reason",
                error_id=ERROR_ID,
                has_error=ScheduleState.action_error != "",
            ),
            buttons("Decline the request", "Keep the request"),
            spacing="3",
        ),
        on_submit=ScheduleState.decline,
    )


def cancel_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            reason_field(
                "Reason, for the patient's record",
                "reason",
                error_id=ERROR_ID,
                has_error=ScheduleState.action_error != "",
            ),
            radio_field(
                "Who is cancelling?",
                "caused_by",
                [("patient", "The patient"), ("clinic", "The clinic")],
            ),
            rx.text(
                "Inside the visit's cancellation cutoff this is recorded as a late cancellation, "
                "with who caused it. Staff see it; nothing happens to the patient because of it.",
                size="2",
                color_scheme="gray",
            ),
            buttons("Cancel the appointment", "Keep the appointment"),
            spacing="3",
        ),
        on_submit=ScheduleState.cancel,
    )


def missed_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            radio_field(
                "Who missed the visit?",
                "caused_by",
                [
                    ("patient", "The patient did not come"),
                    ("clinic", "The clinic could not see the patient"),
                ],
            ),
            buttons("Mark missed", "Keep it as booked"),
            spacing="3",
        ),
        on_submit=ScheduleState.mark_missed,
    )


def move_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            time_choices(ScheduleState),
            buttons("Move to the chosen time", "Keep the current time"),
            spacing="3",
            width="100%",
        ),
        on_submit=ScheduleState.move,
    )


def buttons(confirm: str, keep: str) -> rx.Component:
    pending = ScheduleState.pending
    return rx.flex(
        rx.button(
            keep,
            type="button",
            on_click=ScheduleState.keep_as_is,
            variant="soft",
            high_contrast=True,
        ),
        rx.button(
            rx.cond(pending, "Saving…", confirm), type="submit", loading=pending, high_contrast=True
        ),
        justify="end",
        wrap="wrap",
        gap="0.5rem",
        width="100%",
    )
