"""The audit log as admins review it: filter, page through, verify, export.

Admins see who did what to which record — actor, action, resource type and id, patient name,
outcome — and never clinical content. Reading the log and exporting it are audited themselves.
The CSV export carries opaque ids in its URL (never a name, a date of birth or an email) and
neutralises every cell a spreadsheet could run as a formula.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, create_engine, or_, select

from portal.backend.audit import ChainReport, verify_chain
from portal.backend.availability import local_midnight
from portal.backend.crypto import KeyRing
from portal.backend.db import UnitOfWork
from portal.backend.models import AuditEvent, Patient, Practice, User
from portal.backend.patient_index import name_dob_index
from portal.backend.security.principal import NotFound, Principal, Role, require_role
from portal.backend.services.sign_in import normalize_email
from portal.backend.views import (
    AuditCheck,
    AuditChoices,
    AuditLine,
    AuditPage,
    Choice,
    local_time,
)

PAGE_SIZE = 50
EXPORT_LIMIT = 10_000
# The export's address; the page links to it with the current filters' query string.
EXPORT_PATH = "/files/audit-log.csv"
# What a spreadsheet may take for the start of a formula (or of a hidden one).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
ACTION_PATTERN = re.compile(r"[a-z0-9_.]{0,64}")
OUTCOME_PATTERN = re.compile(r"[a-z_]{0,16}")
MOST_PATIENTS = 20
CSV_COLUMNS = (
    "Time (practice)",
    "Time (UTC)",
    "Actor",
    "Role",
    "Action",
    "Resource type",
    "Resource id",
    "Patient",
    "Outcome",
    "Details",
    "Chain",
    "Sequence",
)
ROLE_LABELS = {"patient": "Patient", "provider": "Provider", "admin": "Administrator"}


class AuditFilterInvalid(Exception):
    """A filter cannot be used as typed; the message says what to enter."""


@dataclass(frozen=True)
class AuditCriteria:
    """Resolved filters: ids, never names. Empty means "any"."""

    actor_id: uuid.UUID | None = None
    patient_ids: tuple[uuid.UUID, ...] = ()
    action: str = ""
    outcome: str = ""
    first_day: date | None = None
    last_day: date | None = None

    def query_string(self) -> str:
        pairs = [("actor", str(self.actor_id))] if self.actor_id else []
        pairs += [("patient", str(patient_id)) for patient_id in self.patient_ids]
        pairs += [(k, v) for k, v in (("action", self.action), ("outcome", self.outcome)) if v]
        pairs += [
            (k, d.isoformat()) for k, d in (("from", self.first_day), ("to", self.last_day)) if d
        ]
        return urlencode(pairs)

    @classmethod
    def from_query(cls, parameters: list[tuple[str, str]]) -> AuditCriteria:
        """The criteria of an export link; anything malformed answers as not found."""
        values: dict[str, list[str]] = {}
        for key, value in parameters:
            values.setdefault(key, []).append(value)
        try:
            actor = values.get("actor", [""])[-1]
            return _checked(
                cls(
                    actor_id=uuid.UUID(actor) if actor else None,
                    patient_ids=tuple(uuid.UUID(p) for p in values.get("patient", [])),
                    action=values.get("action", [""])[-1],
                    outcome=values.get("outcome", [""])[-1],
                    first_day=_day(values.get("from", [""])[-1]),
                    last_day=_day(values.get("to", [""])[-1]),
                )
            )
        except (ValueError, AuditFilterInvalid):
            raise NotFound from None

    def named(self) -> str:
        """Which filters were used (their names, never their values), for the audit event."""
        used = {
            "user": self.actor_id,
            "patient": self.patient_ids,
            "action": self.action,
            "outcome": self.outcome,
            "from": self.first_day,
            "to": self.last_day,
        }
        return ",".join(name for name, value in used.items() if value) or "none"


def csv_cell(value: object) -> str:
    """A value as a CSV cell a spreadsheet shows as text: one starting with =, +, -, @, a tab or
    a carriage return gets a leading apostrophe, so it is never run as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text


