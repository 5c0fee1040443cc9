"""Free appointment times, computed from working hours, exceptions and what is already booked.

Pure functions over plain values, so slot search makes a fixed number of queries and then
works in memory. Weekly working hours are local wall-clock times in an IANA zone, turned into
UTC instants date by date, so a daylight-saving day gets its own offsets (never today's
offset applied to another day). Everything after that is UTC.

The one rule for "is this time free": a visit occupies its *blocked* time, the visit itself
plus the type's buffers, and two blocked times of one provider may not overlap. The database
enforces the same rule for booked appointments.
"""

from __future__ import annotations

import bisect
import itertools
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True, order=True)
class Span:
    """A half-open interval of UTC instants, [start, end)."""

    start: datetime
    end: datetime

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True)
class WeeklyHours:
    """One weekly block of a provider's working hours at a location."""

    provider_id: uuid.UUID
    location_id: uuid.UUID | None
    weekday: int  # Monday is 0
    start: time
    end: time
    time_zone: str
    effective_from: date
    effective_until: date | None = None


@dataclass(frozen=True)
class Window:
    """Working time of one provider on one occasion, in UTC."""

    provider_id: uuid.UUID
    location_id: uuid.UUID | None
    span: Span


@dataclass(frozen=True)
class VisitRules:
    """What slot search needs from an appointment type."""

    duration: timedelta
    buffer_before: timedelta = timedelta(0)
    buffer_after: timedelta = timedelta(0)
    interval: timedelta = timedelta(minutes=15)

    def blocked(self, starts_at: datetime) -> Span:
        """The provider's time a visit starting at `starts_at` takes, buffers included."""
        return Span(starts_at - self.buffer_before, starts_at + self.duration + self.buffer_after)


@dataclass(frozen=True, order=True)
class Slot:
    starts_at: datetime
    ends_at: datetime
    provider_id: uuid.UUID
    location_id: uuid.UUID | None = field(compare=False)


def local_instant(day: date, wall_clock: time, time_zone: str) -> datetime:
    """The UTC instant of a wall-clock time on a date in a zone. A time that does not exist
    that day (skipped by a spring-forward) is read with the offset before the change."""
    return datetime.combine(day, wall_clock, tzinfo=ZoneInfo(time_zone)).astimezone(UTC)


def local_midnight(day: date, time_zone: str) -> datetime:
    """The UTC instant a date begins in a zone."""
    return local_instant(day, time.min, time_zone)


def weekly_windows(hours: Iterable[WeeklyHours], first: date, last: date) -> list[Window]:
    """The working windows of every block of hours on each date from `first` to `last`."""
    windows = []
    day_count = (last - first).days + 1
    for block in hours:
        for offset in range(day_count):
            day = first + timedelta(days=offset)
            if day.weekday() != block.weekday or day < block.effective_from:
                continue
            if block.effective_until is not None and day > block.effective_until:
                continue
            span = Span(
                local_instant(day, block.start, block.time_zone),
                local_instant(day, block.end, block.time_zone),
            )
            if span.start < span.end:
                windows.append(Window(block.provider_id, block.location_id, span))
    return windows


def merged(spans: Iterable[Span]) -> list[Span]:
    """The union of spans as sorted, disjoint spans."""
    result: list[Span] = []
    for span in sorted(spans):
        if result and span.start <= result[-1].end:
            if span.end > result[-1].end:
                result[-1] = Span(result[-1].start, span.end)
        else:
            result.append(span)
    return result


class SpanSet:
    """Disjoint sorted spans with a fast overlap test."""

    def __init__(self, spans: Iterable[Span]):
        self.spans = merged(spans)
        self.starts = [span.start for span in self.spans]

    def overlaps(self, span: Span) -> bool:
        index = bisect.bisect_left(self.starts, span.end) - 1
        return index >= 0 and self.spans[index].end > span.start


def free_slots(
    *,
    windows: Iterable[Window],
    removed: dict[uuid.UUID | None, list[Span]],
    busy: dict[uuid.UUID, list[Span]],
    visit: VisitRules,
    earliest: datetime,
    latest: datetime,
    limit: int | None = None,
) -> list[Slot]:
    """Free slots in time order, starting no earlier than `earliest` and before `latest`.

    `removed` is time off per provider, and under the key None the practice's holidays; a
    slot's visit must lie inside a window and outside removed time. `busy` is the blocked time
    of appointments and live holds per provider; a slot's blocked time must not overlap it.
    Slot times step by the visit's interval from the start of their window. With `limit`,
    only the earliest `limit` slots are computed, so "the first free time" stops early.
    """
    if limit is not None and limit <= 0:
        return []
    holidays = removed.get(None, [])
    off: dict[uuid.UUID, SpanSet] = {}
    taken: dict[uuid.UUID, SpanSet] = {}
    found: dict[tuple[uuid.UUID, datetime], Slot] = {}
    kept: list[Slot] = []
    for window in sorted(windows, key=lambda w: w.span.start):
        # Windows come in order of their start, so once `limit` slots are known, a window
        # that opens after the last of them cannot offer an earlier one.
        if limit is not None and len(kept) >= limit and window.span.start > kept[-1].starts_at:
            break
        provider = window.provider_id
        if provider not in off:
            off[provider] = SpanSet([*removed.get(provider, []), *holidays])
            taken[provider] = SpanSet(busy.get(provider, []))
        slots = _window_slots(window, off[provider], taken[provider], visit, earliest, latest)
        for slot in itertools.islice(slots, limit):
            found.setdefault((slot.provider_id, slot.starts_at), slot)
        if limit is not None:
            kept = sorted(found.values())[:limit]
    return sorted(found.values())[:limit]


def _window_slots(
    window: Window,
    off: SpanSet,
    taken: SpanSet,
    visit: VisitRules,
    earliest: datetime,
    latest: datetime,
) -> Iterator[Slot]:
    span = window.span
    skip = max(0, -(-(earliest - span.start) // visit.interval))  # ceiling division
    for step in itertools.count(skip):
        starts_at = span.start + step * visit.interval
        ends_at = starts_at + visit.duration
        if ends_at > span.end or starts_at >= latest:
            return
        if off.overlaps(Span(starts_at, ends_at)) or taken.overlaps(visit.blocked(starts_at)):
            continue
        yield Slot(starts_at, ends_at, window.provider_id, window.location_id)
