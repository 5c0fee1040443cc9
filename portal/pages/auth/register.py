"""Asking for an account: a patient of the practice gives their name, date of birth and email;
if the practice can match them, an invitation goes to that address. The page's answer is the
same whether or not a match was found."""

from __future__ import annotations

from datetime import date

import reflex as rx

from portal import routes
from portal.backend.services import invitations
from portal.components.feedback import error_alert, notice
from portal.components.forms import field, form, text_of
from portal.layout import auth_card, loading, portal_page
from portal.state.base import Screen, run_service, screen_state

ERROR_ID = "register-error"
ANSWER = (
    "Thank you. We have sent an email to that address telling you what to do next. It can "
    "take a few minutes to arrive."
)


@screen_state
class RegisterState(Screen):
    phase: str = "loading"
    error: str = ""
    pending: bool = False

    @rx.event
    async def load(self):
        self.reset()
        open_ = await run_service(self, invitations.registration_open)
        self.phase = "form" if open_ else "closed"

    @rx.event
    async def submit(self, form_data: dict):
        first, last = (
            text_of(form_data, "first_name", 100).strip(),
            text_of(form_data, "last_name", 100).strip(),
        )
        email = text_of(form_data, "email", 320).strip()
        problems = []
        if not first or not last:
            problems.append("Enter your first and last name as the practice knows them.")
        try:
            born = date.fromisoformat(text_of(form_data, "date_of_birth", 10))
        except ValueError:
            born = None
            problems.append("Enter your date of birth.")
        if "@" not in email:
            problems.append("Enter your email address in the form name@example.com.")
        if problems:
            self.error = " ".join(problems)
            return
        self.error, self.pending = "", True
        yield
        try:
            await run_service(self, invitations.request_registration, first, last, born, email)
        except invitations.InvitationRefused as refusal:
            self.error, self.pending = str(refusal), False
            return
        self.phase, self.pending = "done", False


@portal_page(routes.REGISTER, title="Ask for an account", role=None, on_load=RegisterState.load)
def register() -> rx.Component:
    has_error = RegisterState.error != ""
    return auth_card(
        error_alert(RegisterState.error, element_id=ERROR_ID),
        rx.match(
            RegisterState.phase,
            (
                "closed",
                notice(
                    "This practice sets up portal accounts at the front desk. Please call them."
                ),
            ),
            ("done", notice(ANSWER)),
            (
                "form",
                form(
                    rx.text("Patients of the practice can ask for a portal account here."),
                    field(
                        "First name",
                        "first_name",
                        autocomplete="given-name",
                        error_id=ERROR_ID,
                        has_error=has_error,
                    ),
                    field(
                        "Last name",
                        "last_name",
                        autocomplete="family-name",
                        error_id=ERROR_ID,
                        has_error=has_error,
                    ),
                    field(
                        "Date of birth",
                        "date_of_birth",
                        kind="date",
                        autocomplete="bday",
                        error_id=ERROR_ID,
                        has_error=has_error,
                    ),
                    field(
                        "Email address",
                        "email",
                        kind="email",
                        autocomplete="email",
                        error_id=ERROR_ID,
                        has_error=has_error,
                    ),
                    on_submit=RegisterState.submit,
                    button="Ask for an account",
                    busy="Sending…",
                    pending=RegisterState.pending,
                ),
            ),
            loading(),
        ),
        rx.link("Back to sign in", href=routes.SIGN_IN),
        heading="Ask for an account",
    )
