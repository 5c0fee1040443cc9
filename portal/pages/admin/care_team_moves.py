"""The care teams page's "Move patients" part: find patients by name (or list a team's from its
card), move one to another team, or move every patient of a team at once."""

from __future__ import annotations

import reflex as rx

from portal.backend.views import CareTeamPatientLine
from portal.components.cards import section
from portal.components.forms import SELECT_STYLE, field, form
from portal.pages.admin.care_teams_state import CareTeamsState

SEARCH_ERROR_ID = "patient-search-error"


def move_patients_section() -> rx.Component:
    return section(
        "Move patients",
        rx.text(
            "A patient's conversations move with them, so their new team answers them. Only a "
            "team with at least one member can take patients.",
            size="2",
        ),
        form(
            field(
                "Find a patient by name",
                "patient_query",
                hint="Part of their first or last name, three letters or more.",
                max_length=200,
                error_id=SEARCH_ERROR_ID,
                has_error=CareTeamsState.search_error != "",
            ),
            rx.cond(
                CareTeamsState.search_error != "",
                rx.text(
                    CareTeamsState.search_error,
                    id=SEARCH_ERROR_ID,
                    color_scheme="red",
                    size="2",
                    role="alert",
                ),
            ),
            on_submit=CareTeamsState.find_patients,
            button="Find patients",
            busy="Finding…",
            pending=CareTeamsState.pending,
            max_width="28rem",
        ),
        patients_found(),
        move_all_form(),
        heading_id="move-patients",
    )


def patients_found() -> rx.Component:
    return rx.cond(
        CareTeamsState.patients_heading != "",
        rx.vstack(
            rx.heading(CareTeamsState.patients_heading, as_="h3", size="3", id="patients-shown"),
            rx.cond(
                CareTeamsState.patients.length() > 0,
                rx.el.ul(
                    rx.foreach(CareTeamsState.patients, patient_line),
                    aria_labelledby="patients-shown",
                    style={"list_style": "none", "padding": 0, "margin": 0, "width": "100%"},
                ),
                rx.text("No patients.", size="2"),
            ),
            rx.cond(
                CareTeamsState.more_found > 0,
                rx.text(
                    f"{CareTeamsState.more_found} more match: type more of the name.", size="2"
                ),
            ),
            rx.cond(
                CareTeamsState.next_after != "",
                rx.button(
                    "More patients",
                    type="button",
                    variant="soft",
                    high_contrast=True,
                    on_click=CareTeamsState.more_patients,
                ),
            ),
            spacing="2",
            width="100%",
        ),
    )


def patient_line(line: CareTeamPatientLine) -> rx.Component:
    select_id = f"move-{line.id}"
    return rx.el.li(
        rx.form(
            rx.hstack(
                rx.el.input(type="hidden", name="patient", value=line.id),
                rx.vstack(
                    rx.text(line.name, weight="medium"),
                    rx.text(
                        rx.cond(line.team != "", line.team, "No care team yet"),
                        size="2",
                        color_scheme="gray",
                    ),
                    spacing="0",
                    min_width="12rem",
                ),
                rx.spacer(),
                rx.vstack(
                    rx.el.label(f"Move {line.name} to", html_for=select_id, font_weight="500"),
                    team_select(select_id, "to", but=line.team_id),
                    spacing="1",
                ),
                rx.button(
                    "Move", type="submit", high_contrast=True, aria_label=f"Move {line.name}"
                ),
                align="end",
                spacing="3",
                wrap="wrap",
                width="100%",
            ),
            on_submit=CareTeamsState.move_patient,
            width="100%",
        ),
        padding_y="0.5rem",
        border_bottom="1px solid var(--gray-a4)",
    )


def move_all_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.heading("Move every patient of a team", as_="h3", size="3"),
            rx.hstack(
                rx.vstack(
                    rx.el.label("From", html_for="from_team", font_weight="500"),
                    team_select("from_team", "from_team"),
                    spacing="1",
                ),
                rx.vstack(
                    rx.el.label("To", html_for="to_team", font_weight="500"),
                    team_select("to_team", "to_team"),
                    spacing="1",
                ),
                rx.button("Move all patients", type="submit", high_contrast=True),
                align="end",
                spacing="3",
                wrap="wrap",
            ),
            spacing="2",
            width="100%",
        ),
        on_submit=CareTeamsState.move_all,
        width="100%",
    )


def team_select(select_id: str, name: str, *, but: rx.Var[str] | str = "") -> rx.Component:
    """The practice's teams to choose from (without the patient's own)."""
    return rx.el.select(
        rx.el.option("Choose a team", value=""),
        rx.foreach(
            CareTeamsState.teams,
            lambda team: rx.cond(team.id != but, rx.el.option(team.name, value=team.id)),
        ),
        id=select_id,
        name=name,
        style=SELECT_STYLE,
    )
