"""Configuration comes from the environment, with embedded defaults and plain-worded refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal.backend.config import ConfigError, load_settings


def test_embedded_defaults_need_no_environment(tmp_path):
    settings = load_settings({"PORTAL_DATA_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'portal.db'}"
    assert settings.is_sqlite
    assert settings.redis_url is None
    assert settings.idle_timeout_minutes == 15
    assert settings.allowed_origins == ("http://localhost:3000", "http://127.0.0.1:3000")
    assert settings.key_file == Path(tmp_path) / "keys" / "master.key"
    assert not settings.demo


def test_postgres_urls_use_the_psycopg_driver():
    settings = load_settings({"DATABASE_URL": "postgresql://u:secret@db:5432/portal"})
    assert settings.database_url == "postgresql+psycopg://u:secret@db:5432/portal"


def test_origins_are_taken_from_the_public_url_or_listed():
    assert load_settings(
        {"PORTAL_PUBLIC_URL": "https://portal.example.org/some/path"}
    ).allowed_origins == ("https://portal.example.org",)
    settings = load_settings({"PORTAL_ALLOWED_ORIGINS": "https://a.example, https://b.example"})
    assert settings.allowed_origins == ("https://a.example", "https://b.example")


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("DATABASE_URL", "::::", "DATABASE_URL"),
        ("DATABASE_URL", "oracle://x/y", "unsupported"),
        ("REDIS_URL", "http://cache", "REDIS_URL"),
        ("PORTAL_PUBLIC_URL", "portal.example.org", "PORTAL_PUBLIC_URL"),
        ("PORTAL_IDLE_TIMEOUT_MINUTES", "ten", "whole number"),
        ("PORTAL_IDLE_TIMEOUT_MINUTES", "14", "15 to 30"),
        ("PORTAL_KEY_PROVIDER", "vault", "PORTAL_KEY_PROVIDER"),
        ("PORTAL_DEMO", "maybe", "PORTAL_DEMO"),
    ],
)
def test_bad_values_are_refused_in_one_sentence_naming_the_variable(variable, value, words):
    with pytest.raises(ConfigError) as refusal:
        load_settings({variable: value})
    message = str(refusal.value)
    assert variable in message and words in message
    assert "\n" not in message and message.endswith(".")
