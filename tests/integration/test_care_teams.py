"""Care teams for admins: listing, creating, renaming and deleting teams, adding and removing
provider members, listing, finding and moving patients (with their conversations), the
refusals that keep a team with patients staffed and a team in use undeleted, tenant scoping,
the audit trail and who may do it."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from portal.backend import models
from portal.backend.security.principal import NotFound, PermissionDenied
from portal.backend.services import care_team_patients, care_teams, messaging
from portal.backend.services.care_teams import CareTeamRefused
from tests.integration.factories import CANARY, build_practice


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


# --- moving patients and deleting teams -----------------------------------------------------


def staffed_team(practice, name: str = "Night Team") -> tuple[uuid.UUID, uuid.UUID]:
    """A new team with one member of its own: (team, provider)."""
    admin = practice.principal("admin")
    team = care_teams.create_care_team(admin, name, uow=uow(practice))
    provider = second_provider(practice, f"Dr. {name}")
    care_teams.add_member(admin, team, provider, uow=uow(practice))
    return team, provider


def placed(practice) -> dict:
    """Each patient's team, and each conversation's team and assignee."""
    with uow(practice) as unit:
        patients = dict(
            unit.session.exec(select(models.Patient.id, models.Patient.care_team_id)).all()
        )
        threads = {
            row.id: (row.care_team_id, row.assigned_provider_id)
            for row in unit.session.exec(select(models.Conversation)).scalars()
        }
    return {"patients": patients, "threads": threads}


def test_a_teams_patients_are_listed_a_page_at_a_time_and_each_is_audited(practice, monkeypatch):
    monkeypatch.setattr(care_team_patients, "PAGE_SIZE", 1)
    admin = practice.principal("admin")
    first = care_team_patients.team_patients(admin, practice.care_team_id, uow=uow(practice))
    second = care_team_patients.team_patients(
        admin, practice.care_team_id, after=first.next_after, uow=uow(practice)
    )
    assert [line.name for line in first.lines + second.lines] == [f"Ann{CANARY} Alpha", "Bob Beta"]
    assert second.next_after == "" and {line.team for line in first.lines} == {"Team"}
    listed = audited(practice, "care_team.patients.list")
    assert [event.details for event in listed] == ["listed=1", "listed=1"]
    looked_up = audited(practice, "patient.lookup")
    assert {event.patient_id for event in looked_up} == {
        practice.patient_a.id,
        practice.patient_b.id,
    }
    with pytest.raises(NotFound):
        care_team_patients.team_patients(
            admin, practice.care_team_id, after="not-an-id", uow=uow(practice)
        )


def test_patients_are_found_by_part_of_their_name_and_the_text_is_not_audited(
    practice, monkeypatch
):
    admin = practice.principal("admin")
    found = care_team_patients.find_patients(admin, "BET", uow=uow(practice))
    assert [(line.name, line.team) for line in found.lines] == [("Bob Beta", "Team")]
    assert found.more == 0
    assert care_team_patients.find_patients(admin, "nobody", uow=uow(practice)).lines == []
    for typed in ("1970-01-02", "bob@example.com", "b"):
        with pytest.raises(CareTeamRefused):
            care_team_patients.find_patients(admin, typed, uow=uow(practice))
    monkeypatch.setattr(care_team_patients, "PAGE_SIZE", 0)  # a match beyond the page: counted
    beyond = care_team_patients.find_patients(admin, "beta", uow=uow(practice))
    assert (beyond.lines, beyond.more) == ([], 1)
    searches = audited(practice, "care_team.patients.search")
    assert [event.details for event in searches] == ["listed=1", "listed=0", "listed=0"]
    assert [event.patient_id for event in audited(practice, "patient.lookup")] == [
        practice.patient_b.id
    ]


def test_a_moved_patient_takes_their_conversations_to_the_new_team(practice):
    admin = practice.principal("admin")
    night, _ = staffed_team(practice)
    with uow(practice) as unit:  # Dr. Test has taken patient B's thread
        thread = unit.session.get(models.Conversation, practice.conversation_b)
        thread.assigned_provider_id = practice.provider.id
        unit.commit()
    assert care_team_patients.move_patient(admin, practice.patient_b.id, night, uow=uow(practice))
    after = placed(practice)
    assert after["patients"][practice.patient_b.id] == night
    assert after["patients"][practice.patient_a.id] == practice.care_team_id
    # Dr. Test is not on the new team: the thread waits for one of its members.
    assert after["threads"][practice.conversation_b] == (night, None)
    assert after["threads"][practice.conversation_a] == (practice.care_team_id, None)
    [event] = audited(practice, "care_team.patient.move")
    assert event.patient_id == practice.patient_b.id
    assert event.details == f"from={practice.care_team_id}; to={night}"
    # The old team's member no longer reads it.
    with pytest.raises(NotFound):
        messaging.read_thread(
            practice.principal("provider"), practice.conversation_b, uow=uow(practice)
        )
    # Already there: nothing changes, nothing is audited.
    assert not care_team_patients.move_patient(
        admin, practice.patient_b.id, night, uow=uow(practice)
    )
    assert len(audited(practice, "care_team.patient.move")) == 1


def test_a_team_without_members_takes_no_patients(practice):
    admin = practice.principal("admin")
    empty = care_teams.create_care_team(admin, "Empty Team", uow=uow(practice))
    before = placed(practice)
    with pytest.raises(CareTeamRefused, match="Empty Team has no members yet"):
        care_team_patients.move_patient(admin, practice.patient_a.id, empty, uow=uow(practice))
    with pytest.raises(CareTeamRefused, match="has no members yet"):
        care_team_patients.move_all_patients(admin, practice.care_team_id, empty, uow=uow(practice))
    with pytest.raises(CareTeamRefused, match="Choose another team"):
        care_team_patients.move_all_patients(
            admin, practice.care_team_id, practice.care_team_id, uow=uow(practice)
        )
    assert placed(practice) == before


def test_all_patients_move_and_the_emptied_team_is_deleted_with_its_members(practice):
    admin = practice.principal("admin")
    night, _ = staffed_team(practice)
    with pytest.raises(CareTeamRefused, match=r"Team still looks after 2 patients\. Move them"):
        care_teams.delete_care_team(admin, practice.care_team_id, uow=uow(practice))
    moved = care_team_patients.move_all_patients(
        admin, practice.care_team_id, night, uow=uow(practice)
    )
    assert moved == 2
    after = placed(practice)
    assert set(after["patients"].values()) == {night}
    assert {team for team, _ in after["threads"].values()} == {night}
    assert len(audited(practice, "care_team.patient.move")) == 2
    care_teams.delete_care_team(admin, practice.care_team_id, uow=uow(practice))
    with uow(practice) as unit:
        assert unit.session.get(models.CareTeam, practice.care_team_id) is None
        assert (
            unit.session.exec(
                select(models.CareTeamMember).where(
                    models.CareTeamMember.care_team_id == practice.care_team_id
                )
            ).first()
            is None
        )
    [event] = audited(practice, "care_team.delete")
    assert event.resource_id == str(practice.care_team_id)
    assert event.details == "members_removed=1; conversations_moved=0"
    assert [t.name for t in care_teams.list_care_teams(admin, uow=uow(practice)).teams] == [
        "Night Team"
    ]


def test_a_team_with_an_open_conversation_is_deleted_only_once_it_is_done(practice):
    admin = practice.principal("admin")
    night, _ = staffed_team(practice)
    with uow(practice) as unit:  # a thread left in Night Team's inbox by patient A
        thread = unit.session.get(models.Conversation, practice.conversation_a)
        thread.care_team_id = night
        unit.commit()
    with pytest.raises(CareTeamRefused, match="1 conversation in Night Team's inbox still needs"):
        care_teams.delete_care_team(admin, night, uow=uow(practice))
    with uow(practice) as unit:
        unit.session.get(models.Conversation, practice.conversation_a).status = "done"
        unit.commit()
    care_teams.delete_care_team(admin, night, uow=uow(practice))
    # The finished thread went back to its patient's team.
    assert placed(practice)["threads"][practice.conversation_a][0] == practice.care_team_id
    [event] = audited(practice, "care_team.delete")
    assert event.details == "members_removed=1; conversations_moved=1"


def test_moves_and_deletions_in_another_practice_are_not_found(practice):
    other = build_practice(practice.database, slug="other-moves")
    admin = practice.principal("admin")
    night, _ = staffed_team(practice)
    before = placed(practice)
    for call in (
        lambda: care_team_patients.move_patient(
            admin, other.patient_a.id, night, uow=uow(practice)
        ),
        lambda: care_team_patients.move_patient(
            admin, practice.patient_a.id, other.care_team_id, uow=uow(practice)
        ),
        lambda: care_team_patients.move_all_patients(
            admin, other.care_team_id, night, uow=uow(practice)
        ),
        lambda: care_team_patients.team_patients(admin, other.care_team_id, uow=uow(practice)),
        lambda: care_teams.delete_care_team(admin, other.care_team_id, uow=uow(practice)),
    ):
        with pytest.raises(NotFound):
            call()
    assert placed(practice) == before
    theirs = care_team_patients.find_patients(admin, "beta", uow=uow(practice))
    assert [line.id for line in theirs.lines] == [str(practice.patient_b.id)]


@pytest.mark.parametrize("who", ["patient_a", "provider"])
def test_patients_and_providers_may_not_move_patients_or_delete_teams(practice, who):
    principal = practice.principal(who)
    team = practice.care_team_id
    before = placed(practice)
    for call in (
        lambda: care_team_patients.team_patients(principal, team, uow=uow(practice)),
        lambda: care_team_patients.find_patients(principal, "beta", uow=uow(practice)),
        lambda: care_team_patients.move_patient(
            principal, practice.patient_b.id, team, uow=uow(practice)
        ),
        lambda: care_team_patients.move_all_patients(
            principal, team, uuid.uuid4(), uow=uow(practice)
        ),
        lambda: care_teams.delete_care_team(principal, team, uow=uow(practice)),
    ):
        with pytest.raises(PermissionDenied):
            call()
    assert placed(practice) == before
