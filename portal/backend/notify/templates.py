"""Every message the portal can send by email, SMS or in-app, and the only values it may carry.

A template declares its parameters, and each parameter has a kind that cannot hold PHI: the
practice's name, a date or a time (never what the appointment is for, or with whom), a number
of minutes, or a link into the portal. Rendering refuses any other parameter, so a caller
cannot slip a name, a message text or a result value into a notification.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Category(StrEnum):
    APPOINTMENT_REMINDER = "appointment_reminder"
    APPOINTMENT_CHANGE = "appointment_change"
    NEW_MESSAGE = "new_message"
    NEW_RESULT = "new_result"
    ACCOUNT = "account"


PARAMETER_KINDS = {
    "practice": re.compile(r"[\w .,'&()-]{1,120}"),
    "date": re.compile(
        r"(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday) \d{1,2} "
        r"[A-Z][a-z]+ \d{4}"
    ),
    "time": re.compile(r"\d{1,2}:\d{2} (AM|PM)"),
    "minutes": re.compile(r"\d{1,4}"),
    "link": re.compile(r"https?://[\w.:-]+(/[\w/.-]*)?(\?[\w=&-]*)?"),
}


class TemplateMisuse(Exception):
    """A template was given a parameter it does not declare, or a value of the wrong kind."""


@dataclass(frozen=True)
class Template:
    id: str
    category: Category
    subject: str
    text: str

    @property
    def parameters(self) -> frozenset[str]:
        return frozenset(re.findall(r"{(\w+)}", self.subject + self.text))

    def render(self, **values: str) -> tuple[str, str]:
        """(subject, text) with the values filled in; refuses anything undeclared."""
        if set(values) != self.parameters:
            raise TemplateMisuse(f"{self.id} takes exactly {sorted(self.parameters)}")
        for name, value in values.items():
            if not PARAMETER_KINDS[name].fullmatch(value):
                raise TemplateMisuse(f"{self.id}: the {name} value has the wrong form")
        return self.subject.format(**values), self.text.format(**values)


TEMPLATES = {
    template.id: template
    for template in (
        Template(
            "new_message",
            Category.NEW_MESSAGE,
            "New message from {practice}",
            "You have a new message from your care team at {practice}. Sign in to read it: {link}",
        ),
        Template(
            "new_result",
            Category.NEW_RESULT,
            "A new result is available",
            "A new result is available in your {practice} patient portal. "
            "Sign in to view it: {link}",
        ),
        Template(
            "appointment_reminder",
            Category.APPOINTMENT_REMINDER,
            "Appointment reminder",
            "Reminder: you have an appointment with {practice} on {date} at {time}. "
            "Details: {link}",
        ),
        Template(
            "appointment_booked",
            Category.APPOINTMENT_CHANGE,
            "Appointment booked",
            "Your appointment with {practice} on {date} at {time} is booked. Details: {link}",
        ),
        Template(
            "appointment_changed",
            Category.APPOINTMENT_CHANGE,
            "Appointment changed",
            "Your appointment with {practice} is now on {date} at {time}. Details: {link}",
        ),
        Template(
            "appointment_cancelled",
            Category.APPOINTMENT_CHANGE,
            "Appointment cancelled",
            "Your appointment with {practice} on {date} at {time} was cancelled. Details: {link}",
        ),
        Template(
            "appointment_requested",
            Category.APPOINTMENT_CHANGE,
            "Appointment request received",
            "{practice} received your request for an appointment on {date} at {time}. We will "
            "let you know when it is confirmed. Details: {link}",
        ),
        Template(
            "appointment_request_declined",
            Category.APPOINTMENT_CHANGE,
            "Appointment request not accepted",
            "{practice} could not accept your request for {date} at {time}. Please choose "
            "another time: {link}",
        ),
        Template(
            "earlier_time_offered",
            Category.APPOINTMENT_CHANGE,
            "An earlier appointment time is available",
            "An earlier time is available with {practice} on {date} at {time}. It is kept "
            "for you for {minutes} minutes: {link}",
        ),
        Template(
            "account_locked",
            Category.ACCOUNT,
            "Your portal account is locked",
            "Your {practice} portal account was locked after several failed sign-ins. It "
            "unlocks in {minutes} minutes. If this was not you, call the practice.",
        ),
        Template(
            "invitation",
            Category.ACCOUNT,
            "Your invitation to the {practice} patient portal",
            "{practice} invites you to its patient portal. Set up your account: {link}",
        ),
        Template(
            "registration_existing",
            Category.ACCOUNT,
            "Your {practice} portal account",
            "Someone asked to register for the {practice} patient portal with this email "
            "address, which already has an account. Sign in here: {link} (If you forgot your "
            "password, choose 'Forgot your password?' there.)",
        ),
        Template(
            "registration_unmatched",
            Category.ACCOUNT,
            "Your {practice} portal registration",
            "We could not match the details you gave to a patient of {practice}, so no account "
            "was created. Please call the practice and we will set up your portal account.",
        ),
        Template(
            "profile_change_applied",
            Category.ACCOUNT,
            "Your details were updated",
            "{practice} reviewed the change you asked for to your details and made it. "
            "See your profile: {link}",
        ),
        Template(
            "profile_change_declined",
            Category.ACCOUNT,
            "About the change to your details",
            "{practice} reviewed the change you asked for to your details and could not make "
            "it. See why in your profile: {link}",
        ),
        Template(
            "mfa_reset",
            Category.ACCOUNT,
            "Your sign-in security was reset",
            "Your sign-in security for the {practice} portal was reset by your practice's "
            "administrator; you will set up two-step verification again at your next sign-in. "
            "If you did not expect this, call the practice.",
        ),
        Template(
            "role_changed",
            Category.ACCOUNT,
            "Your role in the portal was changed",
            "Your role in the {practice} portal was changed by your practice's administrator, "
            "and you were signed out. Sign in again to see the pages of your new role: {link} "
            "If you did not expect this, call the practice.",
        ),
        Template(
            "password_reset",
            Category.ACCOUNT,
            "Choose a new password",
            "Use this link within {minutes} minutes to choose a new password for your "
            "{practice} portal account: {link}",
        ),
    )
}
