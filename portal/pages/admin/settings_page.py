"""The practice's settings, for admins: name, time zone, primary colour, idle timeout, patient
self-registration, the message response-time target and which results wait for a provider's
review, and the logo; scheduling settings live on their own page."""

from __future__ import annotations

import reflex as rx

from portal import routes
from portal.backend.config import IDLE_TIMEOUT_RANGE
from portal.backend.palette import AA_TEXT
from portal.backend.security.principal import Role
from portal.backend.services.branding import LOGO_LIMIT_BYTES
from portal.backend.services.practice_settings import (
    RECORD_KINDS,
    RESPONSE_HOURS_RANGE,
    time_zones,
)
from portal.backend.views import PracticeSettings
from portal.components.cards import section
from portal.components.feedback import notice
from portal.components.forms import field, form, image_picker
from portal.layout import loading, portal_page
from portal.pages.admin.settings_state import LOGO_UPLOAD_ID, PracticeSettingsState

ZONES_LIST_ID = "time-zones"
# What the colour picker shows when the practice keeps the portal's own colours.
PORTAL_COLOUR = "#008573"


@portal_page(
    routes.ADMIN_SETTINGS,
    title="Practice settings",
    role=Role.ADMIN,
    on_load=PracticeSettingsState.load,
)
def settings_page() -> rx.Component:
    settings = PracticeSettingsState.settings
    return rx.cond(
        settings,
        rx.vstack(
            rx.heading("Practice settings", as_="h1", size="7"),
            rx.cond(
                PracticeSettingsState.errors.length() > 0,
                rx.callout(
                    "Some settings could not be saved; each problem is shown beside its field. "
                    "Nothing was changed.",
                    icon="triangle_alert",
                    color_scheme="red",
                    role="alert",
                    high_contrast=True,
                    width="100%",
                ),
            ),
            rx.cond(PracticeSettingsState.message != "", notice(PracticeSettingsState.message)),
            settings_form(settings),
            section("Logo", logo_settings(), heading_id="logo-settings"),
            section("Scheduling", scheduling_links(), heading_id="scheduling-settings"),
            spacing="4",
            width="100%",
        ),
        loading(),
    )


def error_of(name: str) -> rx.Var:
    return PracticeSettingsState.errors.get(name, "")


def checked_field(label: str, name: str, *, hint: str, value: rx.Var, **options) -> rx.Component:
    """A field with its own error message below it, tied to it for screen readers."""
    error_id = f"{name}-error"
    return rx.vstack(
        field(
            label,
            name,
            hint=hint,
            default_value=value,
            error_id=error_id,
            has_error=error_of(name) != "",
            **options,
        ),
        rx.cond(
            error_of(name) != "",
            rx.text(error_of(name), id=error_id, color_scheme="red", size="2", role="alert"),
        ),
        spacing="1",
        width="100%",
    )


def zone_field(settings: PracticeSettings) -> rx.Component:
    """The time zone: typed, with every accepted zone offered as a suggestion."""
    error = error_of("time_zone")
    return rx.vstack(
        rx.el.label("Time zone", html_for="time_zone", font_weight="500"),
        rx.text(
            "Where the practice is, e.g. America/New_York. Times everywhere in the portal are "
            "shown in it.",
            id="time_zone-hint",
            size="2",
            color_scheme="gray",
        ),
        rx.input(
            id="time_zone",
            name="time_zone",
            default_value=settings.time_zone,
            max_length=64,
            autocomplete="off",
            size="3",
            width="100%",
            custom_attrs={"list": ZONES_LIST_ID},
            aria_invalid=rx.cond(error != "", "true", "false"),
            aria_describedby=rx.cond(
                error != "", "time_zone-hint time_zone-error", "time_zone-hint"
            ),
        ),
        rx.el.datalist(*[rx.el.option(value=zone) for zone in time_zones()], id=ZONES_LIST_ID),
        rx.cond(
            error != "",
            rx.text(error, id="time_zone-error", color_scheme="red", size="2", role="alert"),
        ),
        spacing="1",
        width="100%",
    )


def colour_field(settings: PracticeSettings) -> rx.Component:
    """The primary colour: typed as #rrggbb, or picked (the picker writes into the field)."""
    return rx.vstack(
        checked_field(
            "Primary colour",
            "brand_colour",
            hint="Buttons, links and the focus outline use it on every page, the sign-in page "
            "included. Write it as # and six hexadecimal digits, like #1d4ed8; it must be dark "
            f"enough for white text on it ({AA_TEXT:g} to 1). Leave it empty for the portal's "
            "own colours.",
            value=settings.brand_colour,
            max_length=7,
        ),
        rx.el.label(
            "Or pick the colour ",
            rx.el.input(
                type="color",
                default_value=rx.cond(
                    settings.brand_colour != "", settings.brand_colour, PORTAL_COLOUR
                ),
                on_change=lambda colour: rx.set_value("brand_colour", colour),
                style={"width": "44px", "height": "32px", "vertical_align": "middle"},
            ),
            font_size="var(--font-size-2)",
        ),
        spacing="2",
        width="100%",
    )


