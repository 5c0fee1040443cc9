"""The patient's messages: threads with their care team, a new message, and a thread with its
replies, read receipts and attachments, updated live (within two seconds)."""

from __future__ import annotations

import reflex as rx

from portal import routes
from portal.backend.security.principal import NotFound, Role
from portal.backend.services import messaging
from portal.backend.services.messaging import (
    BODY_LIMIT,
    FILE_LIMIT_BYTES,
    FILES_PER_MESSAGE,
    MessageRefused,
)
from portal.backend.views import MessagingContext, ThreadLine, ThreadView
from portal.components.cards import section
from portal.components.feedback import empty_state, error_alert, notice
from portal.components.forms import record_id, select_field
from portal.components.interval import every
from portal.components.messages import (
    FILES_REFUSED,
    character_counter,
    file_picker,
    message_list,
    read_files,
)
from portal.layout import LIVE_MS, loading, portal_page
from portal.state.base import Screen, run_service, screen_state
from portal.state.session import signed_in, watching

NEW_FILES = "new-message-files"
REPLY_FILES = "reply-files"


@screen_state
class MessagesState(Screen):
    context: MessagingContext | None = None
    subject: str = ""
    category: str = ""
    draft: str = ""
    error: str = ""
    pending: bool = False

    @rx.event
    async def load(self):
        self.reset()
        principal = await signed_in(self, Role.PATIENT)
        if principal is None:
            return
        self.context = await run_service(self, messaging.messaging_home, principal)

    @rx.event
    def typed(self, field: str, value: str):
        """Keeps what the patient types server-side, so an error never loses it."""
        value = value[: BODY_LIMIT + 1000] if isinstance(value, str) else ""
        if field == "subject":
            self.subject = value[:200]
        elif field == "category":
            self.category = value[:40]
        elif field == "body":
            self.draft = value

    @rx.event
    def files_rejected(self):
        self.error = FILES_REFUSED

    @rx.event
    async def send(self, files: list[rx.UploadFile]):
        principal = await signed_in(self, Role.PATIENT)
        if principal is None:
            return
        self.error, self.pending = "", True
        yield
        try:
            thread_id = await run_service(
                self,
                messaging.start_thread,
                principal,
                self.subject,
                self.category,
                self.draft,
                await read_files(files),
            )
        except MessageRefused as refused:
            self.error, self.pending = str(refused), False
            return
        self.pending = False
        yield rx.clear_selected_files(NEW_FILES)
        yield rx.redirect(f"{routes.MESSAGE_THREAD}?id={thread_id}")


@screen_state
class ThreadState(Screen):
    thread: ThreadView | None = None
    draft: str = ""
    error: str = ""
    message: str = ""
    pending: bool = False
    missing: bool = False

    @rx.event
    async def load(self):
        self.reset()
        await self._read()

    async def _read(self) -> None:
        principal = await signed_in(self, Role.PATIENT)
        if principal is None:
            return
        try:
            thread_id = record_id(self.router.url.query_parameters.get("id", "")[:40])
            self.thread = await run_service(self, messaging.read_thread, principal, thread_id)
        except NotFound:
            self.thread, self.missing = None, True

    @rx.event
    async def check(self):
        """Polled every two seconds (not activity): re-read only when the thread changed."""
        principal = await watching(self, Role.PATIENT)
        if principal is None or self.thread is None:
            return
        try:
            version = await run_service(
                self, messaging.thread_version, principal, record_id(self.thread.id)
            )
        except NotFound:
            self.thread, self.missing = None, True
            return
        if version != self.thread.version:
            await self._read()

    @rx.event
    def typed(self, value: str):
        self.draft = value[: BODY_LIMIT + 1000] if isinstance(value, str) else ""

    @rx.event
    def files_rejected(self):
        self.error = FILES_REFUSED

    @rx.event
    async def reply(self, files: list[rx.UploadFile]):
        principal = await signed_in(self, Role.PATIENT)
        if principal is None or self.thread is None:
            return
        self.error, self.message, self.pending = "", "", True
        yield
        try:
            await run_service(
                self,
                messaging.send_reply,
                principal,
                record_id(self.thread.id),
                self.draft,
                await read_files(files),
            )
        except MessageRefused as refused:
            self.error, self.pending = str(refused), False
            return
        except NotFound:
            self.thread, self.missing, self.pending = None, True, False
            return
        self.draft, self.pending, self.message = "", False, "Sent."
        await self._read()
        yield rx.clear_selected_files(REPLY_FILES)


@portal_page(routes.MESSAGES, title="Messages", role=Role.PATIENT, on_load=MessagesState.load)
def messages_page() -> rx.Component:
    context = MessagesState.context
    return rx.vstack(
        rx.heading("Messages", as_="h1", size="7"),
        rx.cond(
            context,
            rx.vstack(
                section(
                    "Your conversations",
                    rx.cond(
                        context.threads.length() > 0,
                        rx.el.ul(
                            rx.foreach(context.threads, thread_item),
                            style={"list_style": "none", "padding": 0, "margin": 0},
                            width="100%",
                        ),
                        empty_state(
                            "No messages yet",
                            "Write to your care team below; their answers will appear here.",
                        ),
                    ),
                    heading_id="conversations",
                ),
                section("Write to your care team", new_message(context), heading_id="new-message"),
                spacing="4",
                width="100%",
            ),
            loading(),
        ),
        spacing="4",
        width="100%",
        max_width="52rem",
    )


