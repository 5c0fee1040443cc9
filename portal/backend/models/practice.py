"""Practices (tenants) and their locations."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field

from portal.backend.models.base import Table, TenantTable, instant


class Practice(Table, table=True):
    __tablename__ = "practices"

    name: str = Field(max_length=200)
    slug: str = Field(max_length=64, unique=True)
    time_zone: str = Field(max_length=64)
    idle_timeout_minutes: int = 15
    patient_self_registration: bool = False
    phone: str = Field(default="", max_length=40)
    # When appointment reminders go out, in minutes before the visit, e.g. "1440,60".
    reminder_minutes_before: str = Field(default="1440,60", max_length=64)
    # The care team's target for answering a patient's message, shown before they send.
    message_response_hours: int = 48
    # Record kinds released to the patient only once a provider has reviewed them, e.g.
    # "lab_result"; empty means everything is released at once (the Cures Act default).
    records_held_for_review: str = Field(default="", max_length=200)
    # Branding: the primary colour as "#rrggbb" (empty: the portal's own) and the logo, an
    # image in the file store shown on every page.
    brand_colour: str = Field(default="", max_length=7)
    logo_storage_key: str | None = Field(default=None, max_length=128)
    logo_content_type: str | None = Field(default=None, max_length=40)
    created_at: datetime = instant()


class Location(TenantTable, table=True):
    __tablename__ = "locations"

    name: str = Field(max_length=200)
    address: str = Field(max_length=400)
    phone: str = Field(max_length=40)
    time_zone: str = Field(max_length=64)
