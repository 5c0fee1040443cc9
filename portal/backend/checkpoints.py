"""Where signed audit checkpoints are kept: a local file or an S3 object (ideally in a bucket
with Object Lock, so that not even an administrator can rewrite it)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

from portal.backend import aws
from portal.backend.config import ConfigError, Settings


def save_checkpoint(checkpoint: dict, destination: str, config: Settings) -> None:
    body = json.dumps(checkpoint, indent=2, sort_keys=True).encode()
    bucket, key = _s3_location(destination)
    if bucket:
        aws.client("s3", config).put_object(
            Bucket=bucket, Key=key, Body=body, ContentType="application/json"
        )
        return
    path = Path(destination)
    if path.exists():
        raise ConfigError(f"{path} already exists; checkpoints are never overwritten.")
    path.write_bytes(body)


def load_checkpoint(source: str, config: Settings) -> dict:
    bucket, key = _s3_location(source)
    try:
        if bucket:
            body = aws.client("s3", config).get_object(Bucket=bucket, Key=key)["Body"].read()
        else:
            body = Path(source).read_bytes()
        return json.loads(body)
    except (OSError, ValueError) as error:
        raise ConfigError(f"Cannot read the checkpoint {source}: {type(error).__name__}.") from None


def _s3_location(location: str) -> tuple[str | None, str]:
    parts = urlsplit(location)
    if parts.scheme != "s3":
        return None, location
    if not parts.netloc or not parts.path.strip("/"):
        raise ConfigError(f"{location} is not an S3 location; write s3://bucket/key.")
    return parts.netloc, parts.path.lstrip("/")
