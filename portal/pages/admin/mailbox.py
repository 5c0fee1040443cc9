"""The dev mailbox (demo mode only): the emails the portal sent, as their recipients read them."""

from __future__ import annotations

import reflex as rx

from portal import routes
from portal.backend.security.principal import NotFound, Role
from portal.backend.services.mailbox import Mail, dev_mailbox
from portal.components.feedback import empty_state, notice
from portal.layout import portal_page
from portal.state.base import Screen, run_service, screen_state
from portal.state.session import signed_in


@screen_state
class MailboxState(Screen):
    mails: list[Mail] = []
    available: bool = True

    @rx.event
    async def load(self):
        self.reset()
        principal = await signed_in(self, Role.ADMIN)
        if principal is None:
            return
        try:
            self.mails = await run_service(self, dev_mailbox, principal)
        except NotFound:
            self.available = False


@portal_page(routes.ADMIN_MAILBOX, title="Dev mailbox", role=Role.ADMIN, on_load=MailboxState.load)
def mailbox() -> rx.Component:
    return rx.vstack(
        rx.heading("Dev mailbox", as_="h1", size="7"),
        rx.cond(
            MailboxState.available,
            rx.vstack(
                notice("Demo mode: emails are not sent anywhere; they are shown here instead."),
                rx.cond(
                    MailboxState.mails.length() > 0,
                    rx.el.ul(
                        rx.foreach(MailboxState.mails, mail_item),
                        style={"list_style": "none", "padding": 0, "width": "100%"},
                    ),
                    empty_state(
                        "No emails yet", "Invitations, password resets and alerts will appear here."
                    ),
                ),
                width="100%",
            ),
            notice("The dev mailbox exists in demo mode only."),
        ),
        spacing="4",
        width="100%",
    )


def mail_item(mail: Mail) -> rx.Component:
    return rx.el.li(
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.text(mail.subject, weight="bold"),
                    rx.spacer(),
                    rx.text(mail.sent, size="2", color_scheme="gray"),
                    wrap="wrap",
                    width="100%",
                ),
                rx.text(f"{mail.channel} to: {mail.recipient}", size="2"),
                rx.text(mail.text, style={"white_space": "pre-wrap", "overflow_wrap": "anywhere"}),
                spacing="2",
            ),
            width="100%",
        ),
        margin_bottom="0.75rem",
    )
