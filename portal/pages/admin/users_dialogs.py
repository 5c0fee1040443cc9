"""The users page's dialogs: inviting a colleague, changing a role, resetting MFA (after the
admin confirms it's them and records how they checked the person's identity) and a user's
open sessions."""

from __future__ import annotations

import reflex as rx

from portal.backend.services.user_changes import IDENTITY_CHECKS
from portal.backend.views import AccountSessionLine
from portal.components.feedback import error_alert
from portal.components.forms import code_field, field, radio_field
from portal.pages.admin.users_state import UsersState

ERROR_ID = "users-dialog-error"
TITLES = {
    "invite": "Invite a colleague",
    "role": "Change role",
    "mfa": "Reset two-step sign-in",
    "sessions": "Open sessions",
}


def users_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.vstack(
                rx.dialog.title(rx.match(UsersState.dialog, *TITLES.items(), "")),
                rx.cond(
                    UsersState.target,
                    rx.dialog.description(UsersState.target.name, color_scheme="gray"),
                    rx.dialog.description(
                        "They get an email with a link that works once, for seven days.",
                        color_scheme="gray",
                    ),
                ),
                error_alert(UsersState.dialog_error, element_id=ERROR_ID),
                rx.match(
                    UsersState.dialog,
                    ("invite", invite_form()),
                    ("role", role_form()),
                    ("mfa", mfa_forms()),
                    ("sessions", sessions_list()),
                    rx.fragment(),
                ),
                spacing="3",
                width="100%",
            ),
            max_width="36rem",
        ),
        open=UsersState.dialog != "",
        on_open_change=UsersState.dialog_changed,
    )


def buttons(confirm: str, keep: str = "Cancel") -> rx.Component:
    return rx.flex(
        rx.button(
            keep,
            type="button",
            on_click=UsersState.close_dialog,
            variant="soft",
            high_contrast=True,
        ),
        rx.button(confirm, type="submit", high_contrast=True),
        justify="end",
        wrap="wrap",
        gap="0.5rem",
        width="100%",
    )


def invite_form() -> rx.Component:
    has_error = UsersState.dialog_error != ""
    return rx.form(
        rx.vstack(
            rx.el.fieldset(
                rx.el.legend("Role", font_weight="500"),
                rx.radio_group(
                    ["provider", "admin"],
                    name="role",
                    default_value=UsersState.invite_role,
                    direction="row",
                ),
                style={"border": "none", "padding": 0, "margin": 0},
            ),
            field("Full name", "name", error_id=ERROR_ID, has_error=has_error),
            field("Email address", "email", kind="email", error_id=ERROR_ID, has_error=has_error),
            field(
                "Credentials (providers)",
                "credentials",
                error_id=ERROR_ID,
                has_error=has_error,
                hint="For example MD, DO or NP.",
            ),
            field("Specialty (providers)", "specialty", error_id=ERROR_ID, has_error=has_error),
            buttons("Send the invitation"),
            spacing="3",
            width="100%",
        ),
        on_submit=UsersState.invite_staff,
    )


def role_form() -> rx.Component:
    line = UsersState.target
    return rx.form(
        rx.vstack(
            rx.text(
                "Providers and administrators can swap roles; a patient's account stays a "
                "patient's. The person is signed out of every device and gets the new role's "
                "pages at their next sign-in. A provider becomes an administrator only once "
                "they are off every care team and have no upcoming visits.",
                size="2",
            ),
            radio_field(
                "New role",
                "new_role",
                [("provider", "Provider"), ("admin", "Administrator")],
            ),
            rx.text(
                "Now: ",
                rx.match(
                    line.role, ("admin", "Administrator"), ("provider", "Provider"), "Patient"
                ),
                size="2",
                color_scheme="gray",
            ),
            buttons("Change role"),
            spacing="3",
            width="100%",
        ),
        on_submit=UsersState.change_role,
    )


def mfa_forms() -> rx.Component:
    has_error = UsersState.dialog_error != ""
    return rx.cond(
        UsersState.reauthenticated,
        rx.form(
            rx.vstack(
                rx.text(
                    "Their authenticator app and recovery codes stop working, they are signed "
                    "out everywhere, and at their next sign-in they choose a new authenticator "
                    "after their password. Only the way you checked who asked is recorded.",
                    size="2",
                ),
                radio_field(
                    "How did you confirm it is them?",
                    "identity_check",
                    list(IDENTITY_CHECKS.items()),
                ),
                buttons("Reset two-step sign-in"),
                spacing="3",
                width="100%",
            ),
            on_submit=UsersState.reset_mfa,
        ),
        rx.form(
            rx.vstack(
                rx.text("First confirm it's you: your own password and a code.", size="2"),
                field(
                    "Your password",
                    "password",
                    kind="password",
                    autocomplete="current-password",
                    error_id=ERROR_ID,
                    has_error=has_error,
                ),
                code_field(error_id=ERROR_ID, has_error=has_error, allow_recovery=False),
                buttons("Confirm it's me"),
                spacing="3",
                width="100%",
            ),
            on_submit=UsersState.confirm_identity,
        ),
    )


def sessions_list() -> rx.Component:
    return rx.vstack(
        rx.cond(
            UsersState.sessions.length() > 0,
            rx.el.ul(
                rx.foreach(UsersState.sessions, session_line),
                style={"list_style": "none", "padding": 0, "margin": 0, "width": "100%"},
            ),
            rx.text("No open sessions.", size="2"),
        ),
        rx.flex(
            rx.button(
                "Close",
                type="button",
                on_click=UsersState.close_dialog,
                variant="soft",
                high_contrast=True,
            ),
            rx.cond(
                UsersState.sessions.length() > 0,
                rx.button(
                    "End every session",
                    on_click=UsersState.end_sessions(UsersState.target.id),
                    color_scheme="red",
                    high_contrast=True,
                ),
            ),
            justify="end",
            gap="0.5rem",
            width="100%",
        ),
        spacing="3",
        width="100%",
    )


def session_line(session: AccountSessionLine) -> rx.Component:
    return rx.el.li(
        rx.hstack(
            rx.vstack(
                rx.text(session.device, weight="medium"),
                rx.text(
                    f"Signed in {session.started} · last seen {session.last_seen}",
                    size="2",
                    color_scheme="gray",
                ),
                spacing="0",
            ),
            rx.spacer(),
            rx.button(
                "End",
                size="1",
                variant="outline",
                on_click=UsersState.end_one_session(session.id),
                aria_label=f"End the session on {session.device} started {session.started}",
            ),
            align="center",
            width="100%",
        ),
        padding_y="0.5rem",
        border_bottom="1px solid var(--gray-a4)",
    )
