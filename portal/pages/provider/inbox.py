"""The care team's inbox: threads longest-waiting first with filters, keyset pages and live
updates; and one thread with the conversation, a reply with attachments, reassignment and
done. Everything a patient typed is shown as text."""

from __future__ import annotations

import reflex as rx

from portal import routes
from portal.backend.security.principal import Role
from portal.backend.services.messaging import BODY_LIMIT, FILE_LIMIT_BYTES, FILES_PER_MESSAGE
from portal.backend.views import ThreadLine, ThreadView
from portal.components.cards import detail_row, section
from portal.components.feedback import empty_state, error_alert, notice
from portal.components.forms import select_field
from portal.components.interval import every
from portal.components.messages import character_counter, file_picker, message_list
from portal.layout import LIVE_MS, loading, portal_page
from portal.pages.provider.inbox_state import (
    CATEGORIES,
    REPLY_FILES,
    STATUSES,
    InboxState,
    InboxThreadState,
)

COLUMNS = (
    "Patient",
    "Subject",
    "Category",
    "Assigned to",
    "Status",
    "Last activity",
    "Waiting",
    "Patient's threads",
)


@portal_page(routes.PROVIDER_INBOX, title="Inbox", role=Role.PROVIDER, on_load=InboxState.load)
def inbox_page() -> rx.Component:
    return rx.vstack(
        rx.heading("Inbox", as_="h1", size="7"),
        rx.cond(
            InboxState.loaded,
            rx.vstack(
                rx.text(
                    f"Target: answer within {InboxState.target_hours} hours",
                    weight="medium",
                ),
                error_alert(InboxState.error, element_id="inbox-error"),
                section("Filters", filters(), heading_id="filters"),
                section("Threads", threads(), heading_id="threads"),
                every(LIVE_MS, InboxState.poll),
                spacing="4",
                width="100%",
            ),
            loading(),
        ),
        spacing="4",
        width="100%",
    )


def filters() -> rx.Component:
    return rx.form(
        rx.flex(
            rx.box(
                select_field("Status", "status", STATUSES, default_value=InboxState.status),
                min_width="10rem",
            ),
            rx.box(
                select_field(
                    "Category",
                    "category",
                    CATEGORIES,
                    blank="Any category",
                    default_value=InboxState.category,
                ),
                min_width="14rem",
            ),
            rx.box(
                select_field(
                    "Assigned to",
                    "assignee",
                    InboxState.assignees,
                    default_value=InboxState.assignee,
                ),
                min_width="14rem",
            ),
            rx.button("Show threads", type="submit", size="3", high_contrast=True),
            align="end",
            gap="1rem",
            wrap="wrap",
        ),
        on_submit=InboxState.apply_filters,
        width="100%",
    )


def threads() -> rx.Component:
    return rx.vstack(
        rx.cond(
            InboxState.one_patient,
            rx.hstack(
                rx.text(
                    rx.cond(
                        InboxState.patient != "",
                        f"Only the threads of {InboxState.patient}.",
                        "Only the threads of one patient.",
                    ),
                    weight="medium",
                ),
                rx.link("Show every patient", href=routes.PROVIDER_INBOX, high_contrast=True),
                spacing="3",
                wrap="wrap",
            ),
        ),
        rx.cond(
            InboxState.lines.length() > 0,
            thread_table(),
            empty_state(
                "No threads here",
                "Nothing matches these filters. Patients' messages to your care teams appear "
                "here as they arrive.",
            ),
        ),
        paging(),
        spacing="3",
        width="100%",
    )


def thread_table() -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(
                rx.table.row(*[rx.table.column_header_cell(c, scope="col") for c in COLUMNS])
            ),
            rx.table.body(rx.foreach(InboxState.lines, thread_row)),
            variant="surface",
            width="100%",
        ),
        overflow_x="auto",
        width="100%",
    )


def thread_row(line: ThreadLine) -> rx.Component:
    unread = line.unread > 0
    return rx.table.row(
        rx.table.row_header_cell(line.patient, font_weight=rx.cond(unread, "bold", "normal")),
        rx.table.cell(
            rx.vstack(
                rx.link(
                    line.subject,
                    href=f"{routes.PROVIDER_THREAD}?id={line.id}",
                    weight=rx.cond(unread, "bold", "regular"),
                ),
                rx.cond(
                    unread,
                    rx.badge(f"{line.unread} unread", color_scheme="red", high_contrast=True),
                ),
                rx.text(line.snippet, size="1", color_scheme="gray"),
                spacing="1",
            ),
            max_width="22rem",
        ),
        rx.table.cell(line.category),
        rx.table.cell(rx.cond(line.assigned != "", line.assigned, "Nobody")),
        rx.table.cell(rx.badge(line.status, variant="soft", high_contrast=True)),
        rx.table.cell(line.last_activity, white_space="nowrap"),
        rx.table.cell(
            rx.cond(
                line.waiting != "",
                rx.vstack(
                    rx.text(line.waiting, white_space="nowrap"),
                    rx.cond(
                        line.overdue,
                        rx.badge(
                            "Over target", color_scheme="red", variant="solid", high_contrast=True
                        ),
                    ),
                    spacing="1",
                ),
                "—",
            )
        ),
        rx.table.cell(
            rx.link(
                "Only this patient",
                href=f"{routes.PROVIDER_INBOX}?patient={line.patient_id}",
                aria_label=f"Only this patient: {line.patient}",
                size="2",
            )
        ),
    )


