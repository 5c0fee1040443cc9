"""A patient's chart: the header and the tab in view. The patient comes from `?patient=<id>`
(an opaque id, re-checked by every service call); a patient of another practice, a missing one
and an unreadable id all answer "not found"."""

from __future__ import annotations

import uuid

import reflex as rx

from portal.backend.security.principal import NotFound, Principal, Role
from portal.backend.services import patient_chart
from portal.backend.views import ChartHeader
from portal.components.forms import record_id
from portal.pages.provider.chart_tabs import CHART_TABS, TABS
from portal.state.base import run_service, screen_state
from portal.state.session import signed_in


@screen_state
class ChartState(rx.State):
    header: ChartHeader | None = None
    tab: str = CHART_TABS[0].key
    missing: bool = False
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
            self.header = await run_service(
                self, patient_chart.chart_header, principal, self._patient_id
            )
        except NotFound:
            self._patient_id, self.missing = None, True
            return
        tab = wanted.get("tab", "")
        await self._show(principal, tab if tab in TABS else CHART_TABS[0].key)

    @rx.event
    async def select_tab(self, tab: str):
        principal = await signed_in(self, Role.PROVIDER)
        if principal is None or self._patient_id is None or tab not in TABS:
            return
        await self._show(principal, tab)

    async def _show(self, principal: Principal, tab: str) -> None:
        """Read the tab afresh each time it is chosen (each read is audited)."""
        self.tab = tab
        panel = await self.get_state(TABS[tab].state)
        panel.reset()
        try:
            await panel._open(principal, self._patient_id)
        except NotFound:
            self.reset()
            self.missing = True
