"""The audit log screen's state, for admins: filters (kept in backend-only vars: an email, a
patient's name and birth date are not echoed to the browser), keyset pages, verification as a
background task with its progress, and the CSV link, which carries opaque ids only."""

from __future__ import annotations

import reflex as rx

from portal.backend.security.principal import NotFound, Principal, Role
from portal.backend.services import audit_review
from portal.backend.services.audit_review import EXPORT_PATH, AuditFilterInvalid
from portal.backend.views import AuditLine, Choice
from portal.components.forms import text_of
from portal.state.base import Screen, run_service, screen_state
from portal.state.session import signed_in

# The filters the form sends: (field, longest accepted text).
FILTERS = {
    "email": 320,
    "last_name": 100,
    "birth_date": 10,
    "action": 64,
    "outcome": 16,
    "first_day": 10,
    "last_day": 10,
}


@screen_state
class AuditState(Screen):
    lines: list[AuditLine] = []
    next_after: str = ""
    # Where this page starts (the cursor it was asked with; "" for the newest events).
    _after: str = ""
    on_newest: bool = True
    _filters: dict[str, str] = {}
    actions: list[str] = []
    outcomes: list[Choice] = []
    export_href: str = ""
    error: str = ""
    pending: bool = False
    loaded: bool = False
    verifying: bool = False
    check_text: str = ""
    check_intact: bool = False

    @rx.event
    async def load(self):
        self.reset()
        principal = await signed_in(self, Role.ADMIN)
        if principal is None:
            return
        choices = await run_service(self, audit_review.audit_choices, principal)
        self.actions, self.outcomes = choices.actions, choices.outcomes
        await self._refresh(principal)
        self.loaded = True

    @rx.event
    async def search(self, form_data: dict):
        principal = await signed_in(self, Role.ADMIN)
        if principal is None:
            return
        self._filters = {name: text_of(form_data, name, limit) for name, limit in FILTERS.items()}
        self._after = ""
        self.pending = True
        yield
        try:
            await self._refresh(principal)
        finally:
            self.pending = False

    @rx.event
    async def older(self):
        principal = await signed_in(self, Role.ADMIN)
        if principal is None or not self.next_after:
            return
        self._after = self.next_after
        await self._refresh(principal)

    @rx.event
    async def newest(self):
        principal = await signed_in(self, Role.ADMIN)
        if principal is None:
            return
        self._after = ""
        await self._refresh(principal)

    @rx.event(background=True)
    async def verify(self):
        """Check the whole chain off the event loop; the page shows progress meanwhile and the
        rest of the tab (the session check, other buttons) keeps working."""
        async with self:
            principal = await signed_in(self, Role.ADMIN)
            if principal is None or self.verifying:
                return
            self.verifying, self.check_text = True, ""
        text, intact = "The check could not finish. Try again later.", False
        try:
            check = await run_service(self, audit_review.verify_audit_log, principal)
            text, intact = check.text, check.intact
        finally:
            async with self:
                self.verifying = False
                self.check_text, self.check_intact = text, intact

    async def _refresh(self, principal: Principal) -> None:
        try:
            page = await run_service(
                self, audit_review.audit_log, principal, after=self._after, **self._filters
            )
        except AuditFilterInvalid as problem:
            self.error, self.lines, self.next_after, self.export_href = str(problem), [], "", ""
            return
        except NotFound:  # a cursor that cannot be read: start from the newest again
            self._after = ""
            await self._refresh(principal)
            return
        self.error, self.on_newest = "", not self._after
        self.lines, self.next_after = page.lines, page.next_after
        self.export_href = (
            f"{EXPORT_PATH}?{page.export_query}" if page.export_query else EXPORT_PATH
        )
