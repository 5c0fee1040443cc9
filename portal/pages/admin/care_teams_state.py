"""The care teams screen's state, for admins: the practice's teams with their members, and
creating, renaming and staffing them. Every handler re-checks the session and the role, and
acts only on a team (and provider) the screen currently shows; the service re-checks both."""

from __future__ import annotations

import reflex as rx

from portal.backend.security.principal import NotFound, Principal, Role
from portal.backend.services import care_teams
from portal.backend.services.care_teams import CareTeamRefused
from portal.backend.views import CareTeamLine, Choice
from portal.components.forms import record_id, text_of
from portal.state.base import run_service, screen_state
from portal.state.session import signed_in

GONE = "That team or provider is no longer in this practice's list. The list is up to date now."


@screen_state
class CareTeamsState(rx.State):
    teams: list[CareTeamLine] = []
    providers: list[Choice] = []
    # The team whose name is being edited ("" for none).
    renaming: str = ""
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

    async def _act(self, action, done: str) -> None:
        principal = await signed_in(self, Role.ADMIN)
        if principal is None:
            return
        try:
            await action(principal)
        except CareTeamRefused as refusal:
            self.error, self.message = str(refusal), ""
            return
        except NotFound:
            self.error, self.message = GONE, ""
            await self._refresh(principal)
            return
        self.error, self.message, self.renaming = "", done, ""
        await self._refresh(principal)

    async def _refresh(self, principal: Principal) -> None:
        listed = await run_service(self, care_teams.list_care_teams, principal)
        self.teams, self.providers = listed.teams, listed.providers

    def _team(self, team_id: str) -> CareTeamLine | None:
        return next((team for team in self.teams if team.id == team_id), None)