def paging() -> rx.Component:
    return rx.hstack(
        rx.cond(
            InboxState.page > 1,
            rx.button(
                "First page", on_click=InboxState.first_page, variant="soft", high_contrast=True
            ),
        ),
        rx.cond(
            InboxState.more,
            rx.button(
                "Next page", on_click=InboxState.next_page, variant="soft", high_contrast=True
            ),
        ),
        rx.text(f"Page {InboxState.page}", size="2", color_scheme="gray"),
        align="center",
        spacing="3",
    )


@portal_page(
    routes.PROVIDER_THREAD,
    title="Conversation",
    role=Role.PROVIDER,
    on_load=InboxThreadState.load,
)
def thread_page() -> rx.Component:
    thread = InboxThreadState.thread
    return rx.vstack(
        rx.link("← Back to the inbox", href=routes.PROVIDER_INBOX, high_contrast=True),
        rx.cond(
            thread,
            rx.vstack(
                rx.heading(thread.subject, as_="h1", size="6"),
                thread_details(thread),
                error_alert(InboxThreadState.error, element_id="thread-error"),
                rx.cond(InboxThreadState.message != "", notice(InboxThreadState.message)),
                section("Messages", message_list(thread.messages), heading_id="messages"),
                section("Reply", reply_form(), heading_id="reply"),
                section("Assignment and status", handling(thread), heading_id="handling"),
                every(LIVE_MS, InboxThreadState.poll),
                spacing="4",
                width="100%",
            ),
            rx.cond(
                InboxThreadState.missing,
                rx.vstack(
                    rx.heading("This conversation was not found", as_="h1", size="6"),
                    rx.text("It may belong to another care team, or the link is wrong."),
                ),
                loading(),
            ),
        ),
        spacing="4",
        width="100%",
        max_width="52rem",
    )


def thread_details(thread: ThreadView) -> rx.Component:
    return rx.vstack(
        detail_row("Patient", thread.patient),
        detail_row("Care team", thread.care_team),
        detail_row("Category", thread.category),
        detail_row("Status", thread.status),
        detail_row("Assigned to", rx.cond(thread.assigned != "", thread.assigned, "Nobody")),
        detail_row(
            "Waiting",
            rx.cond(thread.waiting != "", thread.waiting, "The patient is not waiting for us"),
        ),
        spacing="1",
    )


def reply_form() -> rx.Component:
    return rx.vstack(
        error_alert(InboxThreadState.reply_error, element_id="reply-error"),
        rx.el.label("Your reply", html_for="reply-body", font_weight="500"),
        rx.text_area(
            id="reply-body",
            value=InboxThreadState.draft,
            on_change=InboxThreadState.edit_draft,
            rows="5",
            width="100%",
            aria_describedby="reply-counter reply-error",
        ),
        character_counter(InboxThreadState.draft.length(), BODY_LIMIT, element_id="reply-counter"),
        attachments(),
        rx.button(
            "Send reply",
            on_click=InboxThreadState.send(rx.upload_files(upload_id=REPLY_FILES)),
            loading=InboxThreadState.pending,
            size="3",
            high_contrast=True,
        ),
        spacing="2",
        width="100%",
    )


def attachments() -> rx.Component:
    chosen = rx.selected_files(REPLY_FILES)
    return rx.vstack(
        file_picker(REPLY_FILES, on_rejected=InboxThreadState.files_rejected),
        rx.text(
            f"Optional: PDF, PNG or JPEG, up to {FILE_LIMIT_BYTES // (1024 * 1024)} MB each, "
            f"at most {FILES_PER_MESSAGE}.",
            size="2",
            color_scheme="gray",
        ),
        rx.cond(
            chosen.length() > 0,
            rx.vstack(
                rx.el.ul(
                    rx.foreach(chosen, lambda name: rx.el.li(rx.text(name, size="2"))),
                    aria_label="Files to attach",
                    style={"margin": 0, "padding_left": "1.25rem"},
                ),
                rx.button(
                    "Remove the files",
                    type="button",
                    on_click=rx.clear_selected_files(REPLY_FILES),
                    size="1",
                    variant="soft",
                    color_scheme="gray",
                    high_contrast=True,
                ),
                spacing="1",
            ),
        ),
        spacing="1",
    )


def handling(thread: ThreadView) -> rx.Component:
    return rx.flex(
        rx.form(
            rx.hstack(
                rx.box(
                    select_field(
                        "Reassign to",
                        "assignee",
                        InboxThreadState.team,
                        default_value=thread.assigned_id,
                        blank="Choose a clinician",
                    ),
                    min_width="16rem",
                ),
                rx.button("Reassign", type="submit", variant="soft", high_contrast=True),
                align="end",
                spacing="2",
            ),
            on_submit=InboxThreadState.reassign,
        ),
        rx.cond(
            thread.status == "Done",
            rx.button(
                "Reopen", on_click=InboxThreadState.reopen, variant="outline", high_contrast=True
            ),
            rx.button("Mark done", on_click=InboxThreadState.mark_done, high_contrast=True),
        ),
        align="end",
        justify="between",
        gap="1rem",
        wrap="wrap",
        width="100%",
    )
