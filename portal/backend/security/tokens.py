"""Opaque random tokens handed to browsers; only their SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets


def new_token() -> str:
    """A 256-bit random token, URL-safe."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# The cookie that carries a browser's session token, for pages and HTTP routes alike.
SESSION_COOKIE = "portal_session"
