"""The analytics screen's state, for admins: the practice's figures, counts and rates only."""

from __future__ import annotations

import reflex as rx

from portal.backend.security.principal import Role
from portal.backend.services import analytics
from portal.backend.views import PracticeAnalytics
from portal.state.base import Screen, run_service, screen_state
from portal.state.session import signed_in


@screen_state
class AnalyticsState(Screen):
    figures: PracticeAnalytics | None = None

    @rx.event
    async def load(self):
        self.reset()
        principal = await signed_in(self, Role.ADMIN)
        if principal is not None:
            self.figures = await run_service(self, analytics.practice_analytics, principal)
