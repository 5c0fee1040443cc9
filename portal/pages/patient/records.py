"""The patient's medical records: the home (one card per kind, downloads of the whole record,
who viewed it) and one kind's list, searched, filtered and sorted."""

from __future__ import annotations

import reflex as rx

from portal import routes
from portal.backend.security.principal import Role
from portal.backend.views import RecordSection
from portal.components.cards import section
from portal.components.feedback import empty_state
from portal.components.forms import field, select_field
from portal.components.records import record_line
from portal.layout import loading, portal_page
from portal.pages.patient.records_state import (
    SEARCH_LIMIT,
    SORTS,
    RecordListState,
    RecordsHomeState,
)

LINK_STYLE = {"color": "var(--accent-11)", "text_decoration": "underline"}


def download_link(text: rx.Var[str] | str, href: rx.Var[str] | str, filename: str) -> rx.Component:
    """A link the browser downloads: with a target, Reflex's router leaves the click alone."""
    return rx.el.a(
        rx.icon("download", size=16, aria_hidden="true", style={"display": "inline"}),
        " ",
        text,
        href=href,
        download=filename,
        target="_blank",
        rel="noopener",
        style=LINK_STYLE,
    )


def field_error(message: rx.Var[str], element_id: str) -> rx.Component:
    """What is wrong with one field, right under it (and tied to it by aria-describedby)."""
    return rx.cond(
        message != "",
        rx.text(
            rx.icon("circle-alert", size=14, aria_hidden="true", style={"display": "inline"}),
            " ",
            message,
            id=element_id,
            role="alert",
            size="2",
            color_scheme="red",
            high_contrast=True,
        ),
    )


def date_field(
    label: str, name: str, error: rx.Var[str], default: rx.Var[str] | str = ""
) -> rx.Component:
    error_id = f"{name}-error"
    return rx.vstack(
        field(
            label,
            name,
            kind="date",
            error_id=error_id,
            has_error=error != "",
            default_value=default,
        ),
        field_error(error, error_id),
        spacing="1",
        width="100%",
    )


# --- home -------------------------------------------------------------------------------------


@portal_page(
    routes.RECORDS, title="Medical records", role=Role.PATIENT, on_load=RecordsHomeState.load
)
def records_home() -> rx.Component:
    home = RecordsHomeState.home
    return rx.vstack(
        rx.heading("Medical records", as_="h1", size="7"),
        rx.text(
            "What your care team has shared with you: test results, visits, medicines and more.",
            color_scheme="gray",
        ),
        rx.cond(
            home,
            rx.vstack(
                rx.grid(
                    rx.foreach(home.sections, kind_card),
                    columns=rx.breakpoints(initial="1", sm="2", lg="3"),
                    spacing="4",
                    width="100%",
                ),
                section("Download my health record", downloads(), heading_id="downloads"),
                section(
                    "Who viewed my record",
                    rx.text(
                        "Every time someone at the practice opens or changes your record, it is "
                        "logged. You can see who, when and what.",
                        size="2",
                    ),
                    rx.link(
                        "See who viewed my record", href=routes.RECORDS_ACCESS, high_contrast=True
                    ),
                    heading_id="who-viewed",
                ),
                spacing="4",
                width="100%",
            ),
            loading(),
        ),
        spacing="4",
        width="100%",
    )


def kind_card(kind: RecordSection) -> rx.Component:
    return section(
        kind.label,
        rx.cond(
            kind.count > 0,
            rx.vstack(
                rx.text(
                    rx.text.strong(kind.count),
                    rx.cond(kind.count == 1, " item", " items"),
                    size="3",
                ),
                rx.text(f"Newest: {kind.latest}", size="2", color_scheme="gray"),
                rx.link(
                    f"See all {kind.label.lower()}",
                    href=f"{routes.RECORDS_LIST}?kind={kind.kind}",
                    high_contrast=True,
                ),
                spacing="2",
            ),
            rx.text(kind.empty_text, size="2", color_scheme="gray"),
        ),
        heading_id=f"records-{kind.kind}",
    )


