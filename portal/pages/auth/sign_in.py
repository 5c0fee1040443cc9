"""Sign-in: email and password, then a code from an authenticator app (or a recovery code).
An account without an authenticator sets one up here before it can go any further."""

from __future__ import annotations

import reflex as rx

from portal import routes
from portal.backend.config import settings
from portal.backend.security.principal import Principal
from portal.backend.services import invitations, sign_in
from portal.backend.services.mfa import CodeRejected
from portal.components.feedback import error_alert, notice
from portal.components.forms import code_field, field, form, text_of
from portal.components.mfa import authenticator_setup, recovery_codes
from portal.layout import PRODUCT, auth_card, loading, portal_page
from portal.state.base import (
    Screen,
    client_address,
    device_of,
    run_password_service,
    run_service,
    screen_state,
)
from portal.state.password_turns import PasswordsBusy
from portal.state.session import landing_of, signed_in, start_session

ERROR_ID = "sign-in-error"
NOTICES = {
    "signed_out": "You were signed out.",
    "not_started": "Signing in did not finish. Sign in again.",
    "password_changed": "Your password was changed. Sign in with it and a code from your app.",
}


@screen_state
class SignInState(Screen):
    step: str = "loading"
    email: str = ""
    error: str = ""
    notice: str = ""
    pending: bool = False
    qr_code: str = ""
    secret: str = ""
    codes: list[str] = []
    registration_open: bool = False
    demo: bool = False
    _challenge: str = ""
    _home: str = ""
    _signed_in: Principal | None = None

    def _clear(self) -> None:
        self.reset()
        self._challenge = self._home = ""

    @rx.event
    async def load(self):
        self._clear()
        query = self.router.url.query_parameters
        self.notice = next((text for key, text in NOTICES.items() if query.get(key)), "")
        self.step = "password"
        self.demo = settings().demo
        self.registration_open = await run_service(self, invitations.registration_open)
        principal = await signed_in(self)
        if principal is not None:
            return rx.redirect(routes.home_of(principal.role), replace=True)
        return None

    @rx.event
    async def submit_password(self, form_data: dict):
        email, password = text_of(form_data, "email", 320).strip(), text_of(form_data, "password")
        self.email = email
        if not email or not password:
            self.error = "Enter both your email address and your password."
            return
        self.error, self.pending = "", True
        yield
        try:
            challenge = await run_password_service(
                self, sign_in.begin_sign_in, email, password, client=client_address(self)
            )
        except (sign_in.SignInFailed, PasswordsBusy) as refusal:
            self.error, self.pending = str(refusal), False
            return
        self._challenge = challenge.token
        if challenge.enroll:
            setup = await run_service(self, sign_in.start_enrollment, challenge.token)
            self.qr_code, self.secret, self.step = setup.qr_code, setup.secret, "enroll"
        else:
            self.step = "code"
        self.pending = False
        yield rx.set_focus("code")

    @rx.event
    async def submit_code(self, form_data: dict):
        code = text_of(form_data, "code", 40)
        if not code.strip():
            self.error = "Enter the code from your authenticator app."
            return
        self.error, self.pending = "", True
        yield
        try:
            principal = await run_service(
                self,
                sign_in.complete_sign_in,
                self._challenge,
                code,
                client=client_address(self),
                device=device_of(self),
            )
        except sign_in.SignInFailed as refusal:
            self.error, self.pending = str(refusal), False
            yield rx.set_value("code", "")
            return
        self._challenge = ""
        yield await start_session(self, principal, await landing_of(self, principal))

    @rx.event
    async def submit_enrollment(self, form_data: dict):
        code = text_of(form_data, "code", 40)
        self.error, self.pending = "", True
        yield
        try:
            codes, principal = await run_service(
                self,
                sign_in.finish_enrollment,
                self._challenge,
                code,
                client=client_address(self),
                device=device_of(self),
            )
        except (CodeRejected, sign_in.SignInFailed) as refusal:
            self.error, self.pending = str(refusal), False
            return
        self._signed_in = principal
        self.codes, self.qr_code, self.secret = codes, "", ""
        self._home = await landing_of(self, principal)
        self.step, self.pending = "codes", False

    @rx.event
    def download_codes(self):
        return rx.download(data="\n".join(self.codes) + "\n", filename="recovery-codes.txt")

    @rx.event
    async def continue_to_portal(self):
        principal, home = self._signed_in, self._home
        self._clear()
        if principal is None:
            return rx.redirect(routes.SIGN_IN, replace=True)
        return await start_session(self, principal, home)

    @rx.event
    def start_over(self):
        email = self.email
        self._clear()
        self.email, self.step = email, "password"
        return rx.set_focus("password")


