"""The keyed indexes that find a patient without a plaintext column.

Exact matches use blind indexes of last name + date of birth, date of birth alone, phone (E.164)
and email. Partial
names use `patient_name_grams`: the keyed hash of every three-letter piece of every word of the
legal and preferred names (a word shorter than three letters is one piece). A search for "anders"
asks for the patients holding all of "and", "nde", "der", "ers" — then the service opens the few
candidates' names and keeps the true matches. What the database learns is how often a hashed
piece occurs in one practice, never a name.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from sqlalchemy import delete

from portal.backend.db import UnitOfWork
from portal.backend.models import Patient, PatientNameGram
from portal.backend.notify.sms import normalize_phone
from portal.backend.services.sign_in import normalize_email

PIECE = 3


def words(text: str) -> list[str]:
    """Lower-case words without accents: "José-Luis O'Neil" → ["jose", "luis", "o", "neil"]."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return [word for word in re.split(r"[^\w]+|_", plain.casefold()) if word]


def name_pieces(*names: str | None) -> set[str]:
    """Every three-letter piece of every word of `names`; shorter words whole."""
    pieces: set[str] = set()
    for word in (word for name in names if name for word in words(name)):
        if len(word) < PIECE:
            pieces.add(word)
        else:
            pieces.update(word[i : i + PIECE] for i in range(len(word) - PIECE + 1))
    return pieces


def name_dob_index(uow: UnitOfWork, last_name: str, date_of_birth: date) -> str:
    return uow.keyring.blind_index("name_dob", f"{last_name.strip().lower()}|{date_of_birth}")


def birth_date_index(uow: UnitOfWork, date_of_birth: date) -> str:
    return uow.keyring.blind_index("birth_date", date_of_birth.isoformat())


def phone_index(uow: UnitOfWork, phone: str) -> str | None:
    number = normalize_phone(phone)
    return uow.keyring.blind_index("phone", number) if number else None


def email_index(uow: UnitOfWork, email: str) -> str:
    return uow.keyring.blind_index("email", normalize_email(email))


def piece_indexes(uow: UnitOfWork, pieces: set[str]) -> set[str]:
    return {uow.keyring.blind_index("name_piece", piece) for piece in pieces}


def index_patient(uow: UnitOfWork, patient: Patient) -> None:
    """Bring every search index of `patient` up to date with its current values; call it after
    creating a patient or changing a name, date of birth, phone or email."""
    patient.name_dob_index = name_dob_index(uow, patient.legal_last_name, patient.date_of_birth)
    patient.birth_date_index = birth_date_index(uow, patient.date_of_birth)
    patient.phone_index = phone_index(uow, patient.phone) if patient.phone else None
    patient.email_index = email_index(uow, patient.email) if patient.email else None
    uow.session.flush()
    uow.session.execute(delete(PatientNameGram).where(PatientNameGram.patient_id == patient.id))
    pieces = name_pieces(patient.legal_first_name, patient.legal_last_name, patient.preferred_name)
    uow.session.add_all(
        PatientNameGram(patient_id=patient.id, gram_index=index, tenant_id=patient.tenant_id)
        for index in piece_indexes(uow, pieces)
    )
