"""Setting up the account after the first sign-in (`/welcome/setup`): confirm your details, add
insurance, add an emergency contact, choose notifications. Each step can be skipped; the step
reached is saved, so the patient resumes there from the home page until it is finished."""

from __future__ import annotations

import reflex as rx

from portal import routes
from portal.backend.notify.preferences import CHANNELS
from portal.backend.security.principal import NotFound, Role
from portal.backend.services import notifications, onboarding
from portal.backend.services.notifications import PreferenceRow
from portal.backend.services.onboarding import ONBOARDING_DONE, ONBOARDING_STEPS
from portal.components.feedback import notice
from portal.components.preferences import preferences_table
from portal.components.profile import contacts_view, fact
from portal.layout import loading, portal_page
from portal.pages.patient.profile_forms import (
    card_pictures,
    contact_form,
    details_form,
    insurance_form,
    save_button,
)
from portal.pages.patient.profile_state import ProfileForms
from portal.state.base import Screen, run_service, screen_state

STEP_TITLES = {
    "details": "Confirm your details",
    "insurance": "Add your insurance",
    "contacts": "Add an emergency contact",
    "notifications": "Choose your notifications",
}


@screen_state
class OnboardingState(ProfileForms, Screen):
    step: str = ""
    step_number: int = 1
    rows: list[PreferenceRow] = []
    mobile_phone: str = ""

    @rx.event
    async def load(self):
        self.reset()
        principal = await self._principal()
        if principal is None:
            return None
        try:
            self.profile = await run_service(self, onboarding.start_onboarding, principal)
        except NotFound:
            return rx.redirect(routes.PATIENT_HOME, replace=True)
        if self.profile.onboarding_finished:
            return rx.redirect(routes.PATIENT_HOME, replace=True)
        step = self.profile.onboarding_step
        self.step = step if step in ONBOARDING_STEPS else ONBOARDING_STEPS[0]
        await self._enter(principal)
        return None

    def _saved(self, form: str) -> None:
        super()._saved(form)
        if form in ("details", "insurance"):
            self.message = ""
            return
        if form == "contact":
            self.editing = ""

    @rx.event
    async def save_and_continue_details(self, form_data: dict):
        await self._save_details(form_data)
        if not self.details_errors and self.profile is not None:
            return await self._go(self._next())
        return None

    @rx.event
    async def save_and_continue_insurance(self, form_data: dict):
        await self._save_insurance(form_data)
        if not self.insurance_errors and self.profile is not None:
            return await self._go(self._next())
        return None

    @rx.event
    async def next_step(self):
        """Skip the step (or continue after it)."""
        return await self._go(self._next())

    @rx.event
    async def previous_step(self):
        position = ONBOARDING_STEPS.index(self.step) if self.step in ONBOARDING_STEPS else 0
        return await self._go(ONBOARDING_STEPS[max(position - 1, 0)])

    @rx.event
    async def finish(self, form_data: dict):
        """Save the notification choices, then finish."""
        principal = await self._principal()
        if principal is None:
            return None
        chosen = {
            (row.category, channel): form_data.get(f"{row.category}.{channel}") == "on"
            for row in self.rows
            for channel in CHANNELS
        }
        preferences = await run_service(self, notifications.my_preferences, principal)
        texts_at_night = preferences.texts_at_night
        await run_service(self, notifications.save_preferences, principal, chosen, texts_at_night)
        return await self._go(ONBOARDING_DONE)

    @rx.event
    async def finish_later(self):
        """Leave the setup; the home page offers to resume it at this step."""
        return rx.redirect(routes.PATIENT_HOME)

    def _next(self) -> str:
        position = ONBOARDING_STEPS.index(self.step) if self.step in ONBOARDING_STEPS else -1
        following = ONBOARDING_STEPS[position + 1 :]
        return following[0] if following else ONBOARDING_DONE

    async def _go(self, step: str):
        principal = await self._principal()
        if principal is None:
            return None
        try:
            shown = await run_service(self, onboarding.save_onboarding_step, principal, step)
        except NotFound:
            return None
        if shown == ONBOARDING_DONE:
            self.reset()
            return rx.redirect(routes.PATIENT_HOME, replace=True)
        self.step, self.message = shown, ""
        self._clear_errors()
        self.editing, self.editing_contact, self.editing_line = "", "", None
        self.form_key += 1
        await self._enter(principal)
        return rx.set_focus("setup-step-heading")

    async def _enter(self, principal) -> None:
        self.step_number = ONBOARDING_STEPS.index(self.step) + 1
        if self.step == "contacts" and self.profile and not self.profile.emergency_contacts:
            self.editing = "contact"
        if self.step == "notifications":
            chosen = await run_service(self, notifications.my_preferences, principal)
            self.rows, self.mobile_phone = chosen.rows, chosen.mobile_phone


S = OnboardingState