def audit_log(
    principal: Principal,
    *,
    email: str = "",
    last_name: str = "",
    birth_date: str = "",
    action: str = "",
    outcome: str = "",
    first_day: str = "",
    last_day: str = "",
    after: str = "",
    uow: UnitOfWork,
) -> AuditPage:
    """A page of the practice's audit events, newest first, filtered by who acted (exact
    email), which patient (last name and date of birth), action (or its beginning), outcome
    and practice-local days. Keyset pagination: `after` is the last line's key."""
    require_role(principal, Role.ADMIN)
    with uow:
        criteria = _checked(
            AuditCriteria(
                actor_id=_actor(uow, principal, email),
                patient_ids=_patients(uow, principal, last_name, birth_date),
                action=action.strip().lower(),
                outcome=outcome.strip().lower(),
                first_day=_entered_day(first_day, "the first day"),
                last_day=_entered_day(last_day, "the last day"),
            )
        )
        zone = _zone(uow, principal)
        query = _events(principal, criteria, zone)
        if after:
            query = query.where(_after(*_cursor(after)))
        events = uow.session.exec(query.limit(PAGE_SIZE + 1)).scalars().all()
        shown = events[:PAGE_SIZE]
        lines = _lines(uow, principal, shown, zone)
        _record_read(uow, principal, "audit.read", criteria)
        uow.commit()
        return AuditPage(
            lines=lines,
            next_after=_key_of(shown[-1]) if len(events) > PAGE_SIZE else "",
            export_query=criteria.query_string(),
        )


def audit_choices(principal: Principal, *, uow: UnitOfWork) -> AuditChoices:
    """The actions and outcomes this practice's log holds, for the filters (names of kinds of
    event only, so not audited)."""
    require_role(principal, Role.ADMIN)
    with uow:

        def distinct(column) -> list[str]:
            return list(
                uow.session.exec(
                    select(column)
                    .where(AuditEvent.tenant_id == principal.tenant_id)
                    .distinct()
                    .order_by(column)
                ).scalars()
            )

        return AuditChoices(
            actions=distinct(AuditEvent.action),
            outcomes=[
                Choice(id=outcome, name=outcome.replace("_", " ").capitalize())
                for outcome in distinct(AuditEvent.outcome)
            ],
        )


@dataclass(frozen=True)
class AuditExport:
    data: bytes
    rows: int
    truncated: bool
    filename: str = "audit-log.csv"


