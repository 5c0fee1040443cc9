"""The practice settings screen's state, for admins. Problems are kept per field, and the form
keeps what was typed: its inputs are only given their starting values when the page loads. The
logo is saved as soon as it is chosen; a new colour or logo shows on the page at once."""

from __future__ import annotations

import reflex as rx

from portal.backend.security.principal import Role
from portal.backend.services import branding, practice_settings
from portal.backend.services.branding import LOGO_LIMIT_BYTES, LogoRefused
from portal.backend.services.practice_settings import RECORD_KINDS, SettingsInvalid
from portal.backend.views import PracticeSettings
from portal.components.forms import text_of
from portal.state.base import Screen, run_service, screen_state
from portal.state.brand import show_brand
from portal.state.session import signed_in

FIELD_LABELS = {
    "name": "practice name",
    "time_zone": "time zone",
    "idle_timeout_minutes": "idle timeout",
    "patient_self_registration": "self-registration",
    "message_response_hours": "response-time target",
    "records_held_for_review": "result release rules",
    "brand_colour": "primary colour",
}
LOGO_UPLOAD_ID = "logo"
LOGO_REFUSED = (
    f"Choose one PNG or JPEG image of at most {LOGO_LIMIT_BYTES // (1024 * 1024)} MB for the logo."
)


@screen_state
class PracticeSettingsState(Screen):
    settings: PracticeSettings | None = None
    # The logo's address ("" for none), kept apart from the form's starting values.
    logo_url: str = ""
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
            self.logo_url = self.settings.logo_url

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
            "brand_colour": text_of(form_data, "brand_colour", 20),
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
        if "brand_colour" in changed:
            await show_brand(self, principal.tenant_id)

    @rx.event
    async def upload_logo(self, files: list[rx.UploadFile]):
        principal = await signed_in(self, Role.ADMIN)
        if principal is None or not files:
            return None
        data = await files[0].read(LOGO_LIMIT_BYTES + 1)
        try:
            self.logo_url = await run_service(self, branding.upload_logo, principal, data)
        except LogoRefused as refusal:
            self.errors, self.message = {"logo": str(refusal)}, ""
            return None
        self.errors, self.message = {}, "The logo is saved; every page shows it now."
        await show_brand(self, principal.tenant_id)
        return None

    @rx.event
    def logo_rejected(self):
        self.errors, self.message = {"logo": LOGO_REFUSED}, ""

    @rx.event
    async def remove_logo(self):
        principal = await signed_in(self, Role.ADMIN)
        if principal is None:
            return None
        await run_service(self, branding.remove_logo, principal)
        self.logo_url, self.errors = "", {}
        self.message = "The logo is removed; pages show the portal's own mark."
        await show_brand(self, principal.tenant_id)
        return None
