"""Notifications, in every shell: what the portal told you, and how you want to hear from it."""

from __future__ import annotations

import reflex as rx

from portal import routes
from portal.backend.notify.preferences import CHANNELS
from portal.backend.services import notifications
from portal.backend.services.notifications import InAppNotification, PreferenceRow
from portal.components.cards import section
from portal.components.feedback import empty_state, notice
from portal.components.forms import submit
from portal.components.preferences import preferences_table
from portal.layout import portal_page
from portal.state.base import Screen, run_service, screen_state
from portal.state.session import SessionState, signed_in


@screen_state
class NotificationsState(Screen):
    items: list[InAppNotification] = []
    rows: list[PreferenceRow] = []
    mobile_phone: str = ""
    texts_at_night: bool = False
    message: str = ""
    pending: bool = False

    @rx.event
    async def load(self):
        self.reset()
        principal = await signed_in(self)
        if principal is None:
            return
        self.items = await run_service(self, notifications.notification_centre, principal)
        await self._load_preferences(principal)
        (await self.get_state(SessionState)).unread_notifications = 0

    async def _load_preferences(self, principal) -> None:
        chosen = await run_service(self, notifications.my_preferences, principal)
        self.rows, self.mobile_phone = chosen.rows, chosen.mobile_phone
        self.texts_at_night = chosen.texts_at_night

    @rx.event
    async def save(self, form_data: dict):
        principal = await signed_in(self)
        if principal is None:
            return
        chosen = {
            (row.category, channel): form_data.get(f"{row.category}.{channel}") == "on"
            for row in self.rows
            for channel in CHANNELS
        }
        self.pending = True
        yield
        await run_service(
            self,
            notifications.save_preferences,
            principal,
            chosen,
            form_data.get("texts_at_night") == "on",
        )
        await self._load_preferences(principal)
        self.message, self.pending = "Your choices are saved.", False


def notifications_page() -> rx.Component:
    return rx.vstack(
        rx.heading("Notifications", as_="h1", size="7"),
        section("Latest", latest(), heading_id="latest"),
        section("How we reach you", choices(), heading_id="choices"),
        spacing="4",
        width="100%",
    )


for _role, _route in routes.NOTIFICATIONS_OF_ROLE.items():
    portal_page(_route, title="Notifications", role=_role, on_load=NotificationsState.load)(
        notifications_page
    )


def latest() -> rx.Component:
    return rx.cond(
        NotificationsState.items.length() > 0,
        rx.el.ul(
            rx.foreach(NotificationsState.items, notification_item),
            style={"list_style": "none", "padding": 0, "width": "100%"},
        ),
        empty_state(
            "No notifications yet",
            "Reminders, new results and messages from your care team will appear here.",
        ),
    )


def notification_item(item: InAppNotification) -> rx.Component:
    return rx.el.li(
        rx.hstack(
            rx.vstack(
                rx.text(item.subject, weight=rx.cond(item.unread, "bold", "regular")),
                rx.text(item.text, size="2"),
                spacing="1",
            ),
            rx.spacer(),
            rx.cond(item.unread, rx.badge("New", color_scheme="red", high_contrast=True)),
            rx.text(item.when, size="2", color_scheme="gray"),
            align="start",
            wrap="wrap",
            width="100%",
        ),
        padding_y="0.6rem",
        border_bottom="1px solid var(--gray-a4)",
    )


def choices() -> rx.Component:
    return rx.vstack(
        rx.cond(NotificationsState.message != "", notice(NotificationsState.message)),
        rx.text(
            rx.cond(
                NotificationsState.mobile_phone != "",
                f"Texts go to {NotificationsState.mobile_phone}. ",
                "You have not given a mobile number for texts. ",
            ),
            rx.link(
                "Change it on the Security page.",
                href=rx.match(
                    SessionState.role,
                    *[(role.value, route) for role, route in routes.SECURITY_OF_ROLE.items()],
                    "/",
                ),
            ),
            size="2",
        ),
        rx.form(
            rx.vstack(
                preferences_table(NotificationsState.rows, NotificationsState.mobile_phone == ""),
                rx.checkbox(
                    "Texts may come at night (otherwise they wait from 9 pm until 8 am).",
                    name="texts_at_night",
                    default_checked=NotificationsState.texts_at_night,
                ),
                rx.box(
                    submit("Save my choices", NotificationsState.pending, "Saving…"),
                    max_width="20rem",
                    width="100%",
                ),
                spacing="4",
                width="100%",
            ),
            on_submit=NotificationsState.save,
            width="100%",
            key=NotificationsState.rows.length(),
        ),
        rx.text(
            "Account and security notices always come by email and in the portal.",
            size="2",
            color_scheme="gray",
        ),
        spacing="3",
        width="100%",
    )
