"""`portal serve`: several workers only with shared state and data, and `--no-build` serves only
a frontend built for this PORTAL_PUBLIC_URL."""

from __future__ import annotations

import json

import pytest

from portal.backend.config import ConfigError, load_settings
from portal.production import check_frontend_build, worker_count

POSTGRES = "postgresql://portal@db:5432/portal"


def built(web_dir, public_url: str):
    """What a Reflex production build for `public_url` leaves behind."""
    (web_dir / "build" / "client").mkdir(parents=True)
    (web_dir / "build" / "client" / "index.html").write_text("<html></html>")
    (web_dir / "env.json").write_text(
        json.dumps({"PING": f"{public_url}/ping", "EVENT": "ws://elsewhere/_event"})
    )
    return web_dir


@pytest.mark.parametrize(
    ("environment", "words"),
    [
        ({}, "REDIS_URL"),
        ({"REDIS_URL": "redis://cache:6379/0"}, "PostgreSQL"),
        ({"DATABASE_URL": POSTGRES}, "REDIS_URL"),
    ],
)
def test_several_workers_need_redis_and_postgresql(tmp_path, environment, words):
    config = load_settings({"PORTAL_DATA_DIR": str(tmp_path), **environment})
    with pytest.raises(ConfigError, match=words):
        worker_count(2, config)


def test_the_worker_count_is_bounded_and_defaults_to_the_setting(tmp_path):
    shared = {"REDIS_URL": "redis://cache:6379/0", "DATABASE_URL": POSTGRES}
    config = load_settings({"PORTAL_DATA_DIR": str(tmp_path), "PORTAL_WORKERS": "3", **shared})
    assert worker_count(None, config) == 3
    assert worker_count(1, load_settings({"PORTAL_DATA_DIR": str(tmp_path)})) == 1
    with pytest.raises(ConfigError, match="from 1 to"):
        worker_count(0, config)


def test_a_build_for_this_address_is_served(tmp_path):
    check_frontend_build(
        built(tmp_path, "https://portal.example.org"), "https://portal.example.org"
    )


def test_no_build_is_refused_in_one_sentence(tmp_path):
    with pytest.raises(ConfigError, match="no frontend build") as refusal:
        check_frontend_build(tmp_path, "https://portal.example.org")
    assert "--no-build" in str(refusal.value)


@pytest.mark.parametrize(
    "built_for",
    ["http://localhost:3000", "https://portal.example.org:8443", "https://other.example"],
)
def test_a_build_for_another_address_is_refused(tmp_path, built_for):
    with pytest.raises(ConfigError, match="built for") as refusal:
        check_frontend_build(built(tmp_path, built_for), "https://portal.example.org")
    assert built_for in str(refusal.value)
    assert "https://portal.example.org" in str(refusal.value)


def test_a_build_without_its_addresses_is_refused(tmp_path):
    (built(tmp_path, "https://portal.example.org") / "env.json").write_text("{")
    with pytest.raises(ConfigError, match="an unknown address"):
        check_frontend_build(tmp_path, "https://portal.example.org")
