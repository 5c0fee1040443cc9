"""One medical record for the patient (facts, review, downloads, and for a lab result each value
with its range and trend), and the list of who at the practice viewed the record."""

from __future__ import annotations

import reflex as rx

from portal import routes
from portal.backend.security.principal import Role
from portal.backend.views import AccessLine
from portal.components.cards import section
from portal.components.feedback import empty_state
from portal.components.records import facts_list, lab_value_block, reviewed_badge
from portal.layout import loading, portal_page
from portal.pages.patient.records import download_link
from portal.pages.patient.records_state import AccessLogState, RecordDetailState


@portal_page(
    routes.RECORD_DETAIL, title="Medical record", role=Role.PATIENT, on_load=RecordDetailState.load
)
def record_detail() -> rx.Component:
    record = RecordDetailState.record
    return rx.vstack(
        rx.cond(
            record,
            rx.link(
                f"← All {record.kind_label.lower()}",
                href=f"{routes.RECORDS_LIST}?kind={record.kind}",
                color_scheme="gray",
                high_contrast=True,
            ),
            rx.link("← All records", href=routes.RECORDS, color_scheme="gray", high_contrast=True),
        ),
        rx.cond(
            record,
            rx.vstack(
                rx.heading(record.title, as_="h1", size="7"),
                rx.text(
                    record.day,
                    rx.cond(record.provider != "", f" · {record.provider}", ""),
                    color_scheme="gray",
                ),
                rx.cond(
                    record.reviewed_by != "",
                    rx.vstack(
                        reviewed_badge(record.reviewed_by),
                        rx.cond(
                            record.review_comment != "",
                            rx.callout(
                                rx.text(
                                    rx.text.strong(f"{record.reviewed_by} wrote: "),
                                    record.review_comment,
                                    white_space="pre-wrap",
                                ),
                                icon="message-square-text",
                                role="note",
                                high_contrast=True,
                                width="100%",
                            ),
                        ),
                        spacing="2",
                        width="100%",
                    ),
                ),
                section("Details", facts_list(record.facts), heading_id="record-facts"),
                rx.cond(
                    record.lab_values.length() > 0,
                    section(
                        "Your results",
                        rx.text(
                            "Each value with its normal range. A green band shows the range and "
                            "a dark mark your value.",
                            size="2",
                            color_scheme="gray",
                        ),
                        rx.foreach(record.lab_values, lab_value_block),
                        heading_id="record-values",
                    ),
                ),
                section(
                    "Download",
                    rx.hstack(
                        download_link(
                            "Download PDF",
                            f"{routes.RECORD_FILES}/{record.id}/record.pdf",
                            "record.pdf",
                        ),
                        rx.cond(
                            record.has_document,
                            download_link(
                                "Download the document",
                                f"{routes.RECORD_FILES}/{record.id}/document",
                                "",
                            ),
                        ),
                        spacing="5",
                        wrap="wrap",
                    ),
                    heading_id="record-downloads",
                ),
                spacing="4",
                width="100%",
            ),
            rx.cond(
                RecordDetailState.missing,
                empty_state(
                    "This record is not available",
                    "The link may be wrong or the record is no longer shared. All your records "
                    "are on the Medical records page.",
                ),
                loading(),
            ),
        ),
        spacing="4",
        width="100%",
        max_width="52rem",
    )


@portal_page(
    routes.RECORDS_ACCESS,
    title="Who viewed my record",
    role=Role.PATIENT,
    on_load=AccessLogState.load,
)
def access_log() -> rx.Component:
    state = AccessLogState
    cell = {"padding": "0.4rem 0.75rem 0.4rem 0", "text_align": "left", "vertical_align": "top"}
    return rx.vstack(
        rx.link("← All records", href=routes.RECORDS, color_scheme="gray", high_contrast=True),
        rx.heading("Who viewed my record", as_="h1", size="7"),
        rx.text(
            "Everyone at the practice who opened or changed your record, newest first. If "
            "something looks wrong, write to your care team or the practice.",
            color_scheme="gray",
        ),
        rx.cond(
            state.loaded,
            rx.cond(
                state.lines.length() > 0,
                rx.vstack(
                    rx.box(
                        rx.el.table(
                            rx.el.thead(
                                rx.el.tr(
                                    *[
                                        rx.el.th(name, scope="col", style=cell)
                                        for name in ("When", "Who", "Role", "What")
                                    ]
                                )
                            ),
                            rx.el.tbody(
                                rx.foreach(state.lines, lambda line: access_row(line, cell))
                            ),
                            style={"border_collapse": "collapse", "width": "100%"},
                        ),
                        overflow_x="auto",
                        width="100%",
                    ),
                    rx.cond(
                        state.has_older,
                        rx.button(
                            "Show older",
                            on_click=state.older,
                            variant="soft",
                            high_contrast=True,
                        ),
                    ),
                    spacing="3",
                    width="100%",
                ),
                empty_state(
                    "Nobody has viewed your record yet",
                    "When someone at the practice opens or changes your record, it shows here.",
                ),
            ),
            loading(),
        ),
        spacing="4",
        width="100%",
        max_width="52rem",
    )


def access_row(line: AccessLine, cell: dict) -> rx.Component:
    return rx.el.tr(
        rx.el.td(line.when, style=cell),
        rx.el.td(line.who, style=cell),
        rx.el.td(line.role, style=cell),
        rx.el.td(line.what, style=cell),
        style={"border_top": "1px solid var(--gray-a4)"},
    )
