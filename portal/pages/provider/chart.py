"""A patient's chart for the care team: who the patient is (name, date of birth and age, MRN,
pronouns) and tabs for the summary, appointments, messages, records and profile; for a patient
outside the provider's normal access, the break-glass form first."""

from __future__ import annotations

import reflex as rx

from portal import routes
from portal.backend.security.principal import Role
from portal.components.chart import break_glass_form, chart_header, chart_tabs
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
            rx.vstack(
                chart_header(
                    header,
                    rx.link(
                        "Open records",
                        href=f"{routes.PROVIDER_RECORDS}?patient={header.id}",
                        high_contrast=True,
                    ),
                ),
                chart_tabs(CHART_TABS, ChartState.tab, ChartState.select_tab),
                spacing="4",
                width="100%",
            ),
            rx.cond(
                ChartState.needs_reason,
                break_glass_form(
                    on_submit=ChartState.break_glass,
                    error=ChartState.reason_error,
                    pending=ChartState.pending,
                ),
                rx.cond(ChartState.missing, not_found(), loading()),
            ),
        ),
        spacing="4",
        width="100%",
    )


def not_found() -> rx.Component:
    return rx.vstack(
        rx.heading("This patient was not found", as_="h1", size="6"),
        rx.text(
            "The link may be wrong, or the patient is not one of your practice's. "
            "Find the patient on the patient list instead."
        ),
        rx.link("Go to the patient list", href=routes.PROVIDER_PATIENTS, high_contrast=True),
        spacing="2",
    )
