"""Inviting people: a patient of the practice (from their record) or a new colleague."""

from __future__ import annotations

import uuid

import reflex as rx

from portal import routes
from portal.backend.security.principal import NotFound, Principal, Role
from portal.backend.services import invitations
from portal.backend.services.invitations import InvitablePatient
from portal.components.cards import section
from portal.components.feedback import error_alert, notice
from portal.components.forms import field, form, text_of
from portal.layout import portal_page
from portal.state.base import Screen, run_service, screen_state
from portal.state.session import signed_in

ERROR_ID = "invitation-error"
STAFF_ROLES = {"provider": Role.PROVIDER, "admin": Role.ADMIN}


@screen_state
class InvitationsState(Screen):
    patients: list[InvitablePatient] = []
    patient_id: str = ""
    error: str = ""
    message: str = ""
    pending: bool = False

    @rx.event
    async def load(self):
        self.reset()
        principal = await signed_in(self, Role.ADMIN)
        if principal is not None:
            self.patients = await run_service(self, invitations.invitable_patients, principal)

    @rx.event
    def pick_patient(self, patient_id: str):
        self.patient_id = patient_id if any(p.id == patient_id for p in self.patients) else ""

    @rx.event
    async def invite_patient(self, form_data: dict):
        principal = await signed_in(self, Role.ADMIN)
        if principal is None:
            return
        email = text_of(form_data, "patient_email", 320).strip()
        try:
            await run_service(
                self, invitations.invite_patient, principal, uuid.UUID(self.patient_id), email
            )
        except ValueError:
            self.error = "Choose the patient to invite."
            return
        except NotFound:
            self.error = "That patient is not in this practice's records."
            return
        except invitations.InvitationRefused as refusal:
            self.error = str(refusal)
            return
        self.error, self.message = "", f"Invitation sent to {email}."
        self.patients = await run_service(self, invitations.invitable_patients, principal)

    @rx.event
    async def invite_staff(self, form_data: dict):
        principal = await signed_in(self, Role.ADMIN)
        if principal is None:
            return
        self.error, email = await invite_staff_from(self, principal, form_data, "staff_email")
        if not self.error:
            self.message = f"Invitation sent to {email}."


async def invite_staff_from(
    state: rx.State, principal: Principal, form_data: dict, email_field: str
) -> tuple[str, str]:
    """Send the staff invitation a form describes: (what is wrong, or "" once it is sent; the
    email it went to)."""
    role = STAFF_ROLES.get(text_of(form_data, "role", 20))
    if role is None:
        return "Choose whether you are inviting a provider or an administrator.", ""
    email = text_of(form_data, email_field, 320).strip()
    try:
        await run_service(
            state,
            invitations.invite_staff,
            principal,
            role,
            name=text_of(form_data, "name", 200),
            email=email,
            credentials=text_of(form_data, "credentials", 40),
            specialty=text_of(form_data, "specialty", 100),
        )
    except invitations.InvitationRefused as refusal:
        return str(refusal), email
    return "", email


@portal_page(
    routes.ADMIN_INVITATIONS, title="Invitations", role=Role.ADMIN, on_load=InvitationsState.load
)
def invitations_page() -> rx.Component:
    has_error = InvitationsState.error != ""
    return rx.vstack(
        rx.heading("Invite people", as_="h1", size="7"),
        rx.text(
            "Invitations are emailed and work once, for seven days. Inviting someone again "
            "replaces their earlier link.",
            color_scheme="gray",
        ),
        error_alert(InvitationsState.error, element_id=ERROR_ID),
        rx.cond(InvitationsState.message != "", notice(InvitationsState.message)),
        rx.grid(
            section(
                "A patient",
                form(
                    rx.el.label("Patient", html_for="patient", font_weight="500"),
                    rx.select.root(
                        rx.select.trigger(
                            placeholder="Choose a patient without an account",
                            id="patient",
                            width="100%",
                        ),
                        rx.select.content(
                            rx.foreach(
                                InvitationsState.patients,
                                lambda p: rx.select.item(p.label, value=p.id),
                            ),
                        ),
                        value=InvitationsState.patient_id,
                        on_change=InvitationsState.pick_patient,
                    ),
                    field(
                        "Email address",
                        "patient_email",
                        kind="email",
                        error_id=ERROR_ID,
                        has_error=has_error,
                        hint="They confirm their date of birth before choosing a password.",
                    ),
                    on_submit=InvitationsState.invite_patient,
                    button="Send the invitation",
                    busy="Sending…",
                    pending=InvitationsState.pending,
                ),
                heading_id="invite-patient",
            ),
            section(
                "A colleague",
                form(
                    rx.el.fieldset(
                        rx.el.legend("Role", font_weight="500"),
                        rx.radio_group(
                            ["provider", "admin"],
                            name="role",
                            default_value="provider",
                            direction="row",
                        ),
                        style={"border": "none", "padding": 0},
                    ),
                    field("Full name", "name", error_id=ERROR_ID, has_error=has_error),
                    field(
                        "Email address",
                        "staff_email",
                        kind="email",
                        error_id=ERROR_ID,
                        has_error=has_error,
                    ),
                    field(
                        "Credentials (providers)",
                        "credentials",
                        error_id=ERROR_ID,
                        has_error=has_error,
                        hint="For example MD, DO or NP.",
                    ),
                    field(
                        "Specialty (providers)", "specialty", error_id=ERROR_ID, has_error=has_error
                    ),
                    on_submit=InvitationsState.invite_staff,
                    button="Send the invitation",
                    busy="Sending…",
                    pending=InvitationsState.pending,
                ),
                heading_id="invite-staff",
            ),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="4",
            width="100%",
        ),
        spacing="4",
        width="100%",
    )