def downloads() -> rx.Component:
    state = RecordsHomeState
    return rx.vstack(
        rx.text(
            "Your whole record as one standard file (FHIR), which other health apps and doctors' "
            "systems can import.",
            size="2",
        ),
        download_link(
            "Download my health record (FHIR file)", routes.HEALTH_RECORD_JSON, "health-record.json"
        ),
        rx.heading("A summary you can read or print", as_="h3", size="3", margin_top="0.5rem"),
        rx.text("Everything in your record between two dates, as a PDF.", size="2"),
        rx.form(
            rx.vstack(
                rx.grid(
                    date_field("First day", "summary_from", state.from_error, state.summary_from),
                    date_field("Last day", "summary_to", state.to_error, state.summary_to),
                    columns=rx.breakpoints(initial="1", sm="2"),
                    spacing="3",
                    width="100%",
                    max_width="32rem",
                ),
                rx.button("Prepare the summary", type="submit", high_contrast=True),
                spacing="3",
                width="100%",
            ),
            on_submit=state.prepare_summary,
            width="100%",
        ),
        rx.cond(
            state.summary_link != "",
            rx.box(
                download_link(state.summary_text, state.summary_link, "health-summary.pdf"),
                role="status",
            ),
        ),
        spacing="2",
        width="100%",
    )


# --- one kind's list --------------------------------------------------------------------------


@portal_page(
    routes.RECORDS_LIST, title="Medical records", role=Role.PATIENT, on_load=RecordListState.load
)
def records_list() -> rx.Component:
    listed = RecordListState.records
    return rx.vstack(
        rx.link("← All records", href=routes.RECORDS, color_scheme="gray", high_contrast=True),
        rx.cond(
            listed,
            rx.vstack(
                rx.heading(listed.label, as_="h1", size="7"),
                section("Search and filter", filters(listed), heading_id="filters"),
                rx.cond(
                    listed.lines.length() > 0,
                    rx.el.ul(
                        rx.foreach(
                            listed.lines,
                            lambda line: record_line(line, f"{routes.RECORD_DETAIL}?id={line.id}"),
                        ),
                        aria_label=listed.label,
                        style={"list_style": "none", "padding": 0, "margin": 0, "width": "100%"},
                    ),
                    rx.cond(
                        RecordListState.filtered,
                        empty_state(
                            "Nothing matches",
                            "No records match your search and filters. Clear them to see all.",
                        ),
                        empty_state("Nothing here yet", listed.empty_text),
                    ),
                ),
                rx.text(
                    rx.cond(
                        listed.lines.length() == 1,
                        "1 record shown.",
                        f"{listed.lines.length()} records shown.",
                    ),
                    role="status",
                    size="2",
                    color_scheme="gray",
                ),
                spacing="4",
                width="100%",
            ),
            rx.cond(
                RecordListState.missing,
                rx.vstack(
                    rx.heading("This list is not available", as_="h1", size="6"),
                    rx.text(
                        "The link may be wrong. All your records are on the Medical records page."
                    ),
                    rx.link("Go to my records", href=routes.RECORDS, high_contrast=True),
                    spacing="2",
                ),
                loading(),
            ),
        ),
        spacing="4",
        width="100%",
        max_width="52rem",
    )


def filters(listed) -> rx.Component:
    state = RecordListState
    return rx.form(
        rx.vstack(
            field(
                "Search by test or medicine name",
                "search",
                kind="search",
                error_id="search-error",
                has_error=False,
                max_length=SEARCH_LIMIT,
            ),
            rx.grid(
                select_field("Clinician", "provider", listed.providers, blank="Any clinician"),
                select_field("Order", "sort", SORTS),
                date_field("From", "since", state.from_error),
                date_field("To", "until", state.to_error),
                columns=rx.breakpoints(initial="1", sm="2"),
                spacing="3",
                width="100%",
            ),
            rx.hstack(
                rx.button("Search", type="submit", high_contrast=True),
                rx.button(
                    "Clear",
                    type="reset",
                    on_click=state.clear,
                    variant="soft",
                    color_scheme="gray",
                    high_contrast=True,
                ),
                spacing="3",
            ),
            spacing="3",
            width="100%",
        ),
        on_submit=state.search,
        width="100%",
    )
