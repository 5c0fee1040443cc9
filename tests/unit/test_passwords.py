"""Password hashing (argon2id) and the rules for a new password (NIST SP 800-63B)."""

from __future__ import annotations

import pytest

from portal.backend.security.passwords import (
    HASHING,
    hash_password,
    password_problem,
    verify_password,
)


def test_hashes_are_argon2id_with_at_least_46_mib():
    stored = hash_password("correct horse battery staple")
    assert stored.startswith("$argon2id$")
    assert "m=47104" in stored


def test_verification_and_rehash_when_parameters_change():
    weaker = HASHING.copy(argon2__memory_cost=8192)
    old = weaker.hash("correct horse battery staple")
    matches, new_hash = verify_password("correct horse battery staple", old)
    assert matches and new_hash and "m=47104" in new_hash
    assert verify_password("wrong", old) == (False, None)


def test_an_unknown_account_costs_a_verification_too():
    assert verify_password("anything", None) == (False, None)


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short", "at least 12"),
        ("x" * 257, "at most 256"),
        ("adaLovelace-rules-2026", "own name"),
        ("my ada.l@example.org pass", "own name"),
        ("QwertY123456", "too common"),
        ("leavemealone", "too common"),
        ("1qaz2wsx3edc4rfv", "too common"),
        ("aaaaaaaaaaaaaaaa", "too common"),
    ],
)
def test_new_passwords_that_are_refused(password, problem):
    assert problem in password_problem(password, name="Ada Lovelace", email="ada.l@example.org")


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery",
        "ünïcödé pässwörd ✓ ok",
        "correct horse battery staple " * 8 + "x" * 24,
        "all lowercase no digits",
    ],
)
def test_any_long_enough_password_is_accepted_without_composition_rules(password):
    assert password_problem(password, name="Ada Lovelace", email="ada.l@example.org") is None
