"""The practice settings screen's state, for admins. Problems are kept per field, and the form
keeps what was typed: its inputs are only given their starting values when the page loads."""

from __future__ import annotations

import reflex as rx

from portal.backend.security.principal import Role
from portal.backend.services import practice_settings
from portal.backend.services.practice_settings import RECORD_KINDS, SettingsInvalid
from portal.backend.views import PracticeSettings
from portal.components.forms import text_of
from portal.state.base import run_service, screen_state
from portal.state.session import signed_in

FIELD_LABELS = {
    "name": "practice name",
    "time_zone": "time zone",
    "idle_timeout_minutes": "idle timeout",
    "patient_self_registration": "self-registration",
    "message_response_hours": "response-time target",
    "records_held_for_review": "result release rules",
}


@screen_state
class PracticeSettingsState(rx.State):
    settings: PracticeSettings | None = None
    # One message per field that could not be saved, keyed by the field's name.
    errors: dict[str, str] = {}
    message: str = ""
    pending: bool = False

    @rx.event
    async def load(self):
        self.reset()
        principal = await signed_in(self, Role.ADMIN)
        if principal is not None:
            self.settings = await run_service(self, practice_settings.practice_settings, principal)

    @rx.event
    async def save(self, form_data: dict):
        principal = await signed_in(self, Role.ADMIN)
        if principal is None:
            return
        values = {
            "name": text_of(form_data, "name", 200),
            "time_zone": text_of(form_data, "time_zone", 64),
            "idle_timeout_minutes": text_of(form_data, "idle_timeout_minutes", 10),
            "message_response_hours": text_of(form_data, "message_response_hours", 10),
            "patient_self_registration": form_data.get("patient_self_registration") == "on",
            "records_held_for_review": [
                kind for kind, _ in RECORD_KINDS if form_data.get(f"held_{kind}") == "on"
            ],
        }
        self.pending = True
        yield
        try:
            changed = await run_service(
                self, practice_settings.save_practice_settings, principal, values
            )
        except SettingsInvalid as problem:
            self.errors, self.message = problem.problems, ""
            return
        finally:
            self.pending = False
        self.errors = {}
        self.message = (
            "Saved: " + ", ".join(FIELD_LABELS[name] for name in changed) + "."
            if changed
            else "Nothing changed."
        )
