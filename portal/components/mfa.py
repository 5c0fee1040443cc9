"""Setting up an authenticator app and keeping recovery codes."""

from __future__ import annotations

import reflex as rx


def authenticator_setup(qr_code: rx.Var[str], secret: rx.Var[str]) -> rx.Component:
    return rx.vstack(
        rx.el.ol(
            rx.el.li(
                "Open an authenticator app on your phone (for example Google "
                "Authenticator, Microsoft Authenticator or 1Password)."
            ),
            rx.el.li("Scan this code with the app, or type the key below into it."),
            rx.el.li("Enter the six digits the app then shows."),
            padding_left="1.25rem",
        ),
        rx.center(
            rx.image(
                src=qr_code,
                alt="QR code to add this account to an authenticator app",
                width="13rem",
                height="13rem",
            ),
            width="100%",
        ),
        rx.text("Key for typing in by hand:", size="2", color_scheme="gray"),
        rx.code(secret, size="3", style={"word_break": "break-all"}),
        spacing="3",
        width="100%",
    )


def recovery_codes(codes: rx.Var[list[str]], download: rx.EventSpec) -> rx.Component:
    return rx.vstack(
        rx.callout(
            "Keep these codes somewhere safe. Each one lets you sign in once if you lose your "
            "phone. They are shown only now.",
            icon="key_round",
            role="status",
        ),
        rx.el.ul(
            rx.foreach(codes, lambda code: rx.el.li(rx.code(code, size="3"))),
            style={"column_count": 2, "list_style": "none", "padding": 0},
            aria_label="Recovery codes",
        ),
        rx.button(
            rx.icon("download", aria_hidden="true"),
            "Download the codes",
            on_click=download,
            variant="soft",
            high_contrast=True,
        ),
        spacing="3",
        width="100%",
    )
