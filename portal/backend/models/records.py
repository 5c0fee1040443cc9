"""Medical records: one row per record, lab results with their components."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String
from sqlmodel import Field

from portal.backend.models.base import TenantTable, instant, phi


class RecordKind(StrEnum):
    LAB_RESULT = "lab_result"
    VISIT_SUMMARY = "visit_summary"
    MEDICATION = "medication"
    IMMUNIZATION = "immunization"
    ALLERGY = "allergy"
    PROBLEM = "problem"
    DOCUMENT = "document"


class MedicalRecord(TenantTable, table=True):
    """One record of any kind; its clinical content is an encrypted JSON document."""

    __tablename__ = "medical_records"
    __table_args__ = (
        Index("ix_medical_records_patient_kind_time", "patient_id", "kind", "effective_at"),
    )

    patient_id: uuid.UUID = Field(foreign_key="patients.id")
    kind: RecordKind = Field(sa_type=String(24))
    title: str = phi(required=True)
    content: dict = phi("json", required=True)
    status: str = Field(default="final", max_length=16)
    provider_id: uuid.UUID | None = Field(default=None, foreign_key="providers.id")
    effective_at: datetime = instant()
    released_at: datetime | None = instant(required=False)
    reviewed_at: datetime | None = instant(required=False)
    reviewed_by_provider_id: uuid.UUID | None = Field(default=None, foreign_key="providers.id")
    review_comment: str | None = phi()
    created_at: datetime = instant()
    updated_at: datetime = instant()


class LabComponent(TenantTable, table=True):
    """One measured value of a lab result; `test_index` finds the same test over time."""

    __tablename__ = "lab_components"
    __table_args__ = (Index("ix_lab_components_test", "tenant_id", "test_index"),)

    record_id: uuid.UUID = Field(foreign_key="medical_records.id", index=True)
    position: int = 0
    test_name: str = phi(required=True)
    loinc_code: str | None = phi()
    value: str = phi(required=True)
    unit: str | None = phi()
    reference_low: str | None = phi()
    reference_high: str | None = phi()
    flag: str | None = phi()
    test_index: str = Field(max_length=32)
