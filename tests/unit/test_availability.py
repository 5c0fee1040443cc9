"""Property-based tests of slot search (`portal.backend.availability`).

Working hours are generated in zones with daylight-saving changes (America/New_York,
Europe/London, Australia/Lord_Howe with its 30-minute shift) and in UTC, over date ranges
around each zone's 2026 transitions, then expanded with `weekly_windows`. Appointments and
holds (busy time), time off, holidays, buffers, durations, intervals, the notice (`earliest`)
and the horizon (`latest`) are generated around them.
"""

from __future__ import annotations

import uuid
from dataclasses import astuple
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.backend.availability import (
    Span,
    VisitRules,
    WeeklyHours,
    Window,
    free_slots,
    local_instant,
    weekly_windows,
)

PROPERTY = settings(max_examples=200, deadline=None)

# Each zone with the dates of its 2026 daylight-saving transitions (UTC borrows two of them).
TRANSITIONS = {
    "America/New_York": (date(2026, 3, 8), date(2026, 11, 1)),
    "Europe/London": (date(2026, 3, 29), date(2026, 10, 25)),
    "Australia/Lord_Howe": (date(2026, 4, 5), date(2026, 10, 4)),
    "UTC": (date(2026, 3, 8), date(2026, 10, 25)),
}
PROVIDERS = (uuid.UUID(int=1), uuid.UUID(int=2), uuid.UUID(int=3))
LOCATIONS = (uuid.UUID(int=101), uuid.UUID(int=102))
LAST_MINUTE = 23 * 60 + 59
# Wall-clock minutes worth hitting often: the transition hours and ordinary office hours.
INTERESTING_MINUTES = (0, 60, 90, 120, 150, 180, 540, 1020)


def minutes(count: int) -> timedelta:
    return timedelta(minutes=count)


