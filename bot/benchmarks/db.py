"""`make bench-db`: the database work of each status action on 200k students / 1M offers.

    python -m bot.benchmarks.db [--students 200000] [--samples 1000] [--backend postgresql]

For each backend it builds a database with the demo generator (`seed-demo --students N`) once
and keeps it for later runs: PostgreSQL database `staj_bench_<N>` next to TEST_POSTGRES_URL's
(default postgresql://postgres@127.0.0.1:5432/test), SQLite file var/bench/staj_bench_<N>.db.
Sampled students get a linked Telegram chat, as real users would. Then, for random sampled
students, it times what each action does against the database: resolve the chat's student,
then the action's repository query, through the same pooled engine the action server uses.
p50/p95 go to docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from bot.benchmarks.report import percentile, write_section
from bot.config import PROJECT_ROOT
from bot.db import calendar, demo, insurance, linking, offers
from bot.db.migrate import upgrade
from bot.db.models import Offer, Student
from bot.db.session import Database
from bot.senders import TELEGRAM

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
BENCH_DIRECTORY = PROJECT_ROOT / "var" / "bench"
FLOOR_P95_MS = 5.0  # on PostgreSQL
FIRST_CHAT_ID = 900_000_000

Query = Callable[[Database, int, dt.datetime], object]
# What each status action asks the database after resolving the chat's student.
ACTION_QUERIES: dict[str, Query] = {
    "check_pending_offers": lambda db, student, now: offers.pending_offers(db, student, now),
    "check_offer_details": lambda db, student, now: offers.student_offers(db, student),
    "check_stipend": lambda db, student, now: offers.accepted_internships(db, student),
    "check_rights_left": lambda db, student, now: offers.rights_used(db, student, now.year),
    "check_interviews": lambda db, student, now: offers.upcoming_interviews(db, student, now),
    "check_calendar": lambda db, student, now: calendar.calendars(db, student),
    "check_insurance_status": lambda db, student, now: insurance.approved_programs(db, student),
}


@dataclass
class BackendResult:
    """Timings of one backend, per action, in milliseconds."""

    backend: str
    students: int
    offers: int
    build_seconds: float | None
    timings: dict[str, list[float]]


def postgres_url(students: int) -> str:
    """The benchmark database of this size on the test server; created when missing."""
    name = f"staj_bench_{students}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        ).first()
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def counts(db: Database) -> tuple[int, int]:
    """Students and offers in the database."""
    with db.session() as session:
        return (
            session.execute(select(func.count(Student.id))).scalar_one(),
            session.execute(select(func.count(Offer.id))).scalar_one(),
        )


def build(url: str, students: int, now: dt.datetime) -> tuple[Database, float | None]:
    """The migrated, seeded database; seconds spent building it (None: it was already there)."""
    upgrade(url)
    db = Database(url)
    have, _ = counts(db)
    if have >= students:
        return db, None
    if have:
        raise SystemExit(f"{url} holds {have} students, fewer than {students}: drop it first")
    started = time.perf_counter()
    demo.seed(db, students, now)
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    else:
        with db.engine.connect() as connection:
            connection.execute(text("ANALYZE"))
    return db, time.perf_counter() - started


def link_chats(db: Database, student_ids: list[int], now: dt.datetime) -> dict[int, str]:
    """A linked Telegram chat per sampled student, through the real link-code flow."""
    chats = {}
    for index, student_id in enumerate(student_ids):
        chat = str(FIRST_CHAT_ID + student_id)
        if linking.linked_student(db, TELEGRAM.name, chat) != student_id:
            code = linking.issue_code(db, student_id, now)
            linking.redeem_code(db, TELEGRAM.name, chat, code, now)
        chats[student_id] = chat
        if index and index % 200 == 0:
            print(f"  linked {index} chats", flush=True)
    return chats


def measure(
    db: Database, chats: dict[int, str], samples: int, now: dt.datetime
) -> dict[str, list[float]]:
    """Milliseconds per action: the chat's student, then the action's query."""
    rng = random.Random(7)
    students = list(chats)
    timings: dict[str, list[float]] = {name: [] for name in ACTION_QUERIES}
    for round_number in range(samples + 50):  # the first 50 warm the pool and caches up
        for name, query in ACTION_QUERIES.items():
            chat = chats[rng.choice(students)]
            started = time.perf_counter()
            student = linking.linked_student(db, TELEGRAM.name, chat)
            if student is None:
                raise RuntimeError(f"chat {chat} lost its link during the benchmark")
            query(db, student, now)
            if round_number >= 50:
                timings[name].append((time.perf_counter() - started) * 1000)
    return timings


def run_backend(backend: str, students: int, samples: int, now: dt.datetime) -> BackendResult:
    """Builds (if needed) and measures one backend."""
    url = (
        postgres_url(students)
        if backend == "postgresql"
        else f"sqlite:///{BENCH_DIRECTORY / f'staj_bench_{students}.db'}"
    )
    print(f"{backend}: {url}", flush=True)
    db, build_seconds = build(url, students, now)
    student_count, offer_count = counts(db)
    rng = random.Random(2026)
    sampled = rng.sample(
        range(len(demo.NAMED_STUDENTS) + 1, student_count + 1),
        min(samples, student_count - len(demo.NAMED_STUDENTS)),
    )
    chats = link_chats(db, sampled, now)
    timings = measure(db, chats, samples, now)
    db.dispose()
    return BackendResult(backend, student_count, offer_count, build_seconds, timings)


def markdown(results: list[BackendResult], samples: int) -> str:
    """The `make bench-db` section."""
    lines = [
        "## Status queries on a large offer database (`make bench-db`)",
        "",
        f"Measured {dt.date.today().isoformat()} on this machine ({os.cpu_count()} cores, "
        f"Python {platform.python_version()}); {samples} timed calls per action after 50 "
        "warm-up rounds, each for a random student with a linked Telegram chat. One call is "
        "what the action asks the database: the chat's student (`linking.linked_student`), "
        "then the action's repository query, through the pooled engine the action server uses. "
        f"Floor: p95 <= {FLOOR_P95_MS:.0f} ms on PostgreSQL.",
        "",
    ]
    for result in results:
        built = (
            "kept from an earlier run"
            if result.build_seconds is None
            else f"built in {result.build_seconds / 60:.1f} min"
        )
        lines += [
            f"### {result.backend}: {result.students:,} students, {result.offers:,} offers "
            f"({built})",
            "",
            "| action | p50 | p95 | max |",
            "|---|---|---|---|",
        ]
        for name, values in result.timings.items():
            lines.append(
                f"| {name} | {statistics.median(values):.2f} ms | "
                f"{percentile(values, 0.95):.2f} ms | {max(values):.2f} ms |"
            )
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Runs the benchmark on the chosen backends and writes the figures."""
    parser = argparse.ArgumentParser(
        prog="python -m bot.benchmarks.db",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--students", type=int, default=200_000)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), action="append")
    args = parser.parse_args(argv)
    now = dt.datetime.now(dt.timezone.utc)
    results = [
        run_backend(backend, args.students, args.samples, now)
        for backend in args.backend or ("postgresql", "sqlite")
    ]
    section = markdown(results, args.samples)
    print(section)
    write_section("bench-db", section)
    postgres_p95 = [
        percentile(values, 0.95)
        for result in results
        if result.backend == "postgresql"
        for values in result.timings.values()
    ]
    return 1 if any(p95 > FLOOR_P95_MS for p95 in postgres_p95) else 0


if __name__ == "__main__":
    raise SystemExit(main())
