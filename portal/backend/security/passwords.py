"""Password rules (NIST SP 800-63B) and hashing with argon2id."""

from __future__ import annotations

from functools import cache

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


def password_problem(password: str, *, name: str, email: str) -> str | None:
    """Why a new password is not acceptable, or None. Length and a list of common passwords
    count; composition rules do not."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters; a short phrase of a few words works well."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    lowered = password.casefold()
    if lowered in _common_passwords() or len(set(lowered)) < 4:
        return "This password is too common or too easy to guess; choose another."
    personal = [part for part in name.casefold().split() if len(part) >= 3]
    personal.append(email.strip().casefold().split("@")[0])
    if any(part and part in lowered for part in personal):
        return "Do not use your own name or email address in your password."
    return None


def hash_password(password: str) -> str:
    return HASHING.hash(password)


def verify_password(password: str, stored_hash: str | None) -> tuple[bool, str | None]:
    """Whether the password matches, and a new hash when the parameters have changed. With no
    stored hash (no such account) a dummy hash is verified, so both take the same time."""
    if stored_hash is None:
        HASHING.verify(password, _unknown_account_hash())
        return False, None
    return HASHING.verify_and_update(password, stored_hash)


@cache
def _unknown_account_hash() -> str:
    return HASHING.hash("no such account; this hash only burns equal time")


@cache
def _common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords of breach corpora, as zxcvbn ships them."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])
