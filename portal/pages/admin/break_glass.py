"""Break-glass review, for admins: every emergency access to a chart outside normal access, who
asked and why, what was done under it, and marking it reviewed; and opening a patient's chart
in an emergency (read-only)."""

from __future__ import annotations

import reflex as rx

from portal import routes
from portal.backend.security.principal import Role
from portal.backend.services.break_glass_review import GrantLine
from portal.backend.services.patient_access import BREAK_GLASS_MINUTES
from portal.components.cards import section
from portal.components.chart import reason_area
from portal.components.feedback import empty_state, error_alert, notice
from portal.components.forms import SELECT_STYLE, submit
from portal.components.profile import field_error, form_errors_summary, text_field
from portal.layout import portal_page
from portal.pages.admin.break_glass_state import BreakGlassState

ERROR_ID = "break-glass-review-error"
OPEN_ERRORS_ID = "emergency-open-errors"
COLUMNS = ("Staff member", "Patient", "Reason", "When", "Audited actions", "Review")


@portal_page(
    routes.ADMIN_BREAK_GLASS,
    title="Break-glass review",
    role=Role.ADMIN,
    on_load=BreakGlassState.load,
)
def break_glass_page() -> rx.Component:
    return rx.vstack(
        rx.heading("Break-glass review", as_="h1", size="7"),
        rx.text(
            "A provider who needs a patient outside their care teams and appointments, or an "
            "admin who needs any chart, gives a reason. The chart opens for "
            f"{BREAK_GLASS_MINUTES} minutes and everything done under it is recorded. Check "
            "that each reason was sound and that what was opened fits it.",
            color_scheme="gray",
        ),
        section(
            "Emergency access",
            grants_filter(),
            error_alert(BreakGlassState.error, element_id=ERROR_ID),
            rx.cond(BreakGlassState.message != "", notice(BreakGlassState.message)),
            rx.cond(
                BreakGlassState.lines.length() > 0,
                grants_table(),
                rx.cond(
                    BreakGlassState.only_unreviewed,
                    empty_state("Nothing waits for review", "Every emergency access is reviewed."),
                    empty_state(
                        "No emergency access yet",
                        "When someone opens a chart by break-glass, it is listed here.",
                    ),
                ),
            ),
            heading_id="grants",
        ),
        section(
            "Open a patient's chart in an emergency",
            rx.text(
                "Admins do not read clinical content otherwise. Find the patient by last name "
                "and date of birth and say why: the chart opens read-only for "
                f"{BREAK_GLASS_MINUTES} minutes, and another admin reviews the access."
            ),
            emergency_form(),
            heading_id="emergency-open",
        ),
        spacing="4",
        width="100%",
    )


def grants_filter() -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.el.label("Show", html_for="grant-filter", font_weight="500"),
            rx.el.select(
                rx.el.option("Every emergency access", value="all"),
                rx.el.option("Only those not yet reviewed", value="unreviewed"),
                id="grant-filter",
                value=rx.cond(BreakGlassState.only_unreviewed, "unreviewed", "all"),
                on_change=BreakGlassState.show,
                style=SELECT_STYLE,
            ),
            spacing="1",
            max_width="20rem",
            width="100%",
        ),
        rx.text(
            rx.cond(
                BreakGlassState.unreviewed == 1,
                "1 waits for review.",
                f"{BreakGlassState.unreviewed} wait for review.",
            ),
            role="status",
        ),
        align="end",
        spacing="4",
        wrap="wrap",
        width="100%",
    )


def grants_table() -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(
                rx.table.row(*[rx.table.column_header_cell(c, scope="col") for c in COLUMNS])
            ),
            rx.table.body(rx.foreach(BreakGlassState.lines, grant_row)),
            variant="surface",
            width="100%",
            aria_label="Emergency access",
        ),
        overflow_x="auto",
        width="100%",
    )


def grant_row(line: GrantLine) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(
            rx.vstack(
                rx.text(line.staff, weight="medium"),
                rx.text(line.staff_role, size="2", color_scheme="gray"),
                spacing="0",
            ),
            scope="row",
        ),
        rx.table.cell(line.patient),
        rx.table.cell(rx.text(line.reason, white_space="pre-wrap"), min_width="16rem"),
        rx.table.cell(
            rx.vstack(
                rx.text(f"{line.granted} to {line.until}", white_space="nowrap"),
                rx.cond(
                    line.live,
                    rx.badge("Open now", color_scheme="amber", high_contrast=True),
                ),
                spacing="1",
            )
        ),
        rx.table.cell(line.accesses),
        rx.table.cell(review_cell(line)),
    )


def review_cell(line: GrantLine) -> rx.Component:
    return rx.vstack(
        rx.cond(
            line.reviewed,
            rx.text(f"Reviewed by {line.reviewed_by}, {line.reviewed_at}", size="2"),
            rx.cond(
                line.own,
                rx.text("Your own: another admin reviews it.", size="2"),
                rx.button(
                    "Mark reviewed",
                    size="1",
                    variant="soft",
                    high_contrast=True,
                    on_click=BreakGlassState.mark_reviewed(line.id),
                    aria_label=f"Mark reviewed: {line.staff}'s access to {line.patient}",
                ),
            ),
        ),
        rx.cond(
            line.own & line.live,
            rx.link(
                "Open the chart",
                href=routes.emergency_chart(line.patient_id),
                high_contrast=True,
                aria_label=f"Open the chart of {line.patient}",
            ),
        ),
        spacing="1",
    )


def emergency_form() -> rx.Component:
    errors = BreakGlassState.open_errors
    return rx.form(
        rx.vstack(
            form_errors_summary(errors, element_id=OPEN_ERRORS_ID),
            rx.flex(
                text_field("Last name", "last_name", errors, autocomplete="off", required=True),
                text_field("Date of birth", "date_of_birth", errors, kind="date", required=True),
                gap="1rem",
                direction=rx.breakpoints(initial="column", sm="row"),
                width="100%",
            ),
            rx.vstack(
                reason_area(
                    error_id="open-reason-error",
                    has_error=errors.contains("reason"),
                    element_id="open-reason",
                ),
                field_error("reason", errors, element_id="open-reason"),
                spacing="1",
                width="100%",
            ),
            rx.box(
                submit("Open the chart read-only", BreakGlassState.pending, "Opening…"),
                max_width="24rem",
                width="100%",
            ),
            spacing="3",
            width="100%",
            max_width="40rem",
        ),
        on_submit=BreakGlassState.open_chart,
        width="100%",
    )
