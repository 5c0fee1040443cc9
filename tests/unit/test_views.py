"""Times shown to people are in the practice's zone, right on daylight-saving days too."""

from __future__ import annotations

from datetime import UTC, datetime

from portal.backend.views import local_day, local_moment, local_time


def test_times_are_shown_in_the_practice_zone():
    instant = datetime(2026, 12, 1, 14, 30, tzinfo=UTC)
    assert local_day(instant, "America/New_York") == "Tuesday 1 December 2026"
    assert local_time(instant, "America/New_York") == "9:30 AM"
    assert local_moment(instant, "Europe/London") == "1 Dec, 2:30 PM"


def test_daylight_saving_changes_the_offset_not_the_wall_clock():
    before = datetime(2026, 3, 7, 14, 0, tzinfo=UTC)  # 9:00 EST
    after = datetime(2026, 3, 9, 13, 0, tzinfo=UTC)  # 9:00 EDT
    assert (
        local_time(before, "America/New_York") == local_time(after, "America/New_York") == "9:00 AM"
    )


def test_midnight_and_noon():
    assert local_time(datetime(2026, 6, 1, 4, 0, tzinfo=UTC), "America/New_York") == "12:00 AM"
    assert local_time(datetime(2026, 6, 1, 16, 5, tzinfo=UTC), "America/New_York") == "12:05 PM"
