"""Care teams for admins: listing, creating and renaming teams, adding and removing provider
members, the refusal that keeps a team with patients staffed, tenant scoping, the audit trail
and who may do it."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from portal.backend import models
from portal.backend.security.principal import NotFound, PermissionDenied
from portal.backend.services import care_teams
from portal.backend.services.care_teams import CareTeamRefused
from tests.integration.factories import build_practice


def uow(practice):
    return practice.database.unit_of_work()


def audited(practice, action: str) -> list[models.AuditEvent]:
    with uow(practice) as unit:
        return list(
            unit.session.exec(select(models.AuditEvent).where(models.AuditEvent.action == action))
            .scalars()
            .all()
        )


def second_provider(practice, name: str = "Dr. Second") -> uuid.UUID:
    with uow(practice) as unit:
        user = models.User(
            tenant_id=practice.tenant_id,
            role="provider",
            email=f"{uuid.uuid4().hex[:8]}@test.example",
            email_index=uuid.uuid4().hex,
            display_name=name,
        )
        unit.session.add(user)
        unit.session.flush()
        provider = models.Provider(tenant_id=practice.tenant_id, user_id=user.id, display_name=name)
        unit.session.add(provider)
        unit.commit()
        return provider.id


def test_an_admin_lists_teams_with_members_patients_and_providers_to_add(practice):
    listed = care_teams.list_care_teams(practice.principal("admin"), uow=uow(practice))
    [team] = listed.teams
    assert (team.name, team.patients) == ("Team", 2)
    assert [(m.name, m.credentials) for m in team.members] == [("Dr. Test", "MD")]
    assert [p.name for p in listed.providers] == ["Dr. Test"]
    assert len(audited(practice, "care_team.list")) == 1


def test_an_admin_creates_renames_and_staffs_a_team(practice):
    admin = practice.principal("admin")
    team_id = care_teams.create_care_team(admin, "  Night   Team ", uow=uow(practice))
    with pytest.raises(CareTeamRefused, match="already a team called night team"):
        care_teams.create_care_team(admin, "night team", uow=uow(practice))
    with pytest.raises(CareTeamRefused, match="2 to 200 characters"):
        care_teams.create_care_team(admin, "x", uow=uow(practice))
    with pytest.raises(CareTeamRefused, match="already a team called Team"):
        care_teams.rename_care_team(admin, team_id, "Team", uow=uow(practice))
    care_teams.rename_care_team(admin, team_id, "Evening Team", uow=uow(practice))
    care_teams.rename_care_team(admin, team_id, "Evening Team", uow=uow(practice))  # no change
    care_teams.add_member(admin, team_id, practice.provider.id, uow=uow(practice))
    care_teams.add_member(admin, team_id, practice.provider.id, uow=uow(practice))  # no change
    teams = {t.name: t for t in care_teams.list_care_teams(admin, uow=uow(practice)).teams}
    assert [m.name for m in teams["Evening Team"].members] == ["Dr. Test"]
    assert teams["Evening Team"].patients == 0
    # The last member of a team without patients may go.
    care_teams.remove_member(admin, team_id, practice.provider.id, uow=uow(practice))
    care_teams.remove_member(admin, team_id, practice.provider.id, uow=uow(practice))  # stale
    teams = {t.name: t for t in care_teams.list_care_teams(admin, uow=uow(practice)).teams}
    assert teams["Evening Team"].members == []
    assert len(audited(practice, "care_team.create")) == 1
    [rename] = audited(practice, "care_team.rename")
    assert rename.details == "changed=name" and rename.resource_id == str(team_id)
    [added] = audited(practice, "care_team.member.add")
    assert added.details == f"provider={practice.provider.id}"
    assert len(audited(practice, "care_team.member.remove")) == 1


def test_the_last_member_of_a_team_with_patients_stays_in_words(practice):
    admin = practice.principal("admin")
    team = practice.care_team_id
    with pytest.raises(CareTeamRefused, match="last member of Team, which looks after 2 patients"):
        care_teams.remove_member(admin, team, practice.provider.id, uow=uow(practice))
    other = second_provider(practice)
    care_teams.add_member(admin, team, other, uow=uow(practice))
    care_teams.remove_member(admin, team, practice.provider.id, uow=uow(practice))
    [line] = care_teams.list_care_teams(admin, uow=uow(practice)).teams
    assert [m.name for m in line.members] == ["Dr. Second"]
    assert audited(practice, "care_team.member.remove")[0].outcome == "success"


def test_a_deactivated_provider_cannot_join_a_team(practice):
    admin = practice.principal("admin")
    other = second_provider(practice, "Dr. Gone")
    with uow(practice) as unit:
        provider = unit.session.get(models.Provider, other)
        unit.session.get(models.User, provider.user_id).status = "deactivated"
        unit.commit()
    with pytest.raises(CareTeamRefused, match="no active provider account"):
        care_teams.add_member(admin, practice.care_team_id, other, uow=uow(practice))
    listed = care_teams.list_care_teams(admin, uow=uow(practice))
    assert "Dr. Gone" not in [p.name for p in listed.providers]


def test_another_practices_team_or_provider_is_not_found(practice):
    other = build_practice(practice.database, slug="other-teams")
    admin = practice.principal("admin")
    for call in (
        lambda: care_teams.rename_care_team(admin, other.care_team_id, "Mine", uow=uow(practice)),
        lambda: care_teams.add_member(
            admin, other.care_team_id, practice.provider.id, uow=uow(practice)
        ),
        lambda: care_teams.add_member(
            admin, practice.care_team_id, other.provider.id, uow=uow(practice)
        ),
        lambda: care_teams.remove_member(
            admin, other.care_team_id, other.provider.id, uow=uow(practice)
        ),
        lambda: care_teams.remove_member(admin, uuid.uuid4(), uuid.uuid4(), uow=uow(practice)),
    ):
        with pytest.raises(NotFound):
            call()
    assert [t.name for t in care_teams.list_care_teams(admin, uow=uow(practice)).teams] == ["Team"]
    theirs = care_teams.list_care_teams(other.principal("admin"), uow=uow(other)).teams
    assert [(t.name, len(t.members)) for t in theirs] == [("Team", 1)]


@pytest.mark.parametrize("who", ["patient_a", "provider"])
def test_patients_and_providers_may_not_manage_care_teams(practice, who):
    principal = practice.principal(who)
    team = practice.care_team_id
    for call in (
        lambda: care_teams.list_care_teams(principal, uow=uow(practice)),
        lambda: care_teams.create_care_team(principal, "Mine", uow=uow(practice)),
        lambda: care_teams.rename_care_team(principal, team, "Mine", uow=uow(practice)),
        lambda: care_teams.add_member(principal, team, practice.provider.id, uow=uow(practice)),
        lambda: care_teams.remove_member(principal, team, practice.provider.id, uow=uow(practice)),
    ):
        with pytest.raises(PermissionDenied):
            call()
    with uow(practice) as unit:
        assert unit.session.exec(select(models.CareTeam.name)).scalars().all() == ["Team"]
        assert len(unit.session.exec(select(models.CareTeamMember)).scalars().all()) == 1
