"""The patient list's state: one search box and three filters, answered by the service. What
the provider typed goes to the service as text and nothing else; the list holds only the lines
of the last search and is cleared when the screen changes."""

from __future__ import annotations

import reflex as rx

from portal.backend.security.principal import Role
from portal.backend.services import patient_search
from portal.backend.services.patient_query import SearchInvalid
from portal.backend.services.patient_search import FILTERS
from portal.backend.views import PatientLine
from portal.components.forms import text_of
from portal.state.base import Screen, run_service, screen_state
from portal.state.session import signed_in

QUERY_LIMIT = 200


@screen_state
class PatientsState(Screen):
    lines: list[PatientLine] = []
    searched: bool = False
    kind: str = ""
    matched: int = 0
    more: int = 0
    too_many: bool = False
    error: str = ""
    pending: bool = False

    @rx.event
    async def load(self):
        """Nothing is listed until the provider searches."""
        self.reset()
        await signed_in(self, Role.PROVIDER)

    @rx.event
    async def search(self, form_data: dict):
        principal = await signed_in(self, Role.PROVIDER)
        if principal is None:
            self.reset()
            return
        query = text_of(form_data, "query", QUERY_LIMIT)
        chosen = [name for name in FILTERS if text_of(form_data, name, 10)]
        self.pending, self.error = True, ""
        yield
        try:
            found = await run_service(
                self, patient_search.search_patients, principal, query, chosen
            )
        except SearchInvalid as refused:
            self.reset()
            self.error = str(refused)
            return
        self.lines, self.kind, self.matched = found.lines, found.kind, found.matched
        self.more, self.too_many = found.more, found.too_many
        self.searched, self.pending = found.kind != "", False
        if not self.searched:
            self.error = (
                "Type a name, a date of birth, a phone number or an email address, or tick a "
                "filter."
            )

    @rx.var
    def summary(self) -> str:
        """What the list shows, in words: how many match and how many are not listed."""
        if not self.lines:
            return ""
        noun = "patient matches" if self.matched == 1 else "patients match"
        by = "these filters" if self.kind == "filters" else f"this {self.kind}"
        text = f"{self.matched} {noun} {by}, listed by last name."
        if self.more:
            text += (
                f" Showing the first {len(self.lines)}; {self.more} more are not listed. Type "
                "more of the name, add the first name, or search by date of birth to narrow "
                "the list."
            )
        return text
