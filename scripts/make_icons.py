"""Draw the portal's app icons (a white heart with a pulse line on teal) into assets/icons/.

Run once after changing the design: `.venv/bin/python scripts/make_icons.py`. The PNGs are
committed; the manifest (assets/manifest.webmanifest) and the page head refer to them."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

TEAL = (0, 133, 115)  # Radix teal 11, the theme colour
WHITE = (255, 255, 255)
OUT = Path(__file__).resolve().parents[1] / "assets" / "icons"
SCALE = 4  # drawn large, then reduced, for smooth edges


def heart(draw: ImageDraw.ImageDraw, centre: float, size: float) -> None:
    """A heart `size` wide centred on (centre, centre), with a teal pulse line across it."""
    r = size / 4
    top = centre - size * 0.42
    draw.ellipse((centre - 2 * r, top, centre, top + 2 * r), fill=WHITE)
    draw.ellipse((centre, top, centre + 2 * r, top + 2 * r), fill=WHITE)
    draw.polygon(
        [
            (centre - 2 * r, top + r),
            (centre + 2 * r, top + r),
            (centre, top + size * 0.86),
        ],
        fill=WHITE,
    )
    y = top + r * 1.25
    u = size / 10
    pulse = [
        (centre - 5 * u, y),
        (centre - 1.6 * u, y),
        (centre - 0.8 * u, y - 1.6 * u),
        (centre + 0.4 * u, y + 1.8 * u),
        (centre + 1.3 * u, y),
        (centre + 5 * u, y),
    ]
    draw.line(pulse, fill=TEAL, width=max(2, int(size * 0.06)), joint="curve")


def icon(pixels: int, *, maskable: bool, rounded: bool) -> Image.Image:
    big = pixels * SCALE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0) if rounded else (*TEAL, 255))
    draw = ImageDraw.Draw(image)
    if rounded:
        draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=big * 0.18, fill=TEAL)
    # A maskable icon keeps its picture inside the central safe zone (a circle of 40%).
    heart(draw, big / 2, big * (0.5 if maskable else 0.66))
    return image.resize((pixels, pixels), Image.Resampling.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    icon(192, maskable=False, rounded=True).save(OUT / "icon-192.png", optimize=True)
    icon(512, maskable=False, rounded=True).save(OUT / "icon-512.png", optimize=True)
    icon(512, maskable=True, rounded=False).save(OUT / "icon-maskable-512.png", optimize=True)
    # iOS draws its own rounded corners and wants no transparency.
    icon(180, maskable=False, rounded=False).convert("RGB").save(
        OUT / "apple-touch-icon.png", optimize=True
    )


if __name__ == "__main__":
    main()
