"""Reflex configuration of the bare app: the portal's framework settings, none of its features."""

import reflex as rx

config = rx.Config(
    app_name="bare_app",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    # One worker keeps state in memory, as the portal does without REDIS_URL.
    state_manager_mode="memory",
    disable_plugins=[rx.plugins.SitemapPlugin],
    plugins=[
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(appearance="light", accent_color="teal", gray_color="slate")
        )
    ],
)
