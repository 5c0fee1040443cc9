"""The care team's patient list: one search box and the attention filters, over the patients
of the provider's own practice. The unread and results filters (and their counts) keep to what
is the provider's own: messages to their care teams, results of the patients they read normally
(`patient_access.normal_access`).

What was typed is read by `patient_query`. Exact kinds go through the blind indexes of
`patient_index`; a partial name asks `patient_name_grams` for the patients holding every hashed
piece of the typed words, then opens only those candidates' names and keeps the true matches.
Nothing is searched in plaintext. Every search is audited once (kind, filters and counts: never
the text typed), and every patient it lists once more, as `find_patient` does. The list lines'
naming, ages and attention counts are shared with the chart (`patient_chart`).

Also the backfill that indexes patients created before the search existed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from portal.backend import patient_index
from portal.backend.db import UnitOfWork
from portal.backend.models import (
    ACTIVE_APPOINTMENT_STATUSES,
    Appointment,
    Conversation,
    MedicalRecord,
    Message,
    Patient,
    PatientNameGram,
    Practice,
    RecordKind,
)
from portal.backend.models.base import utcnow
from portal.backend.security.principal import Principal, Role, require_role
from portal.backend.services.patient_access import care_teams_of, normal_access
from portal.backend.services.patient_query import (
    PatientQuery,
    matches_words,
    query_pieces,
    read_query,
)
from portal.backend.views import PatientLine, PatientSearch, local_moment

RESULT_LIMIT = 25  # patients listed (and audited one by one) per search; the rest are counted
CANDIDATE_LIMIT = 1000  # patients opened for one partial-name or filter search at most
BACKFILL_BATCH = 200
FILTERS = {
    "upcoming": "has an upcoming appointment",
    "unread": "has an unread message",
    "results": "has results to review",
}
KIND_LABELS = {
    "name": "name",
    "name_dob": "last name and date of birth",
    "date_of_birth": "date of birth",
    "phone": "phone number",
    "email": "email address",
    "filters": "filters",
}


def search_patients(
    principal: Principal, query: str = "", filters: Iterable[str] = (), *, uow: UnitOfWork
) -> PatientSearch:
    """The practice's patients matching what was typed and the filters ticked, by last name:
    at most RESULT_LIMIT listed, the rest counted. Nothing typed and nothing ticked lists
    nobody (and reads nothing)."""
    require_role(principal, Role.PROVIDER)
    wanted = read_query(query)
    chosen = tuple(name for name in FILTERS if name in set(filters))
    kind = wanted.kind or ("filters" if chosen else "")
    if not kind:
        return PatientSearch(lines=[], kind="", matched=0, more=0, too_many=False)
    with uow:
        now = utcnow()
        found, too_many = _candidates(uow, principal, wanted, _filters(principal, chosen, now))
        if wanted.kind == "name":
            found = [c for c in found if matches_words(wanted.words, c.words)]
        found.sort(key=_Candidate.sort_key)
        shown = found[:RESULT_LIMIT]
        matched = CANDIDATE_LIMIT if too_many else len(found)
        uow.audit.record(
            principal,
            "patient.search",
            resource_type="patient_list",
            details=f"by={kind}; filters={','.join(chosen) or 'none'}; "
            f"matched={'>' if too_many else ''}{matched}; listed={len(shown)}",
        )
        for candidate in shown:
            uow.audit.record(
                principal,
                "patient.lookup",
                resource_type="patient",
                resource_id=candidate.id,
                patient_id=candidate.id,
            )
        lines = _lines(uow, principal, shown, now)
        uow.commit()
        return PatientSearch(
            lines=lines,
            kind=KIND_LABELS[kind],
            matched=matched,
            more=max(matched - len(shown), 0),
            too_many=too_many,
        )


def patients_named(
    uow: UnitOfWork, tenant_id: uuid.UUID, words: Sequence[str]
) -> tuple[list[uuid.UUID], bool]:
    """The same partial-name search for other screens (the admins' users list): the ids of the
    practice's patients whose names hold every typed word (normalised, as `read_query` gives
    them), found through the hashed pieces and checked on the opened names; none and True when
    more than CANDIDATE_LIMIT patients hold the pieces. Reads only names; audits nothing (the
    caller audits its own search)."""
    ids = _holding_every_piece(uow, tenant_id, query_pieces(words), [])
    if not ids or len(ids) > CANDIDATE_LIMIT:
        return [], len(ids) > CANDIDATE_LIMIT
    rows = uow.session.exec(
        select(
            Patient.id, Patient.legal_first_name, Patient.legal_last_name, Patient.preferred_name
        ).where(Patient.tenant_id == tenant_id, Patient.id.in_(ids))
    ).all()
    found = []
    for row in rows:
        names = [
            _open_column(uow, column, row[0], sealed)
            for column, sealed in zip(_NAMES, row[1:], strict=True)
        ]
        if matches_words(words, [w for name in names if name for w in patient_index.words(name)]):
            found.append(row[0])
    return found, False


_NAMES = ("legal_first_name", "legal_last_name", "preferred_name")


@dataclass
class _Candidate:
    """A patient a search found, with only the columns a list line needs; the names are opened
    to check and sort the match, the rest only for the lines shown."""

    id: uuid.UUID
    first: str
    last: str
    preferred: str | None
    sealed_birth_date: bytes
    sealed_record_number: bytes
    zone: str  # the practice's, read in the same statement

    def __post_init__(self) -> None:
        self.last_words = patient_index.words(self.last)
        self.first_words = patient_index.words(self.first)
        self.preferred_words = patient_index.words(self.preferred) if self.preferred else []

    @property
    def words(self) -> list[str]:
        return self.first_words + self.last_words + self.preferred_words

    def sort_key(self) -> tuple:
        return (self.last_words, self.preferred_words or self.first_words, str(self.id))

    @property
    def full_name(self) -> str:
        return Patient.full_name.fget(self._as_named())  # the one way to name a patient

    @property
    def legal_name(self) -> str:
        return legal_name_of(self._as_named())

    def _as_named(self) -> SimpleNamespace:
        return SimpleNamespace(
            legal_first_name=self.first, legal_last_name=self.last, preferred_name=self.preferred
        )


_LISTED_COLUMNS = (
    Patient.id,
    Patient.legal_first_name,
    Patient.legal_last_name,
    Patient.preferred_name,
    Patient.date_of_birth,
    Patient.medical_record_number,
    Practice.time_zone,
)


def _candidates(
    uow: UnitOfWork, principal: Principal, wanted: PatientQuery, filters: list
) -> tuple[list[_Candidate], bool]:
    """The patients the indexes (and filters) point at, read as columns (no ORM entities) with
    only their names opened; none and True when there are more than CANDIDATE_LIMIT."""
    tenant = principal.tenant_id
    query = (
        select(*_LISTED_COLUMNS)
        .join(Practice, Practice.id == Patient.tenant_id)
        .where(Patient.tenant_id == tenant)
    )
    if wanted.kind == "name":
        ids = _holding_every_piece(uow, tenant, query_pieces(wanted.words), filters)
        if not ids or len(ids) > CANDIDATE_LIMIT:
            return [], len(ids) > CANDIDATE_LIMIT
        query = query.where(Patient.id.in_(ids))
    else:
        if wanted.kind == "name_dob":
            index = patient_index.name_dob_index(uow, wanted.last_name, wanted.date_of_birth)
            query = query.where(Patient.name_dob_index == index)
        elif wanted.kind == "date_of_birth":
            index = patient_index.birth_date_index(uow, wanted.date_of_birth)
            query = query.where(Patient.birth_date_index == index)
        elif wanted.kind == "phone":
            query = query.where(Patient.phone_index == patient_index.phone_index(uow, wanted.phone))
        elif wanted.kind == "email":
            query = query.where(Patient.email_index == patient_index.email_index(uow, wanted.email))
        for condition in filters:
            query = query.where(Patient.id.in_(condition))
        query = query.limit(CANDIDATE_LIMIT + 1)
    rows = uow.session.exec(query).all()
    if len(rows) > CANDIDATE_LIMIT:
        return [], True
    opened = partial(_open_column, uow)
    return [
        _Candidate(
            id=row[0],
            first=opened("legal_first_name", row[0], row[1]),
            last=opened("legal_last_name", row[0], row[2]),
            preferred=opened("preferred_name", row[0], row[3]),
            sealed_birth_date=row[4],
            sealed_record_number=row[5],
            zone=row[6],
        )
        for row in rows
    ], False


def _holding_every_piece(
    uow: UnitOfWork, tenant: uuid.UUID, pieces: set[str], filters: list
) -> list[uuid.UUID]:
    """Ids of the patients holding every hashed piece (up to CANDIDATE_LIMIT + 1). The piece
    fewest patients hold drives the query and each other piece is one probe of the primary
    key per patient, so a rare piece makes a common one cheap and a broad search stops once it
    has found more candidates than it would open."""
    hashed = patient_index.piece_indexes(uow, pieces)
    held = dict(
        uow.session.exec(
            select(PatientNameGram.gram_index, func.count())
            .where(PatientNameGram.tenant_id == tenant, PatientNameGram.gram_index.in_(hashed))
            .group_by(PatientNameGram.gram_index)
        ).all()
    )
    if len(held) < len(hashed):
        return []  # some piece is in nobody's name
    rarest, *others = sorted(hashed, key=held.__getitem__)
    query = select(PatientNameGram.patient_id).where(
        PatientNameGram.tenant_id == tenant, PatientNameGram.gram_index == rarest
    )
    for piece in others:
        also = aliased(PatientNameGram)
        query = query.where(
            select(also.patient_id)
            .where(also.patient_id == PatientNameGram.patient_id, also.gram_index == piece)
            .exists()
        )
    for condition in filters:
        query = query.where(PatientNameGram.patient_id.in_(condition))
    return list(uow.session.exec(query.limit(CANDIDATE_LIMIT + 1)).scalars())


def _open_column(uow: UnitOfWork, column: str, row_id: uuid.UUID, sealed: bytes | None):
    """One PHI value read as a column, opened as the ORM would open it."""
    if sealed is None:
        return None
    kind = Patient.__table__.c[column].type
    return kind.decode(uow.keyring.open("patients", column, row_id, sealed))


def _filters(principal: Principal, chosen: Sequence[str], now: datetime) -> list:
    """Each ticked filter as a subquery of patient ids (nothing decrypted)."""
    tenant = principal.tenant_id
    subqueries = {
        "upcoming": select(Appointment.patient_id).where(
            Appointment.tenant_id == tenant,
            Appointment.starts_at >= now,
            Appointment.status.in_(ACTIVE_APPOINTMENT_STATUSES),
        ),
        "unread": select(Conversation.patient_id)
        .join(Message, Message.conversation_id == Conversation.id)
        .where(
            Conversation.tenant_id == tenant,
            Conversation.care_team_id.in_(care_teams_of(principal)),
            Message.from_patient.is_(True),
            Message.read_at.is_(None),
        ),
        "results": select(MedicalRecord.patient_id).where(
            MedicalRecord.tenant_id == tenant,
            MedicalRecord.kind == RecordKind.LAB_RESULT,
            MedicalRecord.reviewed_at.is_(None),
            normal_access(principal, MedicalRecord.patient_id),
        ),
    }
    return [subqueries[name] for name in chosen]


def _lines(
    uow: UnitOfWork, principal: Principal, shown: list[_Candidate], now: datetime
) -> list[PatientLine]:
    if not shown:
        return []
    zone = shown[0].zone
    ids = [c.id for c in shown]
    attention = attention_of(uow, principal, ids, now)
    today = now.astimezone(ZoneInfo(zone)).date()
    lines = []
    for c in shown:
        next_visit, unread, to_review = attention[c.id]
        born = _open_column(uow, "date_of_birth", c.id, c.sealed_birth_date)
        lines.append(
            PatientLine(
                id=str(c.id),
                name=c.full_name,
                legal_name=c.legal_name,
                date_of_birth=display_date(born),
                age=age_on(born, today),
                medical_record_number=_open_column(
                    uow, "medical_record_number", c.id, c.sealed_record_number
                ),
                next_appointment=local_moment(next_visit, zone) if next_visit else "",
                unread_messages=unread,
                results_to_review=to_review,
            )
        )
    return lines


# --- what a list line and the chart both show ------------------------------------------------


def attention_of(
    uow: UnitOfWork, principal: Principal, ids: list[uuid.UUID], now: datetime
) -> dict[uuid.UUID, tuple[datetime | None, int, int]]:
    """For each patient: the next visit, unread messages from them to the provider's care
    teams, and lab results not reviewed yet (of a patient the provider reads normally: a
    result of anyone else's is not theirs to review); one statement, nothing decrypted."""
    next_visit = (
        select(func.min(Appointment.starts_at))
        .where(
            Appointment.patient_id == Patient.id,
            Appointment.starts_at >= now,
            Appointment.status.in_(ACTIVE_APPOINTMENT_STATUSES),
        )
        .scalar_subquery()
    )
    unread = (
        select(func.count())
        .select_from(Message)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(
            Conversation.patient_id == Patient.id,
            Conversation.care_team_id.in_(care_teams_of(principal)),
            Message.from_patient.is_(True),
            Message.read_at.is_(None),
        )
        .scalar_subquery()
    )
    to_review = (
        select(func.count())
        .select_from(MedicalRecord)
        .where(
            MedicalRecord.patient_id == Patient.id,
            MedicalRecord.kind == RecordKind.LAB_RESULT,
            MedicalRecord.reviewed_at.is_(None),
            normal_access(principal, MedicalRecord.patient_id),
        )
        .scalar_subquery()
    )
    rows = uow.session.exec(
        select(Patient.id, next_visit, unread, to_review).where(Patient.id.in_(ids))
    ).all()
    return {row[0]: tuple(row[1:]) for row in rows}


def age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def display_date(day: date) -> str:
    """A date as the list and the chart show it: 12 Apr 1968."""
    return f"{day:%-d %b %Y}"


def legal_name_of(patient: Patient | SimpleNamespace) -> str:
    """The legal name when the patient goes by another first name, else ""."""
    if patient.preferred_name and patient.preferred_name != patient.legal_first_name:
        return f"{patient.legal_first_name} {patient.legal_last_name}"
    return ""


# --- indexing patients created before the search ---------------------------------------------


def index_unindexed_patients(*, uow: UnitOfWork, batch: int = BACKFILL_BATCH) -> int:
    """The start-up and periodic job: give every patient without search indexes (created
    before they existed: `birth_date_index` is empty) their blind indexes and name pieces, in
    transactions of `batch` patients. Rows are claimed with SKIP LOCKED on PostgreSQL, so
    several workers share the work. Returns how many patients were indexed."""
    indexed = 0
    while True:
        with uow:
            query = select(Patient).where(Patient.birth_date_index.is_(None)).limit(batch)
            if uow.session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            patients = list(uow.session.exec(query).scalars())
            for patient in patients:
                patient_index.index_patient(uow, patient)
                uow.audit.record(
                    None,
                    "patient.search_index.update",
                    resource_type="patient",
                    resource_id=patient.id,
                    patient_id=patient.id,
                    tenant_id=patient.tenant_id,
                )
            uow.commit()
        indexed += len(patients)
        if len(patients) < batch:
            return indexed
