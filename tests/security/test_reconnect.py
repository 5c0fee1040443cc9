"""A tab that reconnects after its session ended while it was away (closed, asleep): the old
Reflex tab token comes back with the old session cookie, or with the cookie of someone else
who signed in since, and hydrates as a browser's tab does. The screens it held are cleared
before the state is sent, so no frame carries the patient's PHI; the page guard still sends
the tab to the sign-in page."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import update

from portal.backend import models
from portal.backend.models.base import utcnow
from portal.backend.security.tokens import token_hash
from portal.pages.patient.home import PatientHomeState
from tests.e2e.socket import Tab, in_thread
from tests.security.harness import router

FIRST, LAST = "Quillon", "Reconnect"
HOME = router("/")


async def _hydrated_tab(base: str, tab_token: str, session_token: str) -> tuple[Tab, list[str]]:
    """The tab `tab_token` connected with `session_token` in its cookie, and its hydration.
    Until the server has forgotten the tab's last connection it gives a new one another token
    (and none of the tab's state): such a connection is dropped and made again."""
    for _attempt in range(40):
        tab = await Tab.open(base, tab_token, base, session_token=session_token)
        hydrated = await tab.hydrate(HOME)
        if not tab.renamed:
            return tab, hydrated
        await tab.close()
        await asyncio.sleep(0.2)
    raise AssertionError("no connection kept the tab's token")


def _idle_out(database, session_token: str) -> None:
    """The session idled past its limit while the tab was away."""
    with database.unit_of_work() as uow:
        uow.session.execute(
            update(models.UserSession)
            .where(models.UserSession.token_hash == token_hash(session_token))
            .values(last_seen_at=utcnow() - timedelta(hours=1))
        )
        uow.commit()


@pytest.mark.parametrize("comes_back_with", ["its idled-out session", "another patient's session"])
def test_a_tab_whose_session_ended_reconnects_to_no_phi(
    portal_url, portal_database, accounts, new_patient, comes_back_with
):
    patient = new_patient(FIRST, LAST)
    session_token = accounts.session_token(patient.email)
    tab_token = uuid.uuid4().hex

    async def away_and_back() -> tuple[list[str], list[str]]:
        tab, _ = await _hydrated_tab(portal_url, tab_token, session_token)
        shown = await tab.handle(f"{PatientHomeState.get_full_name()}.load", {}, HOME)
        await tab.close()
        _idle_out(portal_database, session_token)
        cookie = (
            session_token
            if comes_back_with == "its idled-out session"
            else accounts.session_token(new_patient().email)
        )
        tab, rehydrated = await _hydrated_tab(portal_url, tab_token, cookie)
        await tab.close()
        return shown, rehydrated

    shown, rehydrated = in_thread(away_and_back())
    assert FIRST in "".join(shown), shown
    assert rehydrated
    assert not [frame for frame in rehydrated if FIRST in frame or LAST in frame], rehydrated
    if comes_back_with == "its idled-out session":
        assert '"path": "/sign-in"' in "".join(rehydrated), rehydrated
