"""Care teams, for admins: the groups of providers whose shared inbox receives their patients'
messages. Admins list, create, rename and delete teams and add or remove provider members; a
team that still looks after patients always keeps at least one member, so no patient writes
into an inbox nobody reads, and only a team without patients or open conversations can be
deleted. Moving patients between teams is `care_team_patients`.

Names of teams and providers are not PHI. Every change is audited with `details` naming what
changed (ids, never names); another practice's team or provider answers as missing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update

from portal.backend.db import UnitOfWork
from portal.backend.models import (
    CareTeam,
    CareTeamMember,
    Conversation,
    Patient,
    Provider,
    User,
    UserStatus,
)
from portal.backend.security.principal import NotFound, Principal, Role, require_role
from portal.backend.views import CareTeamLine, CareTeamMemberLine, Choice

NAME_LIMIT = 200


class CareTeamRefused(Exception):
    """The change would leave the practice worse off, or the name cannot be used; the
    message says why in plain words."""


@dataclass(frozen=True)
class CareTeams:
    teams: list[CareTeamLine]
    # Providers who may join a team: active or invited provider accounts.
    providers: list[Choice]


def list_care_teams(principal: Principal, *, uow: UnitOfWork) -> CareTeams:
    require_role(principal, Role.ADMIN)
    with uow:
        tenant = principal.tenant_id
        teams = uow.care_teams.all(
            uow.care_teams.scoped(principal).order_by(CareTeam.name, CareTeam.id)
        )
        members = uow.session.exec(
            select(CareTeamMember.care_team_id, Provider)
            .join(Provider, Provider.id == CareTeamMember.provider_id)
            .where(CareTeamMember.tenant_id == tenant, Provider.tenant_id == tenant)
            .order_by(Provider.display_name, Provider.id)
        ).all()
        patients = dict(
            uow.session.exec(
                select(Patient.care_team_id, func.count())
                .where(Patient.tenant_id == tenant, Patient.care_team_id.is_not(None))
                .group_by(Patient.care_team_id)
            ).all()
        )
        choices = (
            uow.session.exec(
                select(Provider)
                .join(User, User.id == Provider.user_id)
                .where(
                    Provider.tenant_id == tenant,
                    User.role == Role.PROVIDER,
                    User.status != UserStatus.DEACTIVATED,
                )
                .order_by(Provider.display_name, Provider.id)
            )
            .scalars()
            .all()
        )
        uow.audit.record(principal, "care_team.list", resource_type="care_team")
        uow.commit()
        return CareTeams(
            teams=[
                CareTeamLine(
                    id=str(team.id),
                    name=team.name,
                    members=[
                        CareTeamMemberLine(str(p.id), p.display_name, p.credentials)
                        for team_id, p in members
                        if team_id == team.id
                    ],
                    patients=patients.get(team.id, 0),
                )
                for team in teams
            ],
            providers=[Choice(str(p.id), p.display_name) for p in choices],
        )


def create_care_team(principal: Principal, name: str, *, uow: UnitOfWork) -> uuid.UUID:
    require_role(principal, Role.ADMIN)
    name = _team_name(name)
    with uow:
        _refuse_taken(uow, principal, name)
        team = uow.care_teams.add(CareTeam(tenant_id=principal.tenant_id, name=name))
        uow.session.flush()
        uow.audit.record(
            principal, "care_team.create", resource_type="care_team", resource_id=team.id
        )
        uow.commit()
        return team.id


def rename_care_team(
    principal: Principal, team_id: uuid.UUID, name: str, *, uow: UnitOfWork
) -> None:
    require_role(principal, Role.ADMIN)
    name = _team_name(name)
    with uow:
        team = team_of(uow, principal, team_id)
        if team.name == name:
            return  # nothing changes
        _refuse_taken(uow, principal, name, but=team.id)
        team.name = name
        uow.audit.record(
            principal,
            "care_team.rename",
            resource_type="care_team",
            resource_id=team.id,
            details="changed=name",
        )
        uow.commit()


def add_member(
    principal: Principal, team_id: uuid.UUID, provider_id: uuid.UUID, *, uow: UnitOfWork
) -> None:
    """Add a provider to the team (already a member: nothing changes)."""
    require_role(principal, Role.ADMIN)
    with uow:
        team = team_of(uow, principal, team_id)
        provider = uow.providers.get_for(principal, provider_id)
        user = uow.session.get(User, provider.user_id) if provider and provider.user_id else None
        if provider is None:
            raise NotFound
        if user is None or user.role != Role.PROVIDER or user.status == UserStatus.DEACTIVATED:
            raise CareTeamRefused(
                f"{provider.display_name} has no active provider account, so they could not "
                "read the team's messages."
            )
        if _membership(uow, team.id, provider.id) is not None:
            return
        uow.session.add(
            CareTeamMember(care_team_id=team.id, provider_id=provider.id, tenant_id=team.tenant_id)
        )
        uow.audit.record(
            principal,
            "care_team.member.add",
            resource_type="care_team",
            resource_id=team.id,
            details=f"provider={provider.id}",
        )
        uow.commit()


def remove_member(
    principal: Principal, team_id: uuid.UUID, provider_id: uuid.UUID, *, uow: UnitOfWork
) -> None:
    """Take a provider off the team (not a member: nothing changes). The last member of a
    team that still looks after patients stays: their messages would reach nobody."""
    require_role(principal, Role.ADMIN)
    with uow:
        team = team_of(uow, principal, team_id)
        provider = uow.providers.get_for(principal, provider_id)
        if provider is None:
            raise NotFound
        membership = _membership(uow, team.id, provider.id, lock=True)
        if membership is None:
            return
        others = uow.session.exec(
            select(func.count())
            .select_from(CareTeamMember)
            .where(
                CareTeamMember.care_team_id == team.id, CareTeamMember.provider_id != provider.id
            )
        ).scalar_one()
        if not others:
            patients = uow.session.exec(
                select(func.count())
                .select_from(Patient)
                .where(Patient.tenant_id == team.tenant_id, Patient.care_team_id == team.id)
            ).scalar_one()
            if patients:
                raise CareTeamRefused(
                    f"{provider.display_name} is the last member of {team.name}, which looks "
                    f"after {patients} patient{'s' if patients != 1 else ''}. Their messages "
                    "go to this team's inbox, so nobody would read them: add another member "
                    "first."
                )
        uow.session.delete(membership)
        uow.audit.record(
            principal,
            "care_team.member.remove",
            resource_type="care_team",
            resource_id=team.id,
            details=f"provider={provider.id}",
        )
        uow.commit()


def delete_care_team(principal: Principal, team_id: uuid.UUID, *, uow: UnitOfWork) -> None:
    """Delete a team that looks after no patient and has no open conversation; its members
    leave it, and its finished conversations stay with their patients' teams. Anything else
    is refused with what to do first."""
    require_role(principal, Role.ADMIN)
    with uow:
        team = team_of(uow, principal, team_id, lock=True)
        patients = uow.session.exec(
            select(func.count())
            .select_from(Patient)
            .where(Patient.tenant_id == team.tenant_id, Patient.care_team_id == team.id)
        ).scalar_one()
        if patients:
            raise CareTeamRefused(
                f"{team.name} still looks after {patients} patient{'s' if patients != 1 else ''}. "
                "Move them to another team first (Move patients, below); then delete it."
            )
        threads = uow.session.exec(
            select(Conversation.status, Patient.care_team_id)
            .join(Patient, Patient.id == Conversation.patient_id)
            .where(Conversation.tenant_id == team.tenant_id, Conversation.care_team_id == team.id)
        ).all()
        waiting = sum(1 for status, home in threads if status != "done" or home is None)
        if waiting:
            raise CareTeamRefused(
                f"{waiting} conversation{'s' if waiting != 1 else ''} in {team.name}'s inbox "
                f"still need{'' if waiting != 1 else 's'} the team. Have the team mark "
                f"{'them' if waiting != 1 else 'it'} done in the inbox, or move "
                f"{'their patients' if waiting != 1 else 'its patient'} to another team (a "
                "patient's conversations go with them), first."
            )
        home = select(Patient.care_team_id).where(Patient.id == Conversation.patient_id)
        uow.session.execute(  # finished conversations follow their patients
            update(Conversation)
            .where(Conversation.tenant_id == team.tenant_id, Conversation.care_team_id == team.id)
            .values(care_team_id=home.scalar_subquery(), assigned_provider_id=None)
            .execution_options(synchronize_session=False)
        )
        members = uow.session.execute(
            delete(CareTeamMember).where(CareTeamMember.care_team_id == team.id)
        ).rowcount
        uow.session.delete(team)
        uow.audit.record(
            principal,
            "care_team.delete",
            resource_type="care_team",
            resource_id=team.id,
            details=f"members_removed={members}; conversations_moved={len(threads)}",
        )
        uow.commit()


def team_of(
    uow: UnitOfWork, principal: Principal, team_id: uuid.UUID, *, lock: bool = False
) -> CareTeam:
    """A team of the admin's practice (scoped in the query), locked for the transaction when
    asked; NotFound for any other."""
    query = uow.care_teams.scoped(principal).where(CareTeam.id == team_id)
    team = uow.care_teams.first(query.with_for_update() if lock else query)
    if team is None:
        raise NotFound
    return team


def _team_name(name: str) -> str:
    name = " ".join(name.split())
    if not 2 <= len(name) <= NAME_LIMIT:
        raise CareTeamRefused(f"A team's name has 2 to {NAME_LIMIT} characters.")
    return name


def _refuse_taken(
    uow: UnitOfWork, principal: Principal, name: str, *, but: uuid.UUID | None = None
) -> None:
    names = uow.session.exec(
        select(CareTeam.id, CareTeam.name).where(CareTeam.tenant_id == principal.tenant_id)
    ).all()
    if any(other.casefold() == name.casefold() and team_id != but for team_id, other in names):
        raise CareTeamRefused(f"There is already a team called {name}. Choose another name.")


def _membership(
    uow: UnitOfWork, team_id: uuid.UUID, provider_id: uuid.UUID, *, lock: bool = False
) -> CareTeamMember | None:
    query = select(CareTeamMember).where(
        CareTeamMember.care_team_id == team_id, CareTeamMember.provider_id == provider_id
    )
    if lock:
        query = query.with_for_update()
    return uow.session.exec(query).scalars().first()
