"""The care team's patient search on PostgreSQL: 100,000 patients in one practice, found by an
exact blind index (last name + date of birth, date of birth, phone, email) or by part of a name
through the hashed three-letter pieces in `patient_name_grams`.

Usage: .venv/bin/python -m benchmarks.patient_search [--patients 100000] [--runs 200]
                                                     [--seed 5] [--profile] [--explain]

The data set, in a throwaway database: one practice, one care team with one provider (the
searcher), and `--patients` patients. Names are drawn with a long-tailed (Zipf-like) weighting
from 150 first names and about 600 last names (150 common ones plus syllable compounds), so a
common surname is held by about 1% of patients, as in a real practice; one in ten patients has
a preferred name. Dates of birth are uniform over 1930-2024; every patient has a distinct phone
number and email address. Every PHI value is a real AES-GCM value sealed with the database's key
ring (`KeyRing.seal`, with the same associated data the ORM binds: the table, column, row id and
key version), and every blind index and name piece comes from `portal.backend.patient_index`.
To build 100,000 patients in minutes rather than an hour, patients are inserted with Core
`INSERT`s of already-sealed values and the name pieces with `COPY`; a sample of patients is then
read back through the ORM to check the values open. `VACUUM ANALYZE` runs after the load.

Each measured call is `patient_search.search_patients(principal, query)` with the provider's
principal, in its own unit of work, timed end to end (the audit events included) after a
warm-up: exact searches with a random patient's last name + date of birth, date of birth, phone
and email; partial-name searches with four to six letters from inside a random patient's last
name (70%), or a first name and one to three letters of a last name ("maria gar"; 30%). With
`--profile` the script prints a cProfile summary of each kind of search; with `--explain`,
`EXPLAIN (ANALYZE, BUFFERS)` of the SELECTs one search of each kind sends, the audit log's aside
(both happen by themselves for a kind that misses its goal).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import event, insert, select, text

from benchmarks.support import percentile, postgres_database
from portal.backend import models, patient_index
from portal.backend.db import Database
from portal.backend.models.base import Encrypted, utcnow
from portal.backend.security.principal import Principal, Role
from portal.backend.services import patient_search

WARM_UP = 20
BATCH = 5_000
GOALS_MS = {"exact": 20.0, "partial": 200.0}
# Names as text, split below (one word each).
FIRST_NAMES = (
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara "
    "Richard Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy "
    "Matthew Betty Anthony Margaret Mark Sandra Donald Ashley Steven Kimberly Paul Emily "
    "Andrew Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian Dorothy George Melissa "
    "Timothy Deborah Ronald Stephanie Edward Rebecca Jason Sharon Jeffrey Laura Ryan Cynthia "
    "Jacob Kathleen Gary Amy Nicholas Angela Eric Shirley Jonathan Anna Stephen Brenda Larry "
    "Pamela Justin Emma Scott Nicole Brandon Helen Benjamin Samantha Samuel Katherine Gregory "
    "Christine Alexander Debra Frank Rachel Patrick Carolyn Raymond Janet Jack Catherine "
    "Dennis Maria Jerry Heather Tyler Diane Aaron Ruth Jose Julie Adam Olivia Nathan Joyce "
    "Henry Virginia Douglas Victoria Zachary Kelly Peter Lauren Kyle Christina Noah Joan "
    "Ethan Evelyn Jeremy Judith Walter Megan Christian Andrea Keith Cheryl Roger Hannah Terry "
    "Jacqueline Austin Martha Sean Gloria Gerald Teresa Carl Ann Harold Sara Dylan Madison "
    "Arthur Frances"
)
COMMON_LAST_NAMES = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez "
    "Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson "
    "White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott "
    "Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter "
    "Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart "
    "Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed "
    "Kelly Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James Bennett Gray "
    "Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez "
    "Powell Jenkins Perry Russell Sullivan Bell Coleman Butler Henderson Barnes Gonzales "
    "Fisher Vasquez Simmons Romero Jordan Patterson Alexander Hamilton Graham Reynolds "
    "Griffin Wallace Moreno West Cole Hayes Bryant Herrera Gibson Ellis Tran Medina Aguilar "
    "Stevens Murray Ford Castro Marshall Owens Harrison Fernandez McDonald Woods Washington "
    "Kennedy Wells Vargas Henry Chen Freeman Webb Tucker"
)
PREFIX_TEXT = (
    "Ander Bel Car Dal Eck Fitz Gold Hart Ives Kow Lind Mor Nov Ost Pet Rad Stan Tor Vel "
    "Wester Zim Ash Brem Cald Dorn Fair Holm Kirk Lang Mal Nord Quin Ros Sel Thal Ul Wald Yar"
)
SUFFIX_TEXT = "son berg ski ez ova man ford well ley ton er ini ak stein"
FIRST = FIRST_NAMES.split()
COMMON_LAST = COMMON_LAST_NAMES.split()
PREFIXES, SUFFIXES = PREFIX_TEXT.split(), SUFFIX_TEXT.split()
LAST = COMMON_LAST + [prefix + suffix for prefix in PREFIXES for suffix in SUFFIXES]


@dataclass
class Person:
    id: uuid.UUID
    first: str
    last: str
    born: date
    phone: str
    email: str


@dataclass
class Result:
    name: str
    goal_ms: float
    times_ms: list[float] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)
    found: list[int] = field(default_factory=list)
    capped: int = 0


def zipf_weights(count: int, offset: float) -> list[float]:
    return [1 / (rank + offset) for rank in range(count)]


def people(rng: random.Random, count: int) -> list[Person]:
    firsts = rng.choices(FIRST, zipf_weights(len(FIRST), 8), k=count)
    lasts = rng.choices(LAST, zipf_weights(len(LAST), 12), k=count)
    start = date(1930, 1, 1).toordinal()
    span = date(2024, 12, 31).toordinal() - start
    return [
        Person(
            id=uuid.uuid4(),
            first=first,
            last=last,
            born=date.fromordinal(start + rng.randrange(span)),
            phone=f"(555) {200 + n // 10_000:03d}-{n % 10_000:04d}",
            email=f"{first}.{last}.{n}@bench.example".lower(),
        )
        for n, (first, last) in enumerate(zip(firsts, lasts, strict=True))
    ]


def build(database: Database, rng: random.Random, count: int) -> tuple[Principal, list[Person]]:
    """The practice, its provider, and `count` sealed, indexed patients."""
    with database.unit_of_work() as uow:
        practice = models.Practice(
            name="Bench Practice", slug=f"bench-{uuid.uuid4().hex[:8]}", time_zone="America/Chicago"
        )
        uow.session.add(practice)
        uow.session.flush()
        tenant = practice.id
        user = models.User(
            tenant_id=tenant,
            role=Role.PROVIDER,
            email="dr@bench.example",
            email_index=uow.keyring.blind_index("email", "dr@bench.example"),
            display_name="Dr. Bench",
        )
        team = models.CareTeam(tenant_id=tenant, name="Team")
        uow.session.add_all([user, team])
        uow.session.flush()
        provider = models.Provider(tenant_id=tenant, user_id=user.id, display_name="Dr. Bench")
        uow.session.add(provider)
        uow.session.flush()
        uow.session.add(
            models.CareTeamMember(care_team_id=team.id, provider_id=provider.id, tenant_id=tenant)
        )
        uow.commit()
        principal = Principal(
            user_id=user.id,
            role=Role.PROVIDER,
            tenant_id=tenant,
            session_id=uuid.uuid4(),
            provider_id=provider.id,
        )
    everyone = people(rng, count)
    with database.unit_of_work() as uow:
        seal, columns = uow.keyring.seal, models.Patient.__table__.c
        piece_index: dict[str, str] = {}
        born_index: dict[date, str] = {}
        now = utcnow()

        def sealed(person: Person, column: str, value) -> bytes | None:
            if value is None:
                return None
            kind: Encrypted = columns[column].type
            return seal("patients", column, person.id, kind.encode(value))

        for first in range(0, count, BATCH):
            rows, grams = [], []
            for n, person in enumerate(everyone[first : first + BATCH], start=first):
                preferred = rng.choice(FIRST) if rng.random() < 0.1 else None
                values = {
                    "medical_record_number": f"MRN-{n:07}",
                    "legal_first_name": person.first,
                    "legal_last_name": person.last,
                    "preferred_name": preferred,
                    "date_of_birth": person.born,
                    "sex": rng.choice(["female", "male"]),
                    "phone": person.phone,
                    "email": person.email,
                }
                if person.born not in born_index:
                    born_index[person.born] = patient_index.birth_date_index(uow, person.born)
                rows.append(
                    {
                        "id": person.id,
                        "tenant_id": tenant,
                        "care_team_id": team.id,
                        **{key: sealed(person, key, value) for key, value in values.items()},
                        "name_dob_index": patient_index.name_dob_index(
                            uow, person.last, person.born
                        ),
                        "birth_date_index": born_index[person.born],
                        "phone_index": patient_index.phone_index(uow, person.phone),
                        "email_index": patient_index.email_index(uow, person.email),
                        "created_at": now,
                        "updated_at": now,
                    }
                )
                for piece in patient_index.name_pieces(person.first, person.last, preferred):
                    if piece not in piece_index:
                        (piece_index[piece],) = patient_index.piece_indexes(uow, {piece})
                    grams.append((person.id, piece_index[piece], tenant))
            uow.session.execute(insert(models.Patient.__table__), rows)
            cursor = uow.session.connection().connection.driver_connection.cursor()
            with cursor.copy(
                "COPY patient_name_grams (patient_id, gram_index, tenant_id) FROM STDIN"
            ) as copy:
                for gram in grams:
                    copy.write_row(gram)
            uow.commit()
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    with database.unit_of_work() as uow:  # the sealed values open through the ORM
        for person in rng.sample(everyone, 20):
            row = uow.session.get(models.Patient, person.id)
            assert (row.legal_last_name, row.date_of_birth) == (person.last, person.born)
    return principal, everyone


def partial_query(rng: random.Random, person: Person) -> str:
    """Part of a name as a receptionist might type it."""
    if rng.random() < 0.3:
        return f"{person.first} {person.last[: rng.randint(1, 3)]}"
    last = person.last.lower()
    length = min(len(last), rng.randint(4, 6))
    start = rng.randint(0, len(last) - length)
    return last[start : start + length]


class StatementCounter:
    def __init__(self, database: Database):
        self.count = 0
        self.recorded: list[tuple[str, object]] | None = None
        event.listen(database.engine, "before_cursor_execute", self._seen)

    def _seen(self, _connection, _cursor, statement: str, parameters, *_args: object) -> None:
        if "FROM data_keys" in statement:
            return
        self.count += 1
        if self.recorded is not None:
            self.recorded.append((statement, parameters))


def measure(
    name: str, goal: float, queries: list[str], call: Callable[[str], object], counter
) -> Result:
    for query in queries[:WARM_UP]:
        call(query)
    result = Result(name, goal)
    for query in queries[WARM_UP:]:
        before = counter.count
        began = time.perf_counter()
        found = call(query)
        result.times_ms.append((time.perf_counter() - began) * 1000)
        result.statements.append(counter.count - before)
        result.found.append(found.matched)
        result.capped += found.too_many
    return result


def report(results: list[Result]) -> None:
    header = (
        f"{'search':<34} {'stmts':>7} {'runs':>4} {'matched':>11} {'p50':>7} {'p95':>7} "
        f"{'p99':>7} {'max':>7}  goal p95"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        figures = [percentile(r.times_ms, f) for f in (0.50, 0.95, 0.99)] + [max(r.times_ms)]
        matched = f"{percentile(r.found, 0.5)} ({min(r.found)}-{max(r.found)})"
        statements = sorted(set(r.statements))
        shown = f"{statements[0]}-{statements[-1]}" if len(statements) > 1 else f"{statements[0]}"
        met = percentile(r.times_ms, 0.95) <= r.goal_ms
        print(
            f"{r.name:<34} {shown:>7} {len(r.times_ms):>4} {matched:>11} "
            + " ".join(f"{value:7.1f}" for value in figures)
            + f"  <= {r.goal_ms:g} ms: {'met' if met else 'MISSED'}"
            + (f"  ({r.capped} searches over the candidate cap)" if r.capped else "")
        )
    print("times in ms; matched = median (min-max) patients matching a search")


def profile(label: str, queries: list[str], call: Callable[[str], object]) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for query in queries:
        call(query)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
    print(f"\n=== profile: {label}, {len(queries)} searches, top 30 by cumulative time ===")
    print("\n".join(line for line in out.getvalue().splitlines()[6:] if line.strip()))


def explain(database: Database, label: str, statements: list[tuple[str, object]]) -> None:
    """EXPLAIN ANALYZE each SELECT of one search but the audit log's own."""
    print(f"\n=== EXPLAIN (ANALYZE, BUFFERS): {label} ===")
    with database.engine.connect() as connection:
        for statement, parameters in statements:
            if not statement.lstrip().upper().startswith("SELECT") or "audit" in statement:
                continue
            print("\n-- " + " ".join(statement.split())[:300])
            plan = connection.exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters
            ).scalars()
            print("\n".join(plan))
        connection.rollback()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    rng = random.Random(args.seed)  # noqa: S311  (a repeatable data set, not a secret)
    with postgres_database() as database:
        database.keyring  # noqa: B018  (create the keys before anything is timed)
        began = time.perf_counter()
        principal, everyone = build(database, rng, args.patients)
        with database.engine.connect() as connection:
            grams = connection.execute(text("SELECT count(*) FROM patient_name_grams")).scalar()
        print(
            f"data set: {len(everyone):,} patients, {grams:,} name pieces, "
            f"{len(set(p.last for p in everyone))} distinct last names; "
            f"built in {time.perf_counter() - began:.0f} s"
        )
        counter = StatementCounter(database)

        def search(query: str):
            return patient_search.search_patients(principal, query, uow=database.unit_of_work())

        total = WARM_UP + args.runs
        picks = [rng.choice(everyone) for _ in range(total)]
        kinds = {
            "exact: last name + date of birth": (
                "exact",
                [f"{p.last} {p.born.isoformat()}" for p in picks],
            ),
            "exact: date of birth": (
                "exact",
                [f"{p.born:%m/%d/%Y}" for p in picks],
            ),
            "exact: phone": ("exact", [p.phone for p in picks]),
            "exact: email": ("exact", [p.email for p in picks]),
            "partial name": ("partial", [partial_query(rng, p) for p in picks]),
        }
        load = os.getloadavg()[0]
        results = [
            measure(name, GOALS_MS[goal], queries, search, counter)
            for name, (goal, queries) in kinds.items()
        ]
        print(f"\nload average before timing: {load:.2f}, after: {os.getloadavg()[0]:.2f}")
        report(results)
        for result, (name, (_goal, queries)) in zip(results, kinds.items(), strict=True):
            missed = percentile(result.times_ms, 0.95) > result.goal_ms
            if args.explain or missed:
                counter.recorded = []
                search(queries[-1])
                recorded, counter.recorded = counter.recorded, None
                explain(database, name, recorded)
            if args.profile or missed:
                profile(name, queries[WARM_UP : WARM_UP + 50], search)
        with database.engine.connect() as connection:
            events = connection.execute(
                select(models.AuditEvent.action).where(models.AuditEvent.action == "patient.search")
            ).all()
        print(f"\naudit: {len(events):,} patient.search events recorded")


if __name__ == "__main__":
    main()
