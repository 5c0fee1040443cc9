"""The signed-in session: an opaque token in a cookie, the principal in a backend-only var.

The token is re-checked against its server-side session row on every event, so a principal is
never trusted merely because it was once valid. Any handler may be called by any client with
any arguments; each one authorizes through `signed_in` by itself.
"""

from __future__ import annotations

import reflex as rx

from portal import routes
from portal.backend.config import settings
from portal.backend.security.principal import Principal, Role
from portal.backend.security.tokens import SESSION_COOKIE
from portal.backend.services import sessions
from portal.state.base import clear_screens, run_service

# Navigating with a full page load and a cleared sessionStorage gives the tab a fresh Reflex
# token, so nothing of the signed-out state can be reached again with the old one.
RELOAD_SIGNED_OUT = (
    f"window.sessionStorage.clear();window.location.replace('{routes.SIGN_IN}?signed_out=1');"
)


class SessionState(rx.State):
    session_token: str = rx.Cookie(
        "",
        name=SESSION_COOKIE,
        same_site="strict",
        secure=settings().secure_cookies,
    )
    role: str = ""
    _principal: Principal | None = None

    async def _resolve(self) -> Principal | None:
        self._principal = await run_service(self, sessions.resolve_session, self.session_token)
        self.role = self._principal.role.value if self._principal else ""
        return self._principal

    @rx.event
    async def enter(self, role: str):
        """The guard of every signed-in page: only the matching role gets in."""
        principal = await self._resolve()
        if principal is None:
            await clear_screens(self)
            return rx.redirect(routes.SIGN_IN, replace=True)
        if principal.role != Role(role):
            return rx.redirect(routes.home_of(principal.role), replace=True)
        return None

    @rx.event
    async def sign_out(self):
        principal = await self._resolve()
        if principal is not None:
            await run_service(self, sessions.sign_out, principal)
        await self._forget()
        return rx.call_script(RELOAD_SIGNED_OUT)

    async def _forget(self) -> None:
        await clear_screens(self)
        self._principal = None
        self.role = ""
        self.session_token = ""


async def signed_in(state: rx.State, role: Role) -> Principal | None:
    """The caller's principal if their session is live and has `role`, else None."""
    session = await state.get_state(SessionState)
    principal = await session._resolve()
    if principal is None or principal.role != role:
        return None
    return principal
