"""A patient's profile as anyone allowed to see it reads it (the patient's own profile page, the
onboarding, a provider's chart): demographics, insurance with its card images, and emergency
contacts. Pure functions of a `PatientProfile` var; card images come through the authorizing
`/files/insurance/…` route, never Reflex's upload folder.

Also the form parts of the profile's forms: fields whose error sits right under them.
"""

from __future__ import annotations

import reflex as rx

from portal.backend.views import EmergencyContactLine, PatientProfile
from portal.components.cards import section
from portal.components.feedback import empty_state
from portal.components.forms import SELECT_STYLE


def profile_view(
    profile: rx.Var[PatientProfile], *, heading_prefix: str = "profile"
) -> rx.Component:
    """Demographics, insurance and emergency contacts, read-only."""
    return rx.vstack(
        section(
            "About you" if heading_prefix == "profile" else "Demographics",
            demographics(profile),
            heading_id=f"{heading_prefix}-demographics",
        ),
        section("Insurance", insurance_view(profile), heading_id=f"{heading_prefix}-insurance"),
        section(
            "Emergency contacts",
            contacts_view(profile.emergency_contacts, empty_hint=""),
            heading_id=f"{heading_prefix}-contacts",
        ),
        spacing="4",
        width="100%",
    )


def demographics(profile: rx.Var[PatientProfile]) -> rx.Component:
    return rx.el.dl(
        fact("Legal name", f"{profile.legal_first_name} {profile.legal_last_name}"),
        fact("Preferred name", profile.preferred_name),
        fact("Date of birth", profile.date_of_birth_text),
        fact("Sex", profile.sex_label),
        fact("Gender identity", profile.gender_identity_label),
        fact("Pronouns", profile.pronouns),
        fact("Preferred language", profile.preferred_language),
        fact("Phone", profile.phone),
        fact("Email", profile.email),
        fact("Address", profile.address_text),
        fact("Preferred contact", profile.contact_method_label),
        fact("Record number", profile.medical_record_number),
        style=FACTS_STYLE,
    )


def insurance_view(profile: rx.Var[PatientProfile], *, empty_hint: str = "") -> rx.Component:
    plan = profile.insurance
    return rx.cond(
        plan,
        rx.vstack(
            rx.el.dl(
                fact("Insurer", plan.payer),
                fact("Member ID", plan.member_id),
                fact("Group number", plan.group_number),
                fact("Plan holder", plan.subscriber),
                fact("Relationship to you", plan.relationship_label),
                style=FACTS_STYLE,
            ),
            rx.hstack(
                card_image(plan.front_image, "Front of the insurance card"),
                card_image(plan.back_image, "Back of the insurance card"),
                spacing="4",
                wrap="wrap",
            ),
            spacing="3",
            width="100%",
        ),
        empty_state(
            "No insurance on file",
            empty_hint or "No insurance is recorded; visits are self-pay until one is added.",
        ),
    )


def card_image(path: rx.Var[str], label: str) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="2", color_scheme="gray"),
        rx.cond(
            path != "",
            rx.image(
                src=path,
                alt=label,
                max_width="16rem",
                width="100%",
                border="1px solid var(--gray-a6)",
                border_radius="var(--radius-2)",
            ),
            rx.text("No picture added", size="2"),
        ),
        spacing="1",
    )


def contacts_view(
    contacts: rx.Var[list[EmergencyContactLine]],
    *,
    empty_hint: str,
    actions=None,
) -> rx.Component:
    """The contacts as a list; `actions(contact)` adds buttons to each (the patient's page)."""
    return rx.cond(
        contacts.length() > 0,
        rx.el.ul(
            rx.foreach(contacts, lambda contact: contact_item(contact, actions)),
            aria_label="Emergency contacts",
            style={"list_style": "none", "padding": 0, "margin": 0, "width": "100%"},
        ),
        empty_state(
            "No emergency contacts",
            empty_hint or "Nobody is recorded to call in an emergency.",
        ),
    )


