"""Parts of medical-record screens, for patients and providers alike: a lab value with its flag
in words, its range bar and its trend (as a chart and as a table); record lines; facts.

Colour never carries meaning alone: every flag has words and an icon, and the range bar and the
chart are hidden from screen readers because the words and the table say the same."""

from __future__ import annotations

import reflex as rx

OUTSIDE_RANGE = "Outside the range"
# Radix colour of each flag; "" (a value in the normal range) is green.
FLAG_COLOURS = {"low": "amber", "high": "orange", "critical": "red"}
# Read by screen readers, not shown.
VISUALLY_HIDDEN = {
    "position": "absolute",
    "width": "1px",
    "height": "1px",
    "overflow": "hidden",
    "clip": "rect(0 0 0 0)",
    "clip_path": "inset(50%)",
    "white_space": "nowrap",
}


def flag_badge(flag: rx.Var[str], words: rx.Var[str]) -> rx.Component:
    """A lab value's flag in words, with an icon and a colour: "Above the normal range"."""
    return rx.badge(
        rx.match(
            flag,
            ("low", rx.icon("arrow-down", size=14, aria_hidden="true")),
            ("high", rx.icon("arrow-up", size=14, aria_hidden="true")),
            ("critical", rx.icon("octagon-alert", size=14, aria_hidden="true")),
            rx.icon("circle-check", size=14, aria_hidden="true"),
        ),
        words,
        color_scheme=rx.match(
            flag,
            *[(name, colour) for name, colour in FLAG_COLOURS.items()],
            "grass",
        ),
        variant=rx.cond(flag == "critical", "solid", "soft"),
        high_contrast=True,
        size="2",
        class_name="lab-flag",
    )


def outside_range_badge() -> rx.Component:
    """On a line of lab results with at least one value outside its range."""
    return rx.badge(
        rx.icon("triangle-alert", size=14, aria_hidden="true"),
        OUTSIDE_RANGE,
        color_scheme="orange",
        variant="soft",
        high_contrast=True,
    )


def reviewed_badge(reviewed_by: rx.Var[str] | str) -> rx.Component:
    return rx.badge(
        rx.icon("badge-check", size=14, aria_hidden="true"),
        f"Reviewed by {reviewed_by}",
        color_scheme="grass",
        variant="soft",
        high_contrast=True,
    )


def range_bar(
    marker_at: rx.Var[int], range_from: rx.Var[int], range_to: rx.Var[int]
) -> rx.Component:
    """A grey track, the normal range as a green band and a marker at the value; positions are
    percents of the track. Nothing is drawn for a marker below 0 (no numeric range). Hidden from
    screen readers: the flag's words and the reference text carry the meaning."""
    return rx.cond(
        marker_at >= 0,
        rx.box(
            rx.box(
                position="absolute",
                top="0",
                bottom="0",
                left=f"{range_from}%",
                width=f"{range_to - range_from}%",
                background="var(--grass-7)",
                border_radius="var(--radius-1)",
                class_name="range-band",
            ),
            rx.box(
                position="absolute",
                top="-0.3rem",
                height="1.1rem",
                width="4px",
                left=f"calc({marker_at}% - 2px)",
                background="var(--gray-12)",
                border_radius="2px",
                class_name="range-marker",
            ),
            position="relative",
            height="0.5rem",
            width="100%",
            max_width="20rem",
            margin_y="0.5rem",
            background="var(--gray-a5)",
            border_radius="var(--radius-1)",
            aria_hidden="true",
            class_name="range-bar",
        ),
    )


def trend_table(points: rx.Var, caption: rx.Var[str] | str) -> rx.Component:
    """The trend's points as a table: the same facts as the chart, for screen readers and for
    anyone who prefers numbers."""
    cell = {"padding": "0.25rem 0.75rem", "text_align": "left"}
    return rx.el.table(
        rx.el.caption(caption, style={"text_align": "left", "font_weight": "500"}),
        rx.el.thead(
            rx.el.tr(
                rx.el.th("Date", scope="col", style=cell),
                rx.el.th("Value", scope="col", style=cell),
            )
        ),
        rx.el.tbody(
            rx.foreach(
                points,
                lambda point: rx.el.tr(
                    rx.el.td(point.day, style=cell),
                    rx.el.td(point.text, style=cell),
                    style={"border_top": "1px solid var(--gray-a4)"},
                ),
            )
        ),
        style={"border_collapse": "collapse", "font_size": "var(--font-size-2)"},
    )


