"""A practice's primary colour as the portal's accent: the WCAG contrast check that keeps white
button text readable on it, and the shades the pages need, computed here once.

Radix Themes fixes its accent colour when the frontend is built (the portal's is teal), so a
practice's colour is applied at run time by overriding the accent's CSS variables: `theme_css`
writes one small style sheet from a checked `#rrggbb` value (nothing typed reaches it
unchecked). Steps 1 to 8 are tints of the colour (backgrounds, borders, the focus ring's
lighter steps), 9 is the colour itself (solid buttons, checkboxes), 10 a darker hover, 11 a
shade for text and links — at least 4.5:1 on the page's backgrounds and on the light tints, and
3:1 against body text so a link in a sentence stands out — and 12 a deep shade for
high-contrast buttons and text. The alpha steps are the same tints as transparency.
"""

from __future__ import annotations

import functools
import re

HEX = re.compile(r"#[0-9a-f]{6}")
WHITE = (255, 255, 255)
BLACK = (0, 0, 0)
AA_TEXT = 4.5
# The tints of steps 1 to 8: how much of the colour over white.
TINTS = (0.02, 0.04, 0.06, 0.11, 0.16, 0.22, 0.32, 0.45)
HOVER_DARKENING = 0.12
# Target luminances: step 11 lies between the slate page background (4.5:1 above it) and the
# slate body text (3:1 below it); step 12 is deep enough for any tint behind it.
TEXT_LUMINANCE = 0.147
DEEP_LUMINANCE = 0.03
# Radix names the portal's build-time accent on every element that uses it.
ACCENT_SELECTOR = "[data-accent-color='teal'][data-accent-color='teal']"
# Plain links outside the accent (assets/portal.css gives them a fixed teal).
LINK_SELECTOR = ".rt-Link.rt-Link:not(.rt-high-contrast):not([data-accent-color])"

Rgb = tuple[int, int, int]


class ColourRefused(ValueError):
    """The colour cannot be the practice's; the message says why in plain words."""


def checked_colour(text: str) -> str:
    """`text` as a stored colour: "" for the portal's own, else "#rrggbb" in lower case that
    carries white text at AA contrast."""
    colour = text.strip().lower()
    if not colour:
        return ""
    if not HEX.fullmatch(colour):
        raise ColourRefused(
            "Write the colour as # and six hexadecimal digits, like #1d4ed8, or leave it "
            "empty for the portal's own colours."
        )
    if contrast(rgb(colour), WHITE) < AA_TEXT:
        raise ColourRefused(
            "This colour is too light for white text on buttons; choose a darker shade "
            f"(white text on it has a contrast of {contrast(rgb(colour), WHITE):.1f} to 1, "
            f"and {AA_TEXT:g} to 1 is needed)."
        )
    return colour


@functools.lru_cache(maxsize=64)  # every page's guard asks for its practice's
def theme_css(colour: str) -> str:
    """The style sheet that makes `colour` (a checked "#rrggbb") the accent; "" for none."""
    if not colour:
        return ""
    steps = accent_steps(rgb(colour))
    declarations = ";".join(f"--accent-{name}:{value}" for name, value in steps.items())
    return f"{ACCENT_SELECTOR}{{{declarations}}}{LINK_SELECTOR}{{color:{steps['11']}}}"


def accent_steps(colour: Rgb) -> dict[str, str]:
    """Every accent variable Radix reads, by its name after `--accent-`."""
    solid = [mix(WHITE, colour, share) for share in TINTS]
    solid.append(colour)
    solid.append(mix(colour, BLACK, HOVER_DARKENING))
    solid.append(shade_of(colour, TEXT_LUMINANCE))
    solid.append(shade_of(colour, min(DEEP_LUMINANCE, luminance(colour))))
    red, green, blue = colour
    steps = {str(number): hex_of(value) for number, value in enumerate(solid, start=1)}
    steps |= {
        f"a{number}": f"rgba({red},{green},{blue},{share})"
        for number, share in enumerate(TINTS, start=1)
    }
    steps |= {f"a{number}": steps[str(number)] for number in range(9, 13)}
    steps |= {
        "contrast": hex_of(WHITE),
        "surface": steps["2"],
        "indicator": steps["9"],
        "track": steps["9"],
    }
    return steps


def shade_of(colour: Rgb, target: float) -> Rgb:
    """`colour` mixed with black or white until its luminance is `target` (within 0.002)."""
    toward = BLACK if luminance(colour) > target else WHITE
    low, high = 0.0, 1.0
    for _ in range(30):
        share = (low + high) / 2
        mixed = mix(colour, toward, share)
        if (luminance(mixed) > target) == (toward == BLACK):
            low = share
        else:
            high = share
    return mix(colour, toward, high)


def mix(base: Rgb, other: Rgb, share: float) -> Rgb:
    """`share` of `other` over `base`, channel by channel."""
    return tuple(round(a + (b - a) * share) for a, b in zip(base, other, strict=True))


def contrast(first: Rgb, second: Rgb) -> float:
    """The WCAG contrast ratio of two colours, from 1 to 21."""
    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def luminance(colour: Rgb) -> float:
    """WCAG relative luminance of an sRGB colour."""

    def linear(channel: int) -> float:
        value = channel / 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(channel) for channel in colour)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def rgb(colour: str) -> Rgb:
    return tuple(int(colour[index : index + 2], 16) for index in (1, 3, 5))


def hex_of(colour: Rgb) -> str:
    return "#" + "".join(f"{channel:02x}" for channel in colour)
