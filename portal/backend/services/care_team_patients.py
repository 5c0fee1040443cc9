"""Which care team looks after which patient, for admins: a team's patients a page at a time,
patients found by part of their name, and moving one patient, or all of a team's, to another
team. A patient's conversations move with them, so the new team's inbox answers them (a thread
assigned to someone who is not on the new team becomes unassigned). A team without members
takes no patients: their messages would reach nobody.

Patients' names are PHI: only the names of the patients listed are opened (through the hashed
name pieces for a search, as `patient_search` does), every listed patient is audited
(`patient.lookup`) and the list or search itself once (`care_team.patients.list`,
`care_team.patients.search`, with counts, never the text typed). Every move is audited per
patient (`care_team.patient.move`, details `from=<team>; to=<team>`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import or_, select, update
from sqlalchemy.orm import load_only

from portal.backend.db import UnitOfWork
from portal.backend.models import CareTeam, CareTeamMember, Conversation, Patient
from portal.backend.security.principal import NotFound, Principal, Role, require_role
from portal.backend.services.care_teams import CareTeamRefused, team_of
from portal.backend.services.patient_query import SearchInvalid, read_query
from portal.backend.services.patient_search import CANDIDATE_LIMIT, patients_named
from portal.backend.views import CareTeamPatientLine, CareTeamPatients

PAGE_SIZE = 25
# What a listed patient is read as: the name only (`Patient.full_name`), nothing else opened.
_NAMED = load_only(
    Patient.id,
    Patient.care_team_id,
    Patient.created_at,
    Patient.legal_first_name,
    Patient.legal_last_name,
    Patient.preferred_name,
)
# What a moved patient is read as: nothing encrypted.
_PLACED = load_only(Patient.id, Patient.care_team_id)


def team_patients(
    principal: Principal, team_id: uuid.UUID, *, after: str = "", uow: UnitOfWork
) -> CareTeamPatients:
    """A page of the team's patients, in the order they joined the practice (names are
    encrypted, so they cannot be sorted in the database); `after` is the last one shown."""
    require_role(principal, Role.ADMIN)
    with uow:
        team = team_of(uow, principal, team_id)
        rows = uow.patients.scoped(principal).options(_NAMED).where(Patient.care_team_id == team.id)
        if after:
            last = uow.patients.first(
                uow.patients.scoped(principal).where(
                    Patient.id == _id_of(after), Patient.care_team_id == team.id
                )
            )
            if last is None:
                raise NotFound
            rows = rows.where(
                or_(
                    Patient.created_at > last.created_at,
                    (Patient.created_at == last.created_at) & (Patient.id > last.id),
                )
            )
        patients = uow.patients.all(
            rows.order_by(Patient.created_at, Patient.id).limit(PAGE_SIZE + 1)
        )
        shown = patients[:PAGE_SIZE]
        _audit_listed(uow, principal, "care_team.patients.list", shown, team=team)
        uow.commit()
        return CareTeamPatients(
            lines=_lines(uow, principal, shown),
            next_after=str(shown[-1].id) if len(patients) > PAGE_SIZE else "",
        )


def find_patients(principal: Principal, query: str, *, uow: UnitOfWork) -> CareTeamPatients:
    """The practice's patients whose names hold every typed word, by last name, each with
    their team: a page of them, and how many more matched."""
    require_role(principal, Role.ADMIN)
    try:
        wanted = read_query(query)
    except SearchInvalid as problem:
        raise CareTeamRefused(str(problem)) from None
    if wanted.kind != "name":
        raise CareTeamRefused("Search by part of the patient's name (three letters or more).")
    with uow:
        ids, too_many = patients_named(uow, principal.tenant_id, wanted.words)
        if too_many:
            raise CareTeamRefused(
                f"More than {CANDIDATE_LIMIT:,} patients match. Type more of the name."
            )
        found = sorted(
            uow.patients.all(
                uow.patients.scoped(principal).options(_NAMED).where(Patient.id.in_(ids))
            ),
            key=lambda patient: (patient.legal_last_name.casefold(), patient.full_name, patient.id),
        )
        shown = found[:PAGE_SIZE]
        _audit_listed(uow, principal, "care_team.patients.search", shown)
        uow.commit()
        return CareTeamPatients(lines=_lines(uow, principal, shown), more=len(found) - len(shown))


def move_patient(
    principal: Principal, patient_id: uuid.UUID, team_id: uuid.UUID, *, uow: UnitOfWork
) -> bool:
    """Put the patient (with their conversations) on the team; False when they already are."""
    require_role(principal, Role.ADMIN)
    with uow:
        team = _receiving_team(uow, principal, team_id)
        patient = uow.patients.first(
            uow.patients.scoped(principal).options(_PLACED).where(Patient.id == patient_id)
        )
        if patient is None:
            raise NotFound
        if patient.care_team_id == team.id:
            return False
        _move(uow, principal, [patient], team)
        uow.commit()
        return True


def move_all_patients(
    principal: Principal, from_team_id: uuid.UUID, to_team_id: uuid.UUID, *, uow: UnitOfWork
) -> int:
    """Put every patient of one team (with their conversations) on another; answers how many
    moved."""
    require_role(principal, Role.ADMIN)
    if from_team_id == to_team_id:
        raise CareTeamRefused("Choose another team to move the patients to.")
    with uow:
        source = team_of(uow, principal, from_team_id)
        team = _receiving_team(uow, principal, to_team_id)
        patients = uow.patients.all(
            uow.patients.scoped(principal).options(_PLACED).where(Patient.care_team_id == source.id)
        )
        _move(uow, principal, patients, team)
        uow.commit()
        return len(patients)


def _receiving_team(uow: UnitOfWork, principal: Principal, team_id: uuid.UUID) -> CareTeam:
    """The team patients move to, locked until the move commits (so it cannot be deleted
    meanwhile); refused while it has no members."""
    team = team_of(uow, principal, team_id, lock=True)
    member = uow.session.exec(
        select(CareTeamMember.provider_id).where(CareTeamMember.care_team_id == team.id)
    ).first()
    if member is None:
        raise CareTeamRefused(
            f"{team.name} has no members yet, so nobody would read its patients' messages. "
            "Add a provider to it first."
        )
    return team


def _move(
    uow: UnitOfWork, principal: Principal, patients: Sequence[Patient], team: CareTeam
) -> None:
    ids = [patient.id for patient in patients]
    if not ids:
        return
    for patient in patients:
        uow.audit.record(
            principal,
            "care_team.patient.move",
            resource_type="patient",
            resource_id=patient.id,
            patient_id=patient.id,
            details=f"from={patient.care_team_id or 'none'}; to={team.id}",
        )
    members = select(CareTeamMember.provider_id).where(CareTeamMember.care_team_id == team.id)
    for chunk in (ids[start : start + 500] for start in range(0, len(ids), 500)):
        uow.session.execute(
            update(Patient)
            .where(Patient.tenant_id == team.tenant_id, Patient.id.in_(chunk))
            .values(care_team_id=team.id)
            .execution_options(synchronize_session=False)
        )
        threads = (Conversation.tenant_id == team.tenant_id) & Conversation.patient_id.in_(chunk)
        uow.session.execute(
            update(Conversation)
            .where(threads, Conversation.assigned_provider_id.not_in(members))
            .values(assigned_provider_id=None)
            .execution_options(synchronize_session=False)
        )
        uow.session.execute(
            update(Conversation)
            .where(threads)
            .values(care_team_id=team.id)
            .execution_options(synchronize_session=False)
        )


def _audit_listed(
    uow: UnitOfWork,
    principal: Principal,
    action: str,
    patients: Sequence[Patient],
    *,
    team: CareTeam | None = None,
) -> None:
    uow.audit.record(
        principal,
        action,
        resource_type="care_team" if team else "patient_list",
        resource_id=team.id if team else None,
        details=f"listed={len(patients)}",
    )
    for patient in patients:
        uow.audit.record(
            principal,
            "patient.lookup",
            resource_type="patient",
            resource_id=patient.id,
            patient_id=patient.id,
        )


def _lines(
    uow: UnitOfWork, principal: Principal, patients: Sequence[Patient]
) -> list[CareTeamPatientLine]:
    teams = dict(
        uow.session.exec(
            select(CareTeam.id, CareTeam.name).where(CareTeam.tenant_id == principal.tenant_id)
        ).all()
    )
    return [
        CareTeamPatientLine(
            id=str(patient.id),
            name=patient.full_name,
            team_id=str(patient.care_team_id) if patient.care_team_id else "",
            team=teams.get(patient.care_team_id, ""),
        )
        for patient in patients
    ]


def _id_of(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound from None
