"""Encrypted file storage: local sealed files and S3 with SSE-KMS (moto's server over HTTP)
pass the same tests."""

from __future__ import annotations

import stat
import urllib.request
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest

from portal.backend.crypto import IntegrityFailure
from tests.integration.conftest import new_kms_key

PDF = b"%PDF-1.4\nZZCANARY lab report\n%%EOF\n"


@pytest.fixture(params=["local", "s3"])
def extra_settings(request) -> dict[str, str]:
    if request.param == "local":
        return {}
    moto_url = request.getfixturevalue("moto_url")
    bucket = f"portal-{request.node.name.lower().replace('[', '-').replace(']', '')[:40]}"
    boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1").create_bucket(Bucket=bucket)
    return {
        "PORTAL_STORAGE": "s3",
        "PORTAL_S3_BUCKET": bucket,
        "PORTAL_KMS_KEY_ID": new_kms_key(moto_url),
        "PORTAL_AWS_ENDPOINT_URL": moto_url,
    }


def test_files_round_trip_under_random_keys(database):
    store = database.files
    first, second = store.put(PDF, "application/pdf"), store.put(PDF, "application/pdf")
    assert first != second and len(first) == 32
    assert store.get(first) == PDF
    store.delete(first)
    with pytest.raises(Exception):  # noqa: B017  (each backend has its own "missing" error)
        store.get(first)


@pytest.mark.parametrize("extra_settings", ["local"], indirect=True)
def test_local_files_are_sealed_private_and_tamper_evident(database):
    key = database.files.put(PDF, "application/pdf")
    path = database.settings.files_dir / key[:2] / key
    raw = path.read_bytes()
    assert b"ZZCANARY" not in raw and b"%PDF" not in raw
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.write_bytes(raw[:-1] + bytes([raw[-1] ^ 1]))
    with pytest.raises(IntegrityFailure):
        database.files.get(key)


@pytest.mark.parametrize("extra_settings", ["s3"], indirect=True)
def test_s3_objects_use_sse_kms_and_links_expire_within_five_minutes(database):
    store = database.files
    key = store.put(PDF, "application/pdf")
    head = store.s3.head_object(Bucket=store.bucket, Key=key)
    assert head["ServerSideEncryption"] == "aws:kms"
    link = store.link(key, filename="Lab report.pdf", content_type="application/pdf")
    query = parse_qs(urlsplit(link).query)
    assert int(query["X-Amz-Expires"][0]) <= 300
    with urllib.request.urlopen(link) as response:  # noqa: S310 (the local moto server)
        assert response.read() == PDF
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert response.headers["Cache-Control"] == "no-store"
