"""An admin's read-only view of a patient's chart, opened by break-glass from the break-glass
review (`?patient=<id>`): the header with the grant's banner, and the appointments, records
and profile tabs. Without a live grant of the admin's own it says so and leads back; nothing
here adds, corrects or reviews anything (the services refuse admins that anyway)."""

from __future__ import annotations

import uuid

import reflex as rx

from portal import routes
from portal.backend.security.principal import NotFound, Principal, Role
from portal.backend.services import patient_chart
from portal.backend.services.patient_access import BreakGlassNeeded
from portal.backend.views import ChartHeader
from portal.components.chart import chart_header, chart_tabs
from portal.components.feedback import empty_state
from portal.components.forms import record_id
from portal.layout import loading, portal_page
from portal.pages.provider.chart_tabs import ADMIN_CHART_TABS, ADMIN_TABS
from portal.state.base import Screen, run_service, screen_state
from portal.state.session import signed_in


@screen_state
class EmergencyChartState(Screen):
    header: ChartHeader | None = None
    tab: str = ADMIN_CHART_TABS[0].key
    closed: bool = False
    _patient_id: uuid.UUID | None = None

    @rx.event
    async def load(self):
        self.reset()
        principal = await signed_in(self, Role.ADMIN)
        if principal is None:
            return
        try:
            self._patient_id = record_id(self.router.url.query_parameters.get("patient", "")[:40])
            self.header = await run_service(
                self, patient_chart.chart_header, principal, self._patient_id
            )
        except NotFound:  # BreakGlassNeeded too: no live grant, or no such patient
            self._patient_id, self.closed = None, True
            return
        await self._show(principal, ADMIN_CHART_TABS[0].key)

    @rx.event
    async def select_tab(self, tab: str):
        principal = await signed_in(self, Role.ADMIN)
        if principal is None or self.header is None or tab not in ADMIN_TABS:
            return
        await self._show(principal, tab)

    async def _show(self, principal: Principal, tab: str) -> None:
        """Read the tab afresh each time it is chosen (each read is audited, flagged)."""
        self.tab = tab
        panel = await self.get_state(ADMIN_TABS[tab].state)
        panel.reset()
        try:
            await panel._open(principal, self._patient_id)
        except (BreakGlassNeeded, NotFound):
            panel.reset()
            self.reset()
            self.closed = True


@portal_page(
    routes.ADMIN_EMERGENCY_CHART,
    title="Emergency chart",
    role=Role.ADMIN,
    on_load=EmergencyChartState.load,
)
def emergency_chart_page() -> rx.Component:
    header = EmergencyChartState.header
    return rx.vstack(
        rx.link("← Back to break-glass review", href=routes.ADMIN_BREAK_GLASS, high_contrast=True),
        rx.cond(
            header,
            rx.vstack(
                chart_header(header),
                chart_tabs(
                    ADMIN_CHART_TABS, EmergencyChartState.tab, EmergencyChartState.select_tab
                ),
                spacing="4",
                width="100%",
            ),
            rx.cond(
                EmergencyChartState.closed,
                rx.vstack(
                    rx.heading("This chart is not open to you", as_="h1", size="6"),
                    empty_state(
                        "No emergency access to this chart now",
                        "Your emergency access has ended, or the link is wrong. To read the "
                        "chart, open it again from the break-glass review with a reason.",
                    ),
                    spacing="3",
                    width="100%",
                ),
                loading(),
            ),
        ),
        spacing="4",
        width="100%",
    )
