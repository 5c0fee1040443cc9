"""Audit events form one hash chain under a key kept outside the database."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from portal.backend import models
from portal.backend.audit import GENESIS, chain_hash
from portal.backend.services import identity
from tests.integration.factories import PASSWORD


def test_each_event_links_to_the_one_before(practice):
    for who in ("patient_a", "provider", "admin"):
        identity.sign_in(practice.emails[who], PASSWORD, uow=practice.database.unit_of_work())
    key = practice.database.keyring.provider.derived_key("audit-chain")
    with practice.database.unit_of_work() as uow:
        events = (
            uow.session.exec(select(models.AuditEvent).order_by(models.AuditEvent.sequence))
            .scalars()
            .all()
        )
        assert [e.sequence for e in events] == list(range(1, len(events) + 1))
        previous = GENESIS
        for event in events:
            assert event.previous_hash == previous
            assert event.hash == chain_hash(key, event)
            previous = event.hash


def test_the_database_refuses_to_change_or_delete_audit_events(practice):
    identity.sign_in(practice.emails["admin"], PASSWORD, uow=practice.database.unit_of_work())
    for statement in ("UPDATE audit_events SET outcome = 'x'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"), practice.database.engine.begin() as c:
            c.execute(text(statement))