def wall_clock(minute_of_day: int) -> time:
    return time(minute_of_day // 60, minute_of_day % 60)


def midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


# Strategies used inside the composites below are built once, here, since building and
# validating strategies example by example would take most of the run time.
PROVIDER = st.sampled_from(PROVIDERS)
# None: hours with no location, like an extra clinic without one, or telehealth.
LOCATION = st.sampled_from((None, *LOCATIONS))
START_MINUTE = st.one_of(st.sampled_from(INTERESTING_MINUTES), st.integers(0, LAST_MINUTE - 1))
# Ordinary clinic lengths and visit durations, mixed in so that most windows fit a visit.
LENGTH_MINUTES = st.one_of(st.sampled_from((240, 480, 600)), st.integers(1, 24 * 60))
DURATION_MINUTES = st.one_of(st.sampled_from((15, 30, 45, 60)), st.integers(1, 240))
UNTIL_DAYS = st.one_of(st.none(), st.integers(0, 20))
# Offsets from a landmark: any second, or a whole number of 5 minutes, which often puts an
# edge exactly on a slot boundary (intervals and wall-clock times are whole minutes).
NEAR_SECONDS = st.one_of(
    st.integers(-4 * 3600, 24 * 3600), st.integers(-48, 288).map(lambda fives: fives * 300)
)
SPAN_MINUTES = st.sampled_from((5, 15, 30, 60))


def draw_weekly_hours(draw, zone: str, first: date, last: date) -> WeeklyHours:
    """One block of working hours in `zone` on a weekday that occurs from `first` to `last`,
    mostly in effect by then, sometimes starting or ending within the range."""
    days = (last - first).days
    start = draw(START_MINUTE)
    end = min(start + draw(LENGTH_MINUTES), LAST_MINUTE)
    effective_from = first + timedelta(days=draw(st.integers(-10, days)))
    until_days = draw(UNTIL_DAYS)
    return WeeklyHours(
        provider_id=draw(PROVIDER),
        location_id=draw(LOCATION),
        weekday=(first + timedelta(days=draw(st.integers(0, days)))).weekday(),
        start=wall_clock(start),
        end=wall_clock(end),
        time_zone=zone,
        effective_from=effective_from,
        effective_until=None if until_days is None else effective_from + timedelta(until_days),
    )


def draw_instant_near(draw, landmarks: list[datetime]) -> datetime:
    """An instant from 4 hours before to a day after one of `landmarks`."""
    landmark = landmarks[draw(st.integers(0, len(landmarks) - 1))]
    return landmark + timedelta(seconds=draw(NEAR_SECONDS))


def draw_spans_near(draw, landmarks: list[datetime], most: int, longest: int) -> list[Span]:
    """Up to `most` spans, 1 to `longest` minutes long, each starting near a landmark."""
    result = []
    for _ in range(draw(st.integers(0, most))):
        start = draw_instant_near(draw, landmarks)
        length = draw(st.one_of(SPAN_MINUTES, st.integers(1, longest)))
        result.append(Span(start, start + minutes(length)))
    return result


@st.composite
def visit_rules(draw) -> VisitRules:
    """An appointment type: duration, buffers and the step between slot times."""
    return VisitRules(
        duration=minutes(draw(DURATION_MINUTES)),
        buffer_before=minutes(draw(st.integers(0, 60))),
        buffer_after=minutes(draw(st.integers(0, 60))),
        interval=minutes(draw(st.integers(5, 120))),
    )


@st.composite
def searches(draw) -> dict:
    """Keyword arguments for `free_slots`: windows from generated weekly hours over a few
    days around a daylight-saving transition, with busy and removed time, a visit type, a
    notice and a horizon."""
    zone = draw(st.sampled_from(sorted(TRANSITIONS)))
    anchor = draw(st.sampled_from(TRANSITIONS[zone]))
    first = anchor - timedelta(days=draw(st.integers(0, 3)))
    last = first + timedelta(days=draw(st.integers(0, 6)))
    hours = [draw_weekly_hours(draw, zone, first, last) for _ in range(draw(st.integers(1, 5)))]
    windows = weekly_windows(hours, first, last)
    # Local dates map to UTC instants from the day before `first` to the day after `last`.
    # Other times are drawn near the opening of a window, or near the start of that day
    # before, so that they often meet working time.
    origin = midnight_utc(first) - timedelta(days=1)
    reach = (last - first + timedelta(days=3)) // timedelta(minutes=1)
    landmarks = [origin, *(window.span.start for window in windows)]
    busy = {p: draw_spans_near(draw, landmarks, most=4, longest=4 * 60) for p in PROVIDERS}
    removed: dict[uuid.UUID | None, list[Span]] = {
        p: draw_spans_near(draw, landmarks, most=2, longest=4 * 60) for p in PROVIDERS
    }
    holidays = draw_spans_near(draw, landmarks, most=2, longest=24 * 60)
    if holidays:
        removed[None] = holidays
    earliest = origin if draw(st.booleans()) else draw_instant_near(draw, landmarks)
    horizon = draw(st.sampled_from(("past everything", "after the notice", "near a window")))
    if horizon == "past everything":
        latest = origin + minutes(reach)
    elif horizon == "after the notice":
        latest = earliest + minutes(draw(st.integers(0, reach)))
    else:
        latest = draw_instant_near(draw, landmarks)
    return {
        "windows": windows,
        "removed": removed,
        "busy": busy,
        "visit": draw(visit_rules()),
        "earliest": earliest,
        "latest": latest,
    }


def candidate_starts(window: Window, visit: VisitRules) -> list[datetime]:
    """Every start a window offers before any rule applies: its start, then each interval on,
    while the visit still ends inside it."""
    starts = []
    starts_at = window.span.start
    while starts_at + visit.duration <= window.span.end:
        starts.append(starts_at)
        starts_at += visit.interval
    return starts


@PROPERTY
@given(searches())
def test_no_slot_blocks_time_a_provider_already_has_booked(search):
    """A slot's blocked time (the visit plus its buffers) overlaps no appointment or hold of
    its provider, whose busy spans already include their own buffers."""
    visit = search["visit"]
    for slot in free_slots(**search):
        blocked = visit.blocked(slot.starts_at)
        for span in search["busy"].get(slot.provider_id, []):
            assert not blocked.overlaps(span), (slot, span)


@PROPERTY
@given(searches())
def test_no_slot_falls_in_time_off_or_a_holiday(search):
    """A slot's visit overlaps neither its provider's time off nor a practice holiday; the
    buffers may run into removed time, only the visit itself may not."""
    for slot in free_slots(**search):
        visit = Span(slot.starts_at, slot.ends_at)
        removed = [*search["removed"].get(slot.provider_id, []), *search["removed"].get(None, [])]
        for span in removed:
            assert not visit.overlaps(span), (slot, span)


@PROPERTY
@given(searches())
def test_every_slot_lies_inside_a_window_of_its_provider(search):
    """A slot lasts exactly the visit's duration and lies inside a working window of its
    provider at its location, a whole number of intervals after that window's start."""
    visit = search["visit"]
    for slot in free_slots(**search):
        assert slot.ends_at - slot.starts_at == visit.duration
        assert any(
            window.provider_id == slot.provider_id
            and window.location_id == slot.location_id
            and window.span.start <= slot.starts_at
            and slot.ends_at <= window.span.end
            and (slot.starts_at - window.span.start) % visit.interval == timedelta(0)
            for window in search["windows"]
        ), slot


@PROPERTY
@given(searches())
def test_slots_respect_notice_and_horizon_in_time_order_without_duplicates(search):
    """Every slot starts at or after `earliest` and before `latest`; slots come in time
    order and no provider is offered the same start twice."""
    slots = free_slots(**search)
    for slot in slots:
        assert search["earliest"] <= slot.starts_at < search["latest"], slot
    starts = [slot.starts_at for slot in slots]
    assert starts == sorted(starts)
    keys = [(slot.provider_id, slot.starts_at) for slot in slots]
    assert len(keys) == len(set(keys))


@PROPERTY
@given(searches())
def test_every_free_start_is_offered(search):
    """Completeness in general: each start a window offers that keeps clear of busy time
    (with buffers) and removed time, within notice and horizon, is returned, once."""
    visit = search["visit"]
    holidays = search["removed"].get(None, [])
    expected = set()
    for window in search["windows"]:
        provider = window.provider_id
        off = [*search["removed"].get(provider, []), *holidays]
        busy = search["busy"].get(provider, [])
        for starts_at in candidate_starts(window, visit):
            visit_span = Span(starts_at, starts_at + visit.duration)
            if (
                search["earliest"] <= starts_at < search["latest"]
                and not any(visit_span.overlaps(span) for span in off)
                and not any(visit.blocked(starts_at).overlaps(span) for span in busy)
            ):
                expected.add((provider, starts_at))
    slots = free_slots(**search)
    assert [(slot.provider_id, slot.starts_at) for slot in slots] == sorted(
        expected, key=lambda key: (key[1], key[0])
    )


@PROPERTY
@given(
    start=st.integers(0, 365 * 24 * 60).map(lambda m: midnight_utc(date(2026, 1, 1)) + minutes(m)),
    duration=st.integers(1, 180),
    count=st.integers(0, 40),
    notice=st.integers(-10_000, 10_000),
    horizon=st.one_of(st.none(), st.integers(0, 45)),
    buffers=st.tuples(st.integers(0, 60), st.integers(0, 60)),
)
def test_a_free_window_of_n_visits_offers_n_slots(start, duration, count, notice, horizon, buffers):
    """With nothing booked or removed, a window of `count` visits back to back, stepped by
    the duration, offers exactly those `count` slots, less the ones before the notice (in
    seconds, so not always on a slot boundary) and from the horizon on (`horizon` visits
    after the window opens, or none). Buffers cost nothing when nothing is booked."""
    length = minutes(duration)
    window = Window(PROVIDERS[0], LOCATIONS[0], Span(start, start + count * length))
    earliest = start + timedelta(seconds=notice)
    latest = window.span.end + timedelta(days=1) if horizon is None else start + horizon * length
    slots = free_slots(
        windows=[window],
        removed={},
        busy={},
        visit=VisitRules(length, minutes(buffers[0]), minutes(buffers[1]), length),
        earliest=earliest,
        latest=latest,
    )
    starts = [start + step * length for step in range(count)]
    assert [slot.starts_at for slot in slots] == [s for s in starts if earliest <= s < latest]
    if notice <= 0 and horizon is None:
        assert len(slots) == count


@PROPERTY
@given(searches(), st.integers(1, 50))
def test_a_limit_returns_the_first_slots_of_the_whole_result(search, limit):
    """`limit=k` returns exactly the first k slots of the unlimited search (all of them when
    there are fewer)."""
    assert free_slots(**search, limit=limit) == free_slots(**search)[:limit]


def test_a_slot_may_touch_busy_and_removed_time():
    """Spans are half-open: a visit may start when time off ends, and its blocked time may
    start when an appointment's ends and end when the next one begins."""
    opens = datetime(2026, 3, 9, 13, tzinfo=UTC)
    window = Window(PROVIDERS[0], LOCATIONS[0], Span(opens, opens + timedelta(hours=3)))
    visit = VisitRules(minutes(30), buffer_before=minutes(10), buffer_after=minutes(5))
    starts_at = opens + timedelta(hours=1)
    slots = free_slots(
        windows=[window],
        removed={PROVIDERS[0]: [Span(opens, starts_at)]},
        busy={
            PROVIDERS[0]: [
                Span(opens, starts_at - minutes(10)),
                Span(starts_at + minutes(35), window.span.end),
            ]
        },
        visit=visit,
        earliest=opens,
        latest=window.span.end,
    )
    assert [slot.starts_at for slot in slots] == [starts_at]


def test_overlapping_windows_of_one_provider_offer_each_start_once():
    """A provider whose hours at two locations overlap is offered each start once, while
    another provider with the same hours keeps its own slots."""
    opens = datetime(2026, 10, 26, 9, tzinfo=UTC)
    span = Span(opens, opens + timedelta(hours=1))
    slots = free_slots(
        windows=[
            Window(PROVIDERS[0], LOCATIONS[0], span),
            Window(PROVIDERS[0], LOCATIONS[1], span),
            Window(PROVIDERS[1], LOCATIONS[1], span),
        ],
        removed={},
        busy={},
        visit=VisitRules(minutes(30), interval=minutes(30)),
        earliest=opens,
        latest=span.end,
    )
    assert [(slot.starts_at, slot.provider_id) for slot in slots] == [
        (opens, PROVIDERS[0]),
        (opens, PROVIDERS[1]),
        (opens + minutes(30), PROVIDERS[0]),
        (opens + minutes(30), PROVIDERS[1]),
    ]


def test_a_limit_of_zero_returns_nothing():
    """`limit=0` returns no slots, like the first zero of the whole result."""
    start = datetime(2026, 3, 9, 13, tzinfo=UTC)
    window = Window(PROVIDERS[0], LOCATIONS[0], Span(start, start + timedelta(hours=1)))
    search = {
        "windows": [window],
        "removed": {},
        "busy": {},
        "visit": VisitRules(minutes(30), interval=minutes(30)),
        "earliest": start,
        "latest": start + timedelta(hours=1),
    }
    assert len(free_slots(**search)) == 2
    assert free_slots(**search, limit=0) == []


def test_a_provider_may_work_with_and_without_a_location():
    """Overlapping windows of one provider, one at a location and one without (an extra
    clinic with no location), yield each start once instead of failing."""
    start = datetime(2026, 3, 9, 13, tzinfo=UTC)
    span = Span(start, start + timedelta(hours=1))
    slots = free_slots(
        windows=[Window(PROVIDERS[0], None, span), Window(PROVIDERS[0], LOCATIONS[0], span)],
        removed={},
        busy={},
        visit=VisitRules(minutes(30), interval=minutes(30)),
        earliest=start,
        latest=span.end,
    )
    assert [slot.starts_at for slot in slots] == [start, start + minutes(30)]


def nine_to_five(day: date, zone: str) -> WeeklyHours:
    return WeeklyHours(
        provider_id=PROVIDERS[0],
        location_id=LOCATIONS[0],
        weekday=day.weekday(),
        start=time(9),
        end=time(17),
        time_zone=zone,
        effective_from=day,
    )


@pytest.mark.parametrize(
    ("zone", "day", "opens"),
    [
        ("America/New_York", date(2026, 3, 6), datetime(2026, 3, 6, 14, tzinfo=UTC)),
        ("America/New_York", date(2026, 3, 9), datetime(2026, 3, 9, 13, tzinfo=UTC)),
        ("Europe/London", date(2026, 10, 23), datetime(2026, 10, 23, 8, tzinfo=UTC)),
        ("Europe/London", date(2026, 10, 26), datetime(2026, 10, 26, 9, tzinfo=UTC)),
        ("Australia/Lord_Howe", date(2026, 4, 3), datetime(2026, 4, 2, 22, tzinfo=UTC)),
        ("Australia/Lord_Howe", date(2026, 4, 6), datetime(2026, 4, 5, 22, 30, tzinfo=UTC)),
    ],
)
def test_working_hours_take_the_offset_of_their_own_date(zone, day, opens):
    """09:00-17:00 local opens at the UTC instant of that date's offset, on either side of a
    daylight-saving change."""
    windows = weekly_windows([nine_to_five(day, zone)], day, day)
    assert [window.span for window in windows] == [Span(opens, opens + timedelta(hours=8))]


@pytest.mark.parametrize(
    ("zone", "day", "length"),
    [
        ("America/New_York", date(2026, 3, 8), timedelta(hours=3)),
        ("America/New_York", date(2026, 11, 1), timedelta(hours=5)),
        ("Europe/London", date(2026, 3, 29), timedelta(hours=3)),
        ("Europe/London", date(2026, 10, 25), timedelta(hours=5)),
        ("Australia/Lord_Howe", date(2026, 4, 5), timedelta(hours=4, minutes=30)),
        ("Australia/Lord_Howe", date(2026, 10, 4), timedelta(hours=3, minutes=30)),
        ("UTC", date(2026, 3, 8), timedelta(hours=4)),
    ],
)
def test_a_window_on_a_transition_day_has_its_real_length(zone, day, length):
    """00:00-04:00 on the day of a change lasts the hours that really pass, and offers that
    many hour-long slots."""
    hours = WeeklyHours(
        provider_id=PROVIDERS[0],
        location_id=LOCATIONS[0],
        weekday=day.weekday(),
        start=time(0),
        end=time(4),
        time_zone=zone,
        effective_from=day,
    )
    (window,) = weekly_windows([hours], day, day)
    assert window.span.end - window.span.start == length
    slots = free_slots(
        windows=[window],
        removed={},
        busy={},
        visit=VisitRules(timedelta(hours=1), interval=timedelta(hours=1)),
        earliest=window.span.start,
        latest=window.span.end,
    )
    assert len(slots) == length // timedelta(hours=1)


def test_skipped_and_repeated_wall_clock_times():
    """A time skipped by a spring-forward is read with the offset before the change; a time
    repeated by a fall-back is read as its first occurrence."""
    zone = "America/New_York"
    assert local_instant(date(2026, 3, 8), time(2, 30), zone) == datetime(
        2026, 3, 8, 7, 30, tzinfo=UTC
    )
    assert local_instant(date(2026, 11, 1), time(1, 30), zone) == datetime(
        2026, 11, 1, 5, 30, tzinfo=UTC
    )


@PROPERTY
@given(
    st.sampled_from(sorted(TRANSITIONS)),
    st.integers(0, 364).map(lambda days: date(2026, 1, 1) + timedelta(days=days)),
)
def test_office_hours_keep_their_wall_clock_all_year(zone, day):
    """09:00-17:00 on any date of 2026 converts back to 09:00-17:00 local on that date, and
    lasts 8 hours (no zone here changes its clocks in office hours)."""
    (window,) = weekly_windows([nine_to_five(day, zone)], day, day)
    opens, closes = (instant.astimezone(ZoneInfo(zone)) for instant in astuple(window.span))
    assert (opens.date(), opens.time()) == (day, time(9))
    assert (closes.date(), closes.time()) == (day, time(17))
    assert window.span.end - window.span.start == timedelta(hours=8)


@st.composite
def one_block_and_range(draw) -> tuple[WeeklyHours, date, date]:
    """A block of hours at least 65 minutes long (so a spring-forward gap cannot empty it)
    and a date range that may start before, end after or miss its effective dates."""
    zone = draw(st.sampled_from(sorted(TRANSITIONS)))
    anchor = draw(st.sampled_from(TRANSITIONS[zone]))
    start = draw(st.integers(0, LAST_MINUTE - 65))
    end = draw(st.integers(start + 65, LAST_MINUTE))
    effective_from = anchor + timedelta(days=draw(st.integers(-20, 20)))
    effective_until = draw(
        st.one_of(
            st.none(),
            st.integers(-3, 30).map(lambda days: effective_from + timedelta(days=days)),
        )
    )
    hours = WeeklyHours(
        provider_id=draw(st.sampled_from(PROVIDERS)),
        location_id=draw(st.sampled_from((None, *LOCATIONS))),
        weekday=draw(st.integers(0, 6)),
        start=wall_clock(start),
        end=wall_clock(end),
        time_zone=zone,
        effective_from=effective_from,
        effective_until=effective_until,
    )
    first = anchor + timedelta(days=draw(st.integers(-30, 30)))
    last = first + timedelta(days=draw(st.integers(-2, 40)))
    return hours, first, last


@PROPERTY
@given(one_block_and_range())
def test_weekly_windows_follow_weekday_and_effective_dates(case):
    """A block yields one window on each date of the range that falls on its weekday, on or
    after `effective_from` and on or before `effective_until` (if any), and on no other date;
    each window opens on its date at the block's start and belongs to the block's provider
    and location."""
    hours, first, last = case
    until = hours.effective_until or date.max
    days = [first + timedelta(days=offset) for offset in range((last - first).days + 1)]
    expected_days = [
        day
        for day in days
        if day.weekday() == hours.weekday and hours.effective_from <= day <= until
    ]
    windows = weekly_windows([hours], first, last)
    assert len(windows) == len(expected_days)
    local = ZoneInfo(hours.time_zone)
    for window, day in zip(windows, expected_days, strict=True):
        assert window.provider_id == hours.provider_id
        assert window.location_id == hours.location_id
        assert window.span.start == local_instant(day, hours.start, hours.time_zone)
        assert window.span.start.astimezone(local).date() == day
        assert window.span.start < window.span.end
