"""How the portal's frontend is bundled, for a phone on a slow connection (issue F11).

Two Reflex plugins, set in rxconfig.py:

- `FewerScripts` puts every Radix package in one script. Left to Rolldown, Radix Themes'
  components become a small chunk each, shared between pages, and a page asks for twenty of them
  one after the other's round trip (36 scripts for the sign-in page, 16 with the Radix script,
  and fewer bytes: the small chunks repeated some code).
- `PortalTheme` loads Radix Themes' stylesheet without the colours the portal never names: the
  whole stylesheet holds all 31 colours, and the page is not drawn until it has arrived.
"""

from __future__ import annotations

import re

import reflex as rx

VITE_CONFIG = "vite.config.js"
# Where Reflex's vite.config.js lists its own chunk groups (the build's address file).
CHUNK_GROUPS = re.compile(r"codeSplitting:\s*\{\s*groups:\s*\[")
RADIX_GROUP = '{ name: "radix", test: /node_modules[\\\\/]@radix-ui[\\\\/]/ },'
# Radix's colour scales the portal names: its gray and accent, and the `color_scheme`s of its
# components (tests/unit/test_frontend_build.py finds every colour named in the code here).
COLOURS = ("gray", "slate", "teal", "red", "green", "grass", "amber", "orange")
RADIX_THEMES = "@radix-ui/themes"


class FewerScripts(rx.plugins.Plugin):
    def pre_compile(self, **context) -> None:
        context["add_modify_task"](VITE_CONFIG, with_radix_chunk)


def with_radix_chunk(config: str) -> str:
    if not CHUNK_GROUPS.search(config):
        raise RuntimeError(f"Reflex's {VITE_CONFIG} has no chunk groups to add Radix's script to")
    return CHUNK_GROUPS.sub(lambda found: found.group(0) + RADIX_GROUP, config, count=1)


class PortalTheme(rx.plugins.RadixThemesPlugin):
    def get_stylesheet_paths(self, **context) -> tuple[str, ...]:
        """Radix Themes' stylesheet in its parts (the order of its own `styles.css`), with only
        the portal's colours."""
        if not self.enabled:
            return ()
        return (
            *(f"{RADIX_THEMES}/tokens/colors/{colour}.css" for colour in COLOURS),
            f"{RADIX_THEMES}/tokens/base.css",
            f"{RADIX_THEMES}/components.css",
            f"{RADIX_THEMES}/utilities.css",
        )
