"""The state behind the patient's profile forms, shared by the profile page and the onboarding.

Handlers take form fields and opaque contact ids only; every one re-checks the session and goes
through `services.profiles` (identity changes through `services.profile_changes`), which scope
everything to the signed-in patient. A refused save keeps the form as typed (forms are
uncontrolled and remount only after a successful save, when `form_key` changes) and shows each
field's error beside it.
"""

from __future__ import annotations

import reflex as rx

from portal.backend.security.principal import NotFound, Principal, Role
from portal.backend.services import profile_changes, profiles
from portal.backend.services.profile_checks import (
    ContactDetails,
    EmergencyContact,
    InsuranceDetails,
    ProfileInvalid,
)
from portal.backend.services.profiles import CARD_LIMIT_BYTES
from portal.backend.views import EmergencyContactLine, PatientProfile
from portal.components.forms import text_of
from portal.state.base import Screen, run_service, screen_state
from portal.state.session import signed_in

FRONT_CARD = "insurance-card-front"
BACK_CARD = "insurance-card-back"
CARD_REFUSED = (
    f"That file was not added. Add a PNG or JPEG photo of the card, up to "
    f"{CARD_LIMIT_BYTES // (1024 * 1024)} MB."
)
CONTACT_GONE = "That contact is no longer on your profile."
DETAIL_FIELDS = tuple(ContactDetails.__dataclass_fields__)
INSURANCE_FIELDS = tuple(InsuranceDetails.__dataclass_fields__)


