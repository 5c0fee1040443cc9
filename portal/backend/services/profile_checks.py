"""Checking what a patient typed into the profile's forms, before anything is stored: the
entries as typed (`ContactDetails`, `InsuranceDetails`, `EmergencyContact`), the choices offered
for the fields that take one (with their labels), and the checks that turn entries into the
values the record keeps.

Everything a form sends is checked field by field; `ProfileInvalid.errors` maps each field's
name to a sentence saying what to enter, so the page shows it next to the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from portal.backend.models.base import utcnow
from portal.backend.notify.email import valid_email
from portal.backend.notify.sms import normalize_phone

OLDEST_AGE_YEARS = 130
NAME_LIMIT = 100
SHORT_LIMIT = 60

SEX_LABELS = {
    "female": "Female",
    "male": "Male",
    "intersex": "Intersex",
    "prefer_not_to_say": "Prefer not to say",
}
GENDER_LABELS = {
    "woman": "Woman",
    "man": "Man",
    "non_binary": "Non-binary",
    "transgender_woman": "Transgender woman",
    "transgender_man": "Transgender man",
    "another": "Another identity",
    "prefer_not_to_say": "Prefer not to say",
}
CONTACT_METHOD_LABELS = {
    "portal": "Portal message",
    "email": "Email",
    "sms": "Text message",
    "phone": "Phone call",
}
RELATIONSHIP_LABELS = {
    "self": "Self",
    "spouse": "Spouse or partner",
    "child": "Child",
    "other": "Other",
}
POSTAL_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 -]{1,11}")
MEMBER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9 -]{0,39}")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class ProfileInvalid(Exception):
    """What was entered cannot be saved as it is; `errors` says, per field, what to enter.
    Nothing was changed."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("Check the fields marked below.")
        self.errors = errors


@dataclass(frozen=True)
class ContactDetails:
    """The fields a patient changes directly (as typed; the service checks them)."""

    preferred_name: str = ""
    sex: str = ""
    gender_identity: str = ""
    pronouns: str = ""
    preferred_language: str = ""
    phone: str = ""
    email: str = ""
    address_line1: str = ""
    address_line2: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    contact_method: str = ""


@dataclass(frozen=True)
class InsuranceDetails:
    payer: str = ""
    member_id: str = ""
    group_number: str = ""
    subscriber: str = ""
    relationship: str = ""


@dataclass(frozen=True)
class EmergencyContact:
    name: str = ""
    relationship: str = ""
    phone: str = ""
    may_share: bool = False


def checked_contact_details(details: ContactDetails) -> dict:
    """The model's values for `details`, or ProfileInvalid naming every wrong field."""
    errors: dict[str, str] = {}
    text = _Text(errors)
    values: dict = {
        "preferred_name": text.optional(details.preferred_name, "preferred_name", NAME_LIMIT),
        "sex": _choice(details.sex, SEX_LABELS, "sex", errors, "Choose from the list."),
        "gender_identity": _choice(
            details.gender_identity,
            GENDER_LABELS,
            "gender_identity",
            errors,
            "Choose from the list.",
        ),
        "pronouns": text.optional(details.pronouns, "pronouns", 40),
        "preferred_language": text.optional(
            details.preferred_language, "preferred_language", SHORT_LIMIT
        ),
        "phone": _phone(details.phone, "phone", errors, required=False),
        "email": _email(details.email, "email", errors),
    }
    method = details.contact_method.strip()
    if method not in CONTACT_METHOD_LABELS:
        errors["contact_method"] = "Choose how you would like us to contact you."
    elif method in ("sms", "phone") and not values["phone"] and "phone" not in errors:
        errors["phone"] = "Enter a phone number, so that we can reach you the way you chose."
    elif method == "email" and not values["email"] and "email" not in errors:
        errors["email"] = "Enter an email address, so that we can reach you the way you chose."
    values["contact_method"] = method or None
    values["address"] = _address(details, text, errors)
    if errors:
        raise ProfileInvalid(errors)
    return values


def checked_insurance(details: InsuranceDetails) -> dict:
    errors: dict[str, str] = {}
    text = _Text(errors)
    payer = text.required(details.payer, "payer", NAME_LIMIT, "Enter the name of your insurer.")
    member_id = text.required(
        details.member_id, "member_id", 40, "Enter the member ID printed on your card."
    )
    if member_id and not MEMBER_ID.fullmatch(member_id):
        errors["member_id"] = "Use only the letters, digits and dashes printed on your card."
    group = text.optional(details.group_number, "group_number", 40) or ""
    if group and not MEMBER_ID.fullmatch(group):
        errors["group_number"] = "Use only the letters, digits and dashes printed on your card."
    subscriber = text.optional(details.subscriber, "subscriber", NAME_LIMIT) or ""
    relationship = details.relationship.strip()
    if relationship not in RELATIONSHIP_LABELS:
        errors["relationship"] = "Choose how you are related to the person the plan is in."
    elif relationship != "self" and not subscriber:
        errors["subscriber"] = "Enter the name of the person the plan is in."
    if errors:
        raise ProfileInvalid(errors)
    return {
        "payer": payer,
        "member_id": member_id,
        "group_number": group,
        "subscriber": subscriber,
        "relationship": relationship,
    }


