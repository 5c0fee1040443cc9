"""Appointment slot search on PostgreSQL: the first free time across a care team of 50, and
one provider's next 14 days.

Usage: .venv/bin/python -m benchmarks.slot_search [--runs 200] [--seed 7] [--profile]

The data set, inserted with the ORM into a throwaway database: one practice
(America/New_York) with one location, 50 providers in one care team, each working Mon-Fri
08:30-12:00 and 13:00-17:00; time off for 10 providers (three weekdays each) and one
practice holiday; one 30-minute in-person visit type (15-minute slot interval, 120 minutes'
notice, 90-day horizon); 300 patients in the team; 20,000 booked appointments over the next
90 days on a 30-minute grid, with no overlaps. The bookings are densest first: the first days
are full for every provider and the booked share then falls off linearly, so a search from
today has to step over busy time.

Each search is a call of the service layer with a patient principal, in its own unit of
work, timed end to end, with the start day varied from run to run:

  1.  first available across all 50: `first_available(..., provider_id=None)`, which looks
      in widening stretches (a day, a week, five weeks, the rest) with `limit=1`;
  1b. all 50, the 14 days of times the booking page lists: `find_times(..., None, days=14)`;
  1c. `find_times(..., days=1)` on a fully booked day, which adds the next-free-day lookup;
  2.  one provider, 14 days: `find_times(..., provider_id, days=14)`.

SQL statements are counted with a `before_cursor_execute` listener on the engine, and shown
for 1-day and 14-day searches to check that the count does not grow with the slots found.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from zoneinfo import ZoneInfo

from sqlalchemy import event, text

from benchmarks.support import percentile, postgres_database
from portal.backend import models
from portal.backend.db import Database
from portal.backend.models.base import utcnow
from portal.backend.security.principal import Principal, Role
from portal.backend.services import scheduling

ZONE = "America/New_York"
PROVIDERS = 50
PATIENTS = 300
APPOINTMENTS = 20_000
HORIZON_DAYS = 90
VISIT = timedelta(minutes=30)
BLOCKS = ((clock_time(8, 30), clock_time(12, 0)), (clock_time(13, 0), clock_time(17, 0)))
# A booking's sort key is its day plus a uniform draw from [0, SPREAD); the APPOINTMENTS
# smallest keys are booked, so days well before the cut-off are full and the share booked
# falls off linearly over SPREAD days.
SPREAD = 60.0
TIME_OFF_PROVIDERS = 10
TIME_OFF_WEEKDAYS = 3
WARM_UP = 20
GOALS_MS = {"first": 200.0, "provider": 20.0}


@dataclass
class Fixture:
    tenant_id: uuid.UUID
    type_id: uuid.UUID
    provider_ids: list[uuid.UUID]
    patient_ids: list[uuid.UUID]
    today: date
    holiday: date
    booked: int


@dataclass
class Result:
    name: str
    goal_ms: float | None
    times_ms: list[float]
    statements: list[int]
    slots: list[int]


# --- data set -------------------------------------------------------------------------------


def local(day: date, wall_clock: clock_time) -> datetime:
    return datetime.combine(day, wall_clock, tzinfo=ZoneInfo(ZONE))


def weekdays_from(first: date, count: int) -> list[date]:
    days = (first + timedelta(days=offset) for offset in range(count))
    return [day for day in days if day.weekday() < 5]


def build(database: Database, rng: random.Random) -> Fixture:
    """Insert the data set in one unit of work (a flush per table group, one commit)."""
    today = datetime.now(ZoneInfo(ZONE)).date()
    horizon = weekdays_from(today, HORIZON_DAYS)
    holiday = next(day for day in horizon if day >= today + timedelta(days=21))
    with database.unit_of_work() as uow:
        add_all = uow.session.add_all
        practice = models.Practice(
            name="Bench Practice", slug=f"bench-{uuid.uuid4().hex[:8]}", time_zone=ZONE
        )
        add_all([practice])
        uow.session.flush()
        tenant = practice.id
        location = models.Location(
            tenant_id=tenant, name="Main Clinic", address="1 Bench St", phone="", time_zone=ZONE
        )
        team = models.CareTeam(tenant_id=tenant, name="Everyone")
        kind = models.AppointmentType(
            tenant_id=tenant,
            name="Follow-up visit",
            modality=models.Modality.IN_PERSON,
            duration_minutes=30,
            slot_interval_minutes=15,
            minimum_notice_minutes=120,
            booking_horizon_days=HORIZON_DAYS,
        )
        providers = [
            models.Provider(tenant_id=tenant, display_name=f"Dr. Bench {n:02}", credentials="MD")
            for n in range(1, PROVIDERS + 1)
        ]
        add_all([location, team, kind, *providers])
        uow.session.flush()
        add_all(
            models.CareTeamMember(care_team_id=team.id, provider_id=p.id, tenant_id=tenant)
            for p in providers
        )
        add_all(
            models.AvailabilityRule(
                tenant_id=tenant,
                provider_id=p.id,
                location_id=location.id,
                weekday=weekday,
                start_time=start,
                end_time=end,
                time_zone=ZONE,
                effective_from=today - timedelta(days=30),
            )
            for p in providers
            for weekday in range(5)
            for start, end in BLOCKS
        )
        add_all(
            [
                models.AvailabilityException(
                    tenant_id=tenant,
                    kind=models.ExceptionKind.HOLIDAY,
                    starts_at=local(holiday, clock_time.min),
                    ends_at=local(holiday + timedelta(days=1), clock_time.min),
                    note="Holiday",
                )
            ]
        )
        off: dict[uuid.UUID, set[date]] = {}
        for provider in rng.sample(providers, TIME_OFF_PROVIDERS):
            first = rng.randrange(3, len(horizon) - TIME_OFF_WEEKDAYS)
            days = horizon[first : first + TIME_OFF_WEEKDAYS]
            off[provider.id] = set(days)
            add_all(
                [
                    models.AvailabilityException(
                        tenant_id=tenant,
                        provider_id=provider.id,
                        kind=models.ExceptionKind.TIME_OFF,
                        starts_at=local(days[0], clock_time.min),
                        ends_at=local(days[-1] + timedelta(days=1), clock_time.min),
                        note="Leave",
                    )
                ]
            )
        patients = [
            models.Patient(
                tenant_id=tenant,
                care_team_id=team.id,
                medical_record_number=f"MRN-{n:05}",
                legal_first_name=f"Patient{n}",
                legal_last_name="Bench",
                date_of_birth=date(1960, 1, 1) + timedelta(days=n * 37),
                name_dob_index=uow.keyring.blind_index("name_dob", f"bench|{n}"),
            )
            for n in range(PATIENTS)
        ]
        add_all(patients)
        uow.session.flush()
        now = utcnow()
        candidates = []
        for provider in providers:
            for day in horizon:
                if day == holiday or day in off.get(provider.id, ()):
                    continue
                for start, end in BLOCKS:
                    at, stop = local(day, start), local(day, end)
                    while at + VISIT <= stop:
                        if at > now:
                            key = (day - today).days + rng.random() * SPREAD
                            candidates.append((key, provider.id, at))
                        at += VISIT
        candidates.sort(key=lambda candidate: candidate[0])
        chosen = candidates[:APPOINTMENTS]
        add_all(
            models.Appointment(
                tenant_id=tenant,
                patient_id=rng.choice(patients).id,
                provider_id=provider_id,
                appointment_type_id=kind.id,
                location_id=location.id,
                starts_at=at,
                ends_at=at + VISIT,
                blocked_from=at,
                blocked_until=at + VISIT,
                status=models.AppointmentStatus.BOOKED,
            )
            for _, provider_id, at in chosen
        )
        uow.commit()
        fixture = Fixture(
            tenant_id=tenant,
            type_id=kind.id,
            provider_ids=[p.id for p in providers],
            patient_ids=[p.id for p in patients],
            today=today,
            holiday=holiday,
            booked=len(chosen),
        )
    with database.engine.connect() as connection:
        connection.execute(text("ANALYZE"))
        connection.commit()
    return fixture


# --- measuring ------------------------------------------------------------------------------


class StatementCounter:
    """SQL statements sent on the engine. The key ring's once-a-minute re-read of `data_keys`
    (`Database.keyring`) is counted apart: it is not part of any one search."""

    def __init__(self, database: Database):
        self.count = 0
        self.key_reads = 0
        event.listen(database.engine, "before_cursor_execute", self._seen)

    def _seen(self, _connection, _cursor, statement: str, *_args: object) -> None:
        if "FROM data_keys" in statement:
            self.key_reads += 1
        else:
            self.count += 1


def principal_for(fixture: Fixture, patient_id: uuid.UUID) -> Principal:
    return Principal(
        user_id=uuid.uuid4(),
        role=Role.PATIENT,
        tenant_id=fixture.tenant_id,
        session_id=uuid.uuid4(),
        patient_id=patient_id,
    )


def slot_count(search) -> int:
    return sum(len(day.slots) for day in search.days)


def find_times(database, fixture, principal, provider_id, first_day, days) -> int:
    search = scheduling.find_times(
        principal,
        fixture.type_id,
        provider_id,
        first_day,
        days=days,
        uow=database.unit_of_work(),
    )
    return slot_count(search)


def first_free(database, fixture, principal, first_day) -> int:
    """The first free time with anyone on the team, from the minimum notice to the horizon:
    the service's `first_available` (`first_day` is unused: it always looks from now)."""
    found = scheduling.first_available(principal, fixture.type_id, uow=database.unit_of_work())
    return int(found is not None)


