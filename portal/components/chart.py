"""A patient's chart as providers and admins see it: the header, the tabs, and break-glass (the
form that asks for a reason, and the banner shown while the chart is open under a grant)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import reflex as rx

from portal.backend.services.patient_access import BREAK_GLASS_MINUTES, REASON_MAX, REASON_MIN
from portal.backend.views import ChartHeader
from portal.components.cards import detail_row
from portal.components.feedback import error_alert
from portal.components.forms import submit

BREAK_GLASS_EXPLANATION = (
    "This patient is not on your care teams and has no appointment with you. To open the chart "
    f"in an emergency, give a reason. Your access lasts {BREAK_GLASS_MINUTES} minutes, is "
    "recorded, and is reviewed by the practice's admins."
)
REASON_HINT = (
    f"In words, at least {REASON_MIN} characters: what happened and what you need from the "
    "chart. The practice's admins read it."
)


def chart_header(header: ChartHeader, *links: rx.Component) -> rx.Component:
    """Who the chart is about, the links beside the name, and the break-glass banner."""
    return rx.vstack(
        rx.heading(header.name, as_="h1", size="7"),
        rx.cond(header.emergency_until != "", emergency_banner(header.emergency_until)),
        *links,
        rx.flex(
            detail_row("Date of birth", f"{header.date_of_birth} (age {header.age})"),
            detail_row("MRN", header.medical_record_number),
            rx.cond(header.pronouns != "", detail_row("Pronouns", header.pronouns)),
            rx.cond(header.legal_name != "", detail_row("Legal name", header.legal_name)),
            gap="0.25rem 2rem",
            wrap="wrap",
        ),
        spacing="2",
        width="100%",
    )


def chart_tabs(tabs: Sequence[Any], value: rx.Var[str], on_change: rx.EventHandler) -> rx.Component:
    """The chart's tabs; each tab has a `key`, a `label` and a `panel()`."""
    return rx.tabs.root(
        rx.tabs.list(*[rx.tabs.trigger(tab.label, value=tab.key) for tab in tabs]),
        *[
            rx.tabs.content(tab.panel(), value=tab.key, padding_top="1rem", width="100%")
            for tab in tabs
        ],
        value=value,
        on_change=on_change,
        width="100%",
    )


def emergency_banner(until: rx.Var[str]) -> rx.Component:
    """Said in words (never by colour alone): the chart is open under break-glass."""
    return rx.callout.root(
        rx.callout.icon(rx.icon("siren")),
        rx.callout.text(
            rx.text.strong(f"Emergency access until {until}. "),
            "Everything you open is recorded and reviewed by the practice's admins.",
        ),
        color_scheme="amber",
        high_contrast=True,
        role="note",
        width="100%",
    )


def break_glass_form(
    *,
    on_submit: rx.EventHandler,
    error: rx.Var[str],
    pending: rx.Var[bool],
    explanation: str = BREAK_GLASS_EXPLANATION,
) -> rx.Component:
    """Why the chart is closed, and the reason that opens it in an emergency."""
    error_id = "break-glass-error"
    has_error = error != ""
    return rx.vstack(
        rx.heading("Emergency access", as_="h1", size="6"),
        rx.text(explanation),
        error_alert(error, element_id=error_id),
        rx.form(
            rx.vstack(
                reason_area(error_id=error_id, has_error=has_error),
                rx.box(
                    submit("Open the chart in an emergency", pending, "Opening…"),
                    max_width="24rem",
                    width="100%",
                ),
                spacing="3",
                width="100%",
            ),
            on_submit=on_submit,
            width="100%",
        ),
        spacing="3",
        width="100%",
        max_width="40rem",
    )


def reason_area(
    *, error_id: str, has_error: rx.Var[bool], element_id: str = "reason"
) -> rx.Component:
    """The labelled reason box (form field `reason`), tied to its hint and, when there is one,
    to the error."""
    hint_id = f"{element_id}-hint"
    return rx.vstack(
        rx.el.label("Reason for emergency access", html_for=element_id, font_weight="500"),
        rx.text(REASON_HINT, id=hint_id, size="2", color_scheme="gray"),
        rx.text_area(
            id=element_id,
            name="reason",
            max_length=REASON_MAX,
            rows="4",
            width="100%",
            aria_invalid=rx.cond(has_error, "true", "false"),
            aria_describedby=rx.cond(has_error, f"{hint_id} {error_id}", hint_id),
        ),
        spacing="1",
        width="100%",
    )
