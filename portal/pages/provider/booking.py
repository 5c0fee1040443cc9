"""Booking a visit on a patient's behalf: find them by last name and date of birth, choose the
kind of visit and one of the provider's free times."""

from __future__ import annotations

import reflex as rx

from portal.backend.views import PatientMatch
from portal.components.feedback import error_alert, notice
from portal.components.forms import field, form, reason_field, select_field, submit
from portal.pages.provider.schedule_state import BookingState, ScheduleState
from portal.pages.provider.time_choices import time_choices

ERROR_ID = "booking-error"


def booking_panel() -> rx.Component:
    return rx.vstack(
        error_alert(BookingState.error, element_id=ERROR_ID),
        rx.cond(BookingState.message != "", notice(BookingState.message)),
        rx.cond(BookingState.patient, visit_and_time(), patient_search()),
        spacing="3",
        width="100%",
    )


def patient_search() -> rx.Component:
    has_error = BookingState.error != ""
    return rx.vstack(
        form(
            field("Last name", "last_name", error_id=ERROR_ID, has_error=has_error),
            field(
                "Date of birth",
                "date_of_birth",
                kind="date",
                error_id=ERROR_ID,
                has_error=has_error,
            ),
            on_submit=BookingState.find_patient,
            button="Find the patient",
            busy="Finding…",
            pending=BookingState.pending,
            max_width="24rem",
        ),
        rx.cond(
            BookingState.matches.length() > 0,
            rx.el.ul(
                rx.foreach(BookingState.matches, patient_match),
                aria_label="Patients found",
                style={"list_style": "none", "padding": 0, "width": "100%"},
            ),
        ),
        spacing="3",
        width="100%",
    )


def patient_match(match: PatientMatch) -> rx.Component:
    return rx.el.li(
        rx.hstack(
            rx.text(
                rx.text.strong(match.name),
                f", born {match.date_of_birth}, record {match.medical_record_number}",
            ),
            rx.spacer(),
            rx.button(
                "Choose",
                on_click=BookingState.choose_patient(match.id),
                variant="soft",
                high_contrast=True,
                aria_label=f"Choose {match.name}",
            ),
            align="center",
            wrap="wrap",
            width="100%",
        ),
        padding_y="0.5rem",
        border_bottom="1px solid var(--gray-a4)",
    )


def visit_and_time() -> rx.Component:
    patient = BookingState.patient
    has_error = BookingState.error != ""
    return rx.vstack(
        rx.hstack(
            rx.text(
                "Booking for ",
                rx.text.strong(patient.name),
                f", born {patient.date_of_birth}, record {patient.medical_record_number}.",
            ),
            rx.spacer(),
            rx.button(
                "Choose another patient",
                on_click=BookingState.choose_another_patient,
                variant="soft",
                high_contrast=True,
            ),
            align="center",
            wrap="wrap",
            width="100%",
        ),
        form(
            select_field(
                "Kind of visit",
                "visit_type",
                BookingState.visit_types,
                error_id=ERROR_ID,
                has_error=has_error,
                blank="Choose a kind of visit",
            ),
            field(
                "First day to look at",
                "week_from",
                kind="date",
                default_value=ScheduleState.day,
                error_id=ERROR_ID,
                has_error=has_error,
            ),
            on_submit=BookingState.show_times,
            button="Show free times",
            busy="Looking…",
            pending=BookingState.pending,
            max_width="24rem",
        ),
        rx.cond(
            BookingState.times_week != "",
            rx.form(
                rx.vstack(
                    rx.heading(f"Free times: {BookingState.visit_type}", as_="h3", size="3"),
                    time_choices(BookingState),
                    reason_field(
                        "Reason for the visit (optional)",
                        "booking_reason",
                        error_id=ERROR_ID,
                        has_error=has_error,
                    ),
                    rx.box(
                        submit("Book the appointment", BookingState.pending, "Booking…"),
                        max_width="24rem",
                        width="100%",
                    ),
                    spacing="3",
                    width="100%",
                ),
                on_submit=BookingState.book,
                width="100%",
            ),
        ),
        spacing="3",
        width="100%",
    )
