"""The practice's brand on every page: its primary colour as a style sheet over the accent,
its logo and the logo's alternative text. Loaded by every page after its guard; public like
the practice's name (the sign-in page shows it too), and never PHI."""

from __future__ import annotations

import reflex as rx

from portal.backend.services import branding
from portal.state.base import run_service
from portal.state.session import SessionState


class BrandState(rx.State):
    theme_css: str = ""
    logo_url: str = ""
    logo_alt: str = ""

    @rx.event
    async def load(self):
        """The brand of the signed-in person's practice (the guard before this has just
        checked the session), or of the portal's practice for a signed-out visitor."""
        principal = (await self.get_state(SessionState))._principal
        shown = await run_service(
            self, branding.brand, principal.tenant_id if principal is not None else None
        )
        self.theme_css, self.logo_url = shown.theme_css, shown.logo_url
        self.logo_alt = f"{shown.practice} logo" if shown.practice else ""
