"""The care team's secure-messaging inbox on PostgreSQL: first page, later pages by cursor, and
the unread count, for a provider in a pool of five looking after 2,000 patients.

Usage: .venv/bin/python -m benchmarks.inbox [--runs 200] [--seed 11] [--profile] [--explain]
                                            [--candidate-indexes]

The data set, inserted with the ORM (every PHI column really encrypted) into a throwaway
database in batches of about 5,000 rows per commit: one practice, one care team ("Provider
pool") with 5 providers (each with a provider user account), 2,000 patients in that team (each
with a patient user account) and 100,000 messages in 20,000 conversations of 1-10 messages.
The first message is the patient's; sides then alternate with probability 0.7. About 60% of
conversations are done (last message in the past year, assigned); the open ones had their last
message in the past 10 days, and an open one the team never answered is unassigned half the
time. An open conversation whose last message is the patient's is waiting for the team
(`waiting_since` = the patient's first message after the team's last reply, as migration 0005
defines it); three in four of those trailing patient messages are unread. Patients have not read
three in ten of the team's last replies; every other message has been read.

Each measured call is a call of the service layer (`messaging.inbox` or
`messaging.unread_messages` with a provider principal, in its own unit of work), timed end to
end after a warm-up. Later pages are fetched by the `next_after` cursors recorded by walking the
inbox once to page 20. SQL statements are counted with a `before_cursor_execute` listener on the
engine. With `--profile`, or when a goal is missed, the script prints a cProfile summary; with
`--explain`, or when a goal is missed, `EXPLAIN (ANALYZE, BUFFERS)` of the statements the call
sends, with the parameters it sent. `--candidate-indexes` adds the indexes that
docs/performance.md recommends before timing, to compare.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import pstats
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import event, text

from benchmarks.support import percentile, postgres_database
from portal.backend import models
from portal.backend.db import Database
from portal.backend.models.base import utcnow
from portal.backend.security.principal import Principal, Role
from portal.backend.services import messaging

PROVIDERS = 5
PATIENTS = 2_000
CONVERSATIONS = 20_000
MESSAGES = 100_000
MAX_PER_CONVERSATION = 10
BATCH_CONVERSATIONS = 1_000  # about 5,000 messages per commit
DONE_SHARE = 0.6
SWITCH_SIDES = 0.7
UNREAD_SHARE = 0.75
UNASSIGNED_OPEN = 0.5
LATER_PAGES = 20
WARM_UP = 20
GOALS_MS = {"page": 100.0, "count": 20.0}
# What docs/performance.md recommends, to try with --candidate-indexes. The first is used as
# the service's count is written (`from_patient IS true`; a partial index `WHERE from_patient`
# is not); the second only once the inbox query names its team(s) as values, not `IN (SELECT)`.
CANDIDATE_INDEXES = (
    "CREATE INDEX ix_messages_unread_from_patient ON messages (conversation_id)"
    " WHERE from_patient IS TRUE AND read_at IS NULL",
    "CREATE INDEX ix_conversations_team_inbox ON conversations (care_team_id,"
    " (COALESCE(waiting_since, '9999-01-01 00:00:00+00'::timestamptz)), last_message_at DESC, id)",
)
CATEGORIES = [
    (models.ConversationCategory.MEDICAL_QUESTION, 40),
    (models.ConversationCategory.PRESCRIPTION, 25),
    (models.ConversationCategory.APPOINTMENT, 20),
    (models.ConversationCategory.BILLING, 10),
    (models.ConversationCategory.OTHER, 5),
]
TOPICS = [
    "my blood pressure",
    "the refill",
    "my lab results",
    "the rash",
    "my next visit",
    "the invoice",
    "side effects",
    "the referral",
    "my sleep",
    "the new dose",
]
VOCABULARY = (
    "the a my since yesterday morning pain better worse dose tablet doctor please thank you "
    "question results week again still feel should call appointment pharmacy"
)
WORDS = VOCABULARY.split()


@dataclass
class Fixture:
    tenant_id: uuid.UUID
    provider_id: uuid.UUID
    provider_user_id: uuid.UUID
    open_threads: int = 0
    waiting: int = 0
    unread: int = 0
    messages: int = 0
    conversations: int = 0


@dataclass
class Result:
    name: str
    goal_ms: float
    times_ms: list[float] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    full_collections: int = 0
    full_collection_ms: float = 0.0


# --- data set -------------------------------------------------------------------------------


def sentence(rng: random.Random, low: int, high: int) -> str:
    words = rng.choices(WORDS, k=rng.randint(low, high))
    return " ".join(words).capitalize() + "."


def message_counts(rng: random.Random) -> list[int]:
    """CONVERSATIONS counts of 1-10 messages adding up to exactly MESSAGES."""
    counts = [1] * CONVERSATIONS
    growable = list(range(CONVERSATIONS))
    for _ in range(MESSAGES - CONVERSATIONS):
        slot = rng.randrange(len(growable))
        index = growable[slot]
        counts[index] += 1
        if counts[index] == MAX_PER_CONVERSATION:
            growable[slot] = growable[-1]
            growable.pop()
    rng.shuffle(counts)
    return counts


def build_people(database: Database) -> tuple[Fixture, uuid.UUID, list, list]:
    """The practice, the care team, its providers and patients (each with a user account)."""
    with database.unit_of_work() as uow:
        add_all = uow.session.add_all
        practice = models.Practice(
            name="Bench Practice", slug=f"bench-{uuid.uuid4().hex[:8]}", time_zone="America/Chicago"
        )
        add_all([practice])
        uow.session.flush()
        tenant = practice.id

        def account(role: Role, email: str, name: str) -> models.User:
            return models.User(
                tenant_id=tenant,
                role=role,
                email=email,
                email_index=uow.keyring.blind_index("email", email),
                display_name=name,
            )

        team = models.CareTeam(tenant_id=tenant, name="Provider pool")
        staff = [account(Role.PROVIDER, f"dr{n}@bench.example", f"Dr. Pool {n}") for n in range(5)]
        add_all([team, *staff])
        uow.session.flush()
        providers = [
            models.Provider(
                tenant_id=tenant, user_id=u.id, display_name=u.display_name, credentials="MD"
            )
            for u in staff
        ]
        add_all(providers)
        uow.session.flush()
        add_all(
            models.CareTeamMember(care_team_id=team.id, provider_id=p.id, tenant_id=tenant)
            for p in providers
        )
        people = [
            account(Role.PATIENT, f"patient{n}@bench.example", f"Patient{n} Bench")
            for n in range(PATIENTS)
        ]
        add_all(people)
        uow.session.flush()
        patients = [
            models.Patient(
                tenant_id=tenant,
                user_id=person.id,
                care_team_id=team.id,
                medical_record_number=f"MRN-{n:05}",
                legal_first_name=f"Patient{n}",
                legal_last_name="Bench",
                preferred_name="Pat" if n % 7 == 0 else None,
                date_of_birth=date(1950, 1, 1) + timedelta(days=n * 11),
                name_dob_index=uow.keyring.blind_index("name_dob", f"bench|{n}"),
            )
            for n, person in enumerate(people)
        ]
        add_all(patients)
        uow.commit()
        fixture = Fixture(tenant, providers[0].id, providers[0].user_id)
        return (
            fixture,
            team.id,
            [(p.id, p.user_id) for p in providers],
            [(p.id, p.user_id) for p in patients],
        )


def conversation_rows(
    rng: random.Random,
    fixture: Fixture,
    team_id: uuid.UUID,
    providers: list,
    patient: tuple,
    count: int,
    now: datetime,
) -> tuple[models.Conversation, list[models.Message]]:
    """One conversation of `count` messages and its state (status, wait, reads) consistent
    with what the service would have recorded."""
    done = rng.random() < DONE_SHARE
    sides = [True]
    for _ in range(count - 1):
        sides.append(not sides[-1] if rng.random() < SWITCH_SIDES else sides[-1])
    gaps = [timedelta(minutes=rng.uniform(5, 36 * 60)) for _ in range(count - 1)]
    span = sum(gaps, timedelta())
    ago = timedelta(days=rng.uniform(1, 365)) if done else timedelta(hours=rng.uniform(0.2, 240))
    at = now - ago - span
    times = [at]
    for gap in gaps:
        at += gap
        times.append(at)
    last_team = max((i for i, from_patient in enumerate(sides) if not from_patient), default=-1)
    waiting = None if done or last_team == count - 1 else times[last_team + 1]
    assigned = None
    if done or last_team >= 0 or rng.random() > UNASSIGNED_OPEN:
        assigned = rng.choice(providers)[0]
    thread = models.Conversation(
        tenant_id=fixture.tenant_id,
        patient_id=patient[0],
        care_team_id=team_id,
        assigned_provider_id=assigned,
        subject=f"Question about {rng.choice(TOPICS)} ({rng.randint(1, 999)})",
        category=rng.choices(*zip(*CATEGORIES, strict=True))[0],
        status="done" if done else "open",
        last_message_at=times[-1],
        waiting_since=waiting,
        created_at=times[0],
    )
    reader = assigned or rng.choice(providers)[0]
    reader_user = next(u for p, u in providers if p == reader)
    rows = []
    for i, (from_patient, sent) in enumerate(zip(sides, times, strict=True)):
        trailing = i > last_team and from_patient
        unread = trailing and not done and rng.random() < UNREAD_SHARE
        if i == count - 1 and not from_patient:
            unread = rng.random() < 0.3  # the patient has not opened the last reply yet
        later = times[i + 1] if i + 1 < count else now
        read_at = None if unread else sent + (later - sent) * rng.uniform(0.1, 0.9)
        read_by = None if unread else reader_user if from_patient else patient[1]
        rows.append(
            models.Message(
                tenant_id=fixture.tenant_id,
                conversation_id=thread.id,
                sender_user_id=patient[1] if from_patient else reader_user,
                from_patient=from_patient,
                body=" ".join(sentence(rng, 6, 30) for _ in range(rng.randint(1, 5))),
                sent_at=sent,
                read_at=read_at,
                read_by_user_id=read_by,
            )
        )
        fixture.unread += unread and from_patient
    fixture.open_threads += not done
    fixture.waiting += waiting is not None
    fixture.messages += count
    fixture.conversations += 1
    return thread, rows


def build(database: Database, rng: random.Random) -> Fixture:
    """Insert the data set: people in one unit of work, then conversations and their messages
    in units of work of BATCH_CONVERSATIONS conversations (about 5,000 messages) each."""
    fixture, team_id, providers, patients = build_people(database)
    counts = message_counts(rng)
    now = utcnow()
    for first in range(0, CONVERSATIONS, BATCH_CONVERSATIONS):
        threads, messages = [], []
        for index in range(first, min(first + BATCH_CONVERSATIONS, CONVERSATIONS)):
            patient = patients[index % PATIENTS]
            thread, rows = conversation_rows(
                rng, fixture, team_id, providers, patient, counts[index], now
            )
            threads.append(thread)
            messages.extend(rows)
        with database.unit_of_work() as uow:
            uow.session.add_all(threads)
            uow.session.flush()  # no ORM relationship orders the two tables' INSERTs
            uow.session.add_all(messages)
            uow.commit()
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    return fixture


# --- measuring ------------------------------------------------------------------------------


class StatementCounter:
    """SQL statements sent on the engine. The key ring's once-a-minute re-read of `data_keys`
    (`Database.keyring`) is counted apart: it is not part of any one call. The last call's
    statements and parameters are kept, to EXPLAIN them."""

    def __init__(self, database: Database):
        self.count = 0
        self.key_reads = 0
        self.recorded: list[tuple[str, object]] | None = None
        event.listen(database.engine, "before_cursor_execute", self._seen)

    def _seen(self, _connection, _cursor, statement: str, parameters, *_args: object) -> None:
        if "FROM data_keys" in statement:
            self.key_reads += 1
            return
        self.count += 1
        if self.recorded is not None:
            self.recorded.append((statement, parameters))

    def record(self, call: Callable[[], object]) -> list[tuple[str, object]]:
        self.recorded = []
        try:
            call()
            return self.recorded
        finally:
            self.recorded = None


class FullCollections:
    """Python's full (generation 2) garbage collections and the time they take: each call
    leaves ORM reference cycles behind, and collecting them pauses whichever call is running."""

    def __init__(self):
        self.count = 0
        self.ms = 0.0
        self._began = 0.0
        gc.callbacks.append(self._seen)

    def _seen(self, phase: str, info: dict) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._began = time.perf_counter()
        else:
            self.count += 1
            self.ms += (time.perf_counter() - self._began) * 1000


def measure(
    name: str,
    goal_ms: float,
    call: Callable[[int], int],
    counter: StatementCounter,
    collections: FullCollections,
    runs: int,
) -> Result:
    """`call(run)` once per run after a warm-up; each run's time, statements and lines."""
    for run in range(WARM_UP):
        call(run)
    result = Result(name, goal_ms)
    count, ms = collections.count, collections.ms
    for run in range(runs):
        before = counter.count
        began = time.perf_counter()
        lines = call(run)
        result.times_ms.append((time.perf_counter() - began) * 1000)
        result.statements.append(counter.count - before)
        result.lines.append(lines)
    result.full_collections = collections.count - count
    result.full_collection_ms = collections.ms - ms
    return result


