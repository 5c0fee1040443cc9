"""The signed-in session: an opaque token in an `HttpOnly` cookie, the principal in a
backend-only var.

No page script ever holds the token. The cookie is set and cleared only by HTTP answers
(portal/backend/api/session_cookie.py): a sign-in hands the page a one-time session ticket,
which the tab posts to `/auth/session` in a full navigation, and signing out posts to
`/auth/signed-out`. The new page's websocket carries the cookie in its handshake, and
`session_token` reads it from there (Reflex keeps the `Cookie` header out of what it sends to
the browser). No state var holds the token.

The token is re-checked against its server-side session row on every event, so a principal is
never trusted merely because it was once valid. Any handler may be called by any client with
any arguments; each one authorizes through `signed_in` by itself.

Every shell also polls `check_idle` (a check that is not activity): it refreshes the unread
notification count, opens the warning dialog two minutes before the idle limit, and once the
session has ended (timeout, or signed out from another device) clears the tab's state, has the
cookie cleared and reloads the tab with a fresh Reflex token.
"""

from __future__ import annotations

import inspect
import json
import uuid

import reflex as rx
from reflex_base.event.context import EventContext
from starlette.requests import cookie_parser

from portal import routes
from portal.backend.api import session_cookie
from portal.backend.security.principal import NotFound, Principal, Role
from portal.backend.security.tokens import SESSION_COOKIE
from portal.backend.services import (
    messaging,
    notifications,
    onboarding,
    page_entry,
    session_tickets,
    sessions,
)
from portal.state.base import clear_screens, run_service
from portal.state.brand import set_brand, show_brand

WARNING_SECONDS = 120

# Each page's own loader, by its state's full name (filled in by `portal_page`). The guard runs
# it in the guard's own event once the visitor may see the page: a page load is then one event
# fewer, and the loader finds the session already checked in this event.
PAGE_LOADERS: dict[str, rx.EventHandler] = {}


def post_navigation(path: str, **fields: str) -> str:
    """A script that leaves the page with a form POST of `fields` to `path`: nothing of them goes
    in a URL, the history or a server log."""
    return (
        "(()=>{const form=document.createElement('form');form.method='post';"
        f"form.action={json.dumps(path)};"
        f"for(const [name,value] of Object.entries({json.dumps(fields)}))"
        "{const input=document.createElement('input');input.type='hidden';input.name=name;"
        "input.value=value;form.append(input);}"
        "document.body.append(form);form.submit();})();"
    )


# The cookie is expired by the answer to the POST; the page that follows, loaded with an empty
# sessionStorage, gives the tab a new Reflex token, so nothing of the signed-out state can be
# reached again with the old one.
SIGN_OUT_SCRIPT = "window.sessionStorage.clear();" + post_navigation(session_cookie.END_PATH)


def session_token(state: rx.State) -> str:
    """The browser's session token: the `portal_session` cookie its websocket connected with.
    Parsed as the HTTP routes parse cookies (`http.cookies.SimpleCookie` gives up on a whole
    header when another cookie of the host holds, say, a quote)."""
    return cookie_parser(state.router.headers.cookie or "").get(SESSION_COOKIE, "")