def export_audit_csv(
    principal: Principal, criteria: AuditCriteria, *, uow: UnitOfWork
) -> AuditExport:
    """The filtered log as CSV, newest first, at most `EXPORT_LIMIT` rows (a last line says so
    when there were more). Ids of another practice's user or patient answer as not found."""
    require_role(principal, Role.ADMIN)
    with uow:
        if criteria.actor_id and uow.users.get_for(principal, criteria.actor_id) is None:
            raise NotFound
        for patient_id in criteria.patient_ids:
            if uow.patients.get_for(principal, patient_id) is None:
                raise NotFound
        zone = _zone(uow, principal)
        events = (
            uow.session.exec(_events(principal, criteria, zone).limit(EXPORT_LIMIT + 1))
            .scalars()
            .all()
        )
        truncated = len(events) > EXPORT_LIMIT
        events = events[:EXPORT_LIMIT]
        output = io.StringIO()
        output.write("\ufeff")  # so spreadsheets read the names as UTF-8
        writer = csv.writer(output, lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
        for chunk in range(0, len(events), 500):
            batch = events[chunk : chunk + 500]
            for event, line in zip(batch, _lines(uow, principal, batch, zone), strict=True):
                writer.writerow(
                    csv_cell(value)
                    for value in (
                        line.when,
                        event.occurred_at.isoformat(),
                        line.actor,
                        line.actor_role,
                        event.action,
                        event.resource_type,
                        event.resource_id,
                        line.patient,
                        event.outcome,
                        event.details,
                        event.chain,
                        event.sequence,
                    )
                )
        if truncated:
            writer.writerow(
                [f"Stopped at {EXPORT_LIMIT:,} rows: narrow the filters to export the rest."]
            )
        _record_read(uow, principal, "audit.export", criteria)
        uow.commit()
        return AuditExport(output.getvalue().encode(), len(events), truncated)


def verify_audit_log(principal: Principal, *, uow: UnitOfWork) -> AuditCheck:
    """Check every chain of the log (the whole database: chains are shared by practices) and
    say in words whether any event was changed, inserted or removed. Can take a while."""
    require_role(principal, Role.ADMIN)
    with uow:
        report = _verify(uow.session.get_bind(), uow.keyring)
        uow.audit.record(
            principal,
            "audit.verify",
            outcome="success" if report.intact else "failure",
            resource_type="audit_log",
        )
        uow.commit()
    if report.intact:
        return AuditCheck(
            True,
            "The audit log is intact: no event has been changed, inserted or removed.",
        )
    return AuditCheck(
        False,
        f"The audit log has been tampered with at event {report.sequence} of chain "
        f"{report.chain}: {report.problem}. Tell your security officer; do not change anything "
        "in the database.",
    )


# --- internals ------------------------------------------------------------------------------


def _verify(engine: Engine, keyring: KeyRing) -> ChainReport:
    """On SQLite every transaction of the portal's engine takes the write lock; verifying
    through it would stop every writer for as long as it reads. A plain engine only reads (WAL
    lets readers and the writer proceed side by side)."""
    if engine.dialect.name != "sqlite":
        return verify_chain(engine, keyring)
    reader = create_engine(
        engine.url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True
    )
    try:
        return verify_chain(reader, keyring)
    finally:
        reader.dispose()


def _checked(criteria: AuditCriteria) -> AuditCriteria:
    if not ACTION_PATTERN.fullmatch(criteria.action):
        raise AuditFilterInvalid("An action is lower-case letters, digits, dots and underscores.")
    if not OUTCOME_PATTERN.fullmatch(criteria.outcome):
        raise AuditFilterInvalid("Choose an outcome from the list.")
    if criteria.first_day and criteria.last_day and criteria.last_day < criteria.first_day:
        raise AuditFilterInvalid("The last day must be on or after the first day.")
    if len(criteria.patient_ids) > MOST_PATIENTS:
        raise AuditFilterInvalid("Too many patients to filter by at once.")
    return criteria


def _day(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


def _entered_day(text: str, label: str) -> date | None:
    try:
        return _day(text.strip())
    except ValueError:
        raise AuditFilterInvalid(f"Enter {label} as YYYY-MM-DD, for example 2026-12-01.") from None


def _actor(uow: UnitOfWork, principal: Principal, email: str) -> uuid.UUID | None:
    email = email.strip()
    if not email:
        return None
    if "@" not in email:
        raise AuditFilterInvalid("Search for a person by their full email address.")
    index = uow.keyring.blind_index("email", normalize_email(email))
    user = uow.users.first(uow.users.scoped(principal).where(User.email_index == index))
    if user is None:
        raise AuditFilterInvalid("No account of this practice has that email address.")
    return user.id


def _patients(
    uow: UnitOfWork, principal: Principal, last_name: str, birth_date: str
) -> tuple[uuid.UUID, ...]:
    last_name, birth_date = last_name.strip(), birth_date.strip()
    if not last_name and not birth_date:
        return ()
    if not last_name or not birth_date:
        raise AuditFilterInvalid("To find a patient, enter both their last name and birth date.")
    born = _entered_day(birth_date, "the date of birth")
    index = name_dob_index(uow, last_name, born)
    ids = uow.session.exec(
        select(Patient.id)
        .where(Patient.tenant_id == principal.tenant_id, Patient.name_dob_index == index)
        .limit(MOST_PATIENTS)
    ).scalars()
    found = tuple(sorted(ids))
    if not found:
        raise AuditFilterInvalid("No patient of this practice has that last name and birth date.")
    return found


def _zone(uow: UnitOfWork, principal: Principal) -> str:
    return uow.session.get(Practice, principal.tenant_id).time_zone


def _events(principal: Principal, criteria: AuditCriteria, zone: str):
    query = select(AuditEvent).where(AuditEvent.tenant_id == principal.tenant_id)
    if criteria.actor_id:
        query = query.where(
            or_(
                AuditEvent.actor_user_id == criteria.actor_id,
                (AuditEvent.resource_type == "user")
                & (AuditEvent.resource_id == str(criteria.actor_id)),
            )
        )
    if criteria.patient_ids:
        query = query.where(AuditEvent.patient_id.in_(criteria.patient_ids))
    if criteria.action:
        escaped = criteria.action.replace("_", "\\_")
        query = query.where(AuditEvent.action.like(f"{escaped}%", escape="\\"))
    if criteria.outcome:
        query = query.where(AuditEvent.outcome == criteria.outcome)
    if criteria.first_day:
        query = query.where(AuditEvent.occurred_at >= local_midnight(criteria.first_day, zone))
    if criteria.last_day:
        end = local_midnight(criteria.last_day + timedelta(days=1), zone)
        query = query.where(AuditEvent.occurred_at < end)
    return query.order_by(
        AuditEvent.occurred_at.desc(), AuditEvent.chain.desc(), AuditEvent.sequence.desc()
    )


def _after(moment: datetime, chain: int, sequence: int):
    return or_(
        AuditEvent.occurred_at < moment,
        (AuditEvent.occurred_at == moment) & (AuditEvent.chain < chain),
        (AuditEvent.occurred_at == moment)
        & (AuditEvent.chain == chain)
        & (AuditEvent.sequence < sequence),
    )


def _key_of(event: AuditEvent) -> str:
    return f"{event.occurred_at.isoformat()}|{event.chain}|{event.sequence}"


def _cursor(after: str) -> tuple[datetime, int, int]:
    try:
        moment, chain, sequence = after.split("|")
        return datetime.fromisoformat(moment), int(chain), int(sequence)
    except ValueError:
        raise NotFound from None


def _lines(
    uow: UnitOfWork, principal: Principal, events: list[AuditEvent], zone: str
) -> list[AuditLine]:
    """Names for the page only: the actors' and patients' rows are opened for these events."""
    actor_ids = {e.actor_user_id for e in events if e.actor_user_id}
    patient_ids = {e.patient_id for e in events if e.patient_id}
    actors = {
        user.id: user.display_name
        for user in uow.users.all(uow.users.scoped(principal).where(User.id.in_(actor_ids)))
    }
    patients = {
        patient.id: patient.full_name
        for patient in uow.patients.all(
            uow.patients.scoped(principal).where(Patient.id.in_(patient_ids))
        )
    }
    return [
        AuditLine(
            key=f"{event.chain}-{event.sequence}",
            when=_moment(event.occurred_at, zone),
            actor=actors.get(event.actor_user_id, "") if event.actor_user_id else "",
            actor_role=ROLE_LABELS.get(event.actor_role or "", ""),
            action=event.action,
            resource_type=event.resource_type or "",
            resource_id=event.resource_id or "",
            patient=patients.get(event.patient_id, "") if event.patient_id else "",
            outcome=event.outcome,
            details=event.details or "",
        )
        for event in events
    ]


def _moment(instant: datetime, zone: str) -> str:
    """E.g. '1 Dec 2026, 9:30:05 AM' — with seconds, for telling events apart."""
    local = instant.astimezone(ZoneInfo(zone))
    clock = local_time(instant, zone).replace(" ", f":{local:%S} ", 1)
    return f"{local.day} {local:%b %Y}, {clock}"


def _record_read(
    uow: UnitOfWork, principal: Principal, action: str, criteria: AuditCriteria
) -> None:
    """One event per patient whose trail was read (so it shows in who looked at their record),
    or one for the practice's log."""
    for patient_id in criteria.patient_ids or (None,):
        uow.audit.record(
            principal,
            action,
            resource_type="audit_log",
            patient_id=patient_id,
            details=f"filters={criteria.named()}",
        )
