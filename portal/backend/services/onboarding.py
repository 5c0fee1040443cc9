"""The onboarding after a patient's first sign-in: the steps that collect the profile (details,
insurance, emergency contacts, notifications) and the step the patient has reached. The patient
is sent to it once; the home page offers to resume it until it is finished.
"""

from __future__ import annotations

from portal.backend.db import UnitOfWork
from portal.backend.models.base import utcnow
from portal.backend.security.principal import NotFound, Principal, Role, require_role
from portal.backend.services.patient_access import own_patient
from portal.backend.services.profile_view import profile_view
from portal.backend.views import PatientProfile

ONBOARDING_STEPS = ("details", "insurance", "contacts", "notifications")
ONBOARDING_DONE = "done"


def onboarding_due(principal: Principal, *, uow: UnitOfWork) -> bool:
    """Whether a patient has never seen the onboarding (sent to it once, after signing in)."""
    if principal.role != Role.PATIENT:
        return False
    with uow:
        patient = own_patient(uow, principal)
        return patient.onboarding_step is None and patient.onboarding_finished_at is None


def start_onboarding(principal: Principal, *, uow: UnitOfWork) -> PatientProfile:
    """The profile for the onboarding screen; marks the onboarding seen, so the patient is
    not sent to it again (the home page offers to resume it instead)."""
    require_role(principal, Role.PATIENT)
    with uow:
        patient = own_patient(uow, principal)
        if patient.onboarding_step is None and patient.onboarding_finished_at is None:
            patient.onboarding_step = ONBOARDING_STEPS[0]
        uow.audit.record(
            principal,
            "profile.read",
            resource_type="patient",
            resource_id=patient.id,
            patient_id=patient.id,
        )
        uow.commit()
        return profile_view(uow, patient, principal.tenant_id)


def save_onboarding_step(principal: Principal, step: str, *, uow: UnitOfWork) -> str:
    """Record that the patient moved on to `step` (one of the onboarding's steps), or finished
    (`done`); returns the step to show."""
    require_role(principal, Role.PATIENT)
    if step not in (*ONBOARDING_STEPS, ONBOARDING_DONE):
        raise NotFound
    with uow:
        patient = own_patient(uow, principal)
        if patient.onboarding_finished_at is None:
            patient.onboarding_step = step
            if step == ONBOARDING_DONE:
                patient.onboarding_finished_at = utcnow()
                uow.audit.record(
                    principal,
                    "profile.onboarding.finish",
                    resource_type="patient",
                    resource_id=patient.id,
                    patient_id=patient.id,
                )
        uow.commit()
        return ONBOARDING_DONE if patient.onboarding_finished_at else patient.onboarding_step