@portal_page(routes.ONBOARDING, title="Set up your account", role=Role.PATIENT, on_load=S.load)
def onboarding_page() -> rx.Component:
    return rx.vstack(
        rx.heading("Set up your account", as_="h1", size="7"),
        rx.cond(
            S.profile & (S.step != ""),
            rx.vstack(
                progress(),
                rx.cond(S.message != "", notice(S.message)),
                rx.card(
                    rx.vstack(
                        rx.heading(
                            rx.match(
                                S.step,
                                *[(key, title) for key, title in STEP_TITLES.items()],
                                "",
                            ),
                            as_="h2",
                            size="5",
                            id="setup-step-heading",
                            tab_index=-1,
                        ),
                        rx.match(
                            S.step,
                            ("details", details_step()),
                            ("insurance", insurance_step()),
                            ("contacts", contacts_step()),
                            ("notifications", notifications_step()),
                            loading(),
                        ),
                        spacing="4",
                        width="100%",
                    ),
                    width="100%",
                ),
                rx.hstack(
                    rx.cond(
                        S.step != ONBOARDING_STEPS[0],
                        rx.button(
                            "Back",
                            on_click=S.previous_step,
                            variant="soft",
                            color_scheme="gray",
                            high_contrast=True,
                        ),
                    ),
                    rx.button(
                        rx.cond(
                            S.step == ONBOARDING_STEPS[-1], "Skip and finish", "Skip this step"
                        ),
                        on_click=S.next_step,
                        variant="soft",
                        color_scheme="gray",
                        high_contrast=True,
                    ),
                    rx.button(
                        "Finish later",
                        on_click=S.finish_later,
                        variant="ghost",
                        color_scheme="gray",
                        high_contrast=True,
                    ),
                    spacing="3",
                    wrap="wrap",
                ),
                spacing="4",
                width="100%",
            ),
            loading(),
        ),
        spacing="4",
        width="100%",
        max_width="44rem",
    )


def progress() -> rx.Component:
    position = S.step_number
    return rx.vstack(
        rx.text(f"Step {position} of {len(ONBOARDING_STEPS)}", size="2", color_scheme="gray"),
        rx.progress(
            value=position * 100 // len(ONBOARDING_STEPS),
            aria_label="Setup progress",
            width="100%",
        ),
        spacing="1",
        width="100%",
    )


def details_step() -> rx.Component:
    profile = S.profile
    return rx.vstack(
        rx.text("Check what the practice has on file and fill in what is missing."),
        rx.el.dl(
            fact("Legal name", f"{profile.legal_first_name} {profile.legal_last_name}"),
            fact("Date of birth", profile.date_of_birth_text),
            style={
                "display": "grid",
                "grid_template_columns": "minmax(7rem, max-content) 1fr",
                "gap": "0.35rem 1rem",
                "margin": 0,
            },
        ),
        rx.text(
            "Is your legal name or date of birth wrong? You can ask the practice to correct it on ",
            rx.link("your profile", href=routes.PROFILE),
            " later.",
            size="2",
            color_scheme="gray",
        ),
        details_form_for_setup(),
        spacing="3",
        width="100%",
    )


def details_form_for_setup() -> rx.Component:
    return details_form(
        S, save_button("Save and continue", S), on_submit=S.save_and_continue_details
    )


def insurance_step() -> rx.Component:
    form = insurance_form(
        S, save_button("Save and continue", S), on_submit=S.save_and_continue_insurance
    )
    return rx.vstack(
        rx.text(
            "Add the plan on your insurance card, so the practice can bill it. No insurance? "
            "Skip this step."
        ),
        form,
        card_pictures(S),
        spacing="4",
        width="100%",
    )


def contacts_step() -> rx.Component:
    return rx.vstack(
        rx.text("Who should the practice call if you cannot speak for yourself?"),
        contacts_view(
            S.profile.emergency_contacts,
            empty_hint="Add someone below, or skip this step and add them later.",
        ),
        rx.cond(
            S.editing == "contact",
            contact_form(S, save_button("Add the contact", S)),
            rx.hstack(
                rx.button(
                    "Add another contact",
                    on_click=S.edit("contact"),
                    variant="soft",
                    high_contrast=True,
                ),
                rx.button("Continue", on_click=S.next_step, high_contrast=True),
                spacing="3",
                wrap="wrap",
            ),
        ),
        spacing="4",
        width="100%",
    )


def notifications_step() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.text(
                "How would you like to hear about reminders, changes, messages and results? "
                "You can change this at any time under Notifications."
            ),
            rx.cond(
                S.mobile_phone == "",
                rx.text(
                    "Texts need a mobile number, which you can add on the Security page.",
                    size="2",
                    color_scheme="gray",
                ),
            ),
            preferences_table(S.rows, S.mobile_phone == ""),
            rx.button("Save and finish", type="submit", size="3", high_contrast=True),
            spacing="3",
            width="100%",
        ),
        on_submit=S.finish,
        key=S.rows.length(),
        width="100%",
    )
