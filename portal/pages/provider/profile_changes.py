"""Identity change requests for the care team (`/provider/profile-changes`): a patient's asked-for
legal name or date of birth beside what the record holds now; apply it, or decline it with a
reason the patient reads. Every action names a request the screen currently shows, and the
service re-checks it."""

from __future__ import annotations

import reflex as rx

from portal import routes
from portal.backend.security.principal import NotFound, Role
from portal.backend.services import profile_changes
from portal.backend.services.profile_checks import ProfileInvalid
from portal.backend.views import ProfileChangeLine, RequestedChange
from portal.components.cards import section
from portal.components.feedback import empty_state, error_alert, notice
from portal.components.forms import record_id, text_of
from portal.components.profile import field_error
from portal.layout import loading, portal_page
from portal.state.base import Screen, run_service, screen_state
from portal.state.session import signed_in

GONE = "That request was already decided or withdrawn."


@screen_state
class ProfileChangesState(Screen):
    lines: list[ProfileChangeLine] = []
    loaded: bool = False
    # The request whose decline form is open, and that form's errors.
    declining: str = ""
    errors: dict[str, str] = {}
    error: str = ""
    message: str = ""
    pending: bool = False

    @rx.event
    async def load(self):
        self.reset()
        principal = await signed_in(self, Role.PROVIDER)
        if principal is not None:
            await self._refresh(principal)

    @rx.event
    async def apply(self, change_id: str):
        principal = await signed_in(self, Role.PROVIDER)
        if principal is None:
            return
        line = self._shown(change_id)
        if line is None:
            self.error, self.message = GONE, ""
            return
        try:
            await run_service(self, profile_changes.apply_change, principal, record_id(change_id))
        except NotFound:
            self.error, self.message = GONE, ""
        else:
            self.error = ""
            self.message = f"The change for {line.patient} was applied; they have been told."
        self.declining = ""
        await self._refresh(principal)

    @rx.event
    def start_decline(self, change_id: str):
        if self._shown(change_id) is not None:
            self.declining, self.errors, self.message = change_id, {}, ""

    @rx.event
    def cancel_decline(self):
        self.declining, self.errors = "", {}

    @rx.event
    async def decline(self, form_data: dict):
        principal = await signed_in(self, Role.PROVIDER)
        if principal is None:
            return
        line = self._shown(self.declining)
        if line is None:
            self.error, self.message, self.declining = GONE, "", ""
            return
        self.pending = True
        yield
        try:
            await run_service(
                self,
                profile_changes.decline_change,
                principal,
                record_id(line.id),
                text_of(form_data, "reason", 600),
            )
        except ProfileInvalid as refused:
            self.errors, self.pending = refused.errors, False
            return
        except NotFound:
            self.error, self.message = GONE, ""
        else:
            self.error = ""
            self.message = f"The change for {line.patient} was declined; they have been told."
        self.declining, self.errors, self.pending = "", {}, False
        await self._refresh(principal)

    async def _refresh(self, principal) -> None:
        self.lines = await run_service(self, profile_changes.pending_changes, principal)
        self.loaded = True

    def _shown(self, change_id: str) -> ProfileChangeLine | None:
        return next((line for line in self.lines if line.id == change_id), None)


S = ProfileChangesState


@portal_page(
    routes.PROVIDER_PROFILE_CHANGES,
    title="Profile changes",
    role=Role.PROVIDER,
    on_load=S.load,
)
def profile_changes_page() -> rx.Component:
    return rx.vstack(
        rx.heading("Profile changes to review", as_="h1", size="7"),
        rx.text(
            "Patients ask here to correct their legal name or date of birth. Check the change "
            "against an identity document before applying it.",
            color_scheme="gray",
        ),
        rx.cond(S.message != "", notice(S.message)),
        error_alert(S.error, element_id="profile-changes-error"),
        rx.cond(
            S.loaded,
            section(
                "Waiting for review",
                rx.cond(
                    S.lines.length() > 0,
                    rx.el.ul(
                        rx.foreach(S.lines, change_item),
                        style={"list_style": "none", "padding": 0, "margin": 0, "width": "100%"},
                    ),
                    empty_state(
                        "Nothing to review",
                        "When a patient asks to change their legal name or date of birth, the "
                        "request appears here.",
                    ),
                ),
                heading_id="waiting",
            ),
            loading(),
        ),
        spacing="4",
        width="100%",
        max_width="56rem",
    )


def change_item(line: ProfileChangeLine) -> rx.Component:
    return rx.el.li(
        rx.vstack(
            rx.hstack(
                rx.text(line.patient, weight="bold"),
                rx.spacer(),
                rx.text(f"Asked {line.submitted}", size="2", color_scheme="gray"),
                width="100%",
                wrap="wrap",
            ),
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        rx.table.column_header_cell("Field", scope="col"),
                        rx.table.column_header_cell("On record", scope="col"),
                        rx.table.column_header_cell("Asked for", scope="col"),
                    )
                ),
                rx.table.body(rx.foreach(line.changes, change_row)),
                variant="surface",
                width="100%",
            ),
            rx.cond(
                S.declining == line.id,
                decline_form(line),
                rx.hstack(
                    rx.button(
                        "Apply the change",
                        on_click=S.apply(line.id),
                        high_contrast=True,
                        aria_label=f"Apply the change for {line.patient}",
                    ),
                    rx.button(
                        "Decline",
                        on_click=S.start_decline(line.id),
                        variant="soft",
                        color_scheme="red",
                        aria_label=f"Decline the change for {line.patient}",
                    ),
                    spacing="3",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        padding_y="1rem",
        border_bottom="1px solid var(--gray-a4)",
    )


def change_row(change: RequestedChange) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(change.label),
        rx.table.cell(change.current),
        rx.table.cell(change.requested, weight="bold"),
    )


def decline_form(line: ProfileChangeLine) -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.el.label(
                "Why? The patient reads this in their profile.",
                html_for="reason",
                font_weight="500",
            ),
            rx.text_area(
                id="reason",
                name="reason",
                max_length=500,
                rows="3",
                width="100%",
                aria_invalid=rx.cond(S.errors.contains("reason"), "true", "false"),
                aria_describedby=rx.cond(S.errors.contains("reason"), "reason-error", ""),
            ),
            field_error("reason", S.errors),
            rx.hstack(
                rx.button(
                    "Decline the change",
                    type="submit",
                    color_scheme="red",
                    loading=S.pending,
                ),
                rx.button(
                    "Cancel",
                    type="button",
                    on_click=S.cancel_decline,
                    variant="soft",
                    color_scheme="gray",
                ),
                spacing="3",
            ),
            spacing="2",
            width="100%",
        ),
        on_submit=S.decline,
        width="100%",
    )
