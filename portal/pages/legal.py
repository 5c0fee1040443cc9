"""Public pages about the portal itself: the accessibility statement, the privacy policy and the
terms of use. Anyone may read them, signed in or not; the practice's name and telephone number
come from its settings. The privacy policy and terms are plain-language templates: a practice
reviews them with its counsel before going live (docs/accessibility.md)."""

from __future__ import annotations

import reflex as rx

from portal import routes
from portal.backend.services import public_info
from portal.layout import portal_page
from portal.state.base import run_service

AXE_CORE = "axe-core 4.12"


class LegalState(rx.State):
    """Public facts only: the practice's name and telephone number."""

    practice: str = "the practice"
    phone: str = ""

    @rx.event
    async def load(self):
        contact = await run_service(self, public_info.practice_contact)
        self.practice, self.phone = contact.name, contact.phone


def contact_line() -> rx.Component:
    return rx.text(
        "Call ",
        LegalState.practice,
        rx.cond(LegalState.phone != "", rx.fragment(" at ", LegalState.phone)),
        ", or, once signed in, send a message to your care team from the Messages page.",
    )


def section(heading: str, *children: rx.Component | str) -> rx.Component:
    return rx.el.section(
        rx.heading(heading, as_="h2", size="4", margin_bottom="0.5rem"),
        *[rx.text(child) if isinstance(child, str) else child for child in children],
        width="100%",
    )


def bullets(*items: rx.Component | str) -> rx.Component:
    return rx.el.ul(
        *[rx.el.li(item, margin_bottom="0.25rem") for item in items],
        padding_left="1.25rem",
        margin="0.25rem 0",
    )


def document(title: str, intro: rx.Component, *sections: rx.Component) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(title, as_="h1", size="7"),
            intro,
            *sections,
            rx.link("Back to the portal", href=routes.PATIENT_HOME),
            spacing="5",
            width="100%",
        ),
        size="3",
        width="100%",
        max_width="48rem",
        margin="0 auto",
    )


@portal_page(routes.ACCESSIBILITY, title="Accessibility", role=None, on_load=LegalState.load)
def accessibility() -> rx.Component:
    return document(
        "Accessibility statement",
        rx.text(
            LegalState.practice,
            " wants everyone to be able to use this portal, including people who use a "
            "keyboard instead of a mouse, a screen reader, magnification or a phone. Our aim is "
            "to meet the Web Content Accessibility Guidelines (WCAG) 2.1 at level AA.",
        ),
        section(
            "What we test",
            "Each release of the portal is checked automatically in the Chromium browser:",
            bullets(
                f"Every page, in each of the patient, provider and administrator areas and the "
                f"pages you see before signing in, is checked with {AXE_CORE} (through "
                "axe-playwright-python) against the WCAG 2.0, 2.1 and 2.2 A and AA rules.",
                "Booking an appointment, writing to your care team and the care team's reply, "
                "and opening a test result with its trend table are done with the keyboard "
                "alone (Tab, Shift+Tab, Enter, Space and the arrow keys). Every control that "
                "takes focus shows a visible focus ring, and focus never gets stuck.",
                "Form errors are announced by screen readers when they appear and are tied to "
                "the fields they are about.",
                "Patient pages fit a 360-pixel-wide phone screen and a page zoomed to 200% "
                "without scrolling sideways; buttons and links are at least 24 by 24 pixels on "
                "a 375 by 812 phone screen, while signing in with a code, booking, messaging "
                "and reading a result.",
                "If your device asks for reduced motion, the portal turns off its animations "
                "and transitions.",
            ),
        ),
        section(
            "Known limitations",
            bullets(
                "Automated checks find only some accessibility problems. The portal has not yet "
                "been audited by people who use assistive technology every day.",
                "Trend charts of test results are pictures; the same values are always "
                "available as a table (choose “Show as table”).",
                "Files your care team shares with you (for example PDF letters) may not be "
                "fully accessible. Ask your care team for another format if you need one.",
                "For your privacy you are signed out after a period without activity. A "
                "warning appears two minutes before, and you can choose to stay signed in.",
            ),
        ),
        section(
            "Report a problem",
            "If something in the portal is hard or impossible for you to use, please tell us: "
            "what you were trying to do, on which page, and the device, browser and any "
            "assistive technology you use. Please do not include medical details.",
            contact_line(),
        ),
    )


