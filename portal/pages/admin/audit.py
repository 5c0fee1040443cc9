"""The audit log, for admins: who did what to which record and with what outcome, filtered and
paged; a check that no event was changed, inserted or removed; a CSV export of the view."""

from __future__ import annotations

import reflex as rx

from portal import routes
from portal.backend.security.principal import Role
from portal.backend.services.audit_review import EXPORT_LIMIT
from portal.backend.views import AuditLine
from portal.components.cards import section
from portal.components.feedback import empty_state, error_alert, notice
from portal.components.forms import field, form, select_field
from portal.layout import loading, portal_page
from portal.pages.admin.audit_state import AuditState

ERROR_ID = "audit-error"
ACTIONS_LIST_ID = "known-actions"
COLUMNS = ("Time", "Who", "Role", "Action", "Resource", "Patient", "Outcome", "Details")


@portal_page(routes.ADMIN_AUDIT, title="Audit log", role=Role.ADMIN, on_load=AuditState.load)
def audit_page() -> rx.Component:
    return rx.cond(
        AuditState.loaded,
        rx.vstack(
            rx.heading("Audit log", as_="h1", size="7"),
            rx.text(
                "Who did what to which record, and when. Clinical content is never shown here; "
                "reading and exporting this log are recorded in it too.",
                color_scheme="gray",
            ),
            section("Integrity", integrity(), heading_id="integrity"),
            section("Find events", filters(), heading_id="find-events"),
            error_alert(AuditState.error, element_id=ERROR_ID),
            events(),
            spacing="4",
            width="100%",
        ),
        loading(),
    )


def integrity() -> rx.Component:
    return rx.vstack(
        rx.text(
            "Each event carries a keyed hash of the one before it. The check reads the whole "
            "log and names the first event that was changed, inserted or removed.",
            size="2",
        ),
        rx.button(
            rx.cond(AuditState.verifying, "Checking the log…", "Verify integrity"),
            on_click=AuditState.verify,
            loading=AuditState.verifying,
            disabled=AuditState.verifying,
            high_contrast=True,
        ),
        rx.cond(
            AuditState.verifying,
            rx.text("Checking every event; this can take a while.", role="status", size="2"),
        ),
        rx.cond(
            AuditState.check_text != "",
            rx.callout(
                AuditState.check_text,
                icon=rx.cond(AuditState.check_intact, "circle_check", "triangle_alert"),
                color_scheme=rx.cond(AuditState.check_intact, "green", "red"),
                role=rx.cond(AuditState.check_intact, "status", "alert"),
                high_contrast=True,
                width="100%",
            ),
        ),
        spacing="3",
        width="100%",
    )


def filters() -> rx.Component:
    has_error = AuditState.error != ""

    def text_field(label: str, name: str, *, kind: str = "text", hint: str = "", **extra):
        return field(
            label, name, kind=kind, hint=hint, error_id=ERROR_ID, has_error=has_error, **extra
        )

    return form(
        rx.grid(
            text_field(
                "Person (email)",
                "email",
                kind="search",
                max_length=320,
                hint="Their full email: what they did, and what was done to their account.",
            ),
            text_field("Patient's last name", "last_name", max_length=100),
            text_field(
                "Patient's date of birth",
                "birth_date",
                kind="date",
                hint="With the last name: events about that patient's record.",
            ),
            action_field(has_error),
            select_field(
                "Outcome",
                "outcome",
                AuditState.outcomes,
                blank="Any outcome",
                error_id=ERROR_ID,
                has_error=has_error,
            ),
            text_field("From (practice's date)", "first_day", kind="date"),
            text_field("To (practice's date)", "last_day", kind="date"),
            columns=rx.breakpoints(initial="1", sm="2", md="3"),
            spacing="3",
            width="100%",
        ),
        on_submit=AuditState.search,
        button="Search",
        busy="Searching…",
        pending=AuditState.pending,
        max_width="60rem",
    )


def action_field(has_error: rx.Var[bool]) -> rx.Component:
    """Free text matched as the beginning of an action ("user." finds every account action),
    with the actions this log holds offered as suggestions."""
    return rx.vstack(
        rx.el.label("Action", html_for="action", font_weight="500"),
        rx.text("An action or its beginning, e.g. user.", id="action-hint", size="2"),
        rx.input(
            id="action",
            name="action",
            max_length=64,
            autocomplete="off",
            size="3",
            width="100%",
            custom_attrs={"list": ACTIONS_LIST_ID},
            aria_invalid=rx.cond(has_error, "true", "false"),
            aria_describedby=rx.cond(has_error, f"action-hint {ERROR_ID}", "action-hint"),
        ),
        rx.el.datalist(
            rx.foreach(AuditState.actions, lambda action: rx.el.option(value=action)),
            id=ACTIONS_LIST_ID,
        ),
        spacing="1",
        width="100%",
    )


def events() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.el.a(
                f"Download these events as CSV (at most {EXPORT_LIMIT:,} rows, newest first)",
                href=AuditState.export_href,
                download="audit-log.csv",
                target="_blank",
                rel="noopener",
                style={"color": "var(--accent-12)", "text_decoration": "underline"},
            ),
            wrap="wrap",
            spacing="3",
        ),
        rx.cond(
            AuditState.lines.length() > 0,
            events_table(),
            empty_state("No events match", "Change the filters and search again."),
        ),
        rx.hstack(
            rx.cond(
                ~AuditState.on_newest,
                rx.button(
                    "Back to the newest",
                    on_click=AuditState.newest,
                    variant="soft",
                    high_contrast=True,
                ),
            ),
            rx.cond(
                AuditState.next_after != "",
                rx.button(
                    "Show older events",
                    on_click=AuditState.older,
                    variant="soft",
                    high_contrast=True,
                ),
            ),
            spacing="3",
        ),
        rx.cond(
            ~AuditState.on_newest & (AuditState.next_after == ""),
            notice("These are the oldest events that match."),
        ),
        spacing="3",
        width="100%",
    )


def events_table() -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(
                rx.table.row(*[rx.table.column_header_cell(c, scope="col") for c in COLUMNS])
            ),
            rx.table.body(rx.foreach(AuditState.lines, event_row)),
            variant="surface",
            size="1",
            width="100%",
            # Actions and ids are long words: they wrap, so no event can make the table wider
            # than the page (a scrolling table is out of a keyboard's reach).
            overflow_wrap="anywhere",
        ),
        overflow_x="auto",
        width="100%",
    )


def event_row(line: AuditLine) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(line.when, scope="row", white_space="nowrap"),
        rx.table.cell(line.actor),
        rx.table.cell(line.actor_role),
        rx.table.cell(rx.code(line.action, variant="ghost")),
        rx.table.cell(
            rx.cond(
                line.resource_type != "",
                rx.text(line.resource_type, " ", rx.code(line.resource_id, variant="ghost")),
                "",
            )
        ),
        rx.table.cell(line.patient),
        rx.table.cell(line.outcome),
        rx.table.cell(line.details),
        key=line.key,
    )
