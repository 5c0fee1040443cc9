"""Sign-in: email and password. (Multi-factor sign-in extends this page in [F2].)"""

from __future__ import annotations

import reflex as rx

from portal import routes
from portal.backend.services import identity
from portal.components.feedback import error_alert, notice
from portal.layout import PRODUCT, portal_page
from portal.state.base import run_service
from portal.state.session import SessionState

EMAIL_MAX = 254
ERROR_ID = "sign-in-error"


class SignInState(rx.State):
    error: str = ""
    signed_out: bool = False
    pending: bool = False

    @rx.event
    async def load(self):
        self.error = ""
        self.pending = False
        self.signed_out = self.router.url.query_parameters.get("signed_out") == "1"
        session = await self.get_state(SessionState)
        principal = await session._resolve()
        if principal is not None:
            return rx.redirect(routes.home_of(principal.role), replace=True)
        return None

    @rx.event
    async def submit(self, form_data: dict):
        email = str(form_data.get("email", "")).strip()
        password = str(form_data.get("password", ""))
        if not email or not password:
            self.error = "Enter both your email address and your password."
            return
        if len(email) > EMAIL_MAX or "@" not in email:
            self.error = "Enter your email address in the form name@example.com."
            return
        self.error = ""
        self.pending = True
        yield
        try:
            signed = await run_service(self, identity.sign_in, email, password)
        except identity.SignInRefused as refusal:
            self.error = str(refusal)
            self.pending = False
            yield rx.set_value("password", "")
            return
        session = await self.get_state(SessionState)
        session.session_token = signed.token
        session.role = signed.principal.role.value
        self.pending = False
        self.signed_out = False
        yield rx.redirect(routes.home_of(signed.principal.role), replace=True)


@portal_page(routes.SIGN_IN, title="Sign in", role=None, on_load=SignInState.load)
def sign_in() -> rx.Component:
    return rx.center(
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.icon("heart-pulse", size=28, aria_hidden="true"),
                    rx.heading(PRODUCT, as_="h1", size="6"),
                    align="center",
                    spacing="2",
                ),
                rx.text(
                    "Sign in to see your appointments, messages and results.", color_scheme="gray"
                ),
                rx.cond(SignInState.signed_out, notice("You were signed out.")),
                error_alert(SignInState.error, element_id=ERROR_ID),
                rx.form(
                    rx.vstack(
                        field("Email address", "email", "email", autocomplete="username"),
                        field("Password", "password", "password", autocomplete="current-password"),
                        rx.button(
                            rx.cond(SignInState.pending, "Signing in…", "Sign in"),
                            type="submit",
                            loading=SignInState.pending,
                            size="3",
                            width="100%",
                        ),
                        spacing="4",
                        width="100%",
                    ),
                    on_submit=SignInState.submit,
                    width="100%",
                ),
                spacing="4",
                width="100%",
            ),
            size="4",
            width="100%",
            max_width="26rem",
        ),
        padding_top="8vh",
    )


def field(label: str, name: str, kind: str, *, autocomplete: str) -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=name, font_weight="500"),
        rx.input(
            id=name,
            name=name,
            type=kind,
            autocomplete=autocomplete,
            required=True,
            size="3",
            width="100%",
            aria_describedby=rx.cond(SignInState.error != "", ERROR_ID, ""),
        ),
        spacing="1",
        width="100%",
    )