def checked_contact(contact: EmergencyContact) -> dict:
    errors: dict[str, str] = {}
    text = _Text(errors)
    values = {
        "name": text.required(contact.name, "name", NAME_LIMIT, "Enter the person's name."),
        "relationship": text.required(
            contact.relationship, "relationship", 40, "Say how they are related to you."
        ),
        "phone": _phone(contact.phone, "phone", errors, required=True),
        "may_share": bool(contact.may_share),
    }
    if errors:
        raise ProfileInvalid(errors)
    return values


def checked_identity(first: str, last: str, born: str) -> dict:
    errors: dict[str, str] = {}
    text = _Text(errors)
    values = {
        "legal_first_name": text.required(
            first, "legal_first_name", NAME_LIMIT, "Enter your legal first name."
        ),
        "legal_last_name": text.required(
            last, "legal_last_name", NAME_LIMIT, "Enter your legal last name."
        ),
        "date_of_birth": birth_date(born, errors),
    }
    if errors:
        raise ProfileInvalid(errors)
    return values


def birth_date(text: str, errors: dict[str, str], name: str = "date_of_birth") -> str:
    """The ISO date of birth in `text`, or "" with the reason in `errors[name]`."""
    text = (text or "").strip()[:20]
    if not text:
        errors[name] = "Enter your date of birth."
        return ""
    try:
        born = date.fromisoformat(text)
    except ValueError:
        errors[name] = "Enter a real date as YYYY-MM-DD, for example 1984-03-27."
        return ""
    today = utcnow().date()
    if born > today:
        errors[name] = "A date of birth cannot be in the future."
        return ""
    try:
        oldest = today.replace(year=today.year - OLDEST_AGE_YEARS)
    except ValueError:  # 29 February
        oldest = today.replace(year=today.year - OLDEST_AGE_YEARS, day=28)
    if born < oldest:
        errors[name] = f"Check the year: that is more than {OLDEST_AGE_YEARS} years ago."
        return ""
    return born.isoformat()


class _Text:
    """Trimmed, bounded, control-character-free text; errors go to the shared dict."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors

    def optional(self, value: str, name: str, limit: int) -> str | None:
        value = (value or "").strip()
        if CONTROL.search(value):
            self.errors[name] = "Remove the special characters."
            return None
        if len(value) > limit:
            self.errors[name] = f"Keep this under {limit} characters."
            return None
        return value or None

    def required(self, value: str, name: str, limit: int, missing: str) -> str:
        checked = self.optional(value, name, limit)
        if checked is None and name not in self.errors:
            self.errors[name] = missing
        return checked or ""


def _choice(value: str, labels: dict, name: str, errors: dict, message: str) -> str | None:
    value = (value or "").strip()
    if value and value not in labels:
        errors[name] = message
        return None
    return value or None


def _phone(value: str, name: str, errors: dict, *, required: bool) -> str | None:
    value = (value or "").strip()[:40]
    if not value:
        if required:
            errors[name] = "Enter a phone number."
        return None
    number = normalize_phone(value)
    if number is None:
        errors[name] = (
            "Enter a phone number with its area code, for example (555) 010-1234, or an "
            "international number starting with +."
        )
    return number


def _email(value: str, name: str, errors: dict) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    if not valid_email(value):
        errors[name] = "Enter an email address like name@example.com."
        return None
    return value


def _address(details: ContactDetails, text: _Text, errors: dict) -> dict | None:
    parts = {
        "line1": text.optional(details.address_line1, "address_line1", 200),
        "line2": text.optional(details.address_line2, "address_line2", 200),
        "city": text.optional(details.city, "city", NAME_LIMIT),
        "state": text.optional(details.region, "region", SHORT_LIMIT),
        "postal_code": text.optional(details.postal_code, "postal_code", 12),
    }
    if not any(parts.values()):
        return None
    for key, field_name, message in (
        ("line1", "address_line1", "Enter the street and number."),
        ("city", "city", "Enter the town or city."),
        ("postal_code", "postal_code", "Enter the ZIP or postal code."),
    ):
        if not parts[key] and field_name not in errors:
            errors[field_name] = message
    if parts["postal_code"] and not POSTAL_CODE.fullmatch(parts["postal_code"]):
        errors["postal_code"] = "Enter the ZIP or postal code, for example 10901."
    return {key: value for key, value in parts.items() if value}