def thread_item(line: ThreadLine) -> rx.Component:
    return rx.el.li(
        rx.link(
            rx.hstack(
                rx.vstack(
                    rx.text(line.subject, weight=rx.cond(line.unread > 0, "bold", "regular")),
                    rx.text(f"{line.category} · {line.status}", size="2", color_scheme="gray"),
                    spacing="0",
                ),
                rx.spacer(),
                rx.cond(
                    line.unread > 0,
                    rx.badge(f"{line.unread} new", color_scheme="red", high_contrast=True),
                ),
                rx.text(line.last_activity, size="2", color_scheme="gray"),
                align="center",
                wrap="wrap",
                width="100%",
            ),
            href=f"{routes.MESSAGE_THREAD}?id={line.id}",
            underline="none",
            color_scheme="gray",
            high_contrast=True,
            width="100%",
        ),
        padding_y="0.6rem",
        border_bottom="1px solid var(--gray-a4)",
    )


def emergency_notice(response_hours: rx.Var[int]) -> rx.Component:
    return rx.callout.root(
        rx.callout.icon(rx.icon("siren")),
        rx.callout.text(
            rx.text.strong("Messages are not for emergencies. "),
            "If you have a medical emergency, call 911 or go to the nearest emergency "
            f"department. Your care team aims to answer within {response_hours} hours.",
        ),
        color_scheme="red",
        role="note",
        width="100%",
    )


def attachments_picker(upload_id: str, on_rejected: rx.EventHandler) -> rx.Component:
    return rx.vstack(
        file_picker(upload_id, on_rejected=on_rejected),
        rx.text(
            f"PDF, PNG or JPEG, up to {FILE_LIMIT_BYTES // (1024 * 1024)} MB each, "
            f"at most {FILES_PER_MESSAGE}.",
            size="2",
            color_scheme="gray",
        ),
        rx.foreach(rx.selected_files(upload_id), lambda name: rx.text(name, size="2")),
        spacing="1",
    )


def new_message(context) -> rx.Component:
    return rx.vstack(
        emergency_notice(context.response_hours),
        rx.text(f"Your message goes to the {context.care_team}.", size="2"),
        error_alert(MessagesState.error, element_id="new-message-error"),
        rx.vstack(
            rx.el.label("Subject", html_for="subject", font_weight="500"),
            rx.input(
                id="subject",
                value=MessagesState.subject,
                on_change=lambda value: MessagesState.typed("subject", value),
                max_length=messaging.SUBJECT_LIMIT,
                size="3",
                width="100%",
                aria_invalid=rx.cond(MessagesState.error != "", "true", "false"),
                aria_describedby="new-message-error",
            ),
            spacing="1",
            width="100%",
        ),
        select_field(
            "What is it about?",
            "category",
            context.categories,
            blank="Choose…",
            error_id="new-message-error",
            has_error=MessagesState.error != "",
            on_change=lambda value: MessagesState.typed("category", value),
        ),
        rx.vstack(
            rx.el.label("Your message", html_for="body", font_weight="500"),
            rx.text_area(
                id="body",
                value=MessagesState.draft,
                on_change=lambda value: MessagesState.typed("body", value),
                rows="6",
                width="100%",
                aria_invalid=rx.cond(MessagesState.error != "", "true", "false"),
                aria_describedby="new-message-counter new-message-error",
            ),
            character_counter(
                MessagesState.draft.length(), BODY_LIMIT, element_id="new-message-counter"
            ),
            spacing="1",
            width="100%",
        ),
        attachments_picker(NEW_FILES, MessagesState.files_rejected),
        rx.button(
            "Send to my care team",
            on_click=MessagesState.send(rx.upload_files(upload_id=NEW_FILES)),
            loading=MessagesState.pending,
            size="3",
            high_contrast=True,
        ),
        spacing="3",
        width="100%",
    )


@portal_page(
    routes.MESSAGE_THREAD, title="Conversation", role=Role.PATIENT, on_load=ThreadState.load
)
def thread_page() -> rx.Component:
    thread = ThreadState.thread
    return rx.vstack(
        rx.link("← All messages", href=routes.MESSAGES, color_scheme="gray", high_contrast=True),
        rx.cond(
            thread,
            rx.vstack(
                rx.heading(thread.subject, as_="h1", size="6"),
                rx.text(
                    f"{thread.category} · with the {thread.care_team} · {thread.status}",
                    color_scheme="gray",
                ),
                message_list(thread.messages),
                section("Reply", reply_form(), heading_id="reply"),
                every(LIVE_MS, ThreadState.check),
                spacing="4",
                width="100%",
            ),
            rx.cond(
                ThreadState.missing,
                empty_state(
                    "This conversation was not found",
                    "It may not be yours, or the link is wrong. Your conversations are listed "
                    "on the Messages page.",
                ),
                loading(),
            ),
        ),
        spacing="4",
        width="100%",
        max_width="52rem",
    )


def reply_form() -> rx.Component:
    return rx.vstack(
        rx.text(
            "Not for emergencies: call 911 or go to the nearest emergency department.",
            size="2",
            weight="medium",
        ),
        error_alert(ThreadState.error, element_id="reply-error"),
        rx.cond(ThreadState.message != "", notice(ThreadState.message)),
        rx.el.label("Your reply", html_for="reply-body", font_weight="500"),
        rx.text_area(
            id="reply-body",
            value=ThreadState.draft,
            on_change=ThreadState.typed,
            rows="4",
            width="100%",
            aria_describedby="reply-counter reply-error",
        ),
        character_counter(ThreadState.draft.length(), BODY_LIMIT, element_id="reply-counter"),
        attachments_picker(REPLY_FILES, ThreadState.files_rejected),
        rx.button(
            "Send reply",
            on_click=ThreadState.reply(rx.upload_files(upload_id=REPLY_FILES)),
            loading=ThreadState.pending,
            size="3",
            high_contrast=True,
        ),
        spacing="2",
        width="100%",
    )
