"""The table of notification preferences: one row per kind of message, one checkbox per
channel. Used on the notification settings page and in onboarding."""

from __future__ import annotations

import reflex as rx

from portal.backend.notify.preferences import CHANNEL_LABELS, CHANNELS
from portal.backend.services.notifications import PreferenceRow


def preferences_table(rows: rx.Var[list[PreferenceRow]], no_mobile: rx.Var[bool]) -> rx.Component:
    """Checkboxes named `<category>.<channel>`; texts are off without a mobile number, and a
    required kind cannot be turned off."""

    def row(line: PreferenceRow) -> rx.Component:
        return rx.table.row(
            rx.table.row_header_cell(line.label),
            *[
                rx.table.cell(
                    rx.checkbox(
                        name=f"{line.category}.{channel}",
                        default_checked=getattr(line, channel),
                        disabled=no_mobile if channel == "sms" else line.required,
                        aria_label=f"{line.label}: {CHANNEL_LABELS[channel]}",
                    )
                )
                for channel in CHANNELS
            ],
        )

    return rx.box(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell("What", scope="col"),
                    *[
                        rx.table.column_header_cell(CHANNEL_LABELS[c], scope="col")
                        for c in CHANNELS
                    ],
                )
            ),
            rx.table.body(rx.foreach(rows, row)),
            variant="surface",
            width="100%",
        ),
        overflow_x="auto",
        width="100%",
    )
