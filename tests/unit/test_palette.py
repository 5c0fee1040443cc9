"""A practice's colour as the accent: only `#rrggbb` that carries white text at AA contrast is
accepted, and every shade made from an accepted colour keeps the portal's contrast promises
(text and links on the page backgrounds and the light tints, deep text on the tints, a hover
that still carries white, links that stand out from body text)."""

from __future__ import annotations

import itertools

import pytest

from portal.backend.palette import (
    WHITE,
    ColourRefused,
    accent_steps,
    checked_colour,
    contrast,
    rgb,
    theme_css,
)

SLATE_2 = rgb("#f9f9fb")  # the shells' page background
SLATE_12 = rgb("#1c2024")  # body text
# Every accepted colour of a coarse grid over the sRGB cube (4,096 colours before the check).
ACCEPTED = [
    colour
    for colour in itertools.product(range(0, 256, 17), repeat=3)
    if contrast(colour, WHITE) >= 4.5
]


def test_white_on_black_and_the_wcag_examples():
    assert contrast(rgb("#000000"), WHITE) == pytest.approx(21)
    assert contrast(rgb("#767676"), WHITE) == pytest.approx(4.54, abs=0.01)
    assert contrast(rgb("#777777"), WHITE) < 4.5


@pytest.mark.parametrize(
    ("typed", "stored"), [(" #1D4ED8 ", "#1d4ed8"), ("", ""), ("   ", ""), ("#000000", "#000000")]
)
def test_accepted_colours_are_stored_in_lower_case(typed, stored):
    assert checked_colour(typed) == stored


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("navy", "# and six hexadecimal digits"),
        ("#fff", "# and six hexadecimal digits"),
        ("#1d4ed8}body{display:none", "# and six hexadecimal digits"),
        ("#ffffff", "too light for white text on buttons; choose a darker shade"),
        ("#777777", "too light for white text"),
    ],
)
def test_other_colours_are_refused_in_words(typed, words):
    with pytest.raises(ColourRefused, match=words):
        checked_colour(typed)


def test_no_colour_is_the_portals_own_theme():
    assert theme_css("") == ""


def test_the_style_sheet_sets_the_accent_from_the_colour_only():
    css = theme_css("#1d4ed8")
    assert css.startswith("[data-accent-color='teal'][data-accent-color='teal']{")
    assert "--accent-9:#1d4ed8;" in css and "--accent-contrast:#ffffff;" in css
    assert "--accent-a3:rgba(29,78,216,0.06);" in css
    assert ".rt-Link.rt-Link:not(.rt-high-contrast):not([data-accent-color]){color:#" in css


def test_every_accepted_colour_keeps_the_contrast_promises():
    assert len(ACCEPTED) > 1000
    for colour in ACCEPTED:
        shade = {name: rgb(value) for name, value in accent_steps(colour).items() if "#" in value}
        assert contrast(shade["11"], SLATE_2) >= 4.5, colour
        assert contrast(shade["11"], shade["3"]) >= 4.5, colour
        assert contrast(shade["11"], SLATE_12) >= 3, colour  # a link in a sentence stands out
        assert contrast(shade["12"], shade["4"]) >= 4.5, colour
        assert contrast(shade["12"], shade["1"]) >= 4.5, colour
        assert contrast(shade["10"], WHITE) >= 4.5, colour
        assert contrast(shade["9"], SLATE_2) >= 3, colour  # the focus ring, a checkbox