def measure(
    name: str,
    goal_ms: float | None,
    search: Callable[[int], int],
    counter: StatementCounter,
    runs: int,
) -> Result:
    """`search(run)` once per run after a warm-up; each run's time, statements and slots."""
    for run in range(WARM_UP):
        search(run)
    result = Result(name, goal_ms, [], [], [])
    for run in range(runs):
        before = counter.count
        began = time.perf_counter()
        slots = search(run)
        result.times_ms.append((time.perf_counter() - began) * 1000)
        result.statements.append(counter.count - before)
        result.slots.append(slots)
    return result


def statements(counter: StatementCounter, search: Callable[[], int]) -> tuple[int, int]:
    before = counter.count
    slots = search()
    return counter.count - before, slots


def row(name: str, statements: str, slots: list[int], times_ms: list[float], goal: str) -> str:
    figures = [percentile(times_ms, f) for f in (0.50, 0.95, 0.99)] + [max(times_ms)]
    return (
        f"{name:<46} {statements:>5} {len(times_ms):>4} {f'{min(slots)}-{max(slots)}':>9} "
        + " ".join(f"{value:7.1f}" for value in figures)
        + f"  {goal}"
    )


def report(results: list[Result]) -> None:
    header = (
        f"{'search':<46} {'stmts':>5} {'runs':>4} {'slots':>9} {'p50':>7} {'p95':>7} "
        f"{'p99':>7} {'max':>7}  goal p95"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        goal = "-"
        if r.goal_ms is not None:
            met = "met" if percentile(r.times_ms, 0.95) <= r.goal_ms else "MISSED"
            goal = f"<= {r.goal_ms:g} ms: {met}"
        counts = sorted(set(r.statements))
        print(row(r.name, "/".join(map(str, counts)), r.slots, r.times_ms, goal))
        if len(counts) > 1:  # the runs that also looked up the next free day, and the others
            for count in counts:
                runs = [i for i, n in enumerate(r.statements) if n == count]
                print(
                    row(
                        f"   runs with {count} statements",
                        str(count),
                        [r.slots[i] for i in runs],
                        [r.times_ms[i] for i in runs],
                        "",
                    )
                )
    print("times in ms; slots = free times returned per search (min-max)")


def profile(label: str, search: Callable[[int], int], runs: int) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for run in range(runs):
        search(run)
    profiler.disable()
    for order, count in (("tottime", 15), ("cumulative", 25)):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(count)
        print(f"\n=== profile: {label}, {runs} runs, top {count} by {order} ===")
        print("\n".join(line for line in out.getvalue().splitlines()[6:] if line.strip()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", action="store_true", help="cProfile each search too")
    args = parser.parse_args()
    rng = random.Random(args.seed)  # noqa: S311  (a repeatable data set, not a secret)
    with postgres_database() as database:
        database.keyring  # noqa: B018  (create the keys before anything is timed)
        began = time.perf_counter()
        fixture = build(database, rng)
        print(
            f"data set: {PROVIDERS} providers, {PATIENTS} patients, {fixture.booked:,} booked "
            f"appointments over {HORIZON_DAYS} days from {fixture.today} "
            f"(holiday {fixture.holiday}); built in {time.perf_counter() - began:.1f} s"
        )
        counter = StatementCounter(database)
        principals = [principal_for(fixture, p) for p in fixture.patient_ids[:50]]
        today = fixture.today

        def who(run: int) -> Principal:
            return principals[run % len(principals)]

        # Start days vary run to run: today..today+6 for "first available" (all in the full
        # first days), today..today+59 for the one-provider search. 1c searches one of those
        # full days, so `find_times` also looks up the next free day, up to the horizon.
        searches = {
            "first": lambda run: find_times(
                database, fixture, who(run), None, today + timedelta(days=run % 7), 14
            ),
            "first_free": lambda run: first_free(
                database, fixture, who(run), today + timedelta(days=run % 7)
            ),
            "full_day": lambda run: find_times(
                database, fixture, who(run), None, today + timedelta(days=run % 7), 1
            ),
            "provider": lambda run: find_times(
                database,
                fixture,
                who(run),
                fixture.provider_ids[run % PROVIDERS],
                today + timedelta(days=run % 60),
                14,
            ),
        }
        probe = scheduling.find_times(
            who(0), fixture.type_id, None, today, days=14, uow=database.unit_of_work()
        )
        first_day = probe.days[0].date if probe.days else probe.next_free_date
        print(
            f"first free day from {today} across all providers: {first_day} "
            f"({slot_count(probe)} free times in the 14 days)\n"
        )

        results = [
            measure(
                "1. first available, all 50: first_available",
                GOALS_MS["first"],
                searches["first_free"],
                counter,
                args.runs,
            ),
            measure(
                "1b. all 50, 14 days of times: find_times",
                None,
                searches["first"],
                counter,
                args.runs,
            ),
            measure(
                "1c. all 50, 1 full day: find_times + next free",
                None,
                searches["full_day"],
                counter,
                args.runs,
            ),
            measure(
                "2. one provider, 14 days: find_times",
                GOALS_MS["provider"],
                searches["provider"],
                counter,
                args.runs,
            ),
        ]
        report(results)
        print(
            f"(not counted above: {counter.key_reads} re-reads of the key ring, once a minute, "
            "which land in whichever search is running)"
        )

        busy_day = date.fromisoformat(first_day) - timedelta(days=1)
        free_day = date.fromisoformat(first_day)
        on_free_day = scheduling.find_times(
            who(0), fixture.type_id, None, free_day, days=1, uow=database.unit_of_work()
        )
        provider = uuid.UUID(on_free_day.days[0].slots[0].provider_id)  # free on `free_day`
        print("\nSQL statements per find_times call (slots returned):")
        for label, provider_id in (("all 50 providers", None), ("one provider", provider)):
            for days, start, note in (
                (1, free_day, "day with free time"),
                (14, free_day, "from that day"),
                (1, busy_day, "no free time that day: adds the next-free lookup"),
            ):
                count, slots = statements(
                    counter,
                    lambda d=days, s=start, p=provider_id: find_times(
                        database, fixture, who(0), p, s, d
                    ),
                )
                print(
                    f"  {label:<17} {days:>2} day(s) from {start} ({note}): "
                    f"{count} statements, {slots} slots"
                )

        if args.profile:
            runs = min(args.runs, 50)
            profile("1. first available, all 50: find_times 14 d", searches["first"], runs)
            profile("1. first available, all 50: first_available", searches["first_free"], runs)
            profile("1c. all 50, 1 full day: find_times + next free", searches["full_day"], runs)
            profile("2. one provider, 14 days", searches["provider"], runs)


if __name__ == "__main__":
    main()