def logo_settings() -> rx.Component:
    """The logo, saved as soon as it is chosen; shown in every page's header and on the
    sign-in page."""
    logo = PracticeSettingsState.logo_url
    error = error_of("logo")
    return rx.vstack(
        rx.text(
            "Shown in the header of every page and on the sign-in page: a PNG or JPEG image "
            f"of at most {LOGO_LIMIT_BYTES // (1024 * 1024)} MB (SVG is not accepted). It is "
            "public, like the practice's name.",
            size="2",
        ),
        rx.cond(
            logo != "",
            rx.image(
                src=logo,
                alt="The practice's logo as it is now",
                max_height="4rem",
                max_width="16rem",
                object_fit="contain",
            ),
            rx.text("No logo: pages show the portal's own mark.", size="2", color_scheme="gray"),
        ),
        rx.hstack(
            image_picker(
                LOGO_UPLOAD_ID,
                label=rx.cond(logo != "", "Replace the logo", "Upload a logo"),
                accessible_label="Logo image",
                max_size=LOGO_LIMIT_BYTES,
                on_drop=PracticeSettingsState.upload_logo(
                    rx.upload_files(upload_id=LOGO_UPLOAD_ID)
                ),
                on_rejected=PracticeSettingsState.logo_rejected,
            ),
            rx.cond(
                logo != "",
                rx.button(
                    "Remove logo",
                    type="button",
                    variant="outline",
                    color_scheme="red",
                    on_click=PracticeSettingsState.remove_logo,
                ),
            ),
            spacing="3",
            wrap="wrap",
        ),
        rx.cond(
            error != "",
            rx.text(error, id="logo-error", color_scheme="red", size="2", role="alert"),
        ),
        spacing="3",
        width="100%",
    )


def settings_form(settings: PracticeSettings) -> rx.Component:
    low, high = IDLE_TIMEOUT_RANGE
    fewest, most = RESPONSE_HOURS_RANGE
    return rx.card(
        form(
            checked_field(
                "Practice name",
                "name",
                hint="Shown to patients and in every email and text.",
                value=settings.name,
                max_length=200,
            ),
            zone_field(settings),
            colour_field(settings),
            checked_field(
                "Idle timeout (minutes)",
                "idle_timeout_minutes",
                hint=f"How long a signed-in person may be idle before being signed out: "
                f"{low} to {high} minutes.",
                value=settings.idle_timeout_minutes.to_string(),
                kind="number",
                input_mode="numeric",
            ),
            checked_field(
                "Message response-time target (hours)",
                "message_response_hours",
                hint=f"Shown to patients before they write; the inbox marks threads waiting "
                f"longer. {fewest} to {most} hours.",
                value=settings.message_response_hours.to_string(),
                kind="number",
                input_mode="numeric",
            ),
            rx.checkbox(
                "Patients may ask for an account themselves (with their name and date of birth)",
                name="patient_self_registration",
                default_checked=settings.patient_self_registration,
            ),
            release_rules(settings),
            on_submit=PracticeSettingsState.save,
            button="Save settings",
            busy="Saving…",
            pending=PracticeSettingsState.pending,
            max_width="40rem",
        ),
        width="100%",
    )


def release_rules(settings: PracticeSettings) -> rx.Component:
    error = error_of("records_held_for_review")
    return rx.el.fieldset(
        rx.el.legend("Results released only after a provider's review", font_weight="500"),
        rx.text(
            "Ticked kinds of record reach the patient once a provider has reviewed them. Kinds "
            "left unticked are released at once.",
            size="2",
            color_scheme="gray",
            margin_bottom="0.5rem",
        ),
        rx.vstack(
            *[
                rx.checkbox(
                    label,
                    name=f"held_{kind}",
                    default_checked=settings.records_held_for_review.contains(kind),
                )
                for kind, label in RECORD_KINDS
            ],
            spacing="2",
        ),
        rx.cond(
            error != "",
            rx.text(error, color_scheme="red", size="2", role="alert"),
        ),
        style={"border": "none", "padding": 0, "margin": 0},
    )


def scheduling_links() -> rx.Component:
    return rx.vstack(
        rx.text(
            "Visit types, holidays and reminder times are set on the scheduling page.", size="2"
        ),
        rx.hstack(
            *[
                rx.link(label, href=f"{routes.ADMIN_SCHEDULING}#{anchor}")
                for label, anchor in (
                    ("Visit types", "visit-types"),
                    ("Holidays", "holidays"),
                    ("Reminder times", "reminders"),
                )
            ],
            spacing="4",
            wrap="wrap",
        ),
        spacing="2",
    )
