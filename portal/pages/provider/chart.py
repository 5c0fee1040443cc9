"""A patient's chart for the care team: who the patient is (name, date of birth and age, MRN,
pronouns) and tabs for the summary, appointments, messages, records and profile."""

from __future__ import annotations

import reflex as rx

from portal import routes
from portal.backend.security.principal import Role
from portal.backend.views import ChartHeader
from portal.components.cards import detail_row
from portal.layout import loading, portal_page
from portal.pages.provider.chart_state import ChartState
from portal.pages.provider.chart_tabs import CHART_TABS


@portal_page(
    routes.PROVIDER_CHART, title="Patient chart", role=Role.PROVIDER, on_load=ChartState.load
)
def chart_page() -> rx.Component:
    header = ChartState.header
    return rx.vstack(
        rx.link("← Back to patients", href=routes.PROVIDER_PATIENTS, high_contrast=True),
        rx.cond(
            header,
            rx.vstack(chart_header(header), chart_tabs(), spacing="4", width="100%"),
            rx.cond(
                ChartState.missing,
                rx.vstack(
                    rx.heading("This patient was not found", as_="h1", size="6"),
                    rx.text(
                        "The link may be wrong, or the patient is not one of your practice's. "
                        "Find the patient on the patient list instead."
                    ),
                    rx.link(
                        "Go to the patient list",
                        href=routes.PROVIDER_PATIENTS,
                        high_contrast=True,
                    ),
                    spacing="2",
                ),
                loading(),
            ),
        ),
        spacing="4",
        width="100%",
    )


def chart_header(header: ChartHeader) -> rx.Component:
    return rx.vstack(
        rx.heading(header.name, as_="h1", size="7"),
        rx.link(
            "Open records",
            href=f"{routes.PROVIDER_RECORDS}?patient={header.id}",
            high_contrast=True,
        ),
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


def chart_tabs() -> rx.Component:
    return rx.tabs.root(
        rx.tabs.list(*[rx.tabs.trigger(tab.label, value=tab.key) for tab in CHART_TABS]),
        *[
            rx.tabs.content(tab.panel(), value=tab.key, padding_top="1rem", width="100%")
            for tab in CHART_TABS
        ],
        value=ChartState.tab,
        on_change=ChartState.select_tab,
        width="100%",
    )
