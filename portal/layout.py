"""The one page decorator: auth guard first, then the role's shell around the page."""

from __future__ import annotations

import functools
from collections.abc import Callable

import reflex as rx

from portal import routes
from portal.backend.security.principal import Role
from portal.components.interval import every
from portal.state.brand import BrandState
from portal.state.session import PAGE_LOADERS, SessionState

PRODUCT = "Patient portal"
SHELL_TITLES = {Role.PATIENT: "My health", Role.PROVIDER: "Provider", Role.ADMIN: "Admin"}
MAIN_ID = "main-content"
# How often the patient and provider shells look for new messages (the live-update bound).
LIVE_MS = 2000

# Every page, registered with the app in portal.py (one registration per page, one place).
PAGES: list[dict] = []
# The role each registered route needs (None: public), for tests that visit every page.
ROLE_OF_ROUTE: dict[str, Role | None] = {}


def portal_page(
    route: str,
    *,
    title: str,
    role: Role | None,
    on_load: rx.EventHandler | None = None,
) -> Callable[[Callable[[], rx.Component]], Callable[[], rx.Component]]:
    """Register a page. The guard runs the page's own loader in its event (for a role, once
    the visitor has it), and the page is wrapped in that role's shell; the loader still
    authorizes by itself."""

    def decorator(render: Callable[[], rx.Component]) -> Callable[[], rx.Component]:
        # The page keeps the module of the function it wraps: Reflex compiles a page's
        # memoized components into a script named after that module, so each route loads its
        # own (under this module's name, every route loaded every page's components).
        @functools.wraps(render)
        def page() -> rx.Component:
            body = render()
            return shell(role, route, body) if role else public_shell(body)

        screen = on_load.state_full_name if on_load is not None else ""
        if on_load is not None:
            PAGE_LOADERS[screen] = on_load
        guard = SessionState.enter(role.value, screen) if role else SessionState.show(screen)
        ROLE_OF_ROUTE[route] = role
        PAGES.append(
            {
                "component": page,
                "route": route,
                "title": f"{title} · {PRODUCT}",
                "on_load": guard,
            }
        )
        return page

    return decorator


def shell(role: Role, current_route: str, body: rx.Component) -> rx.Component:
    return rx.box(
        brand_style(),
        skip_link(),
        rx.el.header(
            rx.hstack(
                rx.hstack(
                    brand_mark(22),
                    rx.text(PRODUCT, weight="bold"),
                    rx.badge(SHELL_TITLES[role], variant="soft", high_contrast=True),
                    align="center",
                    spacing="2",
                ),
                rx.el.nav(
                    rx.hstack(
                        *[
                            nav_link(label, path, current_route)
                            for label, path in routes.NAVIGATION[role]
                        ],
                        spacing="4",
                        wrap="wrap",
                    ),
                    aria_label="Main",
                ),
                rx.spacer(),
                notifications_link(role),
                rx.button(
                    "Sign out", on_click=SessionState.sign_out, variant="soft", high_contrast=True
                ),
                align="center",
                spacing="4",
                wrap="wrap",
                width="100%",
                max_width="72rem",
                margin="0 auto",
                padding="0.75rem 1rem",
            ),
            border_bottom="1px solid var(--gray-a5)",
            background="var(--color-panel-solid)",
        ),
        main(rx.cond(SessionState.role == role.value, body, loading())),
        footer(),
        idle_warning(),
        every(SessionState.check_every_ms, SessionState.check_idle),
        *([every(LIVE_MS, SessionState.check_messages)] if role in routes.MESSAGES_OF_ROLE else []),
        min_height="100vh",
        background="var(--gray-2)",
    )


def notifications_link(role: Role) -> rx.Component:
    unread = SessionState.unread_notifications
    return rx.link(
        rx.icon("bell", size=20, aria_hidden="true"),
        rx.cond(unread > 0, unread_badge(unread)),
        href=routes.NOTIFICATIONS_OF_ROLE[role],
        aria_label=rx.cond(unread > 0, f"Notifications, {unread} unread", "Notifications"),
        display="flex",
        align_items="center",
        justify_content="center",
        min_width="24px",  # a touch target of 24 by 24 at least (WCAG 2.5.8)
        min_height="24px",
        gap="0.25rem",
        color_scheme="gray",
        high_contrast=True,
    )


