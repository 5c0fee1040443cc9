"""The practice in figures, for admins: each chart has the same figures as a table beside it
(for screen readers, and for reading exact numbers). Counts and rates only, never PHI."""

from __future__ import annotations

import reflex as rx

from portal import routes
from portal.backend.security.principal import Role
from portal.backend.views import FigureTable, RateLine
from portal.components.cards import figure, section
from portal.layout import loading, portal_page
from portal.pages.admin.analytics_state import AnalyticsState

# Distinct at a glance and at least 3:1 against white.
PALETTE = ["#0f766e", "#4338ca", "#b45309", "#be185d", "#0369a1", "#4d7c0f", "#6d28d9", "#b91c1c"]
CHART_HEIGHT = 280


@portal_page(
    routes.ADMIN_ANALYTICS, title="Analytics", role=Role.ADMIN, on_load=AnalyticsState.load
)
def analytics_page() -> rx.Component:
    figures = AnalyticsState.figures
    return rx.cond(
        figures,
        rx.vstack(
            rx.heading("Analytics", as_="h1", size="7"),
            rx.text(
                "The last 12 weeks, by the practice's weeks (Monday to Sunday). Counts and rates "
                "only: no names, messages or results.",
                color_scheme="gray",
            ),
            section(
                "Appointments booked per week",
                chart(
                    "Bar chart of appointments booked per week, by visit type",
                    rx.recharts.bar_chart(
                        *axes("week"),
                        rx.foreach(
                            figures.visit_types,
                            lambda name, n: rx.recharts.bar(
                                data_key="t" + n.to_string(),
                                name=name,
                                stack_id="booked",
                                fill=rx.Var.create(PALETTE)[n % len(PALETTE)],
                                is_animation_active=False,
                            ),
                        ),
                        data=figures.booked,
                    ),
                ),
                table(figures.booked_table, "Appointments booked per week by visit type"),
                heading_id="booked",
            ),
            section(
                "Missed visits and late cancellations",
                rx.hstack(
                    rate_figure(figures.no_show), rate_figure(figures.late_cancel), wrap="wrap"
                ),
                chart(
                    "Line chart of the weekly percentage of visits missed and cancelled late",
                    rx.recharts.line_chart(
                        *axes("week", unit="%"),
                        line("no_show", "Missed (%)", PALETTE[7]),
                        line("late_cancel", "Cancelled late (%)", PALETTE[2]),
                        data=figures.attendance,
                    ),
                ),
                table(figures.attendance_table, "Visits due, missed and cancelled late per week"),
                heading_id="attendance",
            ),
            section(
                "Messages",
                rx.hstack(
                    figure("Patients' messages answered", figures.response.answered),
                    figure("Median first response", figures.response.median),
                    figure("90th percentile first response", figures.response.p90),
                    wrap="wrap",
                ),
                chart(
                    "Bar chart of messages per week from patients and from the care team",
                    rx.recharts.bar_chart(
                        *axes("week"),
                        bar("from_patients", "From patients", PALETTE[0]),
                        bar("from_staff", "From the care team", PALETTE[1]),
                        data=figures.messages,
                    ),
                ),
                table(figures.messages_table, "Messages per week"),
                heading_id="messages",
            ),
            section(
                "Accounts",
                rx.hstack(rate_figure(figures.active_patients, "Active patients"), wrap="wrap"),
                rates_table(figures.mfa, "Enrolled in two-step sign-in (MFA)"),
                heading_id="accounts",
            ),
            section(
                "Notification delivery",
                chart(
                    "Bar chart of notifications per channel by delivery status",
                    rx.recharts.bar_chart(
                        *axes("channel"),
                        bar("sent", "Sent", PALETTE[0], stack="delivery"),
                        bar("pending", "Waiting", PALETTE[4], stack="delivery"),
                        bar("failed", "Failed", PALETTE[7], stack="delivery"),
                        bar("suppressed", "Not sent", PALETTE[2], stack="delivery"),
                        data=figures.delivery,
                    ),
                ),
                table(figures.delivery_table, "Notifications per channel and status"),
                heading_id="delivery",
            ),
            spacing="4",
            width="100%",
        ),
        loading(),
    )


def axes(category: str, *, unit: str = "") -> list[rx.Component]:
    return [
        rx.recharts.cartesian_grid(stroke_dasharray="3 3"),
        rx.recharts.x_axis(data_key=category),
        rx.recharts.y_axis(allow_decimals=False, unit=unit),
        rx.recharts.graphing_tooltip(),
        rx.recharts.legend(),
    ]


def bar(key: str, name: str, colour: str, *, stack: str | None = None) -> rx.Component:
    return rx.recharts.bar(
        data_key=key, name=name, fill=colour, stack_id=stack, is_animation_active=False
    )


def line(key: str, name: str, colour: str) -> rx.Component:
    return rx.recharts.line(
        data_key=key,
        name=name,
        stroke=colour,
        stroke_width=2,
        type_="monotone",
        is_animation_active=False,
    )


def chart(description: str, graph: rx.Component) -> rx.Component:
    """A chart as one labelled image; the table after it holds the same figures."""
    return rx.box(
        rx.recharts.responsive_container(graph, width="100%", height=CHART_HEIGHT),
        role="img",
        aria_label=f"{description}. The same figures are in the table that follows.",
        width="100%",
    )


def table(figures: FigureTable, caption: str) -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.el.caption(caption, style={"text_align": "left", "padding": "0.5rem 0"}),
            rx.table.header(
                rx.table.row(
                    rx.foreach(
                        figures.columns, lambda c: rx.table.column_header_cell(c, scope="col")
                    )
                )
            ),
            rx.table.body(
                rx.foreach(
                    figures.rows,
                    lambda row: rx.table.row(
                        rx.foreach(row, lambda cell: rx.table.cell(cell)),
                    ),
                )
            ),
            variant="surface",
            size="1",
            width="100%",
        ),
        overflow_x="auto",
        width="100%",
    )


def rate_figure(line: RateLine, label: str | None = None) -> rx.Component:
    return rx.vstack(
        rx.text(line.rate, size="7", weight="bold"),
        rx.text(label or line.label, size="2", color_scheme="gray"),
        rx.text(f"{line.count} of {line.total}", size="1", color_scheme="gray"),
        spacing="0",
        min_width="10rem",
    )


def rates_table(lines: rx.Var[list[RateLine]], caption: str) -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.el.caption(caption, style={"text_align": "left", "padding": "0.5rem 0"}),
            rx.table.header(
                rx.table.row(
                    *[
                        rx.table.column_header_cell(c, scope="col")
                        for c in ("Who", "Enrolled", "Accounts", "Rate")
                    ]
                )
            ),
            rx.table.body(
                rx.foreach(
                    lines,
                    lambda line: rx.table.row(
                        rx.table.row_header_cell(line.label, scope="row"),
                        rx.table.cell(line.count),
                        rx.table.cell(line.total),
                        rx.table.cell(line.rate),
                    ),
                )
            ),
            variant="surface",
            size="1",
            width="100%",
        ),
        overflow_x="auto",
        width="100%",
    )
