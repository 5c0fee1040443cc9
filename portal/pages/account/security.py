"""Security, in every shell: where you are signed in (sign out other devices), and, after
confirming it's you, a new password, new recovery codes or a new authenticator app."""

from __future__ import annotations

import uuid

import reflex as rx

from portal import routes
from portal.backend.security.principal import NotFound
from portal.backend.services import account_security, sessions
from portal.backend.services.sessions import Device
from portal.components.cards import section
from portal.components.feedback import error_alert, notice
from portal.components.forms import (
    code_field,
    field,
    form,
    new_password_fields,
    new_password_of,
    text_of,
)
from portal.components.mfa import authenticator_setup, recovery_codes
from portal.layout import portal_page
from portal.state.base import Screen, run_service, screen_state
from portal.state.session import SessionState, signed_in

ERROR_ID = "security-error"


@screen_state
class SecurityState(Screen):
    devices: list[Device] = []
    confirmed: bool = False
    task: str = ""
    error: str = ""
    message: str = ""
    pending: bool = False
    qr_code: str = ""
    secret: str = ""
    codes: list[str] = []

    @rx.event
    async def load(self):
        self.reset()
        principal = await signed_in(self)
        if principal is not None:
            self.devices = await run_service(self, sessions.devices, principal)

    @rx.event
    async def sign_out_device(self, session_id: str):
        principal = await signed_in(self)
        if principal is None:
            return
        try:
            await run_service(self, sessions.sign_out_device, principal, uuid.UUID(session_id))
        except (ValueError, NotFound):
            self.error = "That device is not signed in any more."
        self.devices = await run_service(self, sessions.devices, principal)

    @rx.event
    async def sign_out_everywhere_else(self):
        principal = await signed_in(self)
        if principal is None:
            return
        ended = await run_service(self, sessions.sign_out_everywhere_else, principal)
        self.message = f"Signed out of {ended} other device{'s' if ended != 1 else ''}."
        self.devices = await run_service(self, sessions.devices, principal)

    @rx.event
    async def confirm_identity(self, form_data: dict):
        principal = await signed_in(self)
        if principal is None:
            return
        self.error, self.pending = "", True
        yield
        try:
            await run_service(
                self,
                account_security.reauthenticate,
                principal,
                text_of(form_data, "password", 500),
                text_of(form_data, "code", 40),
            )
        except account_security.ChangeRefused as refusal:
            self.error, self.pending = str(refusal), False
            return
        self.confirmed, self.pending = True, False

    @rx.event
    def choose(self, task: str):
        if task in ("password", "codes", "authenticator", "mobile"):
            self.task, self.error, self.message = task, "", ""

    @rx.event
    async def change_password(self, form_data: dict):
        password, problem = new_password_of(form_data)
        if problem:
            self.error = problem
            return
        principal = await signed_in(self)
        if principal is None:
            return
        try:
            await run_service(self, account_security.change_password, principal, password)
        except account_security.ChangeRefused as refusal:
            self.error = str(refusal)
            return
        yield await (await self.get_state(SessionState))._signed_out()

    @rx.event
    async def set_mobile(self, form_data: dict):
        principal = await signed_in(self)
        if principal is None:
            return
        try:
            number = await run_service(
                self,
                account_security.set_mobile_phone,
                principal,
                text_of(form_data, "mobile_phone", 40),
            )
        except account_security.ChangeRefused as refusal:
            self.error = str(refusal)
            return
        self.error = ""
        self.message = f"Texts now go to {number}." if number else "Your mobile number is removed."

    @rx.event
    async def new_codes(self):
        principal = await signed_in(self)
        if principal is None:
            return
        try:
            self.codes = await run_service(self, account_security.new_recovery_codes, principal)
        except account_security.ChangeRefused as refusal:
            self.error, self.confirmed = str(refusal), False

    @rx.event
    async def start_authenticator(self):
        principal = await signed_in(self)
        if principal is None:
            return
        try:
            setup = await run_service(self, account_security.start_new_authenticator, principal)
        except account_security.ChangeRefused as refusal:
            self.error, self.confirmed = str(refusal), False
            return
        self.qr_code, self.secret = setup.qr_code, setup.secret

    @rx.event
    async def finish_authenticator(self, form_data: dict):
        principal = await signed_in(self)
        if principal is None:
            return
        try:
            await run_service(
                self,
                account_security.finish_new_authenticator,
                principal,
                text_of(form_data, "code", 40),
            )
        except account_security.ChangeRefused as refusal:
            self.error = str(refusal)
            return
        yield await (await self.get_state(SessionState))._signed_out()

    @rx.event
    def download_codes(self):
        return rx.download(data="\n".join(self.codes) + "\n", filename="recovery-codes.txt")


def security() -> rx.Component:
    return rx.vstack(
        rx.heading("Security", as_="h1", size="7"),
        error_alert(SecurityState.error, element_id=ERROR_ID),
        rx.cond(SecurityState.message != "", notice(SecurityState.message)),
        section("Devices", devices(), heading_id="devices"),
        section("Password and sign-in codes", protections(), heading_id="protections"),
        spacing="4",
        width="100%",
    )


