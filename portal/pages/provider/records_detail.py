"""One record as a provider sees it, on the Results and the patient's Records screens: its facts,
each lab value with its flag in words, range and trend (the shared parts of
`portal.components.records`), whether it is released and reviewed, the document's download, and
the "Mark reviewed" form with an optional comment for the patient."""

from __future__ import annotations

import reflex as rx

from portal import routes
from portal.components.feedback import error_alert
from portal.components.messages import character_counter
from portal.components.records import (
    facts_list,
    lab_value_block,
    outside_range_badge,
    reviewed_badge,
)

COMMENT_LIMIT = 2000


def records_link(patient_id: rx.Var[str]) -> rx.Var[str]:
    return f"{routes.PROVIDER_RECORDS}?patient={patient_id}"


def state_badges(line_or_detail: rx.Var, *, flagged: rx.Var[bool] | bool = False) -> rx.Component:
    """Released or held, reviewed or not, in words (a `RecordLine` or `RecordDetail` var)."""
    return rx.hstack(
        rx.cond(flagged, outside_range_badge()),
        rx.cond(
            line_or_detail.released,
            rx.badge("Released to the patient", color_scheme="gray", high_contrast=True),
            rx.badge(
                rx.icon("eye-off", size=14, aria_hidden="true"),
                "Held: not released to the patient yet",
                color_scheme="amber",
                high_contrast=True,
            ),
        ),
        spacing="2",
        wrap="wrap",
    )


def record_detail(
    detail: rx.Var,
    *,
    reviewed: rx.Var[bool],
    on_close: rx.EventHandler,
    review: rx.Component,
) -> rx.Component:
    """The open record (a `RecordDetail` var); `review` is shown while it is not reviewed."""
    return rx.vstack(
        rx.hstack(
            rx.heading(detail.title, as_="h2", size="5", id="record-title"),
            rx.spacer(),
            rx.button(
                "Close",
                on_click=on_close,
                variant="soft",
                color_scheme="gray",
                high_contrast=True,
                aria_label=f"Close {detail.title}",
            ),
            width="100%",
            align="center",
        ),
        rx.text(
            f"{detail.kind_label} · {detail.day}",
            rx.cond(detail.provider != "", f" · {detail.provider}", ""),
            size="2",
            color_scheme="gray",
        ),
        rx.hstack(
            state_badges(detail),
            rx.cond(reviewed, reviewed_badge(detail.reviewed_by)),
            spacing="2",
            wrap="wrap",
        ),
        rx.cond(
            detail.review_comment != "",
            rx.text(f"Comment for the patient: {detail.review_comment}", size="2"),
        ),
        facts_list(detail.facts),
        rx.cond(
            detail.lab_values.length() > 0,
            rx.box(rx.foreach(detail.lab_values, lab_value_block), width="100%"),
        ),
        rx.cond(
            detail.has_document,
            rx.el.a(
                rx.icon("paperclip", size=14, aria_hidden="true"),
                " Download the document",
                href=f"{routes.RECORD_FILES}/{detail.id}/document",
                target="_blank",
                rel="noopener",
                style={"color": "var(--accent-11)", "text_decoration": "underline"},
            ),
        ),
        rx.cond(reviewed, rx.fragment(), review),
        spacing="3",
        width="100%",
        role="region",
        aria_labelledby="record-title",
        padding="1rem",
        border="1px solid var(--gray-a6)",
        border_radius="var(--radius-3)",
        background="var(--color-panel-solid)",
    )


def review_form(
    *,
    on_submit: rx.EventHandler,
    on_typed: rx.EventHandler,
    comment: rx.Var[str],
    error: rx.Var[str],
    pending: rx.Var[bool],
    form_id: str,
) -> rx.Component:
    """ "Mark reviewed" with an optional comment for the patient and a live character count."""
    comment_id, counter_id, error_id = (
        f"{form_id}-comment",
        f"{form_id}-counter",
        f"{form_id}-error",
    )
    return rx.form(
        rx.vstack(
            rx.heading("Review", as_="h3", size="3"),
            rx.el.label(
                "Comment for the patient (optional)", html_for=comment_id, font_weight="500"
            ),
            rx.text(
                "The patient reads it beside the result, with your name.",
                size="2",
                color_scheme="gray",
            ),
            rx.text_area(
                id=comment_id,
                name="comment",
                value=comment,
                on_change=on_typed,
                rows="3",
                width="100%",
                aria_invalid=rx.cond(error != "", "true", "false"),
                aria_describedby=f"{counter_id} {error_id}",
            ),
            character_counter(comment.length(), COMMENT_LIMIT, element_id=counter_id),
            error_alert(error, element_id=error_id),
            rx.button(
                rx.cond(pending, "Saving…", "Mark reviewed"),
                type="submit",
                loading=pending,
                size="3",
                high_contrast=True,
            ),
            spacing="2",
            width="100%",
            max_width="40rem",
        ),
        on_submit=on_submit,
        width="100%",
    )
