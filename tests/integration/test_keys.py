"""Key rotation, resumable re-encryption, status and re-wrapping, with the local key file and
with AWS KMS (moto's standalone server over HTTP): both providers pass the same tests."""

from __future__ import annotations

import boto3
import pytest
from sqlalchemy import select

from portal.backend import keys, models
from portal.backend.config import load_settings
from portal.backend.crypto import KeyUnavailable, LocalKeyProvider, key_context
from portal.backend.db import Database
from tests.integration.conftest import new_kms_key


@pytest.fixture(params=["local", "aws-kms"])
def extra_settings(request) -> dict[str, str]:
    if request.param == "local":
        return {}
    moto_url = request.getfixturevalue("moto_url")
    return {
        "PORTAL_KEY_PROVIDER": "aws-kms",
        "PORTAL_KMS_KEY_ID": new_kms_key(moto_url),
        "PORTAL_AWS_ENDPOINT_URL": moto_url,
    }


def snapshot(database: Database) -> dict:
    """Every patient's and message's decrypted values."""
    with database.unit_of_work() as uow:
        patients = uow.session.exec(select(models.Patient)).scalars().all()
        messages = uow.session.exec(select(models.Message)).scalars().all()
        return {
            **{p.id: (p.legal_first_name, p.date_of_birth, p.insurance, p.phone) for p in patients},
            **{m.id: m.body for m in messages},
        }


def versions(database: Database) -> set[int]:
    return {v for counts in keys.status(database.engine).values() for v in counts}


def test_new_writes_use_a_rotated_key_and_old_values_still_read(practice):
    database = practice.database
    before = snapshot(database)
    assert keys.rotate(database.engine, database.keyring) == 2
    with database.unit_of_work() as uow:
        uow.session.get(models.Patient, practice.patient_a.id).phone = "555-0199"
        uow.commit()
    assert versions(database) == {1, 2}
    after = snapshot(database)
    assert after[practice.patient_a.id][3] == "555-0199"
    assert after[practice.patient_b.id] == before[practice.patient_b.id]


def test_reencryption_interrupted_and_resumed_moves_every_value(practice):
    database = practice.database
    before = snapshot(database)
    keys.rotate(database.engine, database.keyring)
    partial = keys.reencrypt(database.engine, database.keyring, batch_size=1, max_batches=3)
    assert not partial.finished
    assert versions(database) == {1, 2}
    rest = keys.reencrypt(database.engine, database.keyring, batch_size=1)
    assert rest.finished
    assert partial.rows_resealed + rest.rows_resealed > 5
    assert versions(database) == {2}
    assert snapshot(database) == before
    again = keys.reencrypt(database.engine, database.keyring, batch_size=1)
    assert again.rows_resealed == 0


def test_a_second_process_picks_up_a_rotated_key(practice):
    database = practice.database
    other = Database(database.settings)
    other.keyring  # noqa: B018
    keys.rotate(database.engine, database.keyring)
    keys.refresh_keyring(other.engine, other.keyring)
    assert other.keyring.current_version == 2


def test_rewrapping_changes_no_value_and_keeps_blind_indexes(practice, extra_settings):
    database = practice.database
    before = snapshot(database)
    index = database.keyring.blind_index("email", "someone@example.org")
    config = database.settings
    if config.key_provider == "local":
        retired = keys.rewrap_local_key_file(database.engine, database.keyring, config.key_file)
        root = _stored(database)[0].wrapped_key
        with pytest.raises(KeyUnavailable):  # the retired key file no longer opens the keys
            LocalKeyProvider.from_file(retired, create=False).unwrap(root, key_context(0))
    else:
        kms = boto3.client("kms", endpoint_url=config.aws_endpoint_url, region_name="us-east-1")
        new_key = new_kms_key(config.aws_endpoint_url)
        config = load_settings({**_env(config), "PORTAL_KMS_KEY_ID": new_key})
        keys.rewrap(database.engine, database.keyring, keys.key_provider(config))
        kms.disable_key(KeyId=database.settings.kms_key_id)  # the old key is gone for good
    fresh = Database(config)
    assert fresh.keyring.blind_index("email", "someone@example.org") == index
    assert snapshot(fresh) == before


def _stored(database: Database) -> list[models.DataKey]:
    with database.unit_of_work() as uow:
        return (
            uow.session.exec(select(models.DataKey).order_by(models.DataKey.version))
            .scalars()
            .all()
        )


def _env(config) -> dict[str, str]:
    env = {
        "PORTAL_DATA_DIR": str(config.data_dir),
        "DATABASE_URL": config.database_url,
        "PORTAL_KEY_PROVIDER": config.key_provider,
    }
    if config.kms_key_id:
        env |= {
            "PORTAL_KMS_KEY_ID": config.kms_key_id,
            "PORTAL_AWS_ENDPOINT_URL": config.aws_endpoint_url,
        }
    return env
