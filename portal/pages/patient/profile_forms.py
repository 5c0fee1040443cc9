"""The profile's forms, for any state built on `ProfileForms` (the profile page, the onboarding):
contact details, an identity change request, insurance with its card pictures, and one
emergency contact. Each field shows its own error; a refused form keeps what was typed."""

from __future__ import annotations

import reflex as rx

from portal.backend.services.profile_checks import (
    CONTACT_METHOD_LABELS,
    GENDER_LABELS,
    SEX_LABELS,
)
from portal.backend.services.profiles import CARD_LIMIT_BYTES
from portal.components.feedback import error_alert
from portal.components.forms import image_picker
from portal.components.profile import (
    card_image,
    choice_field,
    field_error,
    form_errors_summary,
    text_field,
)
from portal.pages.patient.profile_state import BACK_CARD, FRONT_CARD, ProfileForms

PHONE_HINT = "With the area code, e.g. (555) 010-1234, or an international number with +."


def buttons(*children: rx.Component) -> rx.Component:
    return rx.hstack(*children, spacing="3", wrap="wrap", align="center")


def save_button(text: str, state: type[ProfileForms]) -> rx.Component:
    return rx.button(text, type="submit", loading=state.pending, size="3", high_contrast=True)


def cancel_button(state: type[ProfileForms], text: str = "Cancel") -> rx.Component:
    return rx.button(
        text,
        type="button",
        on_click=state.stop_editing,
        variant="soft",
        color_scheme="gray",
        high_contrast=True,
        size="3",
    )


def details_form(
    state: type[ProfileForms], *actions: rx.Component, on_submit: rx.EventHandler | None = None
) -> rx.Component:
    profile, errors = state.profile, state.details_errors
    return rx.form(
        rx.vstack(
            form_errors_summary(errors, element_id="details-errors"),
            text_field(
                "Preferred name",
                "preferred_name",
                errors,
                default_value=profile.preferred_name,
                autocomplete="nickname",
                hint="What you like to be called, if not your legal first name.",
                max_length=100,
            ),
            rx.grid(
                choice_field(
                    "Sex",
                    "sex",
                    list(SEX_LABELS.items()),
                    errors,
                    default_value=profile.sex,
                    blank="Not given",
                ),
                choice_field(
                    "Gender identity",
                    "gender_identity",
                    list(GENDER_LABELS.items()),
                    errors,
                    default_value=profile.gender_identity,
                    blank="Not given",
                ),
                text_field(
                    "Pronouns",
                    "pronouns",
                    errors,
                    default_value=profile.pronouns,
                    hint="For example she/her, he/him, they/them.",
                    max_length=40,
                ),
                text_field(
                    "Preferred language",
                    "preferred_language",
                    errors,
                    default_value=profile.preferred_language,
                    autocomplete="language",
                    max_length=60,
                ),
                columns=rx.breakpoints(initial="1", sm="2"),
                spacing="3",
                width="100%",
            ),
            rx.grid(
                text_field(
                    "Phone",
                    "phone",
                    errors,
                    default_value=profile.phone,
                    kind="tel",
                    autocomplete="tel",
                    hint=PHONE_HINT,
                    max_length=40,
                ),
                text_field(
                    "Email",
                    "email",
                    errors,
                    default_value=profile.email,
                    kind="email",
                    autocomplete="email",
                    max_length=254,
                ),
                columns=rx.breakpoints(initial="1", sm="2"),
                spacing="3",
                width="100%",
            ),
            choice_field(
                "How should we contact you?",
                "contact_method",
                list(CONTACT_METHOD_LABELS.items()),
                errors,
                default_value=profile.contact_method,
            ),
            rx.el.fieldset(
                rx.el.legend("Home address", font_weight="600", margin_bottom="0.5rem"),
                rx.vstack(
                    text_field(
                        "Street and number",
                        "address_line1",
                        errors,
                        default_value=profile.address_line1,
                        autocomplete="address-line1",
                    ),
                    text_field(
                        "Apartment, suite (optional)",
                        "address_line2",
                        errors,
                        default_value=profile.address_line2,
                        autocomplete="address-line2",
                    ),
                    rx.grid(
                        text_field(
                            "Town or city",
                            "city",
                            errors,
                            default_value=profile.city,
                            autocomplete="address-level2",
                            max_length=100,
                        ),
                        text_field(
                            "State",
                            "region",
                            errors,
                            default_value=profile.region,
                            autocomplete="address-level1",
                            max_length=60,
                        ),
                        text_field(
                            "ZIP code",
                            "postal_code",
                            errors,
                            default_value=profile.postal_code,
                            autocomplete="postal-code",
                            max_length=12,
                        ),
                        columns=rx.breakpoints(initial="1", sm="3"),
                        spacing="3",
                        width="100%",
                    ),
                    spacing="3",
                    width="100%",
                ),
                style={"border": "none", "padding": 0, "margin": 0, "width": "100%"},
            ),
            buttons(*actions),
            spacing="4",
            width="100%",
        ),
        on_submit=on_submit or state.save_details,
        key=f"details-{state.form_key}",
        width="100%",
    )


