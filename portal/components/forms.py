"""Form parts that keep accessibility right by default: every input has a visible label, a hint
where one helps, and is tied to the form's error message when there is one; and readers of
what a browser sent (bounded text, ids, dates, times) with a plain message when it cannot be
read."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, time

import reflex as rx

from portal.backend.security.principal import NotFound

IMAGES_ACCEPTED = {"image/png": [".png"], "image/jpeg": [".jpg", ".jpeg"]}


def field(
    label: str,
    name: str,
    *,
    kind: str = "text",
    autocomplete: str = "off",
    error_id: str,
    has_error: rx.Var[bool],
    hint: str = "",
    input_mode: str | None = None,
    max_length: int | None = None,
    default_value: rx.Var | str | None = None,
) -> rx.Component:
    hint_id = f"{name}-hint"
    described = f"{hint_id} {error_id}" if hint else error_id
    return rx.vstack(
        rx.el.label(label, html_for=name, font_weight="500"),
        rx.cond(hint != "", rx.text(hint, id=hint_id, size="2", color_scheme="gray")),
        rx.input(
            id=name,
            name=name,
            type=kind,
            autocomplete=autocomplete,
            input_mode=input_mode,
            max_length=max_length,
            default_value=default_value,
            size="3",
            width="100%",
            aria_invalid=rx.cond(has_error, "true", "false"),
            aria_describedby=rx.cond(has_error, described, hint_id if hint else ""),
        ),
        spacing="1",
        width="100%",
    )


def code_field(*, error_id: str, has_error: rx.Var[bool], allow_recovery: bool) -> rx.Component:
    return field(
        "Code" if not allow_recovery else "Code from your authenticator app",
        "code",
        autocomplete="one-time-code",
        input_mode="text" if allow_recovery else "numeric",
        max_length=20,
        error_id=error_id,
        has_error=has_error,
        hint=(
            "The six digits your authenticator app shows now. Lost your phone? Enter one of "
            "your recovery codes instead."
            if allow_recovery
            else "The six digits your authenticator app shows now."
        ),
    )


def submit(text: str, pending: rx.Var[bool], busy_text: str) -> rx.Component:
    return rx.button(
        rx.cond(pending, busy_text, text),
        type="submit",
        loading=pending,
        size="3",
        width="100%",
        high_contrast=True,  # white on the teal accent is 3.1:1; AA needs 4.5:1
    )


def without_the_files(on_rejected: rx.EventHandler) -> Callable[[rx.Var], rx.EventSpec]:
    """A file picker's `on_drop_rejected` that tells `on_rejected` (a handler taking no
    arguments) only that the browser refused the chosen files. Handed on as they are, the
    refused files would travel over the websocket (socket.io sends a File as binary): one over
    the socket's 1 MB frame limit drops the connection, so the refusal is never shown, and a
    smaller one sends its bytes to the server for nothing."""
    return lambda _refused: on_rejected()


def image_picker(
    upload_id: str,
    *,
    label: rx.Var[str] | str,
    accessible_label: str,
    max_size: int,
    on_drop: rx.EventSpec,
    on_rejected: rx.EventHandler,
) -> rx.Component:
    """A button that opens the browser's file dialog for one PNG or JPEG of at most `max_size`
    bytes; the picture is sent as soon as it is chosen (the handler reads the bytes in memory
    and the service judges them by their content, whatever the file's name)."""
    picker = rx.upload.root(
        rx.button(label, type="button", variant="soft", high_contrast=True),
        id=upload_id,
        accept=IMAGES_ACCEPTED,
        max_files=1,
        max_size=max_size,
        multiple=False,
        no_drag=True,
        no_keyboard=True,
        on_drop=on_drop,
        on_drop_rejected=without_the_files(on_rejected),
    )
    zone = picker.children[0]
    file_input = next(child for child in zone.children if isinstance(child, rx.el.Input))
    file_input.custom_attrs["aria-label"] = accessible_label
    return picker


def text_of(form_data: dict, name: str, limit: int = 300) -> str:
    """A form value as bounded text: forms post whatever a client sends."""
    value = form_data.get(name, "")
    return value[:limit] if isinstance(value, str) else ""


def form(
    *fields: rx.Component,
    on_submit: rx.EventHandler,
    button: str,
    busy: str,
    pending: rx.Var[bool],
    max_width: str | None = None,
) -> rx.Component:
    """Fields and one submit button; what was typed stays in place when the answer is an error."""
    return rx.form(
        rx.vstack(
            *fields, submit(button, pending, busy), spacing="4", width="100%", max_width=max_width
        ),
        on_submit=on_submit,
        width="100%",
    )


def new_password_fields(
    *, label: str, hint: str, error_id: str, has_error: rx.Var[bool]
) -> tuple[rx.Component, rx.Component]:
    return (
        field(
            label,
            "password",
            kind="password",
            autocomplete="new-password",
            error_id=error_id,
            has_error=has_error,
            hint=hint,
        ),
        field(
            "Type it again",
            "again",
            kind="password",
            autocomplete="new-password",
            error_id=error_id,
            has_error=has_error,
        ),
    )


def new_password_of(form_data: dict) -> tuple[str, str]:
    """The new password, and why it cannot be used yet (or "")."""
    password, again = text_of(form_data, "password", 500), text_of(form_data, "again", 500)
    if password != again:
        return password, "The two passwords are different. Type the same password twice."
    return password, ""


SELECT_STYLE = {
    "width": "100%",
    "height": "var(--space-7)",
    "padding": "0 0.5rem",
    "border": "1px solid var(--gray-a7)",
    "border_radius": "var(--radius-2)",
    "background": "var(--color-surface)",
    "color": "var(--gray-12)",
    "font_size": "var(--font-size-3)",
}


class EntryInvalid(Exception):
    """What was entered in a form cannot be used as it is; the text says what to enter."""


def record_id(value: str) -> uuid.UUID:
    """An id the browser sent back; one that cannot be read answers as not found."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound from None


def day_of(form_data: dict, name: str, label: str) -> date:
    """The date typed in `name`; `label` names it in the message, e.g. 'the first day'."""
    try:
        return date.fromisoformat(text_of(form_data, name, 10).strip())
    except ValueError:
        raise EntryInvalid(f"Enter {label} as YYYY-MM-DD, for example 2026-12-01.") from None


def optional_day_of(form_data: dict, name: str, label: str) -> date | None:
    return day_of(form_data, name, label) if text_of(form_data, name, 10).strip() else None


def clock_of(form_data: dict, name: str, label: str) -> time:
    """The time of day typed in `name` (24-hour HH:MM, as time inputs send it)."""
    try:
        return time.fromisoformat(text_of(form_data, name, 8).strip())
    except ValueError:
        raise EntryInvalid(f"Enter {label} as HH:MM, for example 09:30.") from None


def select_field(
    label: str,
    name: str,
    options: rx.Var | list[tuple[str, str]],
    *,
    error_id: str = "",
    has_error: rx.Var[bool] | bool = False,
    default_value: rx.Var | str | None = None,
    blank: str = "",
    on_change: rx.EventHandler | None = None,
) -> rx.Component:
    """A labelled native select. `options` are (value, text) pairs, or a list var of views with
    `id` and `name`; `blank` adds a first, empty choice with that text."""
    if isinstance(options, rx.Var):
        items = [rx.foreach(options, lambda choice: rx.el.option(choice.name, value=choice.id))]
    else:
        items = [rx.el.option(text, value=value) for value, text in options]
    if blank:
        items.insert(0, rx.el.option(blank, value=""))
    return rx.vstack(
        rx.el.label(label, html_for=name, font_weight="500"),
        rx.el.select(
            *items,
            id=name,
            name=name,
            default_value=default_value,
            on_change=on_change,
            aria_invalid=rx.cond(has_error, "true", "false"),
            aria_describedby=rx.cond(has_error, error_id, ""),
            style=SELECT_STYLE,
        ),
        spacing="1",
        width="100%",
    )


def radio_field(legend: str, name: str, options: list[tuple[str, str]]) -> rx.Component:
    """One of a few choices, named by a legend; nothing is chosen until the user chooses."""
    return rx.el.fieldset(
        rx.el.legend(legend, font_weight="500", margin_bottom="0.25rem"),
        rx.radio_group.root(
            rx.vstack(
                *[
                    rx.text(
                        rx.flex(rx.radio_group.item(value=value), text, spacing="2"), as_="label"
                    )
                    for value, text in options
                ],
                spacing="2",
            ),
            name=name,
        ),
        style={"border": "none", "padding": 0, "margin": 0},
    )


def reason_field(label: str, name: str, *, error_id: str, has_error: rx.Var[bool]) -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=name, font_weight="500"),
        rx.text_area(
            id=name,
            name=name,
            max_length=500,
            rows="3",
            width="100%",
            aria_invalid=rx.cond(has_error, "true", "false"),
            aria_describedby=rx.cond(has_error, error_id, ""),
        ),
        spacing="1",
        width="100%",
    )
