"""The care team's patient list: find a patient by name, date of birth, phone or email, or list
those who need attention (an upcoming visit, an unread message, results to review), and open
their chart."""

from __future__ import annotations

import reflex as rx

from portal import routes
from portal.backend.security.principal import Role
from portal.backend.services.patient_search import FILTERS
from portal.backend.views import PatientLine
from portal.components.feedback import empty_state, error_alert, notice
from portal.components.forms import field, submit
from portal.layout import portal_page
from portal.pages.provider.patients_state import QUERY_LIMIT, PatientsState

ERROR_ID = "patients-error"
HINT = (
    "Type part of a name (three letters or more of each part: “garc”, “maria gar”), a date of "
    "birth (1968-04-12 or 04/12/1968), a last name with the date of birth (Garcia 1968-04-12), a "
    "phone number with its area code, or an email address. A name matches without accents or "
    "capitals; the other kinds match exactly."
)
FILTER_LABELS = {
    "upcoming": "Have an upcoming appointment",
    "unread": "Have an unread message for my care teams",
    "results": "Have test results waiting for review (patients I see)",
}
COLUMNS = (
    "Patient",
    "Date of birth",
    "MRN",
    "Next appointment",
    "Unread messages",
    "Results to review",
)


@portal_page(
    routes.PROVIDER_PATIENTS, title="Patients", role=Role.PROVIDER, on_load=PatientsState.load
)
def patients_page() -> rx.Component:
    return rx.vstack(
        rx.heading("Patients", as_="h1", size="7"),
        search_form(),
        error_alert(PatientsState.error, element_id=ERROR_ID),
        results(),
        spacing="4",
        width="100%",
    )


def search_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            field(
                "Find a patient",
                "query",
                kind="search",
                max_length=QUERY_LIMIT,
                error_id=ERROR_ID,
                has_error=PatientsState.error != "",
                hint=HINT,
            ),
            rx.el.fieldset(
                rx.el.legend("Only patients who…", style={"font_weight": "500"}),
                rx.flex(
                    *[filter_box(name) for name in FILTERS],
                    gap="0.5rem 1.5rem",
                    wrap="wrap",
                ),
                style={"border": "none", "padding": 0, "margin": 0},
            ),
            rx.box(submit("Search", PatientsState.pending, "Searching…"), max_width="14rem"),
            spacing="3",
            width="100%",
        ),
        on_submit=PatientsState.search,
        width="100%",
    )


def filter_box(name: str) -> rx.Component:
    return rx.el.label(
        rx.el.input(type="checkbox", name=name, value="yes", id=f"filter-{name}"),
        FILTER_LABELS[name],
        style={"display": "flex", "gap": "0.5rem", "align_items": "center"},
    )


def results() -> rx.Component:
    return rx.cond(
        PatientsState.lines.length() > 0,
        rx.vstack(notice(PatientsState.summary), patient_table(), spacing="3", width="100%"),
        rx.cond(
            PatientsState.too_many,
            empty_state(
                "Too many patients match to list",
                f"More than {PatientsState.matched} patients match, too many to open and sort. "
                "Type more of the name (three letters or more of each part), add the first name, "
                "or search by date of birth.",
            ),
            rx.cond(
                PatientsState.searched,
                empty_state(
                    "No patients match",
                    "Check the spelling, or try the date of birth or phone number instead. "
                    "Untick a filter to widen the search. Patients of other practices are "
                    "never listed.",
                ),
                empty_state(
                    "Search for a patient",
                    "Type a name, a date of birth, a phone number or an email address above, "
                    "or tick a filter and search to list the patients who need attention.",
                ),
            ),
        ),
    )


def patient_table() -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(
                rx.table.row(*[rx.table.column_header_cell(c, scope="col") for c in COLUMNS])
            ),
            rx.table.body(rx.foreach(PatientsState.lines, patient_row)),
            variant="surface",
            width="100%",
        ),
        overflow_x="auto",
        width="100%",
    )


def patient_row(line: PatientLine) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(
            rx.vstack(
                rx.link(
                    line.name,
                    href=routes.patient_chart(line.id),
                    weight="medium",
                    high_contrast=True,
                ),
                rx.cond(
                    line.legal_name != "",
                    rx.text(f"Legal name: {line.legal_name}", size="1", color_scheme="gray"),
                ),
                spacing="0",
            ),
            scope="row",
        ),
        rx.table.cell(f"{line.date_of_birth} ({line.age})", white_space="nowrap"),
        rx.table.cell(line.medical_record_number, white_space="nowrap"),
        rx.table.cell(rx.cond(line.next_appointment != "", line.next_appointment, "None booked")),
        rx.table.cell(
            rx.cond(
                line.unread_messages > 0,
                rx.badge(line.unread_messages, color_scheme="red", high_contrast=True),
                "0",
            )
        ),
        rx.table.cell(
            rx.cond(
                line.results_to_review > 0,
                rx.badge(line.results_to_review, color_scheme="amber", high_contrast=True),
                "0",
            )
        ),
    )