def met(result: Result) -> bool:
    return percentile(result.times_ms, 0.95) <= result.goal_ms


def report(results: list[Result]) -> None:
    header = (
        f"{'call':<40} {'stmts':>5} {'runs':>4} {'result':>9} {'p50':>7} {'p95':>7} "
        f"{'p99':>7} {'max':>7}  {'full gc':>13}  goal p95"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        figures = [percentile(r.times_ms, f) for f in (0.50, 0.95, 0.99)] + [max(r.times_ms)]
        low, high = min(r.lines), max(r.lines)
        shown = f"{low}" if low == high else f"{low}-{high}"
        print(
            f"{r.name:<40} {'/'.join(map(str, sorted(set(r.statements)))):>5} "
            f"{len(r.times_ms):>4} {shown:>9} "
            + " ".join(f"{value:7.1f}" for value in figures)
            + f"  {f'{r.full_collections} / {r.full_collection_ms:.0f} ms':>13}"
            + f"  <= {r.goal_ms:g} ms: {'met' if met(r) else 'MISSED'}"
        )
    print(
        "times in ms; result = lines per page, or the unread count; full gc = Python's"
        " generation-2 collections during the timed runs and their total pause"
    )


def profile(label: str, call: Callable[[int], int], runs: int) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for run in range(runs):
        call(run)
    profiler.disable()
    for order, count in (("tottime", 15), ("cumulative", 30)):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(count)
        print(f"\n=== profile: {label}, {runs} runs, top {count} by {order} ===")
        print("\n".join(line for line in out.getvalue().splitlines()[6:] if line.strip()))


def explain(database: Database, label: str, statements: list[tuple[str, object]]) -> None:
    """EXPLAIN ANALYZE each SELECT the call sent, with its own parameters, in a transaction
    that is rolled back."""
    print(f"\n=== EXPLAIN (ANALYZE, BUFFERS): {label} ===")
    with database.engine.connect() as connection:
        for statement, parameters in statements:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            print("\n-- " + " ".join(statement.split())[:400])
            plan = connection.exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters
            ).scalars()
            print("\n".join(plan))
        connection.rollback()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--profile", action="store_true", help="cProfile every call too")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE every call")
    parser.add_argument(
        "--candidate-indexes",
        action="store_true",
        help="create CANDIDATE_INDEXES before timing (the service code is unchanged)",
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)  # noqa: S311  (a repeatable data set, not a secret)
    with postgres_database() as database:
        database.keyring  # noqa: B018  (create the keys before anything is timed)
        began = time.perf_counter()
        fixture = build(database, rng)
        built = time.perf_counter() - began
        print(
            f"data set: {PROVIDERS} providers, {PATIENTS:,} patients, {fixture.conversations:,} "
            f"conversations ({fixture.open_threads:,} open, {fixture.waiting:,} waiting for the "
            f"team), {fixture.messages:,} messages ({fixture.unread:,} unread from patients); "
            f"built in {built:.1f} s"
        )
        if args.candidate_indexes:
            with database.engine.begin() as connection:
                for statement in CANDIDATE_INDEXES:
                    connection.execute(text(statement))
                connection.execute(text("ANALYZE messages, conversations"))
            print("with the candidate indexes:", "; ".join(CANDIDATE_INDEXES))
        counter = StatementCounter(database)
        principal = Principal(
            user_id=fixture.provider_user_id,
            role=Role.PROVIDER,
            tenant_id=fixture.tenant_id,
            session_id=uuid.uuid4(),
            provider_id=fixture.provider_id,
        )

        def page(status: str, after: str = ""):
            return messaging.inbox(
                principal, status=status, after=after, uow=database.unit_of_work()
            )

        cursors: dict[str, list[str]] = {}
        for status in ("all", "open"):
            cursors[status], after = [], ""
            for _ in range(LATER_PAGES - 1):  # the cursors of pages 2..LATER_PAGES
                after = page(status, after).next_after
                cursors[status].append(after)
            if not all(cursors[status]):
                raise SystemExit(f"fewer than {LATER_PAGES} pages of {status} threads")
        picks = {s: [rng.choice(c[4:]) for _ in range(args.runs)] for s, c in cursors.items()}

        def later(status: str) -> Callable[[int], int]:
            return lambda run: len(page(status, picks[status][run % args.runs]).lines)

        calls: dict[str, tuple[float, Callable[[int], int]]] = {
            'inbox first page, status="all"': (
                GOALS_MS["page"],
                lambda _run: len(page("all").lines),
            ),
            'inbox first page, status="open"': (
                GOALS_MS["page"],
                lambda _run: len(page("open").lines),
            ),
            f'inbox page 6-{LATER_PAGES} by cursor, "all"': (GOALS_MS["page"], later("all")),
            f'inbox page 6-{LATER_PAGES} by cursor, "open"': (GOALS_MS["page"], later("open")),
            "unread_messages (provider)": (
                GOALS_MS["count"],
                lambda _run: messaging.unread_messages(principal, uow=database.unit_of_work()),
            ),
        }
        collections = FullCollections()
        load = os.getloadavg()[0]  # other work on the two cores skews the tail figures
        results = [
            measure(name, goal, call, counter, collections, args.runs)
            for name, (goal, call) in calls.items()
        ]
        print(
            f"\nload average (1 min) before / after timing: {load:.2f} / {os.getloadavg()[0]:.2f}"
        )
        report(results)
        for result, (_goal, call) in zip(results, calls.values(), strict=True):
            if args.profile or not met(result):
                profile(result.name, call, min(args.runs, 50))
            if args.explain or not met(result):
                explain(database, result.name, counter.record(lambda call=call: call(0)))


if __name__ == "__main__":
    main()