def unread_badge(count: rx.Var[int]) -> rx.Component:
    return rx.badge(
        count,
        color_scheme="red",
        variant="solid",
        radius="full",
        high_contrast=True,
        margin_left="0.2rem",
    )


def idle_warning() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Are you still there?"),
            rx.alert_dialog.description(SessionState.warning_text),
            rx.hstack(
                rx.alert_dialog.action(
                    rx.button("Stay signed in", on_click=SessionState.stay_signed_in)
                ),
                rx.alert_dialog.cancel(
                    rx.button(
                        "Sign out",
                        on_click=SessionState.sign_out,
                        variant="soft",
                        color_scheme="gray",
                        high_contrast=True,
                    )
                ),
                spacing="3",
                justify="end",
                margin_top="1rem",
            ),
        ),
        open=SessionState.warning_open,
    )


def loading() -> rx.Component:
    return rx.center(rx.spinner(size="3"), role="status", aria_label="Loading", padding="3rem")


def auth_card(*children: rx.Component, heading: str) -> rx.Component:
    """The card that holds sign-in, enrollment and recovery pages."""
    return rx.center(
        rx.card(
            rx.vstack(
                rx.hstack(
                    brand_mark(28),
                    rx.heading(heading, as_="h1", size="6"),
                    align="center",
                    spacing="2",
                ),
                *children,
                spacing="4",
                width="100%",
            ),
            size="4",
            width="100%",
            max_width="28rem",
        ),
        padding_top="6vh",
    )


def brand_style() -> rx.Component:
    """The practice's colour over the accent (empty: the portal's own theme)."""
    return rx.el.style(BrandState.theme_css)


def brand_mark(size: int) -> rx.Component:
    """The practice's logo, or the portal's heart when it has none."""
    return rx.cond(
        BrandState.logo_url != "",
        rx.image(
            src=BrandState.logo_url,
            alt=BrandState.logo_alt,
            height=f"{size + 10}px",
            max_width="10rem",
            object_fit="contain",
        ),
        rx.icon("heart-pulse", size=size, aria_hidden="true"),
    )


def public_shell(body: rx.Component) -> rx.Component:
    return rx.box(
        brand_style(),
        skip_link(),
        main(body),
        footer(),
        min_height="100vh",
        background="var(--gray-2)",
    )


def main(body: rx.Component) -> rx.Component:
    return rx.el.main(
        body,
        id=MAIN_ID,
        tab_index=-1,
        max_width="72rem",
        margin="0 auto",
        padding="1.5rem 1rem 3rem",
        width="100%",
    )


def nav_link(label: str, path: str, current_route: str) -> rx.Component:
    current = path == current_route
    counted = path in routes.MESSAGES_OF_ROLE.values()
    unread = SessionState.unread_messages
    return rx.link(
        label,
        rx.cond(
            counted & (unread > 0),
            unread_badge(unread),
        ),
        href=path,
        weight="bold" if current else "medium",
        underline="always" if current else "hover",
        aria_current="page" if current else None,
        aria_label=rx.cond(counted & (unread > 0), f"{label}, {unread} unread", label)
        if counted
        else None,
        color_scheme="gray",
        high_contrast=True,
        # Radix lightens a hovered link to 1.9:1 on white; keep the text colour.
        _hover={"color": "var(--gray-12)"},
    )


def footer() -> rx.Component:
    """Every shell's footer: the accessibility statement, privacy policy and terms."""
    return rx.el.footer(
        rx.el.nav(
            rx.hstack(
                *[
                    rx.link(
                        label,
                        href=path,
                        size="2",
                        underline="always",
                        color_scheme="gray",
                        high_contrast=True,
                        display="inline-flex",
                        align_items="center",
                        min_height="24px",
                    )
                    for label, path in routes.ABOUT_PAGES
                ],
                spacing="5",
                wrap="wrap",
                justify="center",
            ),
            aria_label="About this portal",
        ),
        class_name="portal-footer",
        padding="1rem",
        border_top="1px solid var(--gray-a5)",
    )


def skip_link() -> rx.Component:
    # Reflex renders the link as a router link, which changes the address but not the focus:
    # focus the main content in the browser itself.
    return rx.el.a(
        "Skip to main content",
        href=f"#{MAIN_ID}",
        class_name="skip-link",
        on_click=rx.set_focus(MAIN_ID),
    )