def trend_chart(points: rx.Var, caption: rx.Var[str] | str) -> rx.Component:
    """A line chart of the points' values over their days, and below it a "Show as table"
    toggle with the same points. The chart is hidden from screen readers (not focusable)."""
    return rx.vstack(
        rx.box(
            rx.recharts.line_chart(
                rx.recharts.cartesian_grid(stroke_dasharray="3 3"),
                rx.recharts.x_axis(data_key="day", tick=False, height=8),
                rx.recharts.y_axis(width=48, domain=["auto", "auto"]),
                rx.recharts.tooltip(),
                rx.recharts.line(
                    data_key="value",
                    type_="monotone",
                    stroke="var(--accent-11)",
                    stroke_width=2,
                    is_animation_active=False,
                ),
                data=points.to(list[dict]),
                width="100%",
                height=160,
                custom_attrs={"accessibilityLayer": False},
            ),
            aria_hidden="true",
            width="100%",
            max_width="28rem",
            class_name="trend-chart",
        ),
        rx.el.details(
            rx.el.summary(
                "Show as table",
                # Several charts on a page: the toggle's name says which one it opens.
                rx.el.span(f": {caption}", style=VISUALLY_HIDDEN),
                style={"cursor": "pointer", "color": "var(--accent-11)"},
            ),
            trend_table(points, caption),
            width="100%",
        ),
        spacing="2",
        width="100%",
    )


def lab_value_block(value: rx.Var) -> rx.Component:
    """One measured value (a `LabValue` var): name, value and unit, the flag in words, the
    reference range in words and as a bar, and the trend when there are two points or more. Its
    heading is an h3 (under the page's h2 of results); one argument, so `rx.foreach` can call it."""
    return rx.box(
        rx.vstack(
            rx.heading(value.test_name, as_="h3", size="3"),
            rx.hstack(
                rx.text(
                    rx.text.strong(value.value),
                    rx.cond(value.unit != "", f" {value.unit}", ""),
                    size="5",
                ),
                rx.cond(value.flag_words != "", flag_badge(value.flag, value.flag_words)),
                align="center",
                spacing="3",
                wrap="wrap",
            ),
            rx.text(f"Normal range: {value.reference}", size="2", color_scheme="gray"),
            range_bar(value.marker_at, value.range_from, value.range_to),
            rx.cond(
                value.trend.length() > 1,
                trend_chart(value.trend, f"{value.test_name} over time"),
            ),
            spacing="1",
            width="100%",
        ),
        padding="0.75rem 0",
        border_bottom="1px solid var(--gray-a4)",
        width="100%",
        class_name="lab-value",
    )


def facts_list(facts: rx.Var) -> rx.Component:
    """A record's facts (`Fact` views) as a description list."""
    return rx.el.dl(
        rx.foreach(
            facts,
            lambda fact: rx.box(
                rx.el.dt(fact.label, style={"font_weight": "500", "color": "var(--gray-11)"}),
                rx.el.dd(fact.value, style={"margin": "0", "white_space": "pre-wrap"}),
                padding_y="0.35rem",
            ),
        ),
        style={"margin": "0", "width": "100%"},
    )


def record_line(line: rx.Var, href: rx.Var[str] | str) -> rx.Component:
    """One record in a list (a `RecordLine` var): title as a link, then day, provider, summary,
    and "Outside the range" on flagged lab results."""
    return rx.el.li(
        rx.vstack(
            rx.hstack(
                rx.link(line.title, href=href, weight="medium", high_contrast=True),
                rx.cond(line.flagged, outside_range_badge()),
                align="center",
                spacing="3",
                wrap="wrap",
            ),
            rx.text(
                line.day,
                rx.cond(line.provider != "", f" · {line.provider}", ""),
                size="2",
                color_scheme="gray",
            ),
            rx.cond(line.summary != "", rx.text(line.summary, size="2")),
            spacing="1",
        ),
        padding_y="0.6rem",
        border_bottom="1px solid var(--gray-a4)",
    )
