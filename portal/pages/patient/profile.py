"""The patient's profile (`/profile`): each part read first, edited in place. Legal name and
date of birth are asked for and reviewed by the practice; everything else applies at once."""

from __future__ import annotations

import reflex as rx

from portal import routes
from portal.backend.security.principal import Role
from portal.backend.views import EmergencyContactLine, ProfileChangeLine, RequestedChange
from portal.components.cards import section
from portal.components.feedback import empty_state, notice
from portal.components.profile import contacts_view, demographics, fact, insurance_view
from portal.layout import loading, portal_page
from portal.pages.patient.profile_forms import (
    cancel_button,
    card_pictures,
    contact_form,
    details_form,
    identity_form,
    insurance_form,
    save_button,
)
from portal.pages.patient.profile_state import ProfileState

S = ProfileState


@portal_page(routes.PROFILE, title="Your profile", role=Role.PATIENT, on_load=S.load)
def profile_page() -> rx.Component:
    return rx.vstack(
        rx.heading("Your profile", as_="h1", size="7"),
        rx.cond(S.message != "", notice(S.message)),
        rx.cond(
            S.profile,
            rx.vstack(
                section("Legal name and date of birth", identity_part(), heading_id="identity"),
                section("About you and how to reach you", details_part(), heading_id="details"),
                section("Insurance", insurance_part(), heading_id="insurance"),
                section("Emergency contacts", contacts_part(), heading_id="contacts"),
                section(
                    "Notifications",
                    rx.text(
                        "Choose what the portal tells you about, and by email, text or in the "
                        "portal: ",
                        rx.link(
                            "your notification choices",
                            href=routes.NOTIFICATIONS_OF_ROLE[Role.PATIENT],
                        ),
                        ".",
                    ),
                    heading_id="notification-choices",
                ),
                spacing="4",
                width="100%",
            ),
            rx.cond(
                S.missing,
                empty_state("Your profile could not be found", "Please call the practice."),
                loading(),
            ),
        ),
        spacing="4",
        width="100%",
        max_width="52rem",
    )


def edit_button(text: str, form: str) -> rx.Component:
    return rx.button(
        text, on_click=S.edit(form), variant="soft", high_contrast=True, width="fit-content"
    )


def identity_part() -> rx.Component:
    profile = S.profile
    return rx.cond(
        S.editing == "identity",
        identity_form(S, save_button("Send for review", S), cancel_button(S)),
        rx.vstack(
            rx.el.dl(
                fact("Legal name", f"{profile.legal_first_name} {profile.legal_last_name}"),
                fact("Date of birth", profile.date_of_birth_text),
                style={
                    "display": "grid",
                    "grid_template_columns": "minmax(8rem, max-content) 1fr",
                    "gap": "0.35rem 1rem",
                    "margin": 0,
                },
            ),
            rx.foreach(profile.identity_requests, identity_request),
            edit_button("Ask to change these", "identity"),
            spacing="3",
            width="100%",
        ),
    )


def identity_request(request: ProfileChangeLine) -> rx.Component:
    return rx.callout.root(
        rx.callout.text(
            rx.vstack(
                rx.text(
                    rx.text.strong(request.status_label),
                    f" · asked {request.submitted}",
                ),
                rx.foreach(request.changes, requested_change),
                rx.cond(
                    request.decline_reason != "",
                    rx.text(f"Reason: {request.decline_reason}"),
                ),
                rx.cond(
                    request.status == "pending",
                    rx.hstack(
                        rx.text(
                            "Your record keeps the current details until the practice "
                            "reviews this.",
                            size="2",
                        ),
                        rx.button(
                            "Withdraw the request",
                            on_click=S.withdraw_request,
                            variant="ghost",
                            size="1",
                        ),
                        wrap="wrap",
                        align="center",
                    ),
                ),
                spacing="1",
            )
        ),
        color_scheme=rx.match(request.status, ("pending", "amber"), ("declined", "red"), "green"),
        role="status",
        width="100%",
    )


def requested_change(change: RequestedChange) -> rx.Component:
    return rx.text(f"{change.label}: {change.current} → {change.requested}", size="2")


def details_part() -> rx.Component:
    return rx.cond(
        S.editing == "details",
        details_form(S, save_button("Save", S), cancel_button(S)),
        rx.vstack(
            demographics(S.profile),
            edit_button("Edit these details", "details"),
            spacing="3",
            width="100%",
        ),
    )


def insurance_part() -> rx.Component:
    plan = S.profile.insurance
    return rx.vstack(
        rx.cond(
            S.editing == "insurance",
            insurance_form(S, save_button("Save the insurance", S), cancel_button(S)),
            rx.vstack(
                insurance_view(
                    S.profile,
                    empty_hint="Add your insurance so the practice can bill your plan; without "
                    "it, visits are billed to you.",
                ),
                rx.hstack(
                    edit_button(rx.cond(plan, "Edit the insurance", "Add insurance"), "insurance"),
                    rx.cond(plan, remove_insurance()),
                    spacing="3",
                    wrap="wrap",
                ),
                spacing="3",
                width="100%",
            ),
        ),
        rx.cond(plan, card_pictures(S)),
        spacing="4",
        width="100%",
    )


def remove_insurance() -> rx.Component:
    return rx.cond(
        S.confirming_remove == "insurance",
        rx.hstack(
            rx.text("Remove your insurance and its pictures?", size="2", weight="medium"),
            rx.button("Yes, remove it", on_click=S.remove_insurance, color_scheme="red"),
            rx.button("Keep it", on_click=S.cancel_remove, variant="soft", color_scheme="gray"),
            spacing="2",
            wrap="wrap",
            align="center",
        ),
        rx.button(
            "Remove the insurance",
            on_click=S.ask_remove("insurance"),
            variant="ghost",
            color_scheme="red",
        ),
    )


def contacts_part() -> rx.Component:
    return rx.vstack(
        contacts_view(
            S.profile.emergency_contacts,
            empty_hint="Add someone the practice may call if you cannot speak for yourself.",
            actions=contact_actions,
        ),
        rx.cond(
            S.editing == "contact",
            rx.card(
                rx.vstack(
                    rx.heading(
                        rx.cond(S.editing_contact != "", "Change the contact", "Add a contact"),
                        as_="h3",
                        size="3",
                    ),
                    contact_form(S, save_button("Save the contact", S), cancel_button(S)),
                    width="100%",
                ),
                width="100%",
            ),
            edit_button("Add a contact", "contact"),
        ),
        spacing="3",
        width="100%",
    )


def contact_actions(contact: EmergencyContactLine) -> rx.Component:
    return rx.cond(
        S.confirming_remove == contact.id,
        rx.hstack(
            rx.text(f"Remove {contact.name}?", size="2", weight="medium"),
            rx.button("Yes, remove", on_click=S.remove_contact(contact.id), color_scheme="red"),
            rx.button("Keep", on_click=S.cancel_remove, variant="soft", color_scheme="gray"),
            spacing="2",
            align="center",
            wrap="wrap",
        ),
        rx.hstack(
            rx.button(
                "Edit",
                on_click=S.edit_contact(contact.id),
                variant="soft",
                high_contrast=True,
                aria_label=f"Edit {contact.name}",
            ),
            rx.button(
                "Remove",
                on_click=S.ask_remove(contact.id),
                variant="soft",
                color_scheme="red",
                aria_label=f"Remove {contact.name}",
            ),
            spacing="2",
        ),
    )