class SessionState(rx.State):
    role: str = ""
    unread_notifications: int = 0
    unread_messages: int = 0
    warning_open: bool = False
    warning_text: str = ""
    check_every_ms: int = 15_000
    _principal: Principal | None = None
    # The session whose data the screens may hold: kept when a session is found ended, until
    # the screens are cleared.
    _screens_session_id: uuid.UUID | None = None
    # The browser event in which `_principal` was checked (see `signed_in`).
    _checked_in_event: str = ""

    async def _resolve(self) -> Principal | None:
        return self._found(await run_service(self, sessions.resolve_session, session_token(self)))

    def _found(self, principal: Principal | None) -> Principal | None:
        """The session's principal as checked in this browser event (None: no live session)."""
        self._principal = principal
        self._checked_in_event = browser_event()
        self.role = principal.role.value if principal else ""
        if principal is not None:
            self._screens_session_id = principal.session_id
        return principal

    async def _reconnected(self) -> None:
        """Before a (re)connecting tab is sent its whole state: screens filled in a session
        that has since ended (idle timeout, signed out elsewhere), or that is not the one the
        tab's cookie now carries, are cleared, so none of their PHI reaches the browser. A tab
        that was never signed in costs no lookup; the check is not activity."""
        if self._screens_session_id is None:
            return
        check = await run_service(self, sessions.check_session, session_token(self))
        if check.principal is None or check.principal.session_id != self._screens_session_id:
            await self._forget_session()

    @rx.event
    async def enter(self, role: str, screen: str = ""):
        """The guard of every signed-in page: only the matching role gets in, the views of
        every other screen are cleared, the practice's brand is set, and the page loads."""
        await clear_screens(self, keep=screen)
        entry = await run_service(self, page_entry.enter_page, session_token(self))
        principal = self._found(entry.principal)
        if principal is None:
            return rx.redirect(routes.SIGN_IN, replace=True)
        if principal.role != Role(role):
            return rx.redirect(routes.home_of(principal.role), replace=True)
        self.warning_open = False
        await set_brand(self, entry.brand)
        self.unread_notifications = entry.unread.notifications
        self.unread_messages = entry.unread.messages
        return await self._load_page(screen)

    @rx.event
    async def check_messages(self):
        """Polled every two seconds by the patient's and provider's shells (never counts as
        activity): the unread count comes from the database, so a message sent through any
        worker shows up."""
        principal = await watching(self)
        if principal is not None:
            self.unread_messages = await run_service(self, messaging.unread_messages, principal)

    @rx.event
    async def show(self, screen: str = ""):
        """Before a public page: the views of every other screen are cleared, and the brand is
        the signed-in person's practice's, or the portal's."""
        await clear_screens(self, keep=screen)
        practice = self._principal.tenant_id if self._principal is not None else None
        await show_brand(self, practice)
        return await self._load_page(screen)

    async def _load_page(self, screen: str):
        loader = PAGE_LOADERS.get(screen)
        if loader is None:
            return None
        loaded = loader.fn(await self.get_state(loader.state))
        return await loaded if inspect.isawaitable(loaded) else loaded

    @rx.event
    async def check_idle(self):
        """Polled by the shell; never counts as activity."""
        check = await run_service(self, sessions.check_session, session_token(self))
        if check.principal is None:
            # Only a tab whose screens were filled in a session is told it was signed out
            # (even when another handler already found the session dead and reset `role`); a
            # visitor who never signed in is sent to the sign-in page by the page guard.
            return await self._signed_out() if self._screens_session_id else None
        self.unread_notifications = await run_service(
            self, notifications.unread_count, check.principal
        )
        timeout = check.idle_timeout_seconds
        self.check_every_ms = min(15_000, max(2_000, timeout * 1000 // 10))
        lead = min(WARNING_SECONDS, timeout // 2)
        self.warning_open = check.idle_seconds_left <= lead
        minutes, seconds = divmod(max(check.idle_seconds_left, 0), 60)
        self.warning_text = (
            f"For your privacy you will be signed out in about {minutes} minute"
            f"{'s' if minutes != 1 else ''}."
            if minutes
            else f"For your privacy you will be signed out in about {seconds} seconds."
        )
        return None

    @rx.event
    async def stay_signed_in(self):
        principal = await self._resolve()
        if principal is None:
            return await self._signed_out()
        await run_service(self, sessions.keep_alive, principal)
        self.warning_open = False
        return None

    @rx.event
    async def sign_out(self):
        principal = await self._resolve()
        if principal is not None:
            await run_service(self, sessions.sign_out, principal)
        return await self._signed_out()

    async def _signed_out(self):
        await self._forget_session()
        return rx.call_script(SIGN_OUT_SCRIPT)

    async def _forget_session(self) -> None:
        await clear_screens(self)
        self._principal = None
        self._checked_in_event = ""
        self._screens_session_id = None
        self.role = ""
        self.unread_notifications = self.unread_messages = 0
        self.warning_open = False


async def watching(state: rx.State, *roles: Role) -> Principal | None:
    """The principal behind a live poll. Unlike `signed_in`, this does not count as activity:
    a tab left open must still reach its idle timeout."""
    principal = (await run_service(state, sessions.check_session, session_token(state))).principal
    if principal is None or (roles and principal.role not in roles):
        return None
    return principal


async def landing_of(state: rx.State, principal: Principal) -> str:
    """Where a sign-in leads: the role's home, or, for a patient who has never opened it, the
    account setup (once; the home page offers to resume it after that)."""
    if principal.role == Role.PATIENT and await run_service(
        state, onboarding.onboarding_due, principal
    ):
        return routes.ONBOARDING
    return routes.home_of(principal.role)


def browser_event() -> str:
    """The id of the browser event being handled: of the handler's own event, or, for an event
    that another handler chained (a page's loaders, queued by the page load), of that one. Ids
    are random and made by the server for each event; "" outside an event."""
    try:
        context = EventContext.get()
    except LookupError:
        return ""
    return context.parent_txid or context.txid


async def signed_in(state: rx.State, *roles: Role) -> Principal | None:
    """The caller's principal if their session is live and has one of `roles`, else None.
    Checked once per browser event: the handlers a page load runs (the guard, then the page's
    loaders) share one check, made a few milliseconds earlier; every other event checks
    again, so a session ended on any worker is refused from the next event on."""
    session = await state.get_state(SessionState)
    event = browser_event()
    if event and session._checked_in_event == event:
        principal = session._principal
    else:
        principal = await session._resolve()
    if principal is None or (roles and principal.role not in roles):
        return None
    return principal


async def start_session(state: rx.State, principal: Principal, landing: str) -> rx.event.EventSpec:
    """After a sign-in: a one-time ticket for the new session, posted by the tab to the route
    that answers with the session cookie and leads on to `landing`. A session that ended in
    the meantime leads back to the sign-in page."""
    try:
        ticket = await run_service(state, session_tickets.issue_ticket, principal)
    except NotFound:
        return rx.redirect(routes.SIGN_IN, replace=True)
    return rx.call_script(
        post_navigation(session_cookie.START_PATH, ticket=ticket, landing=landing)
    )
