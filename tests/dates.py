"""The date as the tests' practices see it, not the machine's.

Every practice the tests make (the demo's and the factories') keeps New York time. From midnight
UTC until New York's midnight the machine's date is a day ahead, so a record dated the machine's
today is in the future and a week counted from it starts a day late.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from portal.backend import clock
from portal.backend.demo.people import PRACTICE

PRACTICE_ZONE = PRACTICE["time_zone"]


def practice_today() -> date:
    return clock.now().astimezone(ZoneInfo(PRACTICE_ZONE)).date()
