"""One patient's records for the care team (`/provider/records?patient=<id>`): every kind, held
(unreleased) records included, with their released and reviewed state; one record open; and
the quick-add form of the kind in view, which also corrects a record."""

from __future__ import annotations

import reflex as rx

from portal import routes
from portal.backend.security.principal import Role
from portal.backend.views import RECORD_KIND_LABELS, RecordLine
from portal.components.cards import section
from portal.components.chart import break_glass_form, emergency_banner
from portal.components.feedback import empty_state, notice
from portal.layout import loading, portal_page
from portal.pages.provider.records_detail import record_detail, review_form, state_badges
from portal.pages.provider.records_fields import KIND_NAMES
from portal.pages.provider.records_forms import entry_form
from portal.pages.provider.records_state import RecordsState

COLUMNS = ("Record", "Date", "Details", "State", "Actions")


@portal_page(
    routes.PROVIDER_RECORDS, title="Patient records", role=Role.PROVIDER, on_load=RecordsState.load
)
def records_page() -> rx.Component:
    return rx.cond(
        RecordsState.loaded,
        rx.cond(
            RecordsState.missing,
            not_available(),
            rx.cond(
                RecordsState.needs_reason,
                break_glass_form(
                    on_submit=RecordsState.break_glass,
                    error=RecordsState.reason_error,
                    pending=RecordsState.pending,
                ),
                patient_records(),
            ),
        ),
        loading(),
    )


def not_available() -> rx.Component:
    return rx.vstack(
        rx.heading("Patient records", as_="h1", size="7"),
        empty_state(
            "This patient is not available",
            "The link may be incomplete, or the patient is not one of your practice's.",
        ),
        rx.link("Results to review", href=routes.PROVIDER_RESULTS, high_contrast=True),
        spacing="4",
        width="100%",
    )


def patient_records() -> rx.Component:
    return rx.vstack(
        rx.heading(f"Records of {RecordsState.patient_name}", as_="h1", size="7"),
        rx.cond(
            RecordsState.emergency_until != "",
            emergency_banner(RecordsState.emergency_until),
        ),
        rx.hstack(
            rx.link(
                "Back to the chart",
                href=routes.patient_chart(RecordsState.patient_id),
                high_contrast=True,
            ),
            rx.link("Results to review", href=routes.PROVIDER_RESULTS, high_contrast=True),
            spacing="4",
            wrap="wrap",
        ),
        kind_choice(),
        rx.cond(RecordsState.message != "", notice(RecordsState.message)),
        rx.cond(
            RecordsState.detail,
            record_detail(
                RecordsState.detail,
                reviewed=RecordsState.detail.reviewed_by != "",
                on_close=RecordsState.close_record,
                review=review_form(
                    on_submit=RecordsState.mark_reviewed,
                    on_typed=RecordsState.typed_comment,
                    comment=RecordsState.comment,
                    error=RecordsState.comment_error,
                    pending=RecordsState.pending,
                    form_id="record-review",
                ),
            ),
        ),
        rx.cond(
            RecordsState.listing,
            section(RecordsState.listing.label, record_table(), heading_id="record-list"),
        ),
        rx.card(
            rx.vstack(
                rx.heading(
                    rx.cond(
                        RecordsState.correcting != "",
                        "Correct a record",
                        rx.match(
                            RecordsState.kind,
                            *[(kind, f"Add a {name}") for kind, name in KIND_NAMES.items()],
                            "Add a record",
                        ),
                    ),
                    as_="h2",
                    size="4",
                    id="record-form",
                ),
                entry_form(),
                spacing="3",
                width="100%",
            ),
            role="region",
            aria_labelledby="record-form",
            width="100%",
        ),
        spacing="4",
        width="100%",
    )


def kind_choice() -> rx.Component:
    return rx.el.nav(
        rx.flex(
            *[
                rx.button(
                    label,
                    on_click=RecordsState.show_kind(kind),
                    variant=rx.cond(RecordsState.kind == kind, "solid", "soft"),
                    aria_pressed=rx.cond(RecordsState.kind == kind, "true", "false"),
                    high_contrast=True,
                    size="2",
                )
                for kind, label in RECORD_KIND_LABELS.items()
            ],
            gap="0.5rem",
            wrap="wrap",
        ),
        aria_label="Kinds of record",
    )


def record_table() -> rx.Component:
    listing = RecordsState.listing
    return rx.cond(
        listing.lines.length() > 0,
        rx.box(
            rx.table.root(
                rx.table.header(
                    rx.table.row(*[rx.table.column_header_cell(c, scope="col") for c in COLUMNS])
                ),
                rx.table.body(rx.foreach(listing.lines, record_row)),
                variant="surface",
                width="100%",
            ),
            overflow_x="auto",
            width="100%",
        ),
        empty_state("Nothing recorded yet", "Add one with the form below."),
    )


def record_row(line: RecordLine) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(line.title),
        rx.table.cell(line.day),
        rx.table.cell(
            rx.text(line.summary),
            rx.cond(line.provider != "", rx.text(line.provider, size="1", color_scheme="gray")),
        ),
        rx.table.cell(
            state_badges(line, flagged=line.flagged),
            rx.cond(
                line.reviewed,
                rx.badge("Reviewed", color_scheme="grass", high_contrast=True),
                rx.badge("Not reviewed", color_scheme="gray", high_contrast=True),
            ),
        ),
        rx.table.cell(
            rx.hstack(
                rx.button(
                    "Open",
                    on_click=RecordsState.open_record(line.id),
                    size="1",
                    high_contrast=True,
                    aria_label=f"Open {line.title}, {line.day}",
                ),
                rx.cond(
                    line.kind != "document",
                    rx.button(
                        "Correct",
                        on_click=RecordsState.start_correction(line.id),
                        size="1",
                        variant="soft",
                        high_contrast=True,
                        aria_label=f"Correct {line.title}, {line.day}",
                    ),
                ),
                spacing="2",
            )
        ),
    )
