"""The practice's own settings, for admins: its name, time zone, idle timeout, whether patients
may ask for an account, the message response-time target, which kinds of record wait for a
provider's review before the patient sees them, and its primary colour (the logo is uploaded
on its own, through `branding`). Every field is checked on its own and a problem named in
words; a save records which fields changed (names, never values)."""

from __future__ import annotations

from zoneinfo import available_timezones

from portal.backend.config import IDLE_TIMEOUT_RANGE
from portal.backend.db import UnitOfWork
from portal.backend.models import Practice
from portal.backend.models.records import RecordKind
from portal.backend.palette import ColourRefused, checked_colour
from portal.backend.security.principal import Principal, Role, require_role
from portal.backend.services.branding import logo_url
from portal.backend.views import PracticeSettings

RESPONSE_HOURS_RANGE = (1, 168)
# Every kind of record, as the form names it: (kind, label).
RECORD_KINDS = [
    (RecordKind.LAB_RESULT.value, "Lab results"),
    (RecordKind.VISIT_SUMMARY.value, "Visit summaries"),
    (RecordKind.MEDICATION.value, "Medications"),
    (RecordKind.IMMUNIZATION.value, "Immunizations"),
    (RecordKind.ALLERGY.value, "Allergies"),
    (RecordKind.PROBLEM.value, "Health problems (conditions)"),
    (RecordKind.DOCUMENT.value, "Documents"),
]
NAME_LENGTH = (2, 200)
FIELDS = (
    "name",
    "time_zone",
    "idle_timeout_minutes",
    "patient_self_registration",
    "message_response_hours",
    "records_held_for_review",
    "brand_colour",
)


class SettingsInvalid(Exception):
    """One message per field that cannot be saved as entered; nothing was changed."""

    def __init__(self, problems: dict[str, str]):
        super().__init__(" ".join(problems.values()))
        self.problems = problems


def practice_settings(principal: Principal, *, uow: UnitOfWork) -> PracticeSettings:
    require_role(principal, Role.ADMIN)
    with uow:
        practice = uow.session.get(Practice, principal.tenant_id)
        uow.audit.record(
            principal, "practice.settings.read", resource_type="practice", resource_id=practice.id
        )
        uow.commit()
        return _view(practice)


def save_practice_settings(
    principal: Principal, values: dict[str, object], *, uow: UnitOfWork
) -> list[str]:
    """Check every field, then save them together; answers the names of the fields that
    changed. `values` holds the form's text (the switch as a bool, the kinds as a list)."""
    require_role(principal, Role.ADMIN)
    checked = checked_settings(values)
    with uow:
        practice = uow.session.get(Practice, principal.tenant_id)
        changed = [name for name in FIELDS if getattr(practice, name) != checked[name]]
        for name in changed:
            setattr(practice, name, checked[name])
        uow.audit.record(
            principal,
            "practice.settings.save",
            resource_type="practice",
            resource_id=practice.id,
            details=",".join(changed) or "none",
        )
        uow.commit()
        return changed


def checked_settings(values: dict[str, object]) -> dict[str, object]:
    """The values as the practice stores them, or `SettingsInvalid` naming each bad field."""
    problems: dict[str, str] = {}
    checked: dict[str, object] = {}

    name = _text(values, "name")
    if not NAME_LENGTH[0] <= len(name) <= NAME_LENGTH[1]:
        problems["name"] = (
            f"Give the practice a name of {NAME_LENGTH[0]} to {NAME_LENGTH[1]} characters."
        )
    checked["name"] = name

    zone = _text(values, "time_zone")
    if zone not in _zones():
        problems["time_zone"] = (
            "Choose a time zone from the list, written like America/New_York or Europe/London."
        )
    checked["time_zone"] = zone

    for key, (low, high), label, unit in (
        ("idle_timeout_minutes", IDLE_TIMEOUT_RANGE, "The idle timeout", "minutes"),
        ("message_response_hours", RESPONSE_HOURS_RANGE, "The response-time target", "hours"),
    ):
        try:
            checked[key] = int(_text(values, key))
        except ValueError:
            problems[key] = f"{label} must be a whole number of {unit}."
            continue
        if not low <= checked[key] <= high:
            problems[key] = f"{label} must be between {low} and {high} {unit}."

    checked["patient_self_registration"] = values.get("patient_self_registration") is True

    kinds = values.get("records_held_for_review", [])
    known = [kind for kind, _ in RECORD_KINDS]
    if not isinstance(kinds, list | tuple) or any(kind not in known for kind in kinds):
        problems["records_held_for_review"] = "Choose kinds of record from the list."
        kinds = []
    checked["records_held_for_review"] = ",".join(kind for kind in known if kind in kinds)

    try:
        checked["brand_colour"] = checked_colour(_text(values, "brand_colour"))
    except ColourRefused as refused:
        problems["brand_colour"] = str(refused)

    if problems:
        raise SettingsInvalid(problems)
    return checked


def time_zones() -> list[str]:
    """Every zone the form accepts, for its suggestions."""
    return sorted(_zones())


def _text(values: dict[str, object], key: str) -> str:
    value = values.get(key, "")
    return value.strip() if isinstance(value, str) else ""


def _zones() -> set[str]:
    return {zone for zone in available_timezones() if "/" in zone or zone == "UTC"}


def _view(practice: Practice) -> PracticeSettings:
    return PracticeSettings(
        name=practice.name,
        time_zone=practice.time_zone,
        idle_timeout_minutes=practice.idle_timeout_minutes,
        patient_self_registration=practice.patient_self_registration,
        message_response_hours=practice.message_response_hours,
        records_held_for_review=[
            kind for kind in practice.records_held_for_review.split(",") if kind
        ],
        brand_colour=practice.brand_colour,
        logo_url=logo_url(practice),
    )