@portal_page(routes.PRIVACY, title="Privacy policy", role=None, on_load=LegalState.load)
def privacy() -> rx.Component:
    return document(
        "Privacy policy",
        rx.text(
            "This policy explains, in plain words, what ",
            LegalState.practice,
            " collects through this patient portal, why, who can see it, how long it is "
            "kept and what your rights are. Your health information is also protected by the "
            "practice's Notice of Privacy Practices under HIPAA, which you can ask for at "
            "any time.",
        ),
        section(
            "What we collect",
            bullets(
                "Your account: name, email address, mobile number, the password you choose (we "
                "keep only a scrambled form of it) and your authenticator app's setup.",
                "Your profile: date of birth, preferred name, pronouns, address, insurance and "
                "emergency contacts.",
                "Your care: appointments, messages and the files attached to them, test "
                "results and other records your care team adds.",
                "Use of the portal: when you signed in, from which device, and every time "
                "someone opened your record. We do not use advertising or tracking tools.",
            ),
        ),
        section(
            "Why we use it",
            "To provide your care, to let you book visits and talk to your care team, to send "
            "you reminders and notices you have asked for, to keep your record secure, and "
            "to meet our legal duties. We do not sell your information. Emails and text "
            "messages from the portal never contain medical details: they only tell you "
            "there is something new to read after you sign in.",
        ),
        section(
            "Who can see it",
            bullets(
                "You.",
                "Your care team and practice staff who need it to care for you or to run the "
                "practice. Administrators manage accounts but do not read your medical "
                "information.",
                "Service providers who host the portal or send its emails and texts, under "
                "agreements (business associate agreements) that require them to protect it.",
                "Others only when the law requires or allows it, as described in the Notice "
                "of Privacy Practices.",
            ),
        ),
        section(
            "How we protect it and how long we keep it",
            "Your information is encrypted when it is stored and when it travels. Every time "
            "someone reads or changes your record it is written in a log that cannot be "
            "altered. We keep medical records for as long as the law in our state requires, "
            "and the access log for at least six years.",
        ),
        section(
            "Your rights",
            bullets(
                rx.fragment(
                    "See and get a copy of your record: use “Download my health record” on the ",
                    rx.link("Records", href=routes.RECORDS),
                    " page, or ask us for a copy in another form.",
                ),
                "Ask us to correct (amend) information you think is wrong: send a message to "
                "your care team, or ask for a change of your legal name or date of birth "
                "from your profile.",
                rx.fragment(
                    "Know who has looked at your record: the ",
                    rx.link("Who viewed my record", href=routes.RECORDS_ACCESS),
                    " page lists every time it was opened, and you can ask us for the "
                    "accounting of disclosures the law provides.",
                ),
                "Choose how we contact you, in your profile and notification settings.",
                "Ask us to limit how we use or share your information, and complain to us or "
                "to the U.S. Department of Health and Human Services if you think your "
                "privacy rights were not respected. We will not hold a complaint against you.",
            ),
        ),
        section("Contact", "Questions about this policy or your information?", contact_line()),
    )


@portal_page(routes.TERMS, title="Terms of use", role=None, on_load=LegalState.load)
def terms() -> rx.Component:
    return document(
        "Terms of use",
        rx.text(
            "These terms apply to your use of the patient portal of ",
            LegalState.practice,
            ". By signing in you agree to them.",
        ),
        section(
            "Not for emergencies",
            "Do not use the portal for emergencies or anything urgent. Call 911 or go to the "
            "nearest emergency department. Messages are answered during office hours.",
        ),
        section(
            "Your account",
            bullets(
                "Your account is for you alone. Keep your password and authenticator app to "
                "yourself, and sign out on shared devices.",
                "Tell us at once if you think someone else has used your account. You can "
                "sign out other devices from the Security page.",
                "Give information that is true and up to date.",
            ),
        ),
        section(
            "Using the portal",
            bullets(
                "Use it only to manage your own care (or care you are allowed to manage).",
                "Do not try to reach information that is not yours, or to disrupt the portal.",
                "The portal does not replace a visit or advice from your clinician.",
            ),
        ),
        section(
            "Changes and availability",
            "We may change the portal or these terms; we will tell you about important "
            "changes. The portal may sometimes be unavailable for maintenance. We may close an "
            "account that is misused.",
        ),
        section(
            "Privacy",
            rx.text(
                "How we handle your information is described in our ",
                rx.link("Privacy policy", href=routes.PRIVACY),
                ".",
            ),
        ),
        section("Contact", contact_line()),
    )