for _role, _route in routes.SECURITY_OF_ROLE.items():
    portal_page(_route, title="Security", role=_role, on_load=SecurityState.load)(security)


def devices() -> rx.Component:
    return rx.vstack(
        rx.text(
            "These browsers are signed in to your account. Sign out any you do not "
            "recognise or no longer use.",
            size="2",
            color_scheme="gray",
        ),
        rx.el.ul(
            rx.foreach(SecurityState.devices, device_line),
            style={"list_style": "none", "padding": 0, "width": "100%"},
        ),
        rx.button(
            "Sign out everywhere else",
            on_click=SecurityState.sign_out_everywhere_else,
            variant="soft",
            high_contrast=True,
        ),
        spacing="3",
        width="100%",
    )


def device_line(device: Device) -> rx.Component:
    return rx.el.li(
        rx.hstack(
            rx.vstack(
                rx.text(device.description, weight="medium"),
                rx.text(
                    f"Signed in {device.signed_in} · last active {device.last_active}",
                    size="2",
                    color_scheme="gray",
                ),
                spacing="0",
            ),
            rx.spacer(),
            rx.cond(
                device.current,
                rx.badge("This device", variant="soft", high_contrast=True),
                rx.button(
                    "Sign out",
                    size="1",
                    variant="outline",
                    on_click=SecurityState.sign_out_device(device.id),
                    aria_label=f"Sign out {device.description}",
                ),
            ),
            align="center",
            wrap="wrap",
            width="100%",
        ),
        padding_y="0.5rem",
        border_bottom="1px solid var(--gray-a4)",
    )


def protections() -> rx.Component:
    has_error = SecurityState.error != ""
    return rx.cond(
        ~SecurityState.confirmed,
        form(
            rx.text(
                "To change your password, recovery codes or authenticator app, first "
                "confirm it's you."
            ),
            field(
                "Password",
                "password",
                kind="password",
                autocomplete="current-password",
                error_id=ERROR_ID,
                has_error=has_error,
            ),
            code_field(error_id=ERROR_ID, has_error=has_error, allow_recovery=True),
            on_submit=SecurityState.confirm_identity,
            button="Confirm it's me",
            busy="Checking…",
            pending=SecurityState.pending,
            max_width="28rem",
        ),
        rx.vstack(
            rx.hstack(
                rx.button("Change password", on_click=SecurityState.choose("password")),
                rx.button("New recovery codes", on_click=SecurityState.choose("codes")),
                rx.button("New authenticator app", on_click=SecurityState.choose("authenticator")),
                rx.button("Mobile number for texts", on_click=SecurityState.choose("mobile")),
                wrap="wrap",
                spacing="3",
            ),
            rx.match(
                SecurityState.task,
                (
                    "password",
                    form(
                        *new_password_fields(
                            label="New password",
                            error_id=ERROR_ID,
                            has_error=has_error,
                            hint="At least 12 characters. You will be signed out everywhere and "
                            "sign in again with the new password.",
                        ),
                        on_submit=SecurityState.change_password,
                        button="Save the new password",
                        busy="Saving…",
                        pending=SecurityState.pending,
                        max_width="28rem",
                    ),
                ),
                (
                    "codes",
                    rx.cond(
                        SecurityState.codes.length() > 0,
                        recovery_codes(SecurityState.codes, SecurityState.download_codes),
                        rx.vstack(
                            rx.text("New codes replace all your old ones."),
                            rx.button(
                                "Create new recovery codes", on_click=SecurityState.new_codes
                            ),
                        ),
                    ),
                ),
                (
                    "authenticator",
                    rx.cond(
                        SecurityState.qr_code != "",
                        rx.vstack(
                            authenticator_setup(SecurityState.qr_code, SecurityState.secret),
                            form(
                                code_field(
                                    error_id=ERROR_ID, has_error=has_error, allow_recovery=False
                                ),
                                on_submit=SecurityState.finish_authenticator,
                                button="Use this app from now on",
                                busy="Checking…",
                                pending=SecurityState.pending,
                                max_width="28rem",
                            ),
                            width="100%",
                        ),
                        rx.vstack(
                            rx.text(
                                "Your current app keeps working until the new one is confirmed. "
                                "Afterwards you are signed out everywhere."
                            ),
                            rx.button(
                                "Set up a new authenticator app",
                                on_click=SecurityState.start_authenticator,
                            ),
                        ),
                    ),
                ),
                (
                    "mobile",
                    form(
                        field(
                            "Mobile number",
                            "mobile_phone",
                            kind="tel",
                            autocomplete="tel",
                            error_id=ERROR_ID,
                            has_error=has_error,
                            hint="With its area code, for example (555) 013-4421. Leave it "
                            "empty to stop all texts.",
                        ),
                        on_submit=SecurityState.set_mobile,
                        button="Save the number",
                        busy="Saving…",
                        pending=SecurityState.pending,
                        max_width="28rem",
                    ),
                ),
                rx.fragment(),
            ),
            spacing="4",
            width="100%",
        ),
    )
