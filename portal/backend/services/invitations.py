"""Invitations and enrollment: staff invite a patient or colleague by email; the invitee
confirms who they are, chooses a password, sets up an authenticator and gets recovery codes.
Patients may also ask for an invitation themselves when the practice allows it.

Each enrollment step re-checks the link (single use, hashed, seven days), so the steps cannot be
skipped or taken out of order.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.backend.db import UnitOfWork
from portal.backend.models import (
    AccountToken,
    Patient,
    Practice,
    Provider,
    TokenPurpose,
    User,
    UserStatus,
)
from portal.backend.models.base import utcnow
from portal.backend.notify import links
from portal.backend.notify.outbox import enqueue_email, portal_link
from portal.backend.patient_index import name_dob_index
from portal.backend.security.passwords import hash_password, password_problem
from portal.backend.security.principal import NotFound, Principal, Role, require_role
from portal.backend.services import account_tokens, mfa
from portal.backend.services.sessions import open_session
from portal.backend.services.sign_in import normalize_email

INVITATION_LIFETIME = timedelta(days=7)
IDENTITY_ATTEMPTS = 5
LINK_INVALID = "This link has expired or was already used. Ask the practice for a new one."
DATE_OF_BIRTH_MISMATCH = (
    "That date of birth does not match our records. Check it, or call the practice."
)


class InvitationRefused(Exception):
    """The invitation or enrollment step cannot go ahead; the message says why."""


@dataclass(frozen=True)
class InvitablePatient:
    id: str
    label: str
    email: str


@dataclass(frozen=True)
class Invitation:
    practice_name: str
    email: str
    role: str
    needs_date_of_birth: bool


def invitable_patients(principal: Principal, *, uow: UnitOfWork) -> list[InvitablePatient]:
    """Patients of the practice without an active portal account, for the invitation form."""
    require_role(principal, Role.ADMIN, Role.PROVIDER)
    with uow:
        rows = uow.session.exec(
            uow.patients.scoped(principal)
            .add_columns(User.status)
            .outerjoin(User, User.id == Patient.user_id)
        ).all()
        uow.audit.record(principal, "patient.list_for_invitation", resource_type="patient")
        uow.commit()
        choices = [
            InvitablePatient(
                id=str(patient.id),
                label=f"{patient.legal_last_name}, {patient.legal_first_name} "
                f"(born {patient.date_of_birth:%d %b %Y})",
                email=patient.email or "",
            )
            for patient, status in rows
            if status != UserStatus.ACTIVE
        ]
        return sorted(choices, key=lambda choice: choice.label)


def invite_patient(
    principal: Principal, patient_id: uuid.UUID, email: str, *, uow: UnitOfWork
) -> None:
    require_role(principal, Role.ADMIN, Role.PROVIDER)
    with uow:
        patient = uow.patients.get_for(principal, patient_id)
        if patient is None:
            raise NotFound
        name = patient.full_name
        user = uow.session.get(User, patient.user_id) if patient.user_id else None
        if user is not None and user.status == UserStatus.ACTIVE:
            raise InvitationRefused("This patient already has a portal account.")
        user = _invitee(uow, principal.tenant_id, user, Role.PATIENT, name, email)
        patient.user_id = user.id
        _send_invitation(uow, principal, user)
        uow.audit.record(
            principal,
            "invitation.send",
            resource_type="user",
            resource_id=user.id,
            patient_id=patient.id,
        )
        uow.commit()


def invite_staff(
    principal: Principal,
    role: Role,
    *,
    name: str,
    email: str,
    credentials: str,
    specialty: str,
    uow: UnitOfWork,
) -> None:
    require_role(principal, Role.ADMIN)
    if role not in (Role.PROVIDER, Role.ADMIN):
        raise InvitationRefused("Invite patients from their record.")
    if not name.strip():
        raise InvitationRefused("Enter the person's name.")
    with uow:
        user = _invitee(uow, principal.tenant_id, None, role, name.strip(), email)
        if role == Role.PROVIDER:
            uow.providers.add(
                Provider(
                    tenant_id=principal.tenant_id,
                    user_id=user.id,
                    display_name=name.strip(),
                    credentials=credentials.strip(),
                    specialty=specialty.strip(),
                )
            )
        _send_invitation(uow, principal, user)
        uow.audit.record(principal, "invitation.send", resource_type="user", resource_id=user.id)
        uow.commit()


def open_invitation(token: str, *, uow: UnitOfWork) -> Invitation:
    with uow:
        _, user = _invitation(uow, token)
        return Invitation(
            practice_name=uow.session.get(Practice, user.tenant_id).name,
            email=user.email,
            role=str(user.role),
            needs_date_of_birth=user.role == Role.PATIENT,
        )


def choose_password(
    token: str, date_of_birth: date | None, password: str, *, uow: UnitOfWork
) -> mfa.AuthenticatorSetup:
    """After the identity check, set the password and return a new authenticator to scan."""
    with uow:
        row, user = _invitation(uow, token)
        _check_identity(uow, row, user, date_of_birth)
        problem = password_problem(password, name=user.display_name, email=user.email)
        if problem:
            raise InvitationRefused(problem)
        user.password_hash = hash_password(password)
        user.password_changed_at = utcnow()
        setup = mfa.new_authenticator(uow, user)
        uow.audit.record(
            None, "invitation.password_set", tenant_id=user.tenant_id, actor_user_id=user.id
        )
        uow.commit()
        return setup


def finish_invitation(
    token: str, date_of_birth: date | None, code: str, *, device: str, uow: UnitOfWork
) -> tuple[list[str], Principal]:
    """Confirm the authenticator: the account becomes active, the link is spent and a session
    opens (the browser gets its token through a session ticket)."""
    with uow:
        row, user = _invitation(uow, token)
        _check_identity(uow, row, user, date_of_birth)
        if user.password_hash is None:
            raise InvitationRefused("Choose a password first.")
        codes = mfa.confirm_authenticator(uow, user, code)
        user.status = UserStatus.ACTIVE
        row.used_at = utcnow()
        uow.audit.record(
            None,
            "invitation.accepted",
            tenant_id=user.tenant_id,
            actor_user_id=user.id,
            resource_type="user",
            resource_id=user.id,
        )
        principal = open_session(uow, user, device=device).principal
        uow.commit()
        return codes, principal


def registration_open(*, uow: UnitOfWork) -> bool:
    """Whether the practice lets patients ask for an account themselves."""
    with uow:
        practice = (
            uow.session.exec(select(Practice).order_by(Practice.created_at)).scalars().first()
        )
        return bool(practice and practice.patient_self_registration)


def request_registration(
    first_name: str, last_name: str, date_of_birth: date, email: str, *, uow: UnitOfWork
) -> None:
    """Self-registration: when name and date of birth match a patient of the practice with no
    account, an invitation goes to the address given. Whatever happens, the caller sees the same
    answer, and the address gets an email saying what to do next."""
    with uow:
        practice = (
            uow.session.exec(select(Practice).order_by(Practice.created_at)).scalars().first()
        )
        if practice is None or not practice.patient_self_registration:
            raise InvitationRefused("This practice does not offer online registration.")
        index = name_dob_index(uow, last_name, date_of_birth)
        patients = (
            uow.session.exec(
                select(Patient).where(
                    Patient.tenant_id == practice.id, Patient.name_dob_index == index
                )
            )
            .scalars()
            .all()
        )
        match = next(
            (p for p in patients if p.legal_first_name.casefold() == first_name.strip().casefold()),
            None,
        )
        account = uow.session.get(User, match.user_id) if match and match.user_id else None
        email_index = uow.keyring.blind_index("email", normalize_email(email))
        taken = uow.users.first(select(User).where(User.email_index == email_index))
        key = f"registration:{email_index}:{utcnow():%Y%m%d%H}"
        if (account is not None and account.status == UserStatus.ACTIVE) or (
            taken is not None and (account is None or taken.id != account.id)
        ):
            enqueue_email(
                uow,
                tenant_id=practice.id,
                to=email.strip(),
                template_id="registration_existing",
                idempotency_key=key,
                parameters={"link": portal_link(links.SIGN_IN)},
            )
            outcome = "existing"
        elif match is None:
            enqueue_email(
                uow,
                tenant_id=practice.id,
                to=email.strip(),
                template_id="registration_unmatched",
                idempotency_key=key,
                parameters={},
            )
            outcome = "unmatched"
        else:
            name = f"{match.legal_first_name} {match.legal_last_name}"
            user = _invitee(uow, practice.id, account, Role.PATIENT, name, email)
            match.user_id = user.id
            _send_invitation(uow, None, user)
            outcome = "matched"
        uow.audit.record(
            None,
            "registration.request",
            outcome=outcome,
            tenant_id=practice.id,
            patient_id=match.id if match else None,
        )
        uow.commit()


def _invitee(
    uow: UnitOfWork, tenant_id: uuid.UUID, user: User | None, role: Role, name: str, email: str
) -> User:
    email = email.strip()
    if "@" not in email or " " in email or len(email) > 254:
        raise InvitationRefused("Enter an email address in the form name@example.com.")
    email_index = uow.keyring.blind_index("email", normalize_email(email))
    holder = uow.users.first(select(User).where(User.email_index == email_index))
    if holder is not None and (user is None or holder.id != user.id):
        raise InvitationRefused("Another account already uses this email address.")
    if user is None:
        user = User(
            tenant_id=tenant_id,
            role=role,
            status=UserStatus.INVITED,
            email=email,
            email_index=email_index,
            display_name=name,
        )
        uow.users.add(user)
    else:
        user.email, user.email_index, user.display_name = email, email_index, name
    try:
        uow.session.flush()
    except IntegrityError:
        raise InvitationRefused("Another account already uses this email address.") from None
    return user


def _send_invitation(uow: UnitOfWork, principal: Principal | None, user: User) -> None:
    """A new single-use link; earlier unused ones stop working."""
    token, row = account_tokens.issue(
        uow,
        user,
        TokenPurpose.INVITATION,
        INVITATION_LIFETIME,
        created_by=principal.user_id if principal else None,
    )
    enqueue_email(
        uow,
        tenant_id=user.tenant_id,
        user_id=user.id,
        to=user.email,
        template_id="invitation",
        idempotency_key=f"invitation:{row.id}",
        parameters={"link": portal_link(links.WELCOME, token=token)},
    )


def _invitation(uow: UnitOfWork, token: str) -> tuple[AccountToken, User]:
    row, user = account_tokens.redeem(uow, token, TokenPurpose.INVITATION)
    if row is None or user.status != UserStatus.INVITED:
        uow.audit.record(None, "invitation.open", outcome="invalid_link")
        uow.commit()
        raise InvitationRefused(LINK_INVALID)
    return row, user


def _check_identity(
    uow: UnitOfWork, row: AccountToken, user: User, date_of_birth: date | None
) -> None:
    """Patients prove who they are with their date of birth; five wrong tries spend the link."""
    if user.role != Role.PATIENT:
        return
    patient = uow.session.exec(select(Patient).where(Patient.user_id == user.id)).scalars().first()
    if patient is None or date_of_birth != patient.date_of_birth:
        row.failures += 1
        if row.failures >= IDENTITY_ATTEMPTS:
            row.used_at = utcnow()
        uow.audit.record(
            None,
            "invitation.identity_check",
            outcome="failure",
            tenant_id=user.tenant_id,
            actor_user_id=user.id,
        )
        uow.commit()
        raise InvitationRefused(
            LINK_INVALID if row.failures >= IDENTITY_ATTEMPTS else DATE_OF_BIRTH_MISMATCH
        )
