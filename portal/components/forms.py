"""Form parts that keep accessibility right by default: every input has a visible label, a hint
where one helps, and is tied to the form's error message when there is one."""

from __future__ import annotations

import reflex as rx


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
    )


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
