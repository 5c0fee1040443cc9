"""The practice's users, for admins: find an account by name or email, invite a colleague,
unlock an account, see and end its sessions, change a provider's or administrator's role,
reset someone's two-step sign-in, deactivate or reactivate an account."""

from __future__ import annotations

import reflex as rx

from portal import routes
from portal.backend.security.principal import Role
from portal.backend.views import UserLine
from portal.components.feedback import empty_state, error_alert, notice
from portal.components.forms import field, form, select_field
from portal.layout import portal_page
from portal.pages.admin.users_dialogs import users_dialog
from portal.pages.admin.users_state import UsersState

ERROR_ID = "users-error"
ROLES = [("patient", "Patient"), ("provider", "Provider"), ("admin", "Administrator")]
STATUSES = [("active", "Active"), ("invited", "Invited"), ("deactivated", "Deactivated")]
COLUMNS = ("Name", "Role", "Status", "MFA", "Last sign-in", "Locked", "Sessions", "Actions")


@portal_page(routes.ADMIN_USERS, title="Users", role=Role.ADMIN, on_load=UsersState.load)
def users_page() -> rx.Component:
    return rx.vstack(
        rx.heading("Users", as_="h1", size="7"),
        invite_bar(),
        filters(),
        error_alert(UsersState.error, element_id=ERROR_ID),
        rx.cond(UsersState.message != "", notice(UsersState.message)),
        rx.cond(
            UsersState.lines.length() > 0,
            users_table(),
            empty_state(
                "No accounts match", "Change the role, status, name or email and search again."
            ),
        ),
        rx.cond(
            UsersState.next_after != "",
            rx.button(
                "Show the next 50",
                on_click=UsersState.next_page,
                variant="soft",
                high_contrast=True,
            ),
        ),
        confirmation(),
        users_dialog(),
        spacing="4",
        width="100%",
    )


def invite_bar() -> rx.Component:
    return rx.hstack(
        rx.button(
            "Invite a provider",
            on_click=UsersState.open_invite("provider"),
            variant="soft",
            high_contrast=True,
        ),
        rx.button(
            "Invite an administrator",
            on_click=UsersState.open_invite("admin"),
            variant="soft",
            high_contrast=True,
        ),
        rx.link(
            "Invite a patient (from their record)",
            href=f"{routes.ADMIN_INVITATIONS}#invite-patient",
            high_contrast=True,
        ),
        rx.link("Care teams", href=routes.ADMIN_CARE_TEAMS, high_contrast=True),
        spacing="4",
        align="center",
        wrap="wrap",
    )


def filters() -> rx.Component:
    has_error = UsersState.error != ""
    return form(
        rx.grid(
            select_field("Role", "role", ROLES, blank="Any role", error_id=ERROR_ID),
            select_field("Status", "status", STATUSES, blank="Any status", error_id=ERROR_ID),
            field(
                "Name or email address",
                "query",
                kind="search",
                max_length=320,
                error_id=ERROR_ID,
                has_error=has_error,
                hint="Part of a name (three letters or more), or the whole email address.",
            ),
            columns=rx.breakpoints(initial="1", md="3"),
            spacing="3",
            width="100%",
        ),
        on_submit=UsersState.search,
        button="Search",
        busy="Searching…",
        pending=UsersState.pending,
    )


def users_table() -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(
                rx.table.row(*[rx.table.column_header_cell(c, scope="col") for c in COLUMNS])
            ),
            rx.table.body(rx.foreach(UsersState.lines, user_row)),
            variant="surface",
            width="100%",
        ),
        overflow_x="auto",
        width="100%",
    )


def user_row(line: UserLine) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(line.name, scope="row"),
        rx.table.cell(rx.match(line.role, *ROLES, "")),
        rx.table.cell(rx.match(line.status, *STATUSES, "")),
        rx.table.cell(rx.cond(line.mfa_enrolled, "Enrolled", "Not enrolled")),
        rx.table.cell(rx.cond(line.last_sign_in != "", line.last_sign_in, "Never")),
        rx.table.cell(rx.cond(line.locked, "Locked", "No")),
        rx.table.cell(line.open_sessions),
        rx.table.cell(
            rx.hstack(
                rx.cond(
                    line.locked,
                    action("Unlock", line, UsersState.unlock(line.id)),
                ),
                rx.cond(
                    line.open_sessions > 0,
                    action("Sessions", line, UsersState.open_dialog("sessions", line.id)),
                ),
                rx.cond(
                    line.role != "patient",
                    action("Change role", line, UsersState.open_dialog("role", line.id)),
                ),
                rx.cond(
                    line.mfa_enrolled,
                    action("Reset MFA", line, UsersState.open_dialog("mfa", line.id)),
                ),
                rx.cond(
                    line.status == "deactivated",
                    action("Reactivate", line, UsersState.ask(line.id)),
                    action("Deactivate", line, UsersState.ask(line.id)),
                ),
                spacing="2",
                wrap="wrap",
            )
        ),
    )


def action(label: str, line: UserLine, on_click: rx.EventSpec) -> rx.Component:
    return rx.button(
        label,
        on_click=on_click,
        size="1",
        variant="soft",
        high_contrast=True,
        aria_label=f"{label} {line.name}",
    )


def confirmation() -> rx.Component:
    line = UsersState.confirming
    deactivating = line.status != "deactivated"
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(
                rx.cond(deactivating, f"Deactivate {line.name}?", f"Reactivate {line.name}?")
            ),
            rx.alert_dialog.description(
                rx.cond(
                    deactivating,
                    "They are signed out of every device and cannot sign in until reactivated.",
                    "They can sign in again with their password and authenticator.",
                )
            ),
            rx.hstack(
                rx.alert_dialog.cancel(
                    rx.button(
                        "Keep as it is",
                        on_click=UsersState.cancel,
                        variant="soft",
                        color_scheme="gray",
                        high_contrast=True,
                    )
                ),
                rx.alert_dialog.action(
                    rx.button(
                        rx.cond(deactivating, "Deactivate", "Reactivate"),
                        on_click=UsersState.confirm,
                        color_scheme=rx.cond(deactivating, "red", "teal"),
                        high_contrast=True,
                    )
                ),
                spacing="3",
                justify="end",
                margin_top="1rem",
            ),
        ),
        open=UsersState.confirming.is_not_none(),
    )
