"""boto3 clients configured from settings (region, and an endpoint for a local stand-in)."""

from __future__ import annotations

from typing import Any

from portal.backend.config import Settings


def client(service: str, config: Settings) -> Any:
    import boto3
    from botocore.config import Config

    # Signature V4 everywhere: S3 requires it for SSE-KMS objects and their presigned links.
    return boto3.client(
        service,
        region_name=config.aws_region,
        endpoint_url=config.aws_endpoint_url,
        config=Config(signature_version="s3v4" if service == "s3" else None),
    )
