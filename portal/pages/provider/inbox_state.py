"""The care team's inbox screens: the filtered, keyset-paged list of threads and one thread with
the reply, assignment and done actions. Both stay live by polling every two seconds; a poll
does not count as activity, so an open tab still times out."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import reflex as rx

from portal.backend.security.principal import NotFound, Principal, Role
from portal.backend.services import messaging
from portal.backend.services.messaging import (
    BODY_LIMIT,
    CATEGORY_LABELS,
    MessageRefused,
)
from portal.backend.views import Choice, ThreadLine, ThreadView
from portal.components.forms import record_id, text_of
from portal.components.messages import FILES_REFUSED, read_files
from portal.state.base import Screen, run_service, screen_state
from portal.state.session import signed_in, watching

STATUSES = [("open", "Open"), ("done", "Done"), ("all", "Open and done")]
CATEGORIES = [(category.value, label) for category, label in CATEGORY_LABELS.items()]
# Who a thread is assigned to, as the filter offers it; the care team's clinicians follow.
ANYONE = [Choice("", "Anyone"), Choice("me", "Me"), Choice("nobody", "Nobody")]
REPLY_FILES = "provider-reply-files"


@screen_state
class InboxState(Screen):
    lines: list[ThreadLine] = []
    loaded: bool = False
    target_hours: int = 0
    assignees: list[Choice] = []
    status: str = "open"
    category: str = ""
    assignee: str = ""
    # The patient named in `?patient=`, when the list shows only their threads.
    one_patient: bool = False
    patient: str = ""
    page: int = 1
    more: bool = False
    error: str = ""
    _patient_id: uuid.UUID | None = None
    _after: str = ""
    _next_after: str = ""
    _version: str = ""

    @rx.event
    async def load(self):
        """Filters chosen on this screen stay while it is open (opening one patient's threads
        keeps them); another screen resets them."""
        principal = await signed_in(self, Role.PROVIDER)
        if principal is None:
            self.reset()
            return
        self.error, self.page, self._after = "", 1, ""
        wanted = self.router.url.query_parameters.get("patient", "")
        try:
            self._patient_id = record_id(wanted[:40]) if wanted else None
        except NotFound:
            self._patient_id = None
            self.error = "That link names no patient, so every patient's threads are shown."
        self.one_patient = self._patient_id is not None
        team = await run_service(self, messaging.team_members, principal)
        self.assignees = ANYONE + team
        await self._refresh(principal)
        self.patient = self.lines[0].patient if self.one_patient and self.lines else ""

    async def _refresh(self, principal: Principal) -> None:
        """Query the page in view. Only what changed is assigned: a poll that finds nothing new
        sends nothing to the browser."""
        self._version = await run_service(self, messaging.inbox_version, principal)
        page = await run_service(
            self,
            messaging.inbox,
            principal,
            status=self.status,
            category=self.category,
            assignee=self.assignee,
            patient_id=self._patient_id,
            after=self._after,
        )
        shown = {
            "lines": page.lines,
            "target_hours": page.target_hours,
            "more": page.next_after != "",
            "loaded": True,
            "_next_after": page.next_after,
        }
        for name, value in shown.items():
            if getattr(self, name) != value:
                setattr(self, name, value)

    @rx.event
    async def apply_filters(self, form_data: dict):
        principal = await signed_in(self, Role.PROVIDER)
        if principal is None or not self.loaded:
            return
        status = text_of(form_data, "status", 10)
        category = text_of(form_data, "category", 40)
        assignee = text_of(form_data, "assignee", 40)
        self.status = status if status in dict(STATUSES) else "open"
        self.category = category if category in dict(CATEGORIES) else ""
        self.assignee = assignee if any(a.id == assignee for a in self.assignees) else ""
        self.error, self.page, self._after = "", 1, ""
        await self._refresh(principal)

    @rx.event
    async def next_page(self):
        principal = await signed_in(self, Role.PROVIDER)
        if principal is None or not self._next_after:
            return
        self._after, self.page = self._next_after, self.page + 1
        await self._refresh(principal)

    @rx.event
    async def first_page(self):
        principal = await signed_in(self, Role.PROVIDER)
        if principal is None or not self.loaded:
            return
        self._after, self.page = "", 1
        await self._refresh(principal)

    @rx.event
    async def poll(self):
        """Every two seconds: the page in view, queried again only when the teams' threads
        changed (the check reads no PHI, so idle polls add nothing to the audit log)."""
        principal = await watching(self, Role.PROVIDER)
        if principal is None or not self.loaded:
            return
        version = await run_service(self, messaging.inbox_version, principal)
        if version != self._version:
            await self._refresh(principal)


@screen_state
class InboxThreadState(Screen):
    thread: ThreadView | None = None
    team: list[Choice] = []
    missing: bool = False
    draft: str = ""
    reply_error: str = ""
    error: str = ""
    message: str = ""
    pending: bool = False

    @rx.event
    async def load(self):
        self.reset()
        principal = await signed_in(self, Role.PROVIDER)
        if principal is None:
            return
        try:
            thread_id = record_id(self.router.url.query_parameters.get("id", "")[:40])
            self.thread = await run_service(self, messaging.read_thread, principal, thread_id)
        except NotFound:
            self.missing = True
            return
        self.team = await run_service(self, messaging.team_members, principal, thread_id)

    async def _read(self, principal: Principal) -> None:
        """The thread in view, read again (marking the patient's new messages read)."""
        try:
            self.thread = await run_service(
                self, messaging.read_thread, principal, record_id(self.thread.id)
            )
        except NotFound:
            self.thread, self.missing = None, True

    @rx.event
    async def poll(self):
        """Every two seconds: re-read the thread only when its version changed, so a patient's
        new message shows (and is marked read) within two seconds."""
        principal = await watching(self, Role.PROVIDER)
        if principal is None or self.thread is None:
            return
        try:
            version = await run_service(
                self, messaging.thread_version, principal, record_id(self.thread.id)
            )
        except NotFound:
            self.thread, self.missing = None, True
            return
        if version != self.thread.version:
            await self._read(principal)

    @rx.event
    def edit_draft(self, text: str):
        """What the provider types, kept here so a refusal never loses it (bounded: a client
        can send anything)."""
        self.draft = text[: BODY_LIMIT * 2] if isinstance(text, str) else ""

    @rx.event
    def files_rejected(self):
        self.reply_error = FILES_REFUSED

    @rx.event
    async def send(self, files: list[rx.UploadFile]):
        principal = await signed_in(self, Role.PROVIDER)
        if principal is None or self.thread is None:
            return
        self.reply_error, self.error, self.message, self.pending = "", "", "", True
        yield
        try:
            await run_service(
                self,
                messaging.send_reply,
                principal,
                record_id(self.thread.id),
                self.draft,
                await read_files(files),
            )
        except MessageRefused as refused:
            self.reply_error, self.pending = str(refused), False
            return
        except NotFound:
            self.thread, self.missing, self.pending = None, True, False
            return
        self.draft, self.pending, self.message = "", False, "Your reply was sent."
        await self._read(principal)
        yield rx.clear_selected_files(REPLY_FILES)

    @rx.event
    async def reassign(self, form_data: dict):
        principal = await signed_in(self, Role.PROVIDER)
        if principal is None or self.thread is None:
            return
        wanted = text_of(form_data, "assignee", 40)
        colleague = next((member for member in self.team if member.id == wanted), None)
        if colleague is None:
            self.error, self.message = "Choose someone on this patient's care team.", ""
            return
        if await self._act(messaging.assign, principal, record_id(colleague.id)):
            self.message = f"Assigned to {colleague.name}."

    @rx.event
    async def mark_done(self):
        await self._change_status(done=True)

    @rx.event
    async def reopen(self):
        await self._change_status(done=False)

    async def _change_status(self, *, done: bool) -> None:
        principal = await signed_in(self, Role.PROVIDER)
        if principal is None or self.thread is None:
            return
        if await self._act(messaging.mark_done, principal, done):
            self.message = "Marked done." if done else "Reopened."

    async def _act(self, service: Callable, principal: Principal, *answers) -> bool:
        """Carry out an action on the thread in view and show the thread as it now is; False
        when it was refused (the reason is shown) or the thread is gone."""
        self.error = self.message = ""
        try:
            await run_service(self, service, principal, record_id(self.thread.id), *answers)
        except MessageRefused as refused:
            self.error = str(refused)
            return False
        except NotFound:
            self.thread, self.missing = None, True
            return False
        await self._read(principal)
        return True
