"""The admin's overview: people by role and status, sessions open now."""

from __future__ import annotations

import contextlib
import uuid

import reflex as rx

from portal import routes
from portal.backend.security.principal import NotFound, Role
from portal.backend.services import accounts, home
from portal.backend.services.accounts import LockedAccount
from portal.backend.views import AdminOverview, RoleCount
from portal.components.cards import figure, section
from portal.components.feedback import empty_state
from portal.layout import loading, portal_page
from portal.state.base import Screen, run_service, screen_state
from portal.state.session import signed_in

ROLE_LABELS = {"patient": "Patients", "provider": "Providers", "admin": "Administrators"}


@screen_state
class AdminHomeState(Screen):
    overview: AdminOverview | None = None
    locked: list[LockedAccount] = []

    @rx.event
    async def load(self):
        principal = await signed_in(self, Role.ADMIN)
        if principal is None:
            self.overview, self.locked = None, []
            return
        self.overview = await run_service(self, home.admin_overview, principal)
        self.locked = await run_service(self, accounts.locked_accounts, principal)

    @rx.event
    async def unlock(self, user_id: str):
        principal = await signed_in(self, Role.ADMIN)
        if principal is None:
            return
        with contextlib.suppress(ValueError, NotFound):
            await run_service(self, accounts.unlock, principal, uuid.UUID(user_id))
        self.locked = await run_service(self, accounts.locked_accounts, principal)


@portal_page(routes.ADMIN_HOME, title="Overview", role=Role.ADMIN, on_load=AdminHomeState.load)
def admin_home() -> rx.Component:
    data = AdminHomeState.overview
    return rx.cond(
        data,
        rx.vstack(
            rx.heading(data.practice_name, as_="h1", size="7"),
            rx.hstack(
                figure("patient records", data.patients),
                figure("people signed in now", data.signed_in_now),
                spacing="6",
                wrap="wrap",
            ),
            section("Portal accounts", account_table(data), heading_id="accounts"),
            section("Locked accounts", locked_accounts(), heading_id="locked"),
            spacing="4",
            width="100%",
        ),
        loading(),
    )


def locked_accounts() -> rx.Component:
    return rx.cond(
        AdminHomeState.locked.length() > 0,
        rx.el.ul(
            rx.foreach(AdminHomeState.locked, locked_line),
            style={"list_style": "none", "padding": 0, "width": "100%"},
        ),
        empty_state(
            "No locked accounts",
            "After five failed sign-ins an account locks for 15 minutes; it shows here.",
        ),
    )


def locked_line(account: LockedAccount) -> rx.Component:
    return rx.el.li(
        rx.hstack(
            rx.text(f"{account.name} ({account.role}), locked until {account.until}"),
            rx.spacer(),
            rx.button(
                "Unlock",
                size="1",
                on_click=AdminHomeState.unlock(account.id),
                aria_label=f"Unlock {account.name}",
            ),
            align="center",
            wrap="wrap",
            width="100%",
        ),
        padding_y="0.5rem",
    )


def account_table(data) -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *[
                        rx.table.column_header_cell(label, scope="col")
                        for label in ("Role", "Active", "Invited", "Deactivated")
                    ]
                )
            ),
            rx.table.body(rx.foreach(data.roles, role_row)),
            variant="surface",
            width="100%",
        ),
        overflow_x="auto",
        width="100%",
    )


def role_row(count: RoleCount) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.match(count.role, *ROLE_LABELS.items(), count.role)),
        rx.table.cell(count.active),
        rx.table.cell(count.invited),
        rx.table.cell(count.deactivated),
    )