@portal_page(routes.SIGN_IN, title="Sign in", role=None, on_load=SignInState.load)
def sign_in_page() -> rx.Component:
    return auth_card(
        rx.text("Sign in to see your appointments, messages and results.", color_scheme="gray"),
        rx.cond(SignInState.notice != "", notice(SignInState.notice)),
        error_alert(SignInState.error, element_id=ERROR_ID),
        rx.match(
            SignInState.step,
            ("code", code_step()),
            ("enroll", enroll_step()),
            ("codes", codes_step()),
            ("password", password_step()),
            loading(),
        ),
        rx.text(
            "By signing in you agree to the ",
            rx.link("terms of use", href=routes.TERMS, underline="always"),
            ". See how your information is handled in the ",
            rx.link("privacy policy", href=routes.PRIVACY, underline="always"),
            ".",
            size="2",
            color_scheme="gray",
            high_contrast=True,
        ),
        heading=PRODUCT,
    )


def password_step() -> rx.Component:
    has_error = SignInState.error != ""
    return rx.vstack(
        form(
            field(
                "Email address",
                "email",
                kind="email",
                autocomplete="username",
                error_id=ERROR_ID,
                has_error=has_error,
                default_value=SignInState.email,
            ),
            field(
                "Password",
                "password",
                kind="password",
                autocomplete="current-password",
                error_id=ERROR_ID,
                has_error=has_error,
            ),
            on_submit=SignInState.submit_password,
            button="Continue",
            busy="Checking…",
            pending=SignInState.pending,
        ),
        rx.hstack(
            rx.link("Forgot your password?", href=routes.FORGOT_PASSWORD),
            rx.cond(
                SignInState.registration_open,
                rx.link("New patient? Ask for an account", href=routes.REGISTER),
            ),
            justify="between",
            wrap="wrap",
            width="100%",
        ),
        spacing="4",
        width="100%",
    )


def code_step() -> rx.Component:
    return rx.vstack(
        form(
            code_field(error_id=ERROR_ID, has_error=SignInState.error != "", allow_recovery=True),
            on_submit=SignInState.submit_code,
            button="Sign in",
            busy="Signing in…",
            pending=SignInState.pending,
        ),
        rx.cond(
            SignInState.demo,
            rx.callout(
                rx.text(
                    "Demo: print a demo account's code with ",
                    rx.code("PORTAL_DEMO=1 .venv/bin/portal demo-code EMAIL"),
                ),
                icon="info",
                width="100%",
            ),
        ),
        rx.button("Start over", on_click=SignInState.start_over, variant="ghost"),
        spacing="4",
        width="100%",
    )


def enroll_step() -> rx.Component:
    return rx.vstack(
        rx.heading("Set up your authenticator app", as_="h2", size="4"),
        rx.text(
            "Every sign-in needs a code from an app on your phone, so that nobody else can "
            "use your password."
        ),
        authenticator_setup(SignInState.qr_code, SignInState.secret),
        form(
            code_field(error_id=ERROR_ID, has_error=SignInState.error != "", allow_recovery=False),
            on_submit=SignInState.submit_enrollment,
            button="Confirm",
            busy="Checking…",
            pending=SignInState.pending,
        ),
        spacing="4",
        width="100%",
    )


def codes_step() -> rx.Component:
    return rx.vstack(
        rx.heading("Your recovery codes", as_="h2", size="4"),
        recovery_codes(SignInState.codes, SignInState.download_codes),
        rx.button(
            "I have kept my codes — continue",
            on_click=SignInState.continue_to_portal,
            size="3",
            width="100%",
        ),
        spacing="4",
        width="100%",
    )
