"""The care teams screen's state, for admins: the practice's teams with their members;
creating, renaming, staffing and deleting them; and the patients of a team (or found by name)
moved to another team. Every handler re-checks the session and the role, and acts only on a
team, provider or patient the screen currently shows; the service re-checks each."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx

from portal.backend.security.principal import NotFound, Principal, Role
from portal.backend.services import care_team_patients, care_teams
from portal.backend.services.care_teams import CareTeamRefused
from portal.backend.views import CareTeamLine, CareTeamPatientLine, CareTeamPatients, Choice
from portal.components.forms import record_id, text_of
from portal.state.base import Screen, run_service, screen_state
from portal.state.session import signed_in

GONE = "That team or provider is no longer in this practice's list. The list is up to date now."


@screen_state
class CareTeamsState(Screen):
    teams: list[CareTeamLine] = []
    providers: list[Choice] = []
    # The team whose name is being edited, and the one whose deletion awaits a confirmation
    # ("" for none).
    renaming: str = ""
    deleting: str = ""
    # Patients shown for moving: a team's (`listed_team`, a page at a time) or found by name.
    patients: list[CareTeamPatientLine] = []
    patients_heading: str = ""
    listed_team: str = ""
    next_after: str = ""
    more_found: int = 0
    # What was typed to find patients (a name: kept in the backend only), and its problem.
    _query: str = ""
    search_error: str = ""
    error: str = ""
    message: str = ""
    pending: bool = False

    @rx.event
    async def load(self):
        self.reset()
        principal = await signed_in(self, Role.ADMIN)
        if principal is not None:
            await self._refresh(principal)

    @rx.event
    async def create(self, form_data: dict):
        name = text_of(form_data, "team_name", 300)
        await self._act(
            lambda principal: run_service(self, care_teams.create_care_team, principal, name),
            f"The team {' '.join(name.split())} is created. Add its members below.",
        )

    @rx.event
    def start_rename(self, team_id: str):
        self.renaming = team_id if self._team(team_id) is not None else ""

    @rx.event
    def cancel_rename(self):
        self.renaming = ""

    @rx.event
    async def rename(self, form_data: dict):
        team = self._team(self.renaming)
        if team is None:
            return
        name = text_of(form_data, "new_name", 300)
        await self._act(
            lambda principal: run_service(
                self, care_teams.rename_care_team, principal, record_id(team.id), name
            ),
            f"{team.name} is now called {' '.join(name.split())}.",
        )

    @rx.event
    async def add_member(self, form_data: dict):
        team = self._team(text_of(form_data, "team", 40))
        provider_id = text_of(form_data, "provider", 40)
        provider = next((p for p in self.providers if p.id == provider_id), None)
        if team is None or provider is None:
            self.error, self.message = "Choose a provider to add.", ""
            return
        await self._act(
            lambda principal: run_service(
                self, care_teams.add_member, principal, record_id(team.id), record_id(provider.id)
            ),
            f"{provider.name} is on {team.name}.",
        )

    @rx.event
    async def remove_member(self, team_id: str, provider_id: str):
        team = self._team(team_id)
        member = (
            next((m for m in team.members if m.provider_id == provider_id), None) if team else None
        )
        if member is None:
            self.error, self.message = GONE, ""
            return
        await self._act(
            lambda principal: run_service(
                self,
                care_teams.remove_member,
                principal,
                record_id(team.id),
                record_id(member.provider_id),
            ),
            f"{member.name} is no longer on {team.name}.",
        )

    @rx.event
    def start_delete(self, team_id: str):
        self.deleting = team_id if self._team(team_id) is not None else ""

    @rx.event
    def cancel_delete(self):
        self.deleting = ""

    @rx.event
    async def delete_team(self):
        team = self._team(self.deleting)
        if team is None:
            return
        await self._act(
            lambda principal: run_service(
                self, care_teams.delete_care_team, principal, record_id(team.id)
            ),
            f"The team {team.name} is deleted.",
        )
        self.deleting = ""

    @rx.event
    async def list_patients(self, team_id: str):
        team = self._team(team_id)
        principal = await signed_in(self, Role.ADMIN)
        if team is None or principal is None:
            return
        self._query = ""
        await self._list(principal, team)

    @rx.event
    async def more_patients(self):
        team = self._team(self.listed_team)
        principal = await signed_in(self, Role.ADMIN)
        if team is None or principal is None or not self.next_after:
            return
        try:
            more = await run_service(
                self,
                care_team_patients.team_patients,
                principal,
                record_id(team.id),
                after=self.next_after,
            )
        except NotFound:
            await self._list(principal, team)
            return
        self.patients, self.next_after = self.patients + more.lines, more.next_after

    @rx.event
    async def find_patients(self, form_data: dict):
        principal = await signed_in(self, Role.ADMIN)
        if principal is None:
            return
        self._query = text_of(form_data, "patient_query", 200)
        await self._search(principal)

    @rx.event
    async def move_patient(self, form_data: dict):
        patient_id = text_of(form_data, "patient", 40)
        line = next((line for line in self.patients if line.id == patient_id), None)
        team = self._team(text_of(form_data, "to", 40))
        if line is None or team is None:
            self.error, self.message = "Choose the team to move the patient to.", ""
            return
        await self._act(
            lambda principal: run_service(
                self,
                care_team_patients.move_patient,
                principal,
                record_id(line.id),
                record_id(team.id),
            ),
            f"{line.name} is now looked after by {team.name}.",
        )

    @rx.event
    async def move_all(self, form_data: dict):
        source = self._team(text_of(form_data, "from_team", 40))
        team = self._team(text_of(form_data, "to_team", 40))
        if source is None or team is None:
            self.error, self.message = "Choose both teams: whose patients, and where to.", ""
            return
        await self._act(
            lambda principal: run_service(
                self,
                care_team_patients.move_all_patients,
                principal,
                record_id(source.id),
                record_id(team.id),
            ),
            lambda moved: (
                f"{moved} patient{'s' if moved != 1 else ''} moved from "
                f"{source.name} to {team.name}."
            ),
        )

    async def _act(self, action, done: str | Callable[[Any], str]) -> None:
        """Run `action(principal)`; then say `done` (or what it makes of the action's answer)
        and show the teams and patients as they now are. A refusal is shown instead."""
        principal = await signed_in(self, Role.ADMIN)
        if principal is None:
            return
        try:
            outcome = await action(principal)
        except CareTeamRefused as refusal:
            self.error, self.message = str(refusal), ""
            return
        except NotFound:
            self.error, self.message = GONE, ""
            await self._refresh(principal)
            return
        self.error, self.renaming = "", ""
        self.message = done(outcome) if callable(done) else done
        await self._refresh(principal)
        await self._relist(principal)

    async def _refresh(self, principal: Principal) -> None:
        listed = await run_service(self, care_teams.list_care_teams, principal)
        self.teams, self.providers = listed.teams, listed.providers

    async def _relist(self, principal: Principal) -> None:
        """After a change, the patients shown again as they now are."""
        team = self._team(self.listed_team)
        if team is not None:
            await self._list(principal, team)
        elif self._query:
            await self._search(principal)
        else:
            self._show(CareTeamPatients(lines=[]), "", "")

    async def _list(self, principal: Principal, team: CareTeamLine) -> None:
        try:
            page = await run_service(
                self, care_team_patients.team_patients, principal, record_id(team.id)
            )
        except NotFound:
            self.error, self.message = GONE, ""
            await self._refresh(principal)
            return
        self._show(page, f"Patients of {team.name}", team.id)

    async def _search(self, principal: Principal) -> None:
        try:
            found = await run_service(
                self, care_team_patients.find_patients, principal, self._query
            )
        except CareTeamRefused as refusal:
            self.search_error = str(refusal)
            return
        self._show(found, "Patients found by name", "")

    def _show(self, page: CareTeamPatients, heading: str, team_id: str) -> None:
        self.patients, self.next_after, self.more_found = page.lines, page.next_after, page.more
        self.patients_heading, self.listed_team, self.search_error = heading, team_id, ""

    def _team(self, team_id: str) -> CareTeamLine | None:
        return next((team for team in self.teams if team.id == team_id), None)
