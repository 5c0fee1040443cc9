"""Results to review: the lab results the provider ordered that nobody has reviewed yet, oldest
first; one opens with its values, ranges and flags, and "Mark reviewed" (with an optional
comment for the patient) takes it off the list and releases it when the practice held it."""

from __future__ import annotations

import reflex as rx

from portal import routes
from portal.backend.security.principal import Role
from portal.backend.views import RecordLine
from portal.components.cards import section
from portal.components.feedback import empty_state, error_alert, notice
from portal.layout import loading, portal_page
from portal.pages.provider.records_detail import (
    record_detail,
    records_link,
    review_form,
    state_badges,
)
from portal.pages.provider.results_state import ResultsState

COLUMNS = ("Patient and results", "Test", "Collected", "State", "Actions")


@portal_page(
    routes.PROVIDER_RESULTS, title="Results", role=Role.PROVIDER, on_load=ResultsState.load
)
def results_page() -> rx.Component:
    return rx.vstack(
        rx.heading("Results to review", as_="h1", size="7"),
        rx.text(
            "Lab results you ordered that nobody has reviewed yet, oldest first. Results the "
            "practice holds for review reach the patient when you mark them reviewed.",
            color_scheme="gray",
        ),
        rx.cond(
            ResultsState.loaded,
            rx.vstack(
                error_alert(ResultsState.error, element_id="results-error"),
                rx.cond(ResultsState.message != "", notice(ResultsState.message)),
                rx.cond(ResultsState.detail, open_result()),
                section("Waiting for review", result_table(), heading_id="waiting"),
                spacing="4",
                width="100%",
            ),
            loading(),
        ),
        spacing="4",
        width="100%",
    )


def open_result() -> rx.Component:
    detail = ResultsState.detail
    return rx.vstack(
        rx.link(
            "Open this patient's records",
            href=records_link(ResultsState.detail_patient_id),
            high_contrast=True,
        ),
        record_detail(
            detail,
            reviewed=detail.reviewed_by != "",
            on_close=ResultsState.close_result,
            review=review_form(
                on_submit=ResultsState.mark_reviewed,
                on_typed=ResultsState.typed_comment,
                comment=ResultsState.comment,
                error=ResultsState.comment_error,
                pending=ResultsState.pending,
                form_id="review",
            ),
        ),
        spacing="2",
        width="100%",
    )


def result_table() -> rx.Component:
    return rx.cond(
        ResultsState.lines.length() > 0,
        rx.box(
            rx.table.root(
                rx.table.header(
                    rx.table.row(*[rx.table.column_header_cell(c, scope="col") for c in COLUMNS])
                ),
                rx.table.body(rx.foreach(ResultsState.lines, result_row)),
                variant="surface",
                width="100%",
            ),
            overflow_x="auto",
            width="100%",
        ),
        empty_state(
            "Nothing to review",
            "Lab results you order appear here until you mark them reviewed.",
        ),
    )


def result_row(line: RecordLine) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(line.summary),
        rx.table.cell(line.title),
        rx.table.cell(line.day),
        rx.table.cell(state_badges(line, flagged=line.flagged)),
        rx.table.cell(
            rx.hstack(
                rx.button(
                    "Open",
                    on_click=ResultsState.open_result(line.id),
                    size="1",
                    high_contrast=True,
                    aria_label=f"Open {line.title}, {line.day}: {line.summary}",
                ),
                rx.link(
                    "Records",
                    href=records_link(line.patient_id),
                    size="2",
                    high_contrast=True,
                    aria_label=f"All records of the patient: {line.summary}",
                ),
                spacing="3",
                align="center",
            )
        ),
    )
