"""The practice's care teams, for admins: each team's members and how many patients it looks
after; create a team, rename it, add and remove providers, delete it once it is empty, and move
patients between teams (`care_team_moves`)."""

from __future__ import annotations

import reflex as rx

from portal import routes
from portal.backend.security.principal import Role
from portal.backend.views import CareTeamLine, CareTeamMemberLine
from portal.components.cards import section
from portal.components.feedback import empty_state, error_alert, notice
from portal.components.forms import SELECT_STYLE, field, form
from portal.layout import portal_page
from portal.pages.admin.care_team_moves import move_patients_section
from portal.pages.admin.care_teams_state import CareTeamsState

ERROR_ID = "care-teams-error"


@portal_page(
    routes.ADMIN_CARE_TEAMS, title="Care teams", role=Role.ADMIN, on_load=CareTeamsState.load
)
def care_teams_page() -> rx.Component:
    return rx.vstack(
        rx.heading("Care teams", as_="h1", size="7"),
        rx.text(
            "Each patient belongs to one care team, and their messages go to that team's "
            "inbox, which every member reads. A team that looks after patients keeps at least "
            "one member; only a team without patients or open conversations can be deleted.",
            color_scheme="gray",
        ),
        error_alert(CareTeamsState.error, element_id=ERROR_ID),
        rx.cond(CareTeamsState.message != "", notice(CareTeamsState.message)),
        rx.cond(
            CareTeamsState.teams.length() > 0,
            rx.grid(
                rx.foreach(CareTeamsState.teams, team_card),
                columns=rx.breakpoints(initial="1", md="2"),
                spacing="4",
                width="100%",
            ),
            empty_state("No care teams yet", "Create the first one below."),
        ),
        section(
            "A new team",
            form(
                field(
                    "Team name",
                    "team_name",
                    max_length=200,
                    error_id=ERROR_ID,
                    has_error=CareTeamsState.error != "",
                ),
                on_submit=CareTeamsState.create,
                button="Create the team",
                busy="Creating…",
                pending=CareTeamsState.pending,
                max_width="28rem",
            ),
            heading_id="new-team",
        ),
        move_patients_section(),
        spacing="4",
        width="100%",
    )


def team_card(team: CareTeamLine) -> rx.Component:
    heading_id = f"team-{team.id}"
    return rx.card(
        rx.vstack(
            rx.cond(
                CareTeamsState.renaming == team.id,
                rename_form(team),
                rx.hstack(
                    rx.heading(team.name, as_="h2", size="4", id=heading_id),
                    rx.spacer(),
                    rx.button(
                        "Rename",
                        size="1",
                        variant="soft",
                        high_contrast=True,
                        on_click=CareTeamsState.start_rename(team.id),
                        aria_label=f"Rename {team.name}",
                    ),
                    align="center",
                    width="100%",
                ),
            ),
            rx.text(
                rx.cond(
                    team.patients == 1,
                    "Looks after 1 patient",
                    f"Looks after {team.patients} patients",
                ),
                size="2",
                color_scheme="gray",
            ),
            rx.cond(
                team.members.length() > 0,
                rx.el.ul(
                    rx.foreach(team.members, lambda member: member_line(team, member)),
                    aria_label=f"Members of {team.name}",
                    style={"list_style": "none", "padding": 0, "margin": 0, "width": "100%"},
                ),
                rx.text("No members yet.", size="2"),
            ),
            add_member_form(team),
            rx.cond(
                CareTeamsState.deleting == team.id,
                delete_confirmation(team),
                rx.hstack(
                    rx.button(
                        "Show patients",
                        size="1",
                        variant="soft",
                        high_contrast=True,
                        on_click=CareTeamsState.list_patients(team.id),
                        aria_label=f"Show the patients of {team.name}",
                    ),
                    rx.button(
                        "Delete team",
                        size="1",
                        variant="outline",
                        color_scheme="red",
                        on_click=CareTeamsState.start_delete(team.id),
                        aria_label=f"Delete {team.name}",
                    ),
                    spacing="3",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        role="region",
        aria_label=team.name,
        width="100%",
    )


def delete_confirmation(team: CareTeamLine) -> rx.Component:
    return rx.hstack(
        rx.text(f"Delete {team.name}? Its members leave it.", size="2", weight="medium"),
        rx.button(
            "Delete",
            size="1",
            color_scheme="red",
            high_contrast=True,
            on_click=CareTeamsState.delete_team,
            aria_label=f"Yes, delete {team.name}",
        ),
        rx.button(
            "Keep it",
            size="1",
            variant="soft",
            high_contrast=True,
            on_click=CareTeamsState.cancel_delete,
        ),
        align="center",
        spacing="2",
        wrap="wrap",
    )


def member_line(team: CareTeamLine, member: CareTeamMemberLine) -> rx.Component:
    return rx.el.li(
        rx.hstack(
            rx.text(
                member.name,
                rx.cond(member.credentials != "", f", {member.credentials}", ""),
            ),
            rx.spacer(),
            rx.button(
                "Remove",
                size="1",
                variant="outline",
                on_click=CareTeamsState.remove_member(team.id, member.provider_id),
                aria_label=f"Remove {member.name} from {team.name}",
            ),
            align="center",
            width="100%",
        ),
        padding_y="0.25rem",
        border_bottom="1px solid var(--gray-a4)",
    )


def add_member_form(team: CareTeamLine) -> rx.Component:
    select_id = f"add-{team.id}"
    return rx.form(
        rx.hstack(
            rx.el.input(type="hidden", name="team", value=team.id),
            rx.vstack(
                rx.el.label(
                    f"Add a provider to {team.name}", html_for=select_id, font_weight="500"
                ),
                rx.el.select(
                    rx.el.option("Choose a provider", value=""),
                    rx.foreach(
                        CareTeamsState.providers,
                        lambda choice: rx.el.option(choice.name, value=choice.id),
                    ),
                    id=select_id,
                    name="provider",
                    style=SELECT_STYLE,
                ),
                spacing="1",
                width="100%",
            ),
            rx.button("Add", type="submit", high_contrast=True, aria_label=f"Add to {team.name}"),
            align="end",
            spacing="2",
            width="100%",
        ),
        on_submit=CareTeamsState.add_member,
        width="100%",
    )


def rename_form(team: CareTeamLine) -> rx.Component:
    input_id = f"rename-{team.id}"
    return rx.form(
        rx.vstack(
            rx.el.label(f"New name for {team.name}", html_for=input_id, font_weight="500"),
            rx.input(
                id=input_id,
                name="new_name",
                default_value=team.name,
                max_length=200,
                width="100%",
            ),
            rx.hstack(
                rx.button(
                    "Cancel",
                    type="button",
                    on_click=CareTeamsState.cancel_rename,
                    variant="soft",
                    high_contrast=True,
                ),
                rx.button("Save the name", type="submit", high_contrast=True),
                spacing="2",
            ),
            spacing="2",
            width="100%",
        ),
        on_submit=CareTeamsState.rename,
        width="100%",
    )