class ProfileForms(rx.State, mixin=True):
    profile: PatientProfile | None = None
    # Per form, each refused field's message (keyed by the field's name).
    details_errors: dict[str, str] = {}
    identity_errors: dict[str, str] = {}
    insurance_errors: dict[str, str] = {}
    contact_errors: dict[str, str] = {}
    card_errors: dict[str, str] = {}
    # Which editor is open: "", "details", "identity", "insurance" or "contact".
    editing: str = ""
    # The contact being edited ("" while adding one), and its current values.
    editing_contact: str = ""
    editing_line: EmergencyContactLine | None = None
    confirming_remove: str = ""
    message: str = ""
    pending: bool = False
    # Changes after every successful save, so the forms start again from the saved values.
    form_key: int = 0

    async def _principal(self) -> Principal | None:
        return await signed_in(self, Role.PATIENT)

    def _shown(self, profile: PatientProfile, message: str, *, remount: bool = True) -> None:
        """Show the saved profile; `remount` restarts the forms from it (not after a card
        picture, so an insurance form being typed beside it keeps what was typed)."""
        self.profile = profile
        self.message = message
        if remount:
            self.form_key += 1
        self.pending = False

    def _saved(self, form: str) -> None:
        """After a successful save of `form`; the onboarding moves on instead."""
        self.editing, self.editing_contact, self.editing_line = "", "", None

    def _clear_errors(self) -> None:
        self.details_errors, self.identity_errors, self.insurance_errors = {}, {}, {}
        self.contact_errors, self.card_errors = {}, {}

    @rx.event
    def edit(self, form: str):
        if form in ("details", "identity", "insurance", "contact"):
            self._clear_errors()
            self.editing, self.editing_contact, self.message = form, "", ""
            self.editing_line, self.confirming_remove = None, ""

    @rx.event
    def edit_contact(self, contact_id: str):
        if self.profile is None:
            return
        line = next((c for c in self.profile.emergency_contacts if c.id == contact_id), None)
        if line is None:
            self.message = CONTACT_GONE
            return
        self._clear_errors()
        self.editing, self.editing_contact, self.message = "contact", contact_id, ""
        self.editing_line = line

    @rx.event
    def stop_editing(self):
        self._clear_errors()
        self.editing, self.editing_contact, self.confirming_remove = "", "", ""
        self.editing_line = None
        self.form_key += 1

    @rx.event
    async def save_details(self, form_data: dict):
        await self._save_details(form_data)

    async def _save_details(self, form_data: dict) -> None:
        details = ContactDetails(**{name: text_of(form_data, name) for name in DETAIL_FIELDS})
        await self._save("details", profiles.update_contact_details, details)

    @rx.event
    async def request_identity(self, form_data: dict):
        await self._save(
            "identity",
            profile_changes.request_identity_change,
            text_of(form_data, "legal_first_name"),
            text_of(form_data, "legal_last_name"),
            text_of(form_data, "date_of_birth", 20),
            done="Your request was sent. The practice will review it; until then your record "
            "keeps the current details.",
        )

    @rx.event
    async def withdraw_request(self):
        await self._save(
            "identity", profile_changes.withdraw_identity_change, done="Your request was withdrawn."
        )

    @rx.event
    async def save_insurance(self, form_data: dict):
        await self._save_insurance(form_data)

    async def _save_insurance(self, form_data: dict) -> None:
        details = InsuranceDetails(**{name: text_of(form_data, name) for name in INSURANCE_FIELDS})
        await self._save("insurance", profiles.save_insurance, details)

    @rx.event
    async def remove_insurance(self):
        self.confirming_remove = ""
        await self._save("insurance", profiles.remove_insurance, done="Your insurance was removed.")

    @rx.event
    async def save_contact(self, form_data: dict):
        contact = EmergencyContact(
            name=text_of(form_data, "name"),
            relationship=text_of(form_data, "relationship", 100),
            phone=text_of(form_data, "phone", 40),
            may_share=form_data.get("may_share") == "on",
        )
        await self._save(
            "contact", profiles.save_emergency_contact, self.editing_contact[:40], contact
        )

    @rx.event
    def ask_remove(self, target: str):
        """Ask before removing: `target` is "insurance" or a contact's id."""
        self.confirming_remove = target[:40]

    @rx.event
    def cancel_remove(self):
        self.confirming_remove = ""

    @rx.event
    async def remove_contact(self, contact_id: str):
        self.confirming_remove = ""
        await self._save(
            "contact",
            profiles.remove_emergency_contact,
            contact_id[:40],
            done="The contact was removed.",
        )

    @rx.event
    async def upload_front(self, files: list[rx.UploadFile]):
        await self._upload("front", files)

    @rx.event
    async def upload_back(self, files: list[rx.UploadFile]):
        await self._upload("back", files)

    @rx.event
    async def remove_card(self, side: str):
        await self._save(
            "card", profiles.remove_insurance_card, side[:10], done="The picture was removed."
        )

    @rx.event
    def card_rejected(self):
        self.card_errors = {"card": CARD_REFUSED}

    async def _upload(self, side: str, files: list[rx.UploadFile]) -> None:
        if not files:
            return
        data = await files[0].read(CARD_LIMIT_BYTES + 1)
        await self._save(
            "card",
            profiles.upload_insurance_card,
            side,
            data,
            done=f"The picture of the {side} of your card was added.",
        )

    async def _save(self, form: str, service, *args, done: str = "Your changes are saved."):
        principal = await self._principal()
        if principal is None:
            return
        self._clear_errors()
        self.message, self.pending = "", True
        try:
            profile = await run_service(self, service, principal, *args)
        except ProfileInvalid as refused:
            errors = refused.errors
            if form == "details":
                self.details_errors = errors
            elif form == "identity":
                self.identity_errors = errors
            elif form == "insurance":
                self.insurance_errors = errors
            elif form == "contact":
                self.contact_errors = errors
            else:
                self.card_errors = errors
            self.pending = False
            return
        except NotFound:
            self.pending = False
            self.message = CONTACT_GONE if form == "contact" else "That is no longer on file."
            self.editing, self.editing_contact, self.editing_line = "", "", None
            await self._reload(principal)
            return
        self._shown(profile, done, remount=form != "card")
        if form != "card":
            self._saved(form)

    async def _reload(self, principal: Principal) -> None:
        self.profile = await run_service(self, profiles.my_profile, principal)
        self.form_key += 1


@screen_state
class ProfileState(ProfileForms, Screen):
    missing: bool = False

    @rx.event
    async def load(self):
        self.reset()
        principal = await self._principal()
        if principal is None:
            return
        try:
            await self._reload(principal)
        except NotFound:
            self.missing = True
