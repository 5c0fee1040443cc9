"""A week of free times as the booking screens send it to the browser: each clinician named once,
and per day only each time's start and label. Sent as found (every time carrying the clinician's
name and id, its place and its day), the family team's week was about 28 KB in one update.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.backend.views import ProviderOption, SlotChoice, TimeSearch


@dataclass(frozen=True)
class FreeTime:
    starts_at: str  # ISO 8601, UTC: what choosing the time sends back
    time: str  # in the practice's zone, e.g. '9:00 AM'
    provider: int  # the clinician's place in the list they come with


@dataclass(frozen=True)
class FreeDay:
    day: str  # e.g. 'Tuesday 1 December 2026'
    times: list[FreeTime]


@dataclass(frozen=True)
class FreeWeek:
    providers: list[ProviderOption]
    days: list[FreeDay]
    # When the range has no free time: the first day that has some, if any.
    next_free_date: str = ""
    next_free_day: str = ""


def free_week(search: TimeSearch) -> FreeWeek:
    choices = [choice for day in search.days for choice in day.slots]
    return FreeWeek(
        providers=clinicians(choices),
        days=free_days(choices),
        next_free_date=search.next_free_date,
        next_free_day=search.next_free_day,
    )


def clinicians(choices: list[SlotChoice]) -> list[ProviderOption]:
    """The clinicians of `choices`, each once, in the order they first come."""
    names = {choice.provider_id: choice.provider for choice in choices}
    return [ProviderOption(id=provider_id, name=name) for provider_id, name in names.items()]


def free_days(choices: list[SlotChoice]) -> list[FreeDay]:
    """`choices` (in start order) by day; each time names its clinician by their place in
    `clinicians(choices)`."""
    place = {provider.id: n for n, provider in enumerate(clinicians(choices))}
    days: dict[str, list[FreeTime]] = {}
    for choice in choices:
        days.setdefault(choice.day, []).append(
            FreeTime(
                starts_at=choice.starts_at, time=choice.time, provider=place[choice.provider_id]
            )
        )
    return [FreeDay(day=day, times=times) for day, times in days.items()]
