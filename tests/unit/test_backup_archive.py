"""The backup archive container: chunked AES-256-GCM that refuses any change, reordering,
truncation or extension with one plain sentence, and streams members a chunk at a time."""

from __future__ import annotations

import io
import os

import pytest

from portal.backend.archive import ArchiveReader, ArchiveRefused, ArchiveWriter

SECRET = bytes(range(32))
CHUNK = 64


def build(members: dict[str, bytes], *, secret: bytes = SECRET) -> bytes:
    out = io.BytesIO()
    writer = ArchiveWriter(out, {"created_at": "now"}, secret, chunk_bytes=CHUNK)
    for name, data in members.items():
        writer.add(name, "file", io.BytesIO(data))
    writer.finish({"created_at": "now"})
    return out.getvalue()


def extract(archive: bytes, *, secret: bytes = SECRET) -> tuple[dict, dict[str, bytes]]:
    found: dict[str, io.BytesIO] = {}

    class Sink(io.BytesIO):
        def close(self) -> None:  # keep the bytes readable after the reader closes it
            pass

    def open_member(name: str, kind: str) -> io.BytesIO:
        found[name] = Sink()
        return found[name]

    manifest = ArchiveReader(io.BytesIO(archive)).extract(secret, open_member)
    return manifest, {name: sink.getvalue() for name, sink in found.items()}


MEMBERS = {
    "a": os.urandom(CHUNK * 3 + 5),  # several chunks and a short one
    "empty": b"",
    "exact": os.urandom(CHUNK * 2),
}


def test_members_round_trip_with_sizes_and_digests_in_the_manifest():
    manifest, found = extract(build(MEMBERS))
    assert found == MEMBERS
    assert [entry["name"] for entry in manifest["members"]] == list(MEMBERS)
    assert manifest["members"][0]["size"] == CHUNK * 3 + 5
    assert len(manifest["members"][0]["sha256"]) == 64
    assert manifest["created_at"] == "now"


def test_the_archive_is_not_readable_and_each_archive_uses_its_own_key():
    plaintext = b"Garcia maria.garcia@example.com " * 10
    first, second = build({"a": plaintext}), build({"a": plaintext})
    assert b"Garcia" not in first and b"maria.garcia" not in first
    assert first[-200:] != second[-200:]  # a fresh salt, so a fresh key and ciphertext


def refused(archive: bytes, *words: str, secret: bytes = SECRET) -> str:
    with pytest.raises(ArchiveRefused) as caught:
        extract(archive, secret=secret)
    message = str(caught.value)
    assert message.count("\n") == 0 and message.endswith(".")
    for word in words:
        assert word in message
    return message


def test_a_flipped_byte_anywhere_after_the_magic_is_refused():
    archive = build(MEMBERS)
    for position in range(8, len(archive), 7):
        damaged = bytearray(archive)
        damaged[position] ^= 0x01
        refused(bytes(damaged))


def test_every_truncation_is_refused():
    archive = build(MEMBERS)
    for length in range(len(archive)):
        refused(archive[:length])
    refused(archive[: len(archive) - 1], "cut short")


def test_data_after_the_manifest_is_refused():
    refused(build(MEMBERS) + b"\x00", "after its manifest")


def test_records_cannot_be_dropped_or_reordered():
    archive = build({"a": b"x" * (CHUNK * 3)})
    header_end = 12 + int.from_bytes(archive[8:12], "big")
    records, position = [], header_end
    while position < len(archive):
        length = int.from_bytes(archive[position : position + 4], "big") & 0x7FFF_FFFF
        records.append(archive[position : position + 4 + length])
        position += 4 + length
    assert len(records) == 5  # member start, three chunks, manifest
    head = archive[:header_end]
    refused(head + b"".join(records[:2] + records[3:]), "integrity check")
    refused(head + b"".join([records[0], records[2], records[1], *records[3:]]))
    refused(head + b"".join(records[:-1]), "cut short")


def test_a_wrong_key_is_refused_at_the_first_record():
    refused(build(MEMBERS), "record 1", "other keys", secret=bytes(32))


def test_not_an_archive_and_unknown_format_are_named():
    refused(b"hello world, this is not it", "not a portal backup archive")
    archive = build({})
    refused(archive.replace(b'"format": 1', b'"format": 9'), "format 9")


def test_members_are_streamed_a_chunk_at_a_time():
    class Source(io.RawIOBase):
        def __init__(self) -> None:
            self.reads: list[int] = []
            self.left = CHUNK * 10

        def read(self, size: int = -1) -> bytes:
            self.reads.append(size)
            taken = min(size, self.left)
            self.left -= taken
            return b"z" * taken

    source = Source()
    writer = ArchiveWriter(io.BytesIO(), {}, SECRET, chunk_bytes=CHUNK)
    member = writer.add("big", "file", source)
    assert member.size == CHUNK * 10
    assert set(source.reads) == {CHUNK}
