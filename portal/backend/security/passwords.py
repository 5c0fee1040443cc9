"""Password hashing with argon2id (NIST SP 800-63B memory-hard hashing)."""

from __future__ import annotations

from passlib.context import CryptContext

HASHING = CryptContext(
    schemes=["argon2"],
    argon2__type="ID",
    argon2__memory_cost=47104,
    argon2__time_cost=1,
    argon2__parallelism=1,
)
MIN_LENGTH = 12
MAX_LENGTH = 256

# Verified against when an account does not exist, so unknown and known emails take equal time.
_UNKNOWN_ACCOUNT_HASH = HASHING.hash("no such account; this hash only burns equal time")


def hash_password(password: str) -> str:
    return HASHING.hash(password)


def verify_password(password: str, stored_hash: str | None) -> tuple[bool, str | None]:
    """Whether the password matches, and a new hash when the parameters have changed."""
    if stored_hash is None:
        HASHING.verify(password, _UNKNOWN_ACCOUNT_HASH)
        return False, None
    return HASHING.verify_and_update(password, stored_hash)
