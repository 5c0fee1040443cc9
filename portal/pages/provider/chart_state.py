"""A patient's chart: the header and the tab in view. The patient comes from `?patient=<id>`
(an opaque id, re-checked by every service call); a patient of another practice, a missing one
and an unreadable id all answer "not found". A patient of the practice outside the provider's
normal access shows the break-glass form instead: with a reason given, the chart opens for the
grant's time, and closes again (back to the form) once the grant has ended."""

from __future__ import annotations

import uuid

import reflex as rx

from portal.backend.security.principal import NotFound, Principal, Role
from portal.backend.services import patient_access, patient_chart
from portal.backend.services.patient_access import REASON_MAX, BreakGlassNeeded, BreakGlassRefused
from portal.backend.views import ChartHeader
from portal.components.forms import record_id, text_of
from portal.pages.provider.chart_tabs import CHART_TABS, TABS
from portal.state.base import Screen, run_service, screen_state
from portal.state.session import signed_in


@screen_state
class ChartState(Screen):
    header: ChartHeader | None = None
    tab: str = CHART_TABS[0].key
    missing: bool = False
    needs_reason: bool = False
    reason_error: str = ""
    pending: bool = False
    _patient_id: uuid.UUID | None = None

    @rx.event
    async def load(self):
        self.reset()
        principal = await signed_in(self, Role.PROVIDER)
        if principal is None:
            return
        wanted = self.router.url.query_parameters
        try:
            self._patient_id = record_id(wanted.get("patient", "")[:40])
        except NotFound:
            self.missing = True
            return
        tab = wanted.get("tab", "")
        await self._open(principal, tab if tab in TABS else CHART_TABS[0].key)

    @rx.event
    async def select_tab(self, tab: str):
        principal = await signed_in(self, Role.PROVIDER)
        if principal is None or self.header is None or tab not in TABS:
            return
        await self._show(principal, tab)

    @rx.event
    async def break_glass(self, form_data: dict):
        """Open the chart in an emergency, for the reason typed (kept in the form when it is
        refused)."""
        principal = await signed_in(self, Role.PROVIDER)
        if principal is None or self._patient_id is None or not self.needs_reason:
            return
        self.pending = True
        yield
        try:
            self.reason_error = await ask_for_break_glass(
                self, principal, self._patient_id, form_data
            )
        except NotFound:
            self.reset()
            self.missing = True
            return
        finally:
            self.pending = False
        if not self.reason_error:
            await self._open(principal, CHART_TABS[0].key)

    async def _open(self, principal: Principal, tab: str) -> None:
        """The header, then the tab; the break-glass form when the chart is closed."""
        try:
            self.header = await run_service(
                self, patient_chart.chart_header, principal, self._patient_id
            )
        except BreakGlassNeeded:
            self.header, self.needs_reason = None, True
            return
        except NotFound:
            self._patient_id, self.missing = None, True
            return
        self.needs_reason = False
        await self._show(principal, tab)

    async def _show(self, principal: Principal, tab: str) -> None:
        """Read the tab afresh each time it is chosen (each read is audited)."""
        self.tab = tab
        panel = await self.get_state(TABS[tab].state)
        panel.reset()
        try:
            await panel._open(principal, self._patient_id)
        except BreakGlassNeeded:
            panel.reset()
            self.header, self.needs_reason = None, True
        except NotFound:
            self.reset()
            self.missing = True


async def ask_for_break_glass(
    state: rx.State, principal: Principal, patient_id: uuid.UUID, form_data: dict
) -> str:
    """Open `patient_id` under break-glass for the reason in the form: "" once granted, else
    what to change. NotFound (a patient the caller may not have at all) goes through."""
    reason = text_of(form_data, "reason", REASON_MAX + 100)
    try:
        await run_service(state, patient_access.break_glass, principal, patient_id, reason)
    except BreakGlassRefused as refused:
        return refused.errors.get("reason", str(refused))
    return ""
