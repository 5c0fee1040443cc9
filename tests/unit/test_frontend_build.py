"""How the frontend is bundled (portal/frontend_build.py): Radix in one script, and only the
theme colours the portal names in its stylesheet."""

from __future__ import annotations

import re
import typing
from pathlib import Path

from reflex_base.compiler.templates import vite_config_template
from reflex_components_radix.themes.base import LiteralAccentColor, LiteralGrayColor

from portal.frontend_build import COLOURS, RADIX_GROUP, PortalTheme, with_radix_chunk

PORTAL = Path(__file__).resolve().parents[2] / "portal"
ACCENTS, GRAYS = typing.get_args(LiteralAccentColor), typing.get_args(LiteralGrayColor)
RADIX_COLOURS = {*ACCENTS, *GRAYS} - {"auto"}  # "auto": the gray that goes with the accent


def test_radix_is_added_to_the_chunk_groups_of_reflexs_vite_config():
    config = vite_config_template(
        base="/", hmr=False, force_full_reload=False, experimental_hmr=False, sourcemap=False
    )
    bundled = with_radix_chunk(config)
    assert bundled.count(RADIX_GROUP) == 1
    assert "reflex-env" in bundled


def test_every_colour_the_portal_names_is_in_its_stylesheet():
    named = {
        colour
        for source in PORTAL.rglob("*.py")
        for colour in re.findall(r"[\"'](\w+)[\"']", source.read_text())
        if colour in RADIX_COLOURS
    }
    assert named <= set(COLOURS)
    sheets = PortalTheme(enabled=True).get_stylesheet_paths()
    assert {f"@radix-ui/themes/tokens/colors/{colour}.css" for colour in COLOURS} <= set(sheets)
    assert "@radix-ui/themes/components.css" in sheets
