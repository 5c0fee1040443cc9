"""A message thread as both sides see it: plain text (links only for http(s) URLs, marked by
the service), attachments through the authorizing download route, and read receipts.

Nothing a user typed is ever rendered as markup: every part is a text node or a link whose
address the service checked.
"""

from __future__ import annotations

import reflex as rx

from portal.backend.services.messaging import FILE_LIMIT_BYTES, FILES_PER_MESSAGE, NewFile
from portal.backend.views import AttachmentLine, MessageLine, TextPart
from portal.components.forms import without_the_files

ACCEPTED = {"application/pdf": [".pdf"], "image/png": [".png"], "image/jpeg": [".jpg", ".jpeg"]}


def message_list(messages: rx.Var[list[MessageLine]]) -> rx.Component:
    return rx.el.ol(
        rx.foreach(messages, message_item),
        aria_label="Messages",
        style={"list_style": "none", "padding": 0, "margin": 0, "width": "100%"},
    )


def message_item(message: MessageLine) -> rx.Component:
    return rx.el.li(
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.text(message.sender, weight="bold"),
                    rx.spacer(),
                    rx.text(message.sent, size="2", color_scheme="gray"),
                    width="100%",
                    wrap="wrap",
                ),
                rx.box(rx.foreach(message.lines, message_line), width="100%"),
                rx.cond(
                    message.attachments.length() > 0,
                    rx.vstack(rx.foreach(message.attachments, attachment_link), spacing="1"),
                ),
                rx.cond(
                    message.receipt != "",
                    rx.text(message.receipt, size="1", color_scheme="gray"),
                ),
                spacing="2",
                width="100%",
            ),
            variant=rx.cond(message.mine, "surface", "classic"),
            width="100%",
        ),
        margin_left=rx.cond(message.mine, "auto", "0"),
        max_width="40rem",
        margin_bottom="0.75rem",
    )


def message_line(parts: rx.Var[list[TextPart]]) -> rx.Component:
    return rx.text(rx.foreach(parts, text_part), as_="p", min_height="1em", margin="0")


def text_part(part: TextPart) -> rx.Component:
    return rx.cond(
        part.href != "",
        rx.link(part.text, href=part.href, is_external=True, rel="noopener noreferrer nofollow"),
        rx.text(part.text, as_="span"),
    )


def attachment_link(attachment: AttachmentLine) -> rx.Component:
    """A download through the authorizing route; `target` keeps the client-side router out.
    An image shows its server-made preview above the link."""
    return rx.vstack(
        rx.cond(
            attachment.preview,
            rx.image(
                src=f"/files/attachments/{attachment.id}/preview",
                alt=f"Preview of {attachment.filename}",
                max_width="10rem",
                border_radius="var(--radius-2)",
            ),
        ),
        download_link(attachment),
        spacing="1",
    )


def download_link(attachment: AttachmentLine) -> rx.Component:
    return rx.el.a(
        rx.icon("paperclip", size=14, aria_hidden="true"),
        f" {attachment.filename} ({attachment.kind}, {attachment.size})",
        href=f"/files/attachments/{attachment.id}",
        download=attachment.filename,
        target="_blank",
        rel="noopener",
        style={"color": "var(--accent-11)", "text_decoration": "underline"},
    )


def character_counter(length: rx.Var[int], limit: int, *, element_id: str) -> rx.Component:
    """'123 of 5,000 characters', announced politely as it changes."""
    return rx.text(
        f"{length} of {limit:,} characters",
        id=element_id,
        size="2",
        color_scheme=rx.cond(length > limit, "red", "gray"),
        aria_live="polite",
    )


def file_picker(
    upload_id: str, *, on_rejected: rx.EventHandler | None = None, label: str = "Attach files"
) -> rx.Component:
    """A message's file chooser: the button opens the browser's dialog (no drop zone, one tab
    stop). Files stay in the browser until the message is sent. Reflex renders the dialog's
    hidden file input without a name, so it is given the button's."""
    picker = rx.upload.root(
        rx.button(label, type="button", variant="soft", high_contrast=True),
        id=upload_id,
        accept=ACCEPTED,
        max_files=FILES_PER_MESSAGE,
        max_size=FILE_LIMIT_BYTES,
        multiple=True,
        no_drag=True,
        no_keyboard=True,
        **({"on_drop_rejected": without_the_files(on_rejected)} if on_rejected else {}),
    )
    zone = picker.children[0]
    file_input = next(child for child in zone.children if isinstance(child, rx.el.Input))
    file_input.custom_attrs["aria-label"] = label
    return picker


async def read_files(files: list[rx.UploadFile]) -> list[NewFile]:
    """The uploads' bytes, in memory only (never Reflex's upload folder). Reading stops one
    file past the limit and one byte past each file's limit: enough for the service to refuse
    in its own words, never more."""
    return [
        NewFile(file.name or "file", await file.read(FILE_LIMIT_BYTES + 1))
        for file in files[: FILES_PER_MESSAGE + 1]
    ]


FILES_REFUSED = (
    f"Some files were not added. Attach PDF, PNG or JPEG files of up to "
    f"{FILE_LIMIT_BYTES // (1024 * 1024)} MB each, at most {FILES_PER_MESSAGE}."
)
