"""Patients, providers and the care teams that look after patients."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Index, String
from sqlmodel import Field, SQLModel

from portal.backend.models.base import TenantTable, instant, phi


class Patient(TenantTable, table=True):
    """A person the practice cares for; demographics, contact and insurance are PHI."""

    __tablename__ = "patients"
    __table_args__ = (Index("ix_patients_tenant_name_dob", "tenant_id", "name_dob_index"),)

    user_id: uuid.UUID | None = Field(default=None, foreign_key="users.id", unique=True)
    care_team_id: uuid.UUID | None = Field(default=None, foreign_key="care_teams.id", index=True)
    medical_record_number: str = phi(required=True)
    legal_first_name: str = phi(required=True)
    legal_last_name: str = phi(required=True)
    preferred_name: str | None = phi()
    date_of_birth: date = phi("date", required=True)
    sex: str | None = phi()
    gender_identity: str | None = phi()
    pronouns: str | None = phi()
    preferred_language: str | None = phi()
    phone: str | None = phi()
    email: str | None = phi()
    address: dict | None = phi("json")
    insurance: dict | None = phi("json")
    emergency_contacts: list | None = phi("json")
    # How the patient prefers the practice to reach them: "portal", "email", "sms" or "phone".
    contact_method: str | None = Field(default=None, max_length=16)
    # Onboarding after the first sign-in: the step to resume at, and when it was finished.
    onboarding_step: str | None = Field(default=None, max_length=24)
    onboarding_finished_at: datetime | None = instant(required=False)
    name_dob_index: str = Field(max_length=32)
    birth_date_index: str | None = Field(default=None, max_length=32, index=True)
    phone_index: str | None = Field(default=None, max_length=32, index=True)
    email_index: str | None = Field(default=None, max_length=32, index=True)
    created_at: datetime = instant()
    updated_at: datetime = instant()

    @property
    def full_name(self) -> str:
        """The name the practice calls the patient by: preferred (or legal) first, legal last."""
        return f"{self.preferred_name or self.legal_first_name} {self.legal_last_name}"


class ProfileChangeStatus(StrEnum):
    PENDING = "pending"
    APPLIED = "applied"
    DECLINED = "declined"


class ProfileChange(TenantTable, table=True):
    """A patient's request to change an identity field (legal name, date of birth), applied
    or declined by staff."""

    __tablename__ = "profile_changes"
    __table_args__ = (Index("ix_profile_changes_tenant_status", "tenant_id", "status"),)

    patient_id: uuid.UUID = Field(foreign_key="patients.id", index=True)
    requested_values: dict = phi("json", required=True)
    status: ProfileChangeStatus = Field(default=ProfileChangeStatus.PENDING, sa_type=String(16))
    submitted_at: datetime = instant()
    decided_at: datetime | None = instant(required=False)
    decided_by_user_id: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    decline_reason: str | None = phi()


class AccessGrant(TenantTable, table=True):
    """Break-glass: a staff member's time-limited access to a patient outside their normal
    access, with the reason they gave, until an admin has reviewed it."""

    __tablename__ = "access_grants"
    __table_args__ = (
        Index("ix_access_grants_user_patient", "user_id", "patient_id", "expires_at"),
        Index("ix_access_grants_tenant_created", "tenant_id", "created_at"),
    )

    user_id: uuid.UUID = Field(foreign_key="users.id")
    patient_id: uuid.UUID = Field(foreign_key="patients.id", index=True)
    reason: str = phi(required=True)
    created_at: datetime = instant()
    expires_at: datetime = instant()
    reviewed_at: datetime | None = instant(required=False)
    reviewed_by_user_id: uuid.UUID | None = Field(default=None, foreign_key="users.id")


class PatientNameGram(SQLModel, table=True):
    """One keyed hash of a three-letter piece of a patient's name: partial-name search without
    a plaintext name column."""

    __tablename__ = "patient_name_grams"
    __table_args__ = (Index("ix_patient_name_grams_tenant_gram", "tenant_id", "gram_index"),)

    patient_id: uuid.UUID = Field(foreign_key="patients.id", primary_key=True)
    gram_index: str = Field(max_length=32, primary_key=True)
    tenant_id: uuid.UUID = Field(foreign_key="practices.id")


class Provider(TenantTable, table=True):
    """A clinician or care-team staff member. Staff names are not PHI."""

    __tablename__ = "providers"

    user_id: uuid.UUID | None = Field(default=None, foreign_key="users.id", unique=True)
    display_name: str = Field(max_length=200)
    credentials: str = Field(default="", max_length=40)
    specialty: str = Field(default="", max_length=100)
    created_at: datetime = instant()


class CareTeam(TenantTable, table=True):
    __tablename__ = "care_teams"

    name: str = Field(max_length=200)
    created_at: datetime = instant()


class CareTeamMember(SQLModel, table=True):
    __tablename__ = "care_team_members"

    care_team_id: uuid.UUID = Field(foreign_key="care_teams.id", primary_key=True)
    provider_id: uuid.UUID = Field(foreign_key="providers.id", primary_key=True, index=True)
    tenant_id: uuid.UUID = Field(foreign_key="practices.id", index=True)
