"""Forgot your password: ask for a link by email, then choose a new password with it."""

from __future__ import annotations

import reflex as rx

from portal import routes
from portal.backend.services import account_recovery
from portal.components.feedback import error_alert, notice
from portal.components.forms import field, form, new_password_fields, new_password_of, text_of
from portal.layout import auth_card, loading, portal_page
from portal.state.base import Screen, run_service, screen_state, take_link_token

ERROR_ID = "reset-error"
SENT = (
    "If an account uses that address, we have emailed it a link to choose a new password. "
    "The link works for 30 minutes. Check your spam folder if it does not arrive."
)


@screen_state
class ForgotPasswordState(Screen):
    error: str = ""
    ready: bool = False
    sent: bool = False
    pending: bool = False

    @rx.event
    def load(self):
        self.reset()
        self.ready = True

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
class ResetPasswordState(Screen):
    error: str = ""
    step: str = "loading"
    pending: bool = False
    _token: str = ""

    @rx.event
    async def load(self):
        redirect = take_link_token(self, routes.RESET_PASSWORD)
        if redirect:
            return redirect
        try:
            await run_service(self, account_recovery.check_reset_link, self._token)
        except account_recovery.ResetRefused as refusal:
            self.step, self.error = "invalid", str(refusal)
            return None
        self.step = "choose"
        return None

    @rx.event
    async def choose(self, form_data: dict):
        password, problem = new_password_of(form_data)
        if problem:
            self.error = problem
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
            ForgotPasswordState.sent | ~ForgotPasswordState.ready,
            rx.cond(ForgotPasswordState.sent, notice(SENT), loading()),
            form(
                rx.text(
                    "Enter the email address you sign in with. We will send you a link to "
                    "choose a new password."
                ),
                field(
                    "Email address",
                    "email",
                    kind="email",
                    autocomplete="username",
                    error_id=ERROR_ID,
                    has_error=ForgotPasswordState.error != "",
                ),
                on_submit=ForgotPasswordState.request_link,
                button="Send the link",
                busy="Sending…",
                pending=ForgotPasswordState.pending,
            ),
        ),
        rx.link("Back to sign in", href=routes.SIGN_IN),
        heading="Forgot your password",
    )


@portal_page(
    routes.RESET_PASSWORD, title="Choose a new password", role=None, on_load=ResetPasswordState.load
)
def reset_password() -> rx.Component:
    return auth_card(
        error_alert(ResetPasswordState.error, element_id=ERROR_ID),
        rx.match(
            ResetPasswordState.step,
            ("invalid", rx.link("Ask for a new link", href=routes.FORGOT_PASSWORD)),
            (
                "choose",
                form(
                    *new_password_fields(
                        label="New password",
                        error_id=ERROR_ID,
                        has_error=ResetPasswordState.error != "",
                        hint="At least 12 characters. Afterwards you sign in with it and a code "
                        "from your authenticator app.",
                    ),
                    on_submit=ResetPasswordState.choose,
                    button="Save the new password",
                    busy="Saving…",
                    pending=ResetPasswordState.pending,
                ),
            ),
            loading(),
        ),
        heading="Choose a new password",
    )
