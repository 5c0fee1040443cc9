"""PHI is sealed in the database and bound to its row; the services still see plain values."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from portal.backend import models
from portal.backend.crypto import IntegrityFailure
from tests.integration.factories import CANARY

PHI_COLUMNS = {
    "patients": ["legal_first_name", "medical_record_number", "phone", "insurance"],
    "appointments": ["reason"],
    "conversations": ["subject"],
    "messages": ["body"],
    "users": ["email", "display_name"],
}


def test_no_phi_is_stored_in_plaintext(practice):
    with practice.database.engine.connect() as connection:
        for table, columns in PHI_COLUMNS.items():
            for column in columns:
                for value in connection.execute(text(f"SELECT {column} FROM {table}")).scalars():
                    if value is not None:
                        raw = bytes(value)
                        assert CANARY.encode() not in raw and CANARY.lower().encode() not in raw
                        assert raw[0] == 1, f"{table}.{column} is not a sealed value"


def test_services_read_the_plain_values_back(practice):
    with practice.database.unit_of_work() as uow:
        patient = uow.session.get(models.Patient, practice.patient_a.id)
        assert patient.legal_first_name == f"Ann{CANARY}"
        assert patient.insurance["member_id"] == f"{CANARY}-M1"
        assert patient.date_of_birth.isoformat() == "1970-01-02"


def test_ciphertext_moved_to_another_row_fails_to_open(practice):
    with practice.database.engine.begin() as connection:
        sealed = connection.execute(
            text("SELECT legal_first_name FROM patients WHERE id = :id"),
            {"id": _db_id(practice, practice.patient_a.id)},
        ).scalar_one()
        connection.execute(
            text("UPDATE patients SET legal_first_name = :sealed WHERE id = :id"),
            {"sealed": sealed, "id": _db_id(practice, practice.patient_b.id)},
        )
    with practice.database.unit_of_work() as uow, pytest.raises(IntegrityFailure) as failure:
        uow.session.get(models.Patient, practice.patient_b.id)
    assert CANARY not in str(failure.value)


def test_a_bulk_statement_cannot_write_plaintext_phi(practice):
    from sqlalchemy import update

    with (
        practice.database.unit_of_work() as uow,
        pytest.raises(Exception, match="without encryption"),
    ):
        uow.session.execute(
            update(models.Patient)
            .values(phone="plain text")
            .where(models.Patient.id == practice.patient_a.id)
        )


def _db_id(practice, row_id):
    return row_id if practice.database.engine.dialect.name == "postgresql" else row_id.hex


def test_one_account_per_email_is_enforced_on_the_blind_index(practice):
    from sqlalchemy.exc import IntegrityError

    from portal.backend.services.sign_in import normalize_email

    email = practice.emails["patient_a"].upper()
    with practice.database.unit_of_work() as uow, pytest.raises(IntegrityError):
        uow.session.add(
            models.User(
                tenant_id=practice.tenant_id,
                role="patient",
                email=email,
                display_name="Copy",
                email_index=uow.keyring.blind_index("email", normalize_email(email)),
            )
        )
        uow.session.flush()
