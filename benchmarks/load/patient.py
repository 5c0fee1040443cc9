"""A patient at the portal, through the real page states' handlers: signing in with a password
and an authenticator code, then the work a patient does, one action after each think time.

The journey repeats: open home, list appointments, open booking, choose a visit type, search
slots (any provider), open messages, open their conversation, type a reply, send it, open their
lab result. Each user starts at a different point of it.
"""

from __future__ import annotations

import json
import re
import time

import aiohttp
import pyotp

from benchmarks.load.population import PASSWORD, Account
from benchmarks.load.record import Recorder
from benchmarks.load.tab import ACTION_LIMIT_SECONDS, ActionFailed, Tab, Update, changed
from portal import routes
from portal.backend.api import session_cookie
from portal.backend.security.tokens import SESSION_COOKIE
from portal.pages.auth.sign_in import SignInState
from portal.pages.patient.booking import ANY, BookingState
from portal.pages.patient.messages import ThreadState

SIGN_IN = SignInState.get_full_name()
BOOKING = BookingState.get_full_name()
THREAD = ThreadState.get_full_name()
# The form fields in the script of `portal.state.session.post_navigation`.
TICKET_FIELDS = re.compile(r"Object\.entries\((\{.*?\})\)")
REPLY = "Thank you, that helps. I will keep a log and bring it to the visit."

JOURNEY = [
    "open home",
    "list appointments",
    "open booking",
    "choose visit type",
    "search slots",
    "open messages",
    "open thread",
    "type message",
    "send message",
    "open lab result",
]


async def signed_in_tab(
    base: str, recorder: Recorder, account: Account, *, hashes: list[str] | None
) -> Tab:
    """A tab signed in as `account`, on the page its sign-in leads to.

    The one place that knows how a browser gets its session. The code step answers with a
    script that posts a one-time session ticket to `/auth/session`; that answer sets the
    `HttpOnly` session cookie and leads to the landing page, a full page load whose websocket
    handshake carries the cookie (the tab keeps its Reflex token, as sessionStorage does)."""
    tab = Tab(base, recorder, hashes=hashes)
    try:
        await tab.connect("sign-in page", routes.SIGN_IN)
        form = {"email": account.email, "password": PASSWORD}
        await tab.call(
            "sign-in password",
            f"{SIGN_IN}.submit_password",
            {"form_data": form},
            # The handler's last answer moves the focus to the code field.
            done=lambda u: _focus(u) or _refused(u),
        )
        _fail_if_refused(recorder, "sign-in password", tab.last)
        code = pyotp.TOTP(account.totp_secret).now()
        updates = await tab.call(
            "sign-in code",
            f"{SIGN_IN}.submit_code",
            {"form_data": {"code": code}},
            done=lambda u: _ticket_form(u) is not None or _refused(u),
        )
        _fail_if_refused(recorder, "sign-in code", updates)
        fields = next(f for f in map(_ticket_form, updates) if f is not None)
        await tab.close()  # the form post leaves the page
        cookie, landing = await _start_session(base, recorder, fields)
        tab.cookie_header = f"{SESSION_COOKIE}={cookie}"
        await tab.connect("sign-in landing", landing)
    except ActionFailed:
        await tab.close()
        raise
    return tab


def _ticket_form(update: Update) -> dict | None:
    """The fields of the form the code step's script posts to `/auth/session`, if any."""
    for event in update.get("events", []):
        script = str(event.get("payload", {}).get("javascript_code", ""))
        if session_cookie.START_PATH in script and (found := TICKET_FIELDS.search(script)):
            return json.loads(found.group(1))
    return None


