"""The `portal` command: clear one-sentence refusals with exit code 2, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.conftest import PROJECT_ROOT


def portal(*args: str, data_dir: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    environment.update(PORTAL_DATA_DIR=str(data_dir), **env)
    return subprocess.run(
        [sys.executable, "-m", "portal.cli", *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=PROJECT_ROOT,
        timeout=120,
    )


def assert_refused(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    message = result.stderr.strip()
    assert message.startswith("portal: ") and message.count("\n") == 0, message
    for word in words:
        assert word in message


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("not a url at all", "DATABASE_URL"),
        ("mysql://root@localhost/portal", "unsupported"),
        ("postgresql+psycopg://nobody@127.0.0.1:1/portal", "DATABASE_URL"),
    ],
)
def test_a_broken_database_url_stops_with_one_sentence(tmp_path, url, named):
    assert_refused(portal("migrate", data_dir=tmp_path, DATABASE_URL=url), named)


def test_an_unwritable_data_folder_stops_with_one_sentence(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert_refused(portal("migrate", data_dir=blocker / "data"), "not writable", "PORTAL_DATA_DIR")


def test_a_bad_setting_is_named(tmp_path):
    result = portal("migrate", data_dir=tmp_path, PORTAL_IDLE_TIMEOUT_MINUTES="90")
    assert_refused(result, "PORTAL_IDLE_TIMEOUT_MINUTES", "15 to 30")


def test_migrate_then_demo_twice_loads_once(tmp_path):
    assert portal("migrate", data_dir=tmp_path).returncode == 0
    first, second = portal("demo", data_dir=tmp_path), portal("demo", data_dir=tmp_path)
    assert first.returncode == second.returncode == 0
    assert "Loaded the demo practice." in first.stdout
    assert "already loaded" in second.stdout


def test_a_missing_key_file_is_never_replaced_over_encrypted_data(tmp_path):
    assert portal("demo", data_dir=tmp_path).returncode == 0
    (tmp_path / "keys" / "master.key").unlink()
    assert_refused(portal("migrate", data_dir=tmp_path), "key file", "missing")
    assert not (tmp_path / "keys" / "master.key").exists()


def test_a_wrong_key_file_is_refused(tmp_path):
    assert portal("migrate", data_dir=tmp_path).returncode == 0
    other = tmp_path / "other"
    assert portal("migrate", data_dir=other).returncode == 0
    (tmp_path / "keys" / "master.key").write_bytes((other / "keys" / "master.key").read_bytes())
    assert_refused(portal("migrate", data_dir=tmp_path), "key file does not match")


def test_every_command_has_help(tmp_path):
    for command in ([], ["migrate"], ["demo"], ["create-admin"], ["serve"]):
        result = portal(*command, "--help", data_dir=tmp_path)
        assert result.returncode == 0
        assert "usage: portal" in result.stdout


def test_create_admin_refuses_a_short_password(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, getpass; getpass.getpass = lambda prompt='': 'short';"
            "from portal.cli import main; sys.exit(main(['create-admin', '--email', 'a@b.example',"
            "'--name', 'Ada Admin', '--practice-name', 'Test']))",
        ],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=120,
        env={**os.environ, "PORTAL_DATA_DIR": str(tmp_path)},
    )
    assert_refused(result, "at least 12 characters")
