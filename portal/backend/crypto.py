"""Field encryption (AES-256-GCM envelope) and blind indexes.

A value is stored as ``FORMAT (1 byte) | key version (4 bytes, big-endian) | nonce (12) |
ciphertext+tag``. The associated data binds the format, table, column, row id and key version,
so a ciphertext copied to another row, column or table fails to open.

Data keys (one per version) are random 256-bit keys kept wrapped by a key-encryption key that a
`KeyProvider` holds outside the database. Blind indexes and the audit chain use keys the provider
derives for those purposes alone.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from portal.backend.config import ConfigError

FORMAT = 1
NONCE_BYTES = 12
HEADER_BYTES = 1 + 4 + NONCE_BYTES
BLIND_INDEX_BYTES = 16
KEY_FILE_LABEL = "portal-master-key-v1"


class KeyUnavailable(ConfigError):
    """Keys that cannot be used; the message is one plain sentence."""


class IntegrityFailure(Exception):
    """A stored ciphertext is truncated, corrupted or bound to another place."""


class KeyProvider(Protocol):
    name: str

    def wrap(self, data_key: bytes, version: int) -> bytes: ...

    def unwrap(self, wrapped: bytes, version: int) -> bytes: ...

    def derived_key(self, purpose: str) -> bytes: ...


class LocalKeyProvider:
    """A 256-bit master key in a file with owner-only permissions (the embedded default)."""

    name = "local"

    def __init__(self, master_key: bytes):
        self._kek = AESGCM(_derive(master_key, "key-encryption"))
        self._master_key = master_key

    @classmethod
    def from_file(cls, path: Path, *, create: bool) -> LocalKeyProvider:
        if not path.exists():
            if not create:
                raise KeyUnavailable(
                    f"The key file {path} is missing but the database holds encrypted data; "
                    "restore the key file from backup (a new key cannot read old data)."
                )
            return cls(_create_key_file(path))
        lines = path.read_text().split()
        if len(lines) != 2 or lines[0] != KEY_FILE_LABEL:
            raise KeyUnavailable(f"The key file {path} is not a portal key file.")
        try:
            key = base64.b64decode(lines[1], validate=True)
        except ValueError:
            key = b""
        if len(key) != 32:
            raise KeyUnavailable(f"The key file {path} is damaged (it must hold a 256-bit key).")
        return cls(key)

    def wrap(self, data_key: bytes, version: int) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._kek.encrypt(nonce, data_key, _wrap_context(version))

    def unwrap(self, wrapped: bytes, version: int) -> bytes:
        try:
            return self._kek.decrypt(
                wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], _wrap_context(version)
            )
        except InvalidTag:
            raise KeyUnavailable(
                "The key file does not match the keys this database was encrypted with; "
                "use the key file that was created with this database."
            ) from None

    def derived_key(self, purpose: str) -> bytes:
        return _derive(self._master_key, purpose)


@dataclass
class KeyRing:
    """The data keys of every version, the version new writes use, and the blind-index key."""

    provider: KeyProvider
    wrapped_keys: dict[int, bytes]
    _opened: dict[int, AESGCM] = field(default_factory=dict, repr=False)

    @property
    def current_version(self) -> int:
        return max(self.wrapped_keys)

    def seal(self, table: str, column: str, row_id: object, plaintext: bytes) -> bytes:
        version = self.current_version
        nonce = os.urandom(NONCE_BYTES)
        header = bytes([FORMAT]) + version.to_bytes(4, "big") + nonce
        aad = _associated_data(table, column, row_id, version)
        return header + self._cipher(version).encrypt(nonce, plaintext, aad)

    def open(self, table: str, column: str, row_id: object, sealed: bytes) -> bytes:
        if len(sealed) < HEADER_BYTES + 16 or sealed[0] != FORMAT:
            raise IntegrityFailure(f"{table}.{column} of row {row_id} is not a sealed value.")
        version = int.from_bytes(sealed[1:5], "big")
        if version not in self.wrapped_keys:
            raise IntegrityFailure(f"{table}.{column} of row {row_id} uses unknown key {version}.")
        nonce, body = sealed[5:HEADER_BYTES], sealed[HEADER_BYTES:]
        try:
            return self._cipher(version).decrypt(
                nonce, body, _associated_data(table, column, row_id, version)
            )
        except InvalidTag:
            raise IntegrityFailure(
                f"{table}.{column} of row {row_id} failed its integrity check."
            ) from None

    def blind_index(self, purpose: str, normalized_value: str) -> str:
        """A keyed, truncated HMAC for exact-match lookups; the caller normalizes the value."""
        key = self.provider.derived_key(f"blind-index:{purpose}")
        digest = hmac.new(key, normalized_value.encode(), hashlib.sha256).digest()
        return digest[:BLIND_INDEX_BYTES].hex()

    def open_all(self) -> None:
        """Unwrap every data key now, so a wrong key file fails at start-up, not mid-request."""
        for version in self.wrapped_keys:
            self._cipher(version)

    def _cipher(self, version: int) -> AESGCM:
        if version not in self._opened:
            key = self.provider.unwrap(self.wrapped_keys[version], version)
            self._opened[version] = AESGCM(key)
        return self._opened[version]


def new_data_key(provider: KeyProvider, version: int) -> bytes:
    """A fresh random data key for `version`, returned wrapped by the provider."""
    return provider.wrap(AESGCM.generate_key(bit_length=256), version)


def sealed_key_version(sealed: bytes) -> int:
    return int.from_bytes(sealed[1:5], "big")


def _associated_data(table: str, column: str, row_id: object, version: int) -> bytes:
    return f"portal|{FORMAT}|{table}|{column}|{row_id}|{version}".encode()


def _wrap_context(version: int) -> bytes:
    return f"portal-data-key|{version}".encode()


def _derive(master_key: bytes, purpose: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(
        master_key
    )


def _create_key_file(path: Path) -> bytes:
    key = secrets.token_bytes(32)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
    with os.fdopen(fd, "w") as handle:
        handle.write(f"{KEY_FILE_LABEL}\n{base64.b64encode(key).decode()}\n")
    return key
