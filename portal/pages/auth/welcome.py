"""Accepting an invitation: confirm who you are, choose a password, set up an authenticator,
keep the recovery codes. The link's token moves from the address bar into the server-side
state at once, so it does not stay in the browser's history."""

from __future__ import annotations

from datetime import date

import reflex as rx

from portal import routes
from portal.backend.security.principal import Principal
from portal.backend.services import invitations
from portal.backend.services.mfa import CodeRejected
from portal.components.feedback import error_alert
from portal.components.forms import (
    code_field,
    field,
    form,
    new_password_fields,
    new_password_of,
    text_of,
)
from portal.components.mfa import authenticator_setup, recovery_codes
from portal.layout import auth_card, loading, portal_page
from portal.state.base import Screen, device_of, run_service, screen_state, take_link_token
from portal.state.session import start_session

ERROR_ID = "welcome-error"


@screen_state
class WelcomeState(Screen):
    step: str = "loading"
    error: str = ""
    pending: bool = False
    practice_name: str = ""
    email: str = ""
    needs_date_of_birth: bool = False
    qr_code: str = ""
    secret: str = ""
    codes: list[str] = []
    _token: str = ""
    _date_of_birth: date | None = None
    _home: str = ""
    _signed_in: Principal | None = None

    @rx.event
    async def load(self):
        redirect = take_link_token(self, routes.WELCOME)
        if redirect:
            return redirect
        try:
            invitation = await run_service(self, invitations.open_invitation, self._token)
        except invitations.InvitationRefused as refusal:
            self.step, self.error = "invalid", str(refusal)
            return None
        self.practice_name, self.email = invitation.practice_name, invitation.email
        self.needs_date_of_birth = invitation.needs_date_of_birth
        self.step = "identity" if invitation.needs_date_of_birth else "password"
        return None

    @rx.event
    def confirm_identity(self, form_data: dict):
        try:
            self._date_of_birth = date.fromisoformat(text_of(form_data, "date_of_birth", 10))
        except ValueError:
            self.error = "Enter your date of birth, for example 1968-04-12."
            return
        self.error, self.step = "", "password"

    @rx.event
    async def choose_password(self, form_data: dict):
        password, problem = new_password_of(form_data)
        if problem:
            self.error = problem
            return
        self.error, self.pending = "", True
        yield
        try:
            setup = await run_service(
                self, invitations.choose_password, self._token, self._date_of_birth, password
            )
        except invitations.InvitationRefused as refusal:
            self.error, self.pending = str(refusal), False
            if refusal.args[0] == invitations.DATE_OF_BIRTH_MISMATCH:
                self.step = "identity"
            elif refusal.args[0] == invitations.LINK_INVALID:
                self.step = "invalid"
            return
        self.qr_code, self.secret, self.step, self.pending = (
            setup.qr_code,
            setup.secret,
            "authenticator",
            False,
        )

    @rx.event
    async def confirm_authenticator(self, form_data: dict):
        self.error, self.pending = "", True
        yield
        try:
            codes, principal = await run_service(
                self,
                invitations.finish_invitation,
                self._token,
                self._date_of_birth,
                text_of(form_data, "code", 40),
                device=device_of(self),
            )
        except (CodeRejected, invitations.InvitationRefused) as refusal:
            self.error, self.pending = str(refusal), False
            return
        self._signed_in = principal
        self._token, self._date_of_birth = "", None
        self._home = routes.home_of(principal.role)
        self.codes, self.qr_code, self.secret = codes, "", ""
        self.step, self.pending = "codes", False

    @rx.event
    def download_codes(self):
        return rx.download(data="\n".join(self.codes) + "\n", filename="recovery-codes.txt")

    @rx.event
    async def finish(self):
        principal, home = self._signed_in, self._home
        self.reset()
        self._home = ""
        if principal is None:
            return rx.redirect(routes.SIGN_IN, replace=True)
        return await start_session(self, principal, home)


@portal_page(routes.WELCOME, title="Set up your account", role=None, on_load=WelcomeState.load)
def welcome() -> rx.Component:
    has_error = WelcomeState.error != ""
    return auth_card(
        rx.cond(
            WelcomeState.practice_name != "",
            rx.text(
                f"{WelcomeState.practice_name} invited {WelcomeState.email} to its patient portal.",
                color_scheme="gray",
            ),
        ),
        error_alert(WelcomeState.error, element_id=ERROR_ID),
        rx.match(
            WelcomeState.step,
            ("invalid", rx.link("Go to the sign-in page", href=routes.SIGN_IN)),
            (
                "identity",
                form(
                    field(
                        "Your date of birth",
                        "date_of_birth",
                        kind="date",
                        autocomplete="bday",
                        error_id=ERROR_ID,
                        has_error=has_error,
                        hint="So we know this invitation reached the right person.",
                    ),
                    on_submit=WelcomeState.confirm_identity,
                    button="Continue",
                    busy="Checking…",
                    pending=WelcomeState.pending,
                ),
            ),
            (
                "password",
                form(
                    *new_password_fields(
                        label="Choose a password",
                        error_id=ERROR_ID,
                        has_error=has_error,
                        hint="At least 12 characters. A few words you will remember work well; "
                        "avoid your name and common passwords.",
                    ),
                    on_submit=WelcomeState.choose_password,
                    button="Continue",
                    busy="Saving…",
                    pending=WelcomeState.pending,
                ),
            ),
            (
                "authenticator",
                rx.vstack(
                    authenticator_setup(WelcomeState.qr_code, WelcomeState.secret),
                    form(
                        code_field(error_id=ERROR_ID, has_error=has_error, allow_recovery=False),
                        on_submit=WelcomeState.confirm_authenticator,
                        button="Confirm",
                        busy="Checking…",
                        pending=WelcomeState.pending,
                    ),
                    spacing="4",
                    width="100%",
                ),
            ),
            (
                "codes",
                rx.vstack(
                    recovery_codes(WelcomeState.codes, WelcomeState.download_codes),
                    rx.button(
                        "I have kept my codes — go to my portal",
                        on_click=WelcomeState.finish,
                        size="3",
                        width="100%",
                    ),
                    spacing="4",
                    width="100%",
                ),
            ),
            loading(),
        ),
        heading="Set up your account",
    )
