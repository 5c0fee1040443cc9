"""The users screen's state, for admins: a filtered page of the practice's accounts and the
actions on one of them. Every action names a row the screen currently shows."""

from __future__ import annotations

import reflex as rx

from portal.backend.security.principal import NotFound, Principal, Role
from portal.backend.services import accounts, users
from portal.backend.services.users import UsersRefused
from portal.backend.views import UserLine
from portal.components.forms import record_id, text_of
from portal.state.base import run_service, screen_state
from portal.state.session import signed_in

GONE = "That account is no longer in this practice's list."


@screen_state
class UsersState(rx.State):
    lines: list[UserLine] = []
    next_after: str = ""
    role: str = ""
    status: str = ""
    query: str = ""
    # The row whose deactivation or reactivation waits for the admin's confirmation.
    confirming: UserLine | None = None
    error: str = ""
    message: str = ""
    pending: bool = False

    @rx.event
    async def load(self):
        self.reset()
        principal = await signed_in(self, Role.ADMIN)
        if principal is not None:
            await self._refresh(principal)

    @rx.event
    async def search(self, form_data: dict):
        principal = await signed_in(self, Role.ADMIN)
        if principal is None:
            return
        self.role = text_of(form_data, "role", 20)
        self.status = text_of(form_data, "status", 20)
        self.query = text_of(form_data, "query", 320).strip()
        self.message = ""
        await self._refresh(principal)

    @rx.event
    async def next_page(self):
        principal = await signed_in(self, Role.ADMIN)
        if principal is not None and self.next_after:
            await self._refresh(principal, after=self.next_after)

    @rx.event
    def ask(self, user_id: str):
        self.confirming = self._shown(user_id)

    @rx.event
    def cancel(self):
        self.confirming = None

    @rx.event
    async def confirm(self):
        line, self.confirming = self.confirming, None
        if line is None:
            return
        if line.status == "deactivated":
            await self._act(users.reactivate, line.id, f"{line.name} can sign in again.")
        else:
            await self._act(
                users.deactivate, line.id, f"{line.name} is deactivated and signed out."
            )

    @rx.event
    async def unlock(self, user_id: str):
        await self._act(accounts.unlock, user_id, "The account is unlocked.")

    @rx.event
    async def end_sessions(self, user_id: str):
        await self._act(users.end_sessions, user_id, "Signed out of every device.")

    async def _act(self, service, user_id: str, done: str) -> None:
        principal = await signed_in(self, Role.ADMIN)
        if principal is None:
            return
        if self._shown(user_id) is None:
            self.error, self.message = GONE, ""
            return
        try:
            await run_service(self, service, principal, record_id(user_id))
        except UsersRefused as refusal:
            self.error, self.message = str(refusal), ""
            return
        except NotFound:
            self.error, self.message = GONE, ""
            return
        self.error, self.message = "", done
        await self._refresh(principal)

    async def _refresh(self, principal: Principal, *, after: str = "") -> None:
        try:
            page = await run_service(
                self,
                users.list_users,
                principal,
                role=self.role,
                status=self.status,
                query=self.query,
                after=after,
            )
        except UsersRefused as refusal:
            self.error, self.lines, self.next_after = str(refusal), [], ""
            return
        except NotFound:  # the row the next page starts after is gone: start over
            await self._refresh(principal)
            return
        self.lines, self.next_after = page.lines, page.next_after
        if not self.message:
            self.error = ""

    def _shown(self, user_id: str) -> UserLine | None:
        return next((line for line in self.lines if line.id == user_id), None)
