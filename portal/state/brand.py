"""The practice's brand on every page: its primary colour as a style sheet over the accent,
its logo and the logo's alternative text. Set by every page's guard (and again after an admin
changes it); public like the practice's name (the sign-in page shows it too), and never PHI."""

from __future__ import annotations

import uuid

import reflex as rx

from portal.backend.services import branding
from portal.backend.services.branding import Brand
from portal.state.base import run_service


class BrandState(rx.State):
    theme_css: str = ""
    logo_url: str = ""
    logo_alt: str = ""


async def show_brand(state: rx.State, practice_id: uuid.UUID | None) -> None:
    """The brand of the practice `practice_id`, or of the portal's practice for a signed-out
    visitor."""
    await set_brand(state, await run_service(state, branding.brand, practice_id))


async def set_brand(state: rx.State, shown: Brand) -> None:
    brand = await state.get_state(BrandState)
    brand.theme_css, brand.logo_url = shown.theme_css, shown.logo_url
    brand.logo_alt = f"{shown.practice} logo" if shown.practice else ""