def identity_form(state: type[ProfileForms], *actions: rx.Component) -> rx.Component:
    profile, errors = state.profile, state.identity_errors
    return rx.form(
        rx.vstack(
            rx.text(
                "Your legal name and date of birth identify you in your health record, so the "
                "practice checks a change before making it. Type them as they should be.",
                size="2",
            ),
            form_errors_summary(errors, element_id="identity-errors"),
            rx.grid(
                text_field(
                    "Legal first name",
                    "legal_first_name",
                    errors,
                    default_value=profile.legal_first_name,
                    autocomplete="given-name",
                    max_length=100,
                    required=True,
                ),
                text_field(
                    "Legal last name",
                    "legal_last_name",
                    errors,
                    default_value=profile.legal_last_name,
                    autocomplete="family-name",
                    max_length=100,
                    required=True,
                ),
                columns=rx.breakpoints(initial="1", sm="2"),
                spacing="3",
                width="100%",
            ),
            text_field(
                "Date of birth",
                "date_of_birth",
                errors,
                default_value=profile.date_of_birth,
                kind="date",
                autocomplete="bday",
                required=True,
            ),
            buttons(*actions),
            spacing="4",
            width="100%",
        ),
        on_submit=state.request_identity,
        key=f"identity-{state.form_key}",
        width="100%",
    )


def insurance_form(
    state: type[ProfileForms], *actions: rx.Component, on_submit: rx.EventHandler | None = None
) -> rx.Component:
    plan, errors = state.profile.insurance, state.insurance_errors
    return rx.form(
        rx.vstack(
            form_errors_summary(errors, element_id="insurance-errors"),
            text_field(
                "Insurer",
                "payer",
                errors,
                default_value=rx.cond(plan, plan.payer, ""),
                hint="The company named on your card.",
                max_length=100,
                required=True,
            ),
            rx.grid(
                text_field(
                    "Member ID",
                    "member_id",
                    errors,
                    default_value=rx.cond(plan, plan.member_id, ""),
                    max_length=40,
                    required=True,
                ),
                text_field(
                    "Group number",
                    "group_number",
                    errors,
                    default_value=rx.cond(plan, plan.group_number, ""),
                    max_length=40,
                ),
                columns=rx.breakpoints(initial="1", sm="2"),
                spacing="3",
                width="100%",
            ),
            choice_field(
                "Whose plan is it?",
                "relationship",
                [
                    ("self", "Mine"),
                    ("spouse", "My spouse's or partner's"),
                    ("child", "My parent's (I am their child)"),
                    ("other", "Someone else's"),
                ],
                errors,
                default_value=rx.cond(plan, plan.relationship, "self"),
            ),
            text_field(
                "Plan holder's name",
                "subscriber",
                errors,
                default_value=rx.cond(plan, plan.subscriber, ""),
                hint="The person the plan is in, if it is not you.",
                max_length=100,
            ),
            buttons(*actions),
            spacing="4",
            width="100%",
        ),
        on_submit=on_submit or state.save_insurance,
        key=f"insurance-{state.form_key}",
        width="100%",
    )


def card_pictures(state: type[ProfileForms]) -> rx.Component:
    """Pictures of both sides of the card: each is sent as soon as it is chosen."""
    plan = state.profile.insurance
    return rx.vstack(
        rx.text(
            "Pictures of your card help the front desk check your cover. PNG or JPEG, up to "
            f"{CARD_LIMIT_BYTES // (1024 * 1024)} MB each.",
            size="2",
        ),
        error_alert(state.card_errors.get("card", ""), element_id="card-error"),
        rx.grid(
            card_side(state, "front", rx.cond(plan, plan.front_image, "")),
            card_side(state, "back", rx.cond(plan, plan.back_image, "")),
            columns=rx.breakpoints(initial="1", sm="2"),
            spacing="4",
            width="100%",
        ),
        spacing="2",
        width="100%",
    )


def card_side(state: type[ProfileForms], side: str, path: rx.Var[str]) -> rx.Component:
    upload_id = FRONT_CARD if side == "front" else BACK_CARD
    handler = state.upload_front if side == "front" else state.upload_back
    return rx.vstack(
        card_image(path, f"{side.capitalize()} of the insurance card"),
        image_picker(
            upload_id,
            label=rx.cond(
                path != "",
                f"Replace the picture of the {side}",
                f"Add a picture of the {side}",
            ),
            accessible_label=f"Picture of the {side} of the card",
            max_size=CARD_LIMIT_BYTES,
            on_drop=handler(rx.upload_files(upload_id=upload_id)),
            on_rejected=state.card_rejected,
        ),
        rx.cond(
            path != "",
            rx.button(
                f"Remove the {side} picture",
                type="button",
                on_click=state.remove_card(side),
                variant="ghost",
                color_scheme="red",
                size="2",
            ),
        ),
        spacing="2",
    )


def contact_form(state: type[ProfileForms], *actions: rx.Component) -> rx.Component:
    errors, line = state.contact_errors, state.editing_line
    return rx.form(
        rx.vstack(
            form_errors_summary(errors, element_id="contact-errors"),
            text_field(
                "Name",
                "name",
                errors,
                default_value=rx.cond(line, line.name, ""),
                autocomplete="off",
                max_length=100,
                required=True,
                prefix="contact-",
            ),
            text_field(
                "Relationship to you",
                "relationship",
                errors,
                default_value=rx.cond(line, line.relationship, ""),
                hint="For example spouse, daughter, neighbour.",
                max_length=40,
                required=True,
                prefix="contact-",
            ),
            text_field(
                "Phone",
                "phone",
                errors,
                default_value=rx.cond(line, line.phone, ""),
                kind="tel",
                hint=PHONE_HINT,
                max_length=40,
                required=True,
                prefix="contact-",
            ),
            rx.checkbox(
                "They may be told about my health (for example if I am in hospital).",
                name="may_share",
                default_checked=rx.cond(line, line.may_share, False),
            ),
            field_error("may_share", errors),
            buttons(*actions),
            spacing="4",
            width="100%",
        ),
        on_submit=state.save_contact,
        key=f"contact-{state.editing_contact}-{state.form_key}",
        width="100%",
    )
