"""The backup archive container: members streamed through AES-256-GCM in chunks, then a manifest.

Layout::

    MAGIC (8) | header length (4) | header (JSON, readable: it names the key, never holds one)
    record*   = length (4, big-endian; top bit set on the final record) | ciphertext + tag
    plaintext = frame type (1) | body
        b"M" starts a member: JSON {"name", "kind"}
        b"D" carries up to `chunk_bytes` of the current member
        b"Z" is the manifest (JSON), always and only in the final record

The key is unique to the archive (HKDF of the caller's secret with the header's random salt),
so the nonce can be the record's position: an 11-byte counter and a final-record flag. Every
record carries the header bytes as associated data. Editing the header, a record, or their
order, dropping records, cutting the file short or appending to it all fail with
`ArchiveRefused`, whose message is one plain sentence. The manifest repeats each member's size
and SHA-256, checked again after extraction.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"PORTALBK"
FORMAT = 1
CHUNK_BYTES = 1024 * 1024
TAG_BYTES = 16
FINAL_BIT = 0x8000_0000
MAX_HEADER_BYTES = 64 * 1024
MAX_MANIFEST_BYTES = 256 * 1024 * 1024
KEY_INFO = b"portal-backup-archive-v1"
MEMBER, DATA, MANIFEST = b"M", b"D", b"Z"


class ArchiveRefused(Exception):
    """The archive cannot be read or fails a check; the message is one plain sentence."""


@dataclass(frozen=True)
class Member:
    name: str
    kind: str
    size: int
    sha256: str


def archive_key(secret: bytes, salt: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=KEY_INFO).derive(secret)


def _nonce(counter: int, *, final: bool) -> bytes:
    return counter.to_bytes(11, "big") + (b"\x01" if final else b"\x00")


class ArchiveWriter:
    """Writes an archive to `out` as members are added; nothing is held beyond one chunk."""

    def __init__(
        self,
        out: BinaryIO,
        header: dict[str, Any],
        secret: bytes,
        *,
        chunk_bytes: int = CHUNK_BYTES,
    ):
        salt = os.urandom(32)
        self.header = {**header, "format": FORMAT, "salt": base64.b64encode(salt).decode()}
        body = json.dumps(self.header, sort_keys=True).encode()
        self._associated = MAGIC + len(body).to_bytes(4, "big") + body
        self._cipher = AESGCM(archive_key(secret, salt))
        self._out = out
        self._chunk_bytes = chunk_bytes
        self._counter = 0
        self.members: list[Member] = []
        out.write(self._associated)

    def add(self, name: str, kind: str, source: BinaryIO) -> Member:
        """Stream one member from `source` (read to its end)."""
        self._record(MEMBER + json.dumps({"name": name, "kind": kind}).encode())
        digest, size = hashlib.sha256(), 0
        while piece := source.read(self._chunk_bytes):
            digest.update(piece)
            size += len(piece)
            self._record(DATA + piece)
        member = Member(name, kind, size, digest.hexdigest())
        self.members.append(member)
        return member

    def finish(self, manifest: dict[str, Any]) -> dict[str, Any]:
        """Write the manifest (with every member's size and digest) as the final record."""
        manifest = {**manifest, "members": [asdict(member) for member in self.members]}
        self._record(MANIFEST + json.dumps(manifest, sort_keys=True).encode(), final=True)
        return manifest

    def _record(self, plaintext: bytes, *, final: bool = False) -> None:
        sealed = self._cipher.encrypt(
            _nonce(self._counter, final=final), plaintext, self._associated
        )
        self._counter += 1
        self._out.write((len(sealed) | (FINAL_BIT if final else 0)).to_bytes(4, "big") + sealed)


class ArchiveReader:
    """Reads the header at once (to find the key); `extract` authenticates everything."""

    def __init__(self, source: BinaryIO):
        self._source = source
        if source.read(len(MAGIC)) != MAGIC:
            raise ArchiveRefused("This file is not a portal backup archive.")
        length = int.from_bytes(self._exactly(4, "its header"), "big")
        if length > MAX_HEADER_BYTES:
            raise ArchiveRefused("The archive's header is damaged.")
        body = self._exactly(length, "its header")
        self._associated = MAGIC + length.to_bytes(4, "big") + body
        try:
            self.header: dict[str, Any] = json.loads(body)
            salt = base64.b64decode(self.header["salt"], validate=True)
            version = self.header["format"]
        except (ValueError, KeyError, TypeError):
            raise ArchiveRefused("The archive's header is damaged.") from None
        if version != FORMAT:
            raise ArchiveRefused(
                f"This archive has format {version}; this portal reads format {FORMAT}."
            )
        self._salt = salt

    def extract(self, secret: bytes, open_member: Callable[[str, str], BinaryIO]) -> dict[str, Any]:
        """Decrypt every member into the file `open_member(name, kind)` returns (closed here),
        then check the manifest against what was read. Returns the manifest."""
        cipher = AESGCM(archive_key(secret, self._salt))
        members: list[Member] = []
        current: tuple[str, str, BinaryIO, Any] | None = None
        size = 0
        counter = 0
        try:
            while True:
                frame, body, final = self._next(cipher, counter)
                counter += 1
                if frame in (MEMBER, MANIFEST) and current is not None:
                    name, kind, handle, digest = current
                    handle.close()
                    members.append(Member(name, kind, size, digest.hexdigest()))
                    current = None
                if frame == MEMBER and not final:
                    described = _json(body)
                    name, kind = str(described.get("name")), str(described.get("kind"))
                    current, size = (name, kind, open_member(name, kind), hashlib.sha256()), 0
                elif frame == DATA and current is not None and not final:
                    current[2].write(body)
                    current[3].update(body)
                    size += len(body)
                elif frame == MANIFEST and final:
                    manifest = _json(body)
                    break
                else:
                    raise ArchiveRefused("The archive's records are out of order.")
        finally:
            if current is not None:
                current[2].close()
        if self._source.read(1):
            raise ArchiveRefused("The archive has unexpected data after its manifest.")
        _check_members(manifest, members)
        return manifest

    def _next(self, cipher: AESGCM, counter: int) -> tuple[bytes, bytes, bool]:
        prefix = self._exactly(4, "its manifest")
        length = int.from_bytes(prefix, "big")
        final = bool(length & FINAL_BIT)
        length &= ~FINAL_BIT
        if not TAG_BYTES < length <= MAX_MANIFEST_BYTES:
            raise ArchiveRefused(f"The archive is damaged at record {counter + 1}.")
        sealed = self._exactly(length, "its manifest")
        try:
            plaintext = cipher.decrypt(_nonce(counter, final=final), sealed, self._associated)
        except InvalidTag:
            hint = " or it was made with other keys" if counter == 0 else ""
            raise ArchiveRefused(
                f"The archive failed its integrity check at record {counter + 1}: it was "
                f"altered or damaged{hint}. Nothing was restored."
            ) from None
        return plaintext[:1], plaintext[1:], final

    def _exactly(self, count: int, before: str) -> bytes:
        data = self._source.read(count)
        if len(data) != count:
            raise ArchiveRefused(
                f"The archive is incomplete: it ends before {before} (it was cut short)."
            )
        return data


def _json(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise ArchiveRefused("The archive's manifest is damaged.")
    return value


def _check_members(manifest: dict[str, Any], members: list[Member]) -> None:
    listed = manifest.get("members")
    if not isinstance(listed, list) or len(listed) != len(members):
        raise ArchiveRefused("The archive's manifest does not list the members it holds.")
    for entry, member in zip(listed, members, strict=True):
        if entry != asdict(member):
            raise ArchiveRefused(
                f"The member {member.name} does not match its size and SHA-256 in the manifest."
            )
