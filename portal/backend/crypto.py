"""Field encryption (AES-256-GCM envelope), derived keys and blind indexes.

A value is stored as ``FORMAT (1 byte) | key version (4 bytes, big-endian) | nonce (12) |
ciphertext+tag``. The associated data binds the format, table, column, row id and key version,
so a ciphertext copied to another row, column or table fails to open.

Data keys (versions 1, 2, …) are random 256-bit keys stored wrapped by a key-encryption key
that a `KeyProvider` holds outside the database: a local key file, or AWS KMS. Version 0 is the
root of the derived keys (blind indexes, the audit chain, address hashing); it never encrypts
data, and re-wrapping it under a new key-encryption key leaves every derived key unchanged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from portal.backend.config import ConfigError

FORMAT = 1
NONCE_BYTES = 12
HEADER_BYTES = 1 + 4 + NONCE_BYTES
TAG_BYTES = 16
BLIND_INDEX_BYTES = 16
ROOT_VERSION = 0
KEY_FILE_LABEL = "portal-master-key-v1"


class KeyUnavailable(ConfigError):
    """Keys that cannot be used; the message is one plain sentence."""


class IntegrityFailure(Exception):
    """A stored ciphertext is truncated, corrupted or bound to another place."""


def key_context(version: int) -> dict[str, str]:
    """What a wrapped key is for; the provider binds it, so keys cannot be swapped."""
    purpose = "portal-root-key" if version == ROOT_VERSION else "portal-data-key"
    return {"purpose": purpose, "version": str(version)}


class KeyProvider(Protocol):
    name: str

    def generate(self, context: dict[str, str]) -> tuple[bytes, bytes]:
        """A new random 256-bit key: (plaintext, wrapped)."""
        ...

    def wrap(self, plaintext: bytes, context: dict[str, str]) -> bytes: ...

    def unwrap(self, wrapped: bytes, context: dict[str, str]) -> bytes: ...


class LocalKeyProvider:
    """A 256-bit master key in a file with owner-only permissions (the embedded default)."""

    name = "local"

    def __init__(self, master_key: bytes):
        self._kek = AESGCM(_hkdf(master_key, "key-encryption"))

    @classmethod
    def from_file(cls, path: Path, *, create: bool) -> LocalKeyProvider:
        if not path.exists():
            if not create:
                raise KeyUnavailable(
                    f"The key file {path} is missing but the database holds encrypted data; "
                    "restore the key file from backup (a new key cannot read old data)."
                )
            return cls(write_key_file(path))
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

    def generate(self, context: dict[str, str]) -> tuple[bytes, bytes]:
        plaintext = AESGCM.generate_key(bit_length=256)
        return plaintext, self.wrap(plaintext, context)

    def wrap(self, plaintext: bytes, context: dict[str, str]) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._kek.encrypt(nonce, plaintext, _canonical(context))

    def unwrap(self, wrapped: bytes, context: dict[str, str]) -> bytes:
        try:
            return self._kek.decrypt(
                wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], _canonical(context)
            )
        except InvalidTag:
            raise KeyUnavailable(
                "The key file does not match the keys this database was encrypted with; "
                "use the key file that was created with this database."
            ) from None


class AwsKmsKeyProvider:
    """Data keys from AWS KMS (GenerateDataKey/Decrypt), bound by an encryption context."""

    name = "aws-kms"

    def __init__(self, key_id: str, kms: Any):
        self.key_id = key_id
        self._kms = kms

    def generate(self, context: dict[str, str]) -> tuple[bytes, bytes]:
        reply = self._call(
            "generate_data_key", KeyId=self.key_id, KeySpec="AES_256", EncryptionContext=context
        )
        return reply["Plaintext"], reply["CiphertextBlob"]

    def wrap(self, plaintext: bytes, context: dict[str, str]) -> bytes:
        reply = self._call(
            "encrypt", KeyId=self.key_id, Plaintext=plaintext, EncryptionContext=context
        )
        return reply["CiphertextBlob"]

    def unwrap(self, wrapped: bytes, context: dict[str, str]) -> bytes:
        reply = self._call("decrypt", CiphertextBlob=wrapped, EncryptionContext=context)
        return reply["Plaintext"]

    def _call(self, operation: str, **arguments: Any) -> dict:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self._kms, operation)(**arguments)
        except (ClientError, BotoCoreError) as error:
            code = getattr(error, "response", {}).get("Error", {}).get("Code", type(error).__name__)
            raise KeyUnavailable(
                f"AWS KMS refused {operation} with the key in PORTAL_KMS_KEY_ID ({code})."
            ) from None


@dataclass
class KeyRing:
    """The wrapped keys of every version, opened on first use; new writes use the newest."""

    provider: KeyProvider
    wrapped_keys: dict[int, bytes]
    _opened: dict[int, AESGCM] = field(default_factory=dict, repr=False)
    _derived: dict[str, bytes] = field(default_factory=dict, repr=False)

    @property
    def current_version(self) -> int:
        return max(version for version in self.wrapped_keys if version != ROOT_VERSION)

    def seal(self, table: str, column: str, row_id: object, plaintext: bytes) -> bytes:
        version = self.current_version
        nonce = os.urandom(NONCE_BYTES)
        header = bytes([FORMAT]) + version.to_bytes(4, "big") + nonce
        aad = _associated_data(table, column, row_id, version)
        return header + self._cipher(version).encrypt(nonce, plaintext, aad)

    def open(self, table: str, column: str, row_id: object, sealed: bytes) -> bytes:
        if len(sealed) < HEADER_BYTES + TAG_BYTES or sealed[0] != FORMAT:
            raise IntegrityFailure(f"{table}.{column} of row {row_id} is not a sealed value.")
        version = sealed_key_version(sealed)
        if version == ROOT_VERSION or version not in self.wrapped_keys:
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

    def derived_key(self, purpose: str) -> bytes:
        """A 256-bit key for one purpose, derived from the root key (version 0)."""
        if purpose not in self._derived:
            root = self.provider.unwrap(self.wrapped_keys[ROOT_VERSION], key_context(ROOT_VERSION))
            self._derived[purpose] = _hkdf(root, purpose)
        return self._derived[purpose]

    def blind_index(self, purpose: str, normalized_value: str) -> str:
        """A keyed, truncated HMAC for exact-match lookups; the caller normalizes the value."""
        key = self.derived_key(f"blind-index:{purpose}")
        digest = hmac.new(key, normalized_value.encode(), hashlib.sha256).digest()
        return digest[:BLIND_INDEX_BYTES].hex()

    def open_all(self) -> None:
        """Unwrap every key now, so a wrong key fails at start-up rather than mid-request."""
        for version in self.wrapped_keys:
            if version == ROOT_VERSION:
                self.derived_key("start-up check")
            else:
                self._cipher(version)

    def _cipher(self, version: int) -> AESGCM:
        if version not in self._opened:
            key = self.provider.unwrap(self.wrapped_keys[version], key_context(version))
            self._opened[version] = AESGCM(key)
        return self._opened[version]


def sealed_key_version(sealed: bytes) -> int:
    return int.from_bytes(sealed[1:5], "big")


def write_key_file(path: Path, key: bytes | None = None) -> bytes:
    """Create a key file readable by its owner only; never overwrites an existing file."""
    key = key or secrets.token_bytes(32)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
    with os.fdopen(fd, "w") as handle:
        handle.write(f"{KEY_FILE_LABEL}\n{base64.b64encode(key).decode()}\n")
        handle.flush()
        os.fsync(handle.fileno())
    return key


def _associated_data(table: str, column: str, row_id: object, version: int) -> bytes:
    return f"portal|{FORMAT}|{table}|{column}|{row_id}|{version}".encode()


def _canonical(context: dict[str, str]) -> bytes:
    return json.dumps(context, sort_keys=True, separators=(",", ":")).encode()


def _hkdf(secret: bytes, purpose: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(
        secret
    )
