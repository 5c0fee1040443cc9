"""The break-glass review's state, for admins: the practice's grants (all, or those waiting for
review), marking one reviewed, and opening a patient's chart in an emergency. Every handler
re-checks the session and the role, and acts only on a grant the screen lists; the services
re-check both."""

from __future__ import annotations

import reflex as rx

from portal import routes
from portal.backend.security.principal import NotFound, Principal, Role
from portal.backend.services import break_glass_review
from portal.backend.services.break_glass_review import GrantLine
from portal.backend.services.patient_access import REASON_MAX, BreakGlassRefused
from portal.components.forms import record_id, text_of
from portal.state.base import Screen, run_service, screen_state
from portal.state.session import signed_in

GONE = "That access is no longer on the practice's list. The list is up to date now."


@screen_state
class BreakGlassState(Screen):
    lines: list[GrantLine] = []
    unreviewed: int = 0
    only_unreviewed: bool = False
    error: str = ""
    message: str = ""
    # The emergency-open form's errors by field ("last_name", "date_of_birth", "reason").
    open_errors: dict[str, str] = {}
    pending: bool = False

    @rx.event
    async def load(self):
        self.reset()
        principal = await signed_in(self, Role.ADMIN)
        if principal is not None:
            await self._refresh(principal)

    @rx.event
    async def show(self, choice: str):
        """All grants, or only those waiting for review."""
        principal = await signed_in(self, Role.ADMIN)
        if principal is None:
            return
        self.only_unreviewed = choice == "unreviewed"
        self.error, self.message = "", ""
        await self._refresh(principal)

    @rx.event
    async def mark_reviewed(self, grant_id: str):
        principal = await signed_in(self, Role.ADMIN)
        line = next((line for line in self.lines if line.id == grant_id), None)
        if principal is None or line is None:
            return
        try:
            await run_service(self, break_glass_review.mark_reviewed, principal, record_id(line.id))
        except BreakGlassRefused as refused:
            self.error, self.message = str(refused), ""
            return
        except NotFound:
            self.error, self.message = GONE, ""
        else:
            self.error = ""
            self.message = f"Reviewed: {line.staff}'s emergency access to {line.patient}."
        await self._refresh(principal)

    @rx.event
    async def open_chart(self, form_data: dict):
        """Open a patient's chart read-only, found by last name and date of birth, for the
        reason typed; what was typed stays in the form when it is refused."""
        principal = await signed_in(self, Role.ADMIN)
        if principal is None:
            return
        self.pending, self.message = True, ""
        yield
        try:
            access = await run_service(
                self,
                break_glass_review.emergency_open,
                principal,
                text_of(form_data, "last_name", 200),
                text_of(form_data, "date_of_birth", 20),
                text_of(form_data, "reason", REASON_MAX + 100),
            )
        except BreakGlassRefused as refused:
            self.open_errors = refused.errors
            return
        finally:
            self.pending = False
        self.open_errors = {}
        yield rx.redirect(routes.emergency_chart(access.patient_id))

    async def _refresh(self, principal: Principal) -> None:
        review = await run_service(
            self,
            break_glass_review.grants_for_review,
            principal,
            unreviewed_only=self.only_unreviewed,
        )
        self.lines, self.unreviewed = review.lines, review.unreviewed
