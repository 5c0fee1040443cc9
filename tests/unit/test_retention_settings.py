"""Retention periods are settings with safe defaults and floors that protect what the portal
still needs (docs/compliance/retention.md)."""

from __future__ import annotations

from dataclasses import fields

import pytest

from portal.backend.config import RETENTION_SETTINGS, ConfigError, RetentionDays, load_settings
from portal.backend.retention import KINDS, REPORTED


def test_defaults_need_no_environment_and_match_the_documented_table():
    settings = load_settings({})
    assert settings.retention == RetentionDays()
    assert settings.retention == RetentionDays(
        ended_sessions=90,
        sign_in_attempts=30,
        account_tokens=30,
        notifications=180,
        slot_holds=120,
        waitlist_entries=120,
        profile_changes=2192,
    )
    assert not settings.retention_paused
    for kind, (_, default, (low, high)) in RETENTION_SETTINGS.items():
        assert getattr(RetentionDays(), kind) == default
        assert low <= default <= high


def test_every_kind_the_job_deletes_has_a_setting():
    assert {kind.name for kind in KINDS} == {field.name for field in fields(RetentionDays)}
    assert set(RETENTION_SETTINGS) == {field.name for field in fields(RetentionDays)}
    assert set(REPORTED) == {kind.name for kind in KINDS} | {"notification_attempts"}


def test_a_period_can_be_changed_and_the_job_paused():
    settings = load_settings({"PORTAL_RETAIN_SESSIONS_DAYS": "365", "PORTAL_RETENTION_PAUSED": "1"})
    assert settings.retention.ended_sessions == 365
    assert settings.retention_paused


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        # The notification centre, analytics (12 weeks) and reminder idempotency need 90 days.
        ("PORTAL_RETAIN_NOTIFICATIONS_DAYS", "30"),
        # The provider schedule counts waitlist offers over 90 days.
        ("PORTAL_RETAIN_SLOT_HOLDS_DAYS", "90"),
        # Decided amendment requests are documentation kept six years (45 CFR 164.530(j)).
        ("PORTAL_RETAIN_PROFILE_CHANGES_DAYS", "365"),
        ("PORTAL_RETAIN_SESSIONS_DAYS", "0"),
        ("PORTAL_RETAIN_SIGN_IN_ATTEMPTS_DAYS", "forever"),
        ("PORTAL_RETAIN_ACCOUNT_TOKENS_DAYS", "-1"),
        ("PORTAL_RETENTION_PAUSED", "maybe"),
    ],
)
def test_unsafe_or_malformed_periods_are_refused_by_name(variable, value):
    with pytest.raises(ConfigError, match=variable):
        load_settings({variable: value})
