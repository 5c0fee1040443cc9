"""Forgot your password: ask for a link by email, then choose a new password with it."""

from __future__ import annotations

import reflex as rx

from portal import routes
from portal.backend.services import account_recovery
from portal.components.feedback import error_alert, notice
from portal.components.forms import field, submit, text_of
from portal.layout import auth_card, portal_page
from portal.state.base import run_service, screen_state

ERROR_ID = "reset-error"
SENT = (
    "If an account uses that address, we have emailed it a link to choose a new password. "
    "The link works for 30 minutes. Check your spam folder if it does not arrive."
)


@screen_state
class ForgotPasswordState(rx.State):
    error: str = ""
    sent: bool = False
    pending: bool = False

    @rx.event
    def load(self):
        self.reset()

    @rx.event
    async def request_link(self, form_data: dict):
        email = text_of(form_data, "email", 320).strip()
        if "@" not in email:
            self.error = "Enter your email address in the form name@example.com."
            return
        self.error, self.pending = "", True
        yield
        await run_service(self, account_recovery.request_password_reset, email)
        self.sent, self.pending = True, False


@screen_state
class ResetPasswordState(rx.State):
    error: str = ""
    step: str = "loading"
    pending: bool = False
    _token: str = ""

    @rx.event
    async def load(self):
        link_token = self.router.url.query_parameters.get("token", "")
        if link_token:
            self._token = link_token[:100]
            return rx.redirect(routes.RESET_PASSWORD, replace=True)
        token = self._token
        self.reset()
        self._token = token
        try:
            await run_service(self, account_recovery.check_reset_link, token)
        except account_recovery.ResetRefused as refusal:
            self.step, self.error = "invalid", str(refusal)
            return None
        self.step = "choose"
        return None

    @rx.event
    async def choose(self, form_data: dict):
        password, again = text_of(form_data, "password", 500), text_of(form_data, "again", 500)
        if password != again:
            self.error = "The two passwords are different. Type the same password twice."
            return
        self.error, self.pending = "", True
        yield
        try:
            await run_service(self, account_recovery.reset_password, self._token, password)
        except account_recovery.ResetRefused as refusal:
            self.error, self.pending = str(refusal), False
            return
        self._token, self.pending = "", False
        yield rx.redirect(f"{routes.SIGN_IN}?password_changed=1", replace=True)


@portal_page(
    routes.FORGOT_PASSWORD,
    title="Forgot your password",
    role=None,
    on_load=ForgotPasswordState.load,
)
def forgot_password() -> rx.Component:
    return auth_card(
        error_alert(ForgotPasswordState.error, element_id=ERROR_ID),
        rx.cond(
            ForgotPasswordState.sent,
            notice(SENT),
            rx.form(
                rx.vstack(
                    rx.text(
                        "Enter the email address you sign in with. We will send you a link "
                        "to choose a new password."
                    ),
                    field(
                        "Email address",
                        "email",
                        kind="email",
                        autocomplete="username",
                        error_id=ERROR_ID,
                        has_error=ForgotPasswordState.error != "",
                    ),
                    submit("Send the link", ForgotPasswordState.pending, "Sending…"),
                    spacing="4",
                    width="100%",
                ),
                on_submit=ForgotPasswordState.request_link,
                width="100%",
            ),
        ),
        rx.link("Back to sign in", href=routes.SIGN_IN),
        heading="Forgot your password",
    )


@portal_page(
    routes.RESET_PASSWORD, title="Choose a new password", role=None, on_load=ResetPasswordState.load
)
def reset_password() -> rx.Component:
    has_error = ResetPasswordState.error != ""
    return auth_card(
        error_alert(ResetPasswordState.error, element_id=ERROR_ID),
        rx.match(
            ResetPasswordState.step,
            ("invalid", rx.link("Ask for a new link", href=routes.FORGOT_PASSWORD)),
            (
                "choose",
                rx.form(
                    rx.vstack(
                        field(
                            "New password",
                            "password",
                            kind="password",
                            autocomplete="new-password",
                            error_id=ERROR_ID,
                            has_error=has_error,
                            hint="At least 12 characters. Afterwards you sign in with it and a "
                            "code from your authenticator app.",
                        ),
                        field(
                            "Type it again",
                            "again",
                            kind="password",
                            autocomplete="new-password",
                            error_id=ERROR_ID,
                            has_error=has_error,
                        ),
                        submit("Save the new password", ResetPasswordState.pending, "Saving…"),
                        spacing="4",
                        width="100%",
                    ),
                    on_submit=ResetPasswordState.choose,
                    width="100%",
                ),
            ),
            rx.center(rx.spinner(size="3"), aria_label="Loading"),
        ),
        heading="Choose a new password",
    )