async def _start_session(base: str, recorder: Recorder, fields: dict) -> tuple[str, str]:
    """Post the ticket as the page's form does; the session cookie and the landing page."""
    label = "sign-in session"
    headers = {"Origin": base, "Sec-Fetch-Site": "same-origin"}
    timeout = aiohttp.ClientTimeout(total=ACTION_LIMIT_SECONDS)
    started = time.perf_counter()
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as http,
            http.post(
                f"{base}{session_cookie.START_PATH}",
                data=fields,
                headers=headers,
                allow_redirects=False,
            ) as answer,
        ):
            cookie = answer.cookies.get(SESSION_COOKIE)
            landing = answer.headers.get("Location", "")
    except (TimeoutError, aiohttp.ClientError) as failure:
        recorder.failure(label, "timeout" if isinstance(failure, TimeoutError) else "error")
        raise ActionFailed("error", label) from None
    if answer.status != 303 or cookie is None or not cookie.value:
        recorder.failure(label, "refused")
        raise ActionFailed("refused", f"{label}: HTTP {answer.status}")
    recorder.success(label, time.perf_counter() - started, [])
    return cookie.value, landing


def _focus(update: Update) -> bool:
    return any(event.get("name") == "_set_focus" for event in update.get("events", []))


def _refused(update: Update) -> bool:
    error = update.get("delta", {}).get(SIGN_IN, {}).get("error_rx_state_")
    return bool(error)


def _fail_if_refused(recorder: Recorder, label: str, updates: list[Update]) -> None:
    if any(_refused(u) for u in updates):
        recorder.failure(label, "refused")
        raise ActionFailed("refused", label)


# Steps that open a page: a user starts at one, and goes on from the next one after a failure
# (the steps between depend on the page that opened them).
ENTRY_STEPS = [i for i, label in enumerate(JOURNEY) if label.split()[0] in ("open", "list")]


class Patient:
    """One simulated patient working through the journey on a signed-in tab."""

    def __init__(self, tab: Tab, account: Account, start: int):
        self.tab = tab
        self.account = account
        self.step = ENTRY_STEPS[start % len(ENTRY_STEPS)]
        self.visit_type_id = ""

    async def next_action(self) -> None:
        label = JOURNEY[self.step]
        self.step = (self.step + 1) % len(JOURNEY)
        await getattr(self, "_" + label.replace(" ", "_"))(label)

    def skip_to_next_page(self) -> None:
        self.step = min((i for i in ENTRY_STEPS if i >= self.step), default=ENTRY_STEPS[0])

    async def _open_home(self, label: str) -> None:
        await self.tab.open(label, routes.PATIENT_HOME)

    async def _list_appointments(self, label: str) -> None:
        await self.tab.open(label, routes.APPOINTMENTS)

    async def _open_booking(self, label: str) -> None:
        await self.tab.open(label, routes.BOOK_APPOINTMENT)
        self.visit_type_id = ""
        for update in self.tab.last:
            options = update.get("delta", {}).get(BOOKING, {}).get("options_rx_state_")
            if options:
                usable = [v for v in options["visit_types"] if not v["requires_approval"]]
                self.visit_type_id = usable[0]["id"] if usable else ""

    async def _choose_visit_type(self, label: str) -> None:
        await self.tab.call(
            label,
            f"{BOOKING}.choose_type",
            {"visit_type_id": self.visit_type_id},
            done=changed(BOOKING, "step", "provider"),
        )

    async def _search_slots(self, label: str) -> None:
        await self.tab.call(
            label,
            f"{BOOKING}.choose_provider",
            {"provider_id": ANY},
            done=lambda u: changed(BOOKING, "search")(u) or changed(BOOKING, "error")(u),
        )

    async def _open_messages(self, label: str) -> None:
        await self.tab.open(label, routes.MESSAGES)

    async def _open_thread(self, label: str) -> None:
        await self.tab.open(label, routes.MESSAGE_THREAD, {"id": self.account.conversation_id})

    async def _type_message(self, label: str) -> None:
        await self.tab.call(
            label, f"{THREAD}.typed", {"value": REPLY}, done=changed(THREAD, "draft")
        )

    async def _send_message(self, label: str) -> None:
        updates = await self.tab.upload(label, f"{THREAD}.reply")
        if not any(changed(THREAD, "message", "Sent.")(u) for u in updates):
            self.tab.recorder.failure(label, "refused")
            raise ActionFailed("refused", label)

    async def _open_lab_result(self, label: str) -> None:
        await self.tab.open(label, routes.RECORD_DETAIL, {"id": self.account.lab_result_id})
