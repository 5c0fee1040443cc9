"""AES-256-GCM field sealing, bound to its place; blind indexes; the local key file."""

from __future__ import annotations

import stat

import pytest

from portal.backend.crypto import (
    IntegrityFailure,
    KeyRing,
    KeyUnavailable,
    LocalKeyProvider,
    key_context,
    sealed_key_version,
)


def ring(provider: LocalKeyProvider, versions=(0, 1)) -> KeyRing:
    return KeyRing(provider, {v: provider.generate(key_context(v))[1] for v in versions})


@pytest.fixture
def keyring(tmp_path) -> KeyRing:
    return ring(LocalKeyProvider.from_file(tmp_path / "master.key", create=True))


def test_a_sealed_value_opens_only_in_its_own_place(keyring):
    sealed = keyring.seal("patients", "phone", "row-1", b"555-0100")
    assert b"555-0100" not in sealed
    assert keyring.open("patients", "phone", "row-1", sealed) == b"555-0100"
    for place in [
        ("patients", "phone", "row-2"),
        ("patients", "email", "row-1"),
        ("users", "phone", "row-1"),
    ]:
        with pytest.raises(IntegrityFailure):
            keyring.open(*place, sealed)


def test_each_seal_uses_a_fresh_nonce(keyring):
    assert keyring.seal("t", "c", 1, b"same") != keyring.seal("t", "c", 1, b"same")


@pytest.mark.parametrize(
    "damage",
    [
        lambda s: s[:-1],
        lambda s: s[:10],
        lambda s: b"\x02" + s[1:],
        lambda s: s[:-1] + bytes([s[-1] ^ 1]),
    ],
)
def test_truncated_or_corrupted_values_fail_clearly_without_their_content(keyring, damage):
    sealed = keyring.seal("patients", "phone", "row-1", b"secret-value")
    with pytest.raises(IntegrityFailure) as failure:
        keyring.open("patients", "phone", "row-1", damage(sealed))
    assert "secret-value" not in str(failure.value)
    assert "patients.phone" in str(failure.value)


def test_new_writes_use_the_newest_key_and_old_values_still_open(keyring):
    old = keyring.seal("t", "c", 1, b"v1")
    keyring.wrapped_keys[2] = keyring.provider.generate(key_context(2))[1]
    new = keyring.seal("t", "c", 1, b"v2")
    assert (sealed_key_version(old), sealed_key_version(new)) == (1, 2)
    assert keyring.open("t", "c", 1, old) == b"v1"


def test_blind_indexes_are_keyed_stable_and_purpose_bound(keyring, tmp_path):
    index = keyring.blind_index("email", "a@b.example")
    assert index == keyring.blind_index("email", "a@b.example")
    assert index != keyring.blind_index("phone", "a@b.example")
    other = ring(LocalKeyProvider.from_file(tmp_path / "other.key", create=True))
    assert other.blind_index("email", "a@b.example") != index
    assert len(index) == 32


def test_the_key_file_is_private_and_reloads(tmp_path):
    path = tmp_path / "keys" / "master.key"
    provider = LocalKeyProvider.from_file(path, create=True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    plaintext, wrapped = provider.generate(key_context(1))
    again = LocalKeyProvider.from_file(path, create=False)
    assert again.unwrap(wrapped, key_context(1)) == plaintext


def test_a_wrong_key_cannot_unwrap_data_keys(tmp_path):
    first = LocalKeyProvider.from_file(tmp_path / "a.key", create=True)
    second = LocalKeyProvider.from_file(tmp_path / "b.key", create=True)
    with pytest.raises(KeyUnavailable, match="does not match"):
        second.unwrap(first.generate(key_context(1))[1], key_context(1))


def test_a_wrapped_key_cannot_stand_in_for_another_version(tmp_path):
    provider = LocalKeyProvider.from_file(tmp_path / "a.key", create=True)
    _, wrapped = provider.generate(key_context(1))
    with pytest.raises(KeyUnavailable):
        provider.unwrap(wrapped, key_context(2))


@pytest.mark.parametrize(
    "content",
    ["", "portal-master-key-v1\nnot-base64!\n", "other\nAAAA\n", "portal-master-key-v1\nAAAA\n"],
)
def test_a_damaged_key_file_is_refused(tmp_path, content):
    path = tmp_path / "master.key"
    path.write_text(content)
    with pytest.raises(KeyUnavailable):
        LocalKeyProvider.from_file(path, create=False)


def test_a_missing_key_file_is_not_created_when_data_exists(tmp_path):
    with pytest.raises(KeyUnavailable, match="missing"):
        LocalKeyProvider.from_file(tmp_path / "master.key", create=False)
    assert not (tmp_path / "master.key").exists()
