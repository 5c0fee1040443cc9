"""The users screen's state, for admins: a filtered page of the practice's accounts and the
actions on one of them (unlock, sessions, role, MFA reset, deactivation), plus inviting a
colleague through the invitations service. Every action names a row the screen currently
shows, and every handler re-checks the session and the role before it calls a service."""

from __future__ import annotations

import reflex as rx

from portal.backend.security.principal import NotFound, Principal, Role
from portal.backend.services import account_security, accounts, user_changes, users
from portal.backend.services.users import UsersRefused
from portal.backend.views import AccountSessionLine, UserLine
from portal.components.forms import record_id, text_of
from portal.pages.admin.invitations import STAFF_ROLES, invite_staff_from
from portal.state.base import Screen, run_service, screen_state
from portal.state.session import signed_in

GONE = "That account is no longer in this practice's list."

# The dialogs the screen can show over the list; "" is none.
DIALOGS = ("invite", "role", "mfa", "sessions")


@screen_state
class UsersState(Screen):
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
    # The open dialog (one of DIALOGS, or ""), the row it acts on, and its own error.
    dialog: str = ""
    target: UserLine | None = None
    invite_role: str = "provider"
    sessions: list[AccountSessionLine] = []
    # The admin confirmed their password and a code in this dialog (the service re-checks).
    reauthenticated: bool = False
    dialog_error: str = ""

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
            await self._act(user_changes.reactivate, line.id, f"{line.name} can sign in again.")
        else:
            await self._act(
                user_changes.deactivate, line.id, f"{line.name} is deactivated and signed out."
            )

    @rx.event
    async def unlock(self, user_id: str):
        await self._act(accounts.unlock, user_id, "The account is unlocked.")

    @rx.event
    async def end_sessions(self, user_id: str):
        await self._act(users.end_sessions, user_id, "Signed out of every device.")
        if self.dialog == "sessions":
            self._close()

    # --- dialogs --------------------------------------------------------------------------

    @rx.event
    async def open_invite(self, role: str):
        if await signed_in(self, Role.ADMIN) is None:
            return
        self._close()
        self.dialog, self.invite_role = "invite", role if role in STAFF_ROLES else "provider"

    @rx.event
    async def open_dialog(self, name: str, user_id: str):
        principal = await signed_in(self, Role.ADMIN)
        line = self._shown(user_id)
        if principal is None or name not in DIALOGS or name == "invite":
            return
        self._close()
        if line is None:
            self.error, self.message = GONE, ""
            return
        self.dialog, self.target = name, line
        if name == "sessions":
            await self._load_sessions(principal)

    @rx.event
    def dialog_changed(self, is_open: bool):
        if not is_open:
            self._close()

    @rx.event
    def close_dialog(self):
        self._close()

    @rx.event
    async def invite_staff(self, form_data: dict):
        principal = await signed_in(self, Role.ADMIN)
        if principal is None or self.dialog != "invite":
            return
        self.dialog_error, email = await invite_staff_from(self, principal, form_data, "email")
        if self.dialog_error:
            return
        self._close()
        self.error, self.message = "", f"Invitation sent to {email}."
        await self._refresh(principal)

    @rx.event
    async def change_role(self, form_data: dict):
        line = self.target if self.dialog == "role" else None
        role = text_of(form_data, "new_role", 20)
        if line is None:
            return
        await self._in_dialog(
            user_changes.change_role,
            line,
            f"{line.name} is now {'an administrator' if role == 'admin' else 'a provider'} "
            "and was signed out of every device.",
            role,
        )

    @rx.event
    async def confirm_identity(self, form_data: dict):
        principal = await signed_in(self, Role.ADMIN)
        if principal is None or self.dialog != "mfa":
            return
        try:
            await run_service(
                self,
                account_security.reauthenticate,
                principal,
                text_of(form_data, "password", 500),
                text_of(form_data, "code", 40),
            )
        except account_security.ChangeRefused as refusal:
            self.dialog_error = str(refusal)
            return
        self.reauthenticated, self.dialog_error = True, ""

    @rx.event
    async def reset_mfa(self, form_data: dict):
        line = self.target if self.dialog == "mfa" else None
        if line is None:
            return
        await self._in_dialog(
            user_changes.reset_mfa,
            line,
            f"{line.name}'s authenticator and recovery codes are cleared; they set up a new "
            "authenticator at their next sign-in.",
            text_of(form_data, "identity_check", 40),
        )

    @rx.event
    async def end_one_session(self, session_id: str):
        principal = await signed_in(self, Role.ADMIN)
        line = self.target if self.dialog == "sessions" else None
        if principal is None or line is None:
            return
        if not any(session.id == session_id for session in self.sessions):
            self.dialog_error = "That session is no longer open."
            return
        try:
            ended = await run_service(
                self,
                users.end_account_session,
                principal,
                record_id(line.id),
                record_id(session_id),
            )
        except NotFound:
            self._close()
            self.error, self.message = GONE, ""
            return
        self.dialog_error = "" if ended else "That session had already ended."
        await self._load_sessions(principal)
        await self._refresh(principal)

    async def _in_dialog(self, service, line: UserLine, done: str, *args) -> None:
        """Run a dialog's action on its row; a refusal stays in the dialog, in words."""
        principal = await signed_in(self, Role.ADMIN)
        if principal is None:
            return
        try:
            await run_service(self, service, principal, record_id(line.id), *args)
        except UsersRefused as refusal:
            self.dialog_error = str(refusal)
            if str(refusal) == user_changes.REAUTHENTICATION_NEEDED:
                self.reauthenticated = False
            return
        except NotFound:
            self._close()
            self.error, self.message = GONE, ""
            return
        self._close()
        self.error, self.message = "", done
        await self._refresh(principal)

    async def _load_sessions(self, principal: Principal) -> None:
        try:
            self.sessions = await run_service(
                self, users.account_sessions, principal, record_id(self.target.id)
            )
        except NotFound:
            self._close()
            self.error, self.message = GONE, ""

    def _close(self) -> None:
        self.dialog, self.target, self.sessions = "", None, []
        self.reauthenticated, self.dialog_error = False, ""

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
