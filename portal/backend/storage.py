"""Encrypted file storage for attachments, documents and insurance cards.

Uploads are checked by their content (not their name) against an allow-list and a size limit
before anything is stored. Objects get random keys. `local` (the embedded default) seals each
file with AES-256-GCM under the data keys, bound to its object key; `s3` stores it with SSE-KMS
and hands out presigned links that expire within five minutes, only after the caller has been
authorized. Reflex's public upload folder is never used.
"""

from __future__ import annotations

import io
import os
import secrets
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

from PIL import Image

from portal.backend import aws
from portal.backend.config import Settings
from portal.backend.crypto import KeyRing

ALLOWED_TYPES = {"application/pdf": "PDF", "image/png": "PNG", "image/jpeg": "JPEG"}
SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
LINK_SECONDS = 300
THUMBNAIL_SIDE = 320
THUMBNAIL_SOURCE_PIXELS = 50_000_000
IMAGE_TYPES = ("image/png", "image/jpeg")


class UploadRefused(Exception):
    """The file cannot be accepted; the message says why in plain words."""


class ImageRefused(UploadRefused):
    """The file is not a picture the portal keeps. `reason` says which way, for the caller to
    word for its own form: "not_an_image" (another kind of file, whatever its name),
    "unreadable" (an image's first bytes over something else) or "too_many_pixels"."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def check_upload(data: bytes, *, max_bytes: int) -> str:
    """The file's content type if it is an allowed kind within the size limit."""
    _check_size(data, max_bytes)
    content_type = sniff(data)
    if content_type is None:
        raise UploadRefused(
            "Only PDF, PNG and JPEG files can be added; this file is none of those."
        )
    return content_type


def clean_image(data: bytes, *, max_bytes: int, max_pixels: int) -> tuple[bytes, str]:
    """A PNG or JPEG (told by its bytes, then read whole by Pillow) re-encoded without its
    metadata (a phone's photo carries where it was taken), and its content type. Refuses an
    empty or oversize file (`UploadRefused`) and anything else that is not such a picture
    (`ImageRefused`)."""
    _check_size(data, max_bytes)
    content_type = sniff(data)
    if content_type not in IMAGE_TYPES:
        raise ImageRefused("not_an_image", "This file is not a PNG or JPEG image.")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != ALLOWED_TYPES[content_type]:
                raise OSError
            if image.width * image.height > max_pixels:
                raise ImageRefused("too_many_pixels", "The picture has too many pixels.")
            image.load()
            clean = image.convert("RGB" if image.format == "JPEG" else "RGBA")
            out = io.BytesIO()
            if image.format == "JPEG":
                clean.save(out, format="JPEG", quality=90)
            else:
                clean.save(out, format="PNG")
    except (OSError, ValueError, Image.DecompressionBombError, SyntaxError):
        raise ImageRefused("unreadable", "This file is not a picture we can read.") from None
    return out.getvalue(), content_type


def _check_size(data: bytes, max_bytes: int) -> None:
    if not data:
        raise UploadRefused("The file is empty.")
    if len(data) > max_bytes:
        raise UploadRefused(f"The file is larger than {max_bytes // (1024 * 1024)} MB.")


def sniff(data: bytes) -> str | None:
    return next((kind for signature, kind in SIGNATURES if data.startswith(signature)), None)


def thumbnail(data: bytes) -> bytes | None:
    """A PNG preview (at most 320 px a side) of a PNG or JPEG, without its metadata (photos
    carry GPS positions). None for an image that cannot be read or is implausibly large."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > THUMBNAIL_SOURCE_PIXELS:
                return None
            image.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
            preview = image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB")
            out = io.BytesIO()
            preview.save(out, format="PNG")
            return out.getvalue()
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


def attachment_disposition(filename: str) -> str:
    """A Content-Disposition that always downloads, with the name safely encoded."""
    fallback = "".join(c if c.isalnum() or c in "._-" else "_" for c in filename)[:100] or "file"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename[:200])}"


class FileStore(Protocol):
    def put(self, data: bytes, content_type: str) -> str:
        """Store the bytes; returns a new random object key."""
        ...

    def get(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...

    def link(self, key: str, *, filename: str, content_type: str) -> str | None:
        """A short-lived download link, or None when the portal must stream the bytes."""
        ...


class LocalFileStore:
    """AES-256-GCM sealed files under the data folder, readable by their owner only."""

    def __init__(self, root: Path, keyring: KeyRing):
        self.root = root
        self.keyring = keyring

    def put(self, data: bytes, content_type: str) -> str:
        key = new_object_key()
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = path.with_suffix(".partial")
        with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
            f.write(self.keyring.seal("files", "content", key, data))
        os.replace(temporary, path)
        return key

    def get(self, key: str) -> bytes:
        return self.keyring.open("files", "content", key, self._path(key).read_bytes())

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def link(self, key: str, *, filename: str, content_type: str) -> str | None:
        return None

    def _path(self, key: str) -> Path:
        if len(key) != 32 or not all(c in "0123456789abcdef" for c in key):
            raise KeyError("not an object key")
        return self.root / key[:2] / key


class S3FileStore:
    """Objects in S3, encrypted with SSE-KMS; downloads by presigned links of five minutes."""

    def __init__(self, s3: Any, bucket: str, kms_key_id: str | None):
        self.s3 = s3
        self.bucket = bucket
        self.kms_key_id = kms_key_id

    def put(self, data: bytes, content_type: str) -> str:
        key = new_object_key()
        encryption = {"ServerSideEncryption": "aws:kms"}
        if self.kms_key_id:
            encryption["SSEKMSKeyId"] = self.kms_key_id
        self.s3.put_object(
            Bucket=self.bucket, Key=key, Body=data, ContentType=content_type, **encryption
        )
        return key

    def get(self, key: str) -> bytes:
        return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def delete(self, key: str) -> None:
        self.s3.delete_object(Bucket=self.bucket, Key=key)

    def link(self, key: str, *, filename: str, content_type: str) -> str | None:
        return self.s3.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ResponseContentDisposition": attachment_disposition(filename),
                "ResponseContentType": content_type,
                "ResponseCacheControl": "no-store",
            },
            ExpiresIn=LINK_SECONDS,
        )


def file_store(config: Settings, keyring: KeyRing) -> FileStore:
    if config.storage == "s3":
        return S3FileStore(aws.client("s3", config), config.s3_bucket, config.kms_key_id)
    return LocalFileStore(config.files_dir, keyring)


def new_object_key() -> str:
    return secrets.token_hex(16)