def contact_item(contact: EmergencyContactLine, actions=None) -> rx.Component:
    return rx.el.li(
        rx.hstack(
            rx.vstack(
                rx.text(contact.name, weight="bold"),
                rx.text(f"{contact.relationship} · {contact.phone}", size="2"),
                rx.text(
                    rx.cond(
                        contact.may_share,
                        "May be told about your health",
                        "Not to be told about your health",
                    ),
                    size="2",
                    color_scheme="gray",
                ),
                spacing="0",
            ),
            rx.spacer(),
            *([actions(contact)] if actions else []),
            align="center",
            wrap="wrap",
            width="100%",
        ),
        padding_y="0.6rem",
        border_bottom="1px solid var(--gray-a4)",
    )


def fact(label: str, value: rx.Var[str] | str) -> rx.Component:
    """A term and its value; an empty value reads 'Not given'."""
    return rx.fragment(
        rx.el.dt(label, style={"color": "var(--gray-11)", "font_size": "var(--font-size-2)"}),
        rx.el.dd(
            rx.cond(value != "", value, "Not given"),
            style={"margin": 0, "overflow_wrap": "anywhere"},
        ),
    )


FACTS_STYLE = {
    "display": "grid",
    "grid_template_columns": "minmax(8rem, max-content) 1fr",
    "gap": "0.35rem 1rem",
    "margin": 0,
    "width": "100%",
}


# --- form parts -----------------------------------------------------------------------------


def field_error(
    name: str, errors: rx.Var[dict[str, str]], *, element_id: str | None = None
) -> rx.Component:
    """The error of field `name`, if the last try was refused (id `<element_id>-error`)."""
    return rx.cond(
        errors.contains(name),
        rx.text(
            errors.get(name, ""),
            id=f"{element_id or name}-error",
            color_scheme="red",
            size="2",
            weight="medium",
        ),
    )


def text_field(
    label: str,
    name: str,
    errors: rx.Var[dict[str, str]],
    *,
    default_value: rx.Var[str] | str = "",
    kind: str = "text",
    autocomplete: str = "off",
    hint: str = "",
    max_length: int = 200,
    required: bool = False,
    prefix: str = "",
) -> rx.Component:
    """A labelled input with its hint and, when the last try was refused, its error beneath;
    `prefix` keeps ids unique when one page has two forms with a field of the same name."""
    element_id = f"{prefix}{name}"
    hint_id = f"{element_id}-hint"
    described = f"{hint_id} " if hint else ""
    return rx.vstack(
        rx.el.label(
            label,
            rx.cond(required, rx.text(" (required)", as_="span", size="2", color_scheme="gray")),
            html_for=element_id,
            font_weight="500",
        ),
        rx.cond(hint != "", rx.text(hint, id=hint_id, size="2", color_scheme="gray")),
        rx.input(
            id=element_id,
            name=name,
            type=kind,
            autocomplete=autocomplete,
            max_length=max_length,
            default_value=default_value,
            size="3",
            width="100%",
            aria_invalid=rx.cond(errors.contains(name), "true", "false"),
            aria_describedby=rx.cond(
                errors.contains(name), f"{described}{element_id}-error", described.strip()
            ),
        ),
        field_error(name, errors, element_id=element_id),
        spacing="1",
        width="100%",
    )


def choice_field(
    label: str,
    name: str,
    options: list[tuple[str, str]],
    errors: rx.Var[dict[str, str]],
    *,
    default_value: rx.Var[str] | str = "",
    blank: str = "Choose…",
    prefix: str = "",
) -> rx.Component:
    element_id = f"{prefix}{name}"
    return rx.vstack(
        rx.el.label(label, html_for=element_id, font_weight="500"),
        rx.el.select(
            rx.el.option(blank, value=""),
            *[rx.el.option(text, value=value) for value, text in options],
            id=element_id,
            name=name,
            default_value=default_value,
            aria_invalid=rx.cond(errors.contains(name), "true", "false"),
            aria_describedby=rx.cond(errors.contains(name), f"{element_id}-error", ""),
            style=SELECT_STYLE,
        ),
        field_error(name, errors, element_id=element_id),
        spacing="1",
        width="100%",
    )


def form_errors_summary(errors: rx.Var[dict[str, str]], *, element_id: str) -> rx.Component:
    """One sentence announced when a save is refused; each field says what is wrong."""
    return rx.cond(
        errors.length() > 0,
        rx.callout(
            rx.cond(
                errors.contains("form"),
                errors.get("form", ""),
                "Nothing was saved yet. Check the fields marked below.",
            ),
            icon="triangle_alert",
            color_scheme="red",
            role="alert",
            id=element_id,
            width="100%",
        ),
    )
