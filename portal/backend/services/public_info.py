"""What anyone may read about the practice without signing in: its name and telephone number,
for the public accessibility statement, privacy policy and terms. No PHI, no audit event."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from portal.backend.db import UnitOfWork
from portal.backend.models import Practice


@dataclass(frozen=True)
class PracticeContact:
    name: str
    phone: str


def practice_contact(*, uow: UnitOfWork) -> PracticeContact:
    """The portal's practice (the first one, as self-registration uses), or a neutral name."""
    with uow:
        practice = (
            uow.session.exec(select(Practice).order_by(Practice.created_at)).scalars().first()
        )
        if practice is None:
            return PracticeContact(name="the practice", phone="")
        return PracticeContact(name=practice.name, phone=practice.phone or "")
