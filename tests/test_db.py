"""The offer database on SQLite and PostgreSQL: schema, constraints and repositories."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError, StatementError

from bot.config import PROJECT_ROOT
from bot.db import calendar, insurance, linking, offers
from bot.db.migrate import alembic_config
from bot.db.models import (
    AvailabilityCalendar,
    Base,
    InsuranceStep,
    InsuranceStepKind,
    OfferRank,
    OfferStatus,
    ProgramType,
    Student,
)
from bot.db.session import Database
from bot.link_code import CODE_LENGTH
from tests.db_fixtures import NOW, World

# --- schema --------------------------------------------------------------------------------


def test_migrations_create_exactly_the_models(database: Database) -> None:
    with database.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_make_migrate_brings_an_empty_database_up_to_date(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    for _ in range(2):  # the second run has nothing to do
        subprocess.run(
            [sys.executable, "-m", "bot", "migrate"],
            check=True,
            env={**os.environ, "DATABASE_URL": url},
            cwd=PROJECT_ROOT,
        )
    with Database(url).engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
        version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert set(Base.metadata.tables) <= tables
    assert version == ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def test_foreign_keys_are_enforced(database: Database) -> None:
    with pytest.raises(IntegrityError), database.session() as session:
        session.add(Student(first_name="A", last_name="B", department_id=999_999, created_at=NOW))


def test_a_sixth_calendar_is_refused_by_the_database(database: Database) -> None:
    student = World(database).student()
    with database.session() as session:
        for priority in range(1, 6):
            session.add(
                AvailabilityCalendar(
                    student_id=student,
                    priority=priority,
                    start_date=dt.date(2026, 7, priority),
                    end_date=dt.date(2026, 8, priority),
                )
            )
    for priority in (1, 6, 0):  # a repeated priority, or one outside 1..5
        with pytest.raises(IntegrityError), database.session() as session:
            session.add(
                AvailabilityCalendar(
                    student_id=student,
                    priority=priority,
                    start_date=dt.date(2026, 9, 1),
                    end_date=dt.date(2026, 9, 30),
                )
            )


def test_dates_must_be_ordered(database: Database) -> None:
    student = World(database).student()
    with pytest.raises(IntegrityError), database.session() as session:
        session.add(
            AvailabilityCalendar(
                student_id=student,
                priority=1,
                start_date=dt.date(2026, 9, 2),
                end_date=dt.date(2026, 9, 1),
            )
        )


def test_unknown_statuses_are_refused_by_the_database(database: Database) -> None:
    world = World(database)
    offer_id = world.offer(world.student(), world.employer())
    with pytest.raises(IntegrityError), database.engine.begin() as connection:
        connection.execute(
            text("UPDATE offers SET status = 'lost' WHERE id = :id"), {"id": offer_id}
        )


def test_timestamps_come_back_timezone_aware(database: Database) -> None:
    world = World(database)
    istanbul = dt.timezone(dt.timedelta(hours=3))
    deadline = dt.datetime(2026, 6, 4, 23, 59, tzinfo=istanbul)
    student = world.student()
    world.offer(student, world.employer(), deadline=deadline)
    (pending,) = offers.pending_offers(database, student, NOW)
    assert pending.response_deadline == deadline
    assert pending.response_deadline.utcoffset() == dt.timedelta(0)


def test_naive_timestamps_are_refused(database: Database) -> None:
    world = World(database)
    with pytest.raises(StatementError):
        world.offer(world.student(), world.employer(), deadline=dt.datetime(2026, 6, 4))


# --- offer life cycle ----------------------------------------------------------------------


def test_offers_follow_the_programs_life_cycle(database: Database) -> None:
    world = World(database)
    offer_id = world.offer(world.student(), world.employer())
    for status in (
        OfferStatus.ACCEPTED,
        OfferStatus.ADDITIONAL_EVALUATION,
        OfferStatus.FINAL_APPROVAL,
        OfferStatus.STARTED,
        OfferStatus.ABANDONED,
    ):
        offers.change_status(database, offer_id, status, NOW)
    with pytest.raises(offers.TransitionNotAllowed):
        offers.change_status(database, offer_id, OfferStatus.STARTED, NOW)


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        ((), OfferStatus.FINAL_APPROVAL),  # pending cannot skip acceptance
        ((OfferStatus.REJECTED,), OfferStatus.ACCEPTED),
        ((OfferStatus.EXPIRED,), OfferStatus.ACCEPTED),
        (
            (OfferStatus.ACCEPTED, OfferStatus.FINAL_APPROVAL, OfferStatus.CANCELLED),
            OfferStatus.STARTED,
        ),
    ],
)
def test_transitions_the_program_does_not_have_are_refused(
    database: Database, path: tuple[OfferStatus, ...], refused: OfferStatus
) -> None:
    world = World(database)
    offer_id = world.offer(world.student(), world.employer())
    for status in path:
        offers.change_status(database, offer_id, status, NOW)
    with pytest.raises(offers.TransitionNotAllowed):
        offers.change_status(database, offer_id, refused, NOW)


# --- status queries ------------------------------------------------------------------------


def test_pending_offers_are_the_students_own_soonest_deadline_first(database: Database) -> None:
    world = World(database)
    student, other = world.student(), world.student("Ece")
    acme, beta = world.employer("Acme"), world.employer("Beta", employee_count=5)
    later = world.offer(student, acme, deadline=NOW + dt.timedelta(days=5))
    sooner = world.offer(
        student, beta, rank=OfferRank.RESERVE, deadline=NOW + dt.timedelta(hours=20)
    )
    world.offer(student, acme, deadline=NOW - dt.timedelta(hours=1))  # past its deadline
    world.offer(student, acme, status=OfferStatus.REJECTED)
    world.offer(other, acme)  # someone else's
    pending = offers.pending_offers(database, student, NOW)
    assert [p.offer_id for p in pending] == [sooner, later]
    assert pending[0].employer_name == "Beta"
    assert pending[0].rank is OfferRank.RESERVE
    assert pending[0].responsible.full_name == "Ayşe Yetkili"
    assert offers.pending_offers(database, world.student("Can"), NOW) == []


def test_student_offers_are_all_of_the_students_own_and_nobody_elses(database: Database) -> None:
    world = World(database)
    student, other = world.student(), world.student("Ece")
    acme = world.employer("Acme", employee_count=8)
    first = world.offer(student, acme, status=OfferStatus.REJECTED)
    second = world.offer(student, acme, program_type=ProgramType.TRAINING)
    world.offer(other, acme)
    listed = offers.student_offers(database, student)
    assert [o.offer_id for o in listed] == [second, first]  # newest first
    assert {o.employee_count for o in listed} == {8}
    assert listed[1].status is OfferStatus.REJECTED
    assert offers.student_offers(database, world.student("Can")) == []


def test_accepted_internships_are_the_ones_the_stipend_rule_covers(database: Database) -> None:
    world = World(database)
    student = world.student()
    acme = world.employer("Acme")
    covered = {world.offer(student, acme, status=status) for status in offers.ACCEPTED_STATUSES}
    for status in (
        OfferStatus.PENDING,
        OfferStatus.REJECTED,
        OfferStatus.CANCELLED,
        OfferStatus.ABANDONED,
        OfferStatus.EXPIRED,
    ):
        world.offer(student, acme, status=status)
    world.offer(
        student, acme, status=OfferStatus.FINAL_APPROVAL, program_type=ProgramType.JOB_SHADOWING
    )  # no stipend for shadowing
    world.offer(world.student("Ece"), acme, status=OfferStatus.ACCEPTED)
    assert {o.offer_id for o in offers.accepted_internships(database, student)} == covered


def test_calendars_come_by_priority(database: Database) -> None:
    world = World(database)
    student = world.student()
    with database.session() as session:
        for priority in (3, 1, 2):
            session.add(
                AvailabilityCalendar(
                    student_id=student,
                    priority=priority,
                    start_date=dt.date(2026, 7, priority),
                    end_date=dt.date(2026, 7, 20),
                )
            )
    assert [c.priority for c in calendar.calendars(database, student)] == [1, 2, 3]
    assert calendar.calendars(database, world.student("Ece")) == []


def test_insurance_steps_of_approved_programs(database: Database) -> None:
    world = World(database)
    student = world.student()
    employer = world.employer()
    internship = world.offer(student, employer, status=OfferStatus.FINAL_APPROVAL)
    world.offer(
        student,
        employer,
        status=OfferStatus.STARTED,
        program_type=ProgramType.JOB_SHADOWING,
        start=dt.date(2026, 8, 1),
    )
    world.offer(student, employer, status=OfferStatus.CANCELLED)
    with database.session() as session:
        session.add(
            InsuranceStep(
                offer_id=internship,
                completed_at=NOW,
                step=InsuranceStepKind.ACCEPTANCE_DOCUMENT_ISSUED,
            )
        )
        session.add(
            InsuranceStep(
                offer_id=internship,
                completed_at=NOW,
                step=InsuranceStepKind.DOCUMENT_HANDED_TO_UNIVERSITY,
            )
        )
    internship_program, shadowing = insurance.approved_programs(database, student)
    assert internship_program.needs_insurance
    assert internship_program.next_step is InsuranceStepKind.SGK_ENTRY_DONE
    assert internship_program.steps_done[InsuranceStepKind.SGK_DOCUMENT_SHARED] is None
    assert not shadowing.needs_insurance and shadowing.next_step is None


# --- linking a chat ------------------------------------------------------------------------


def test_a_code_links_the_chat_once(database: Database) -> None:
    student = World(database).student()
    code = linking.issue_code(database, student, NOW)
    assert len(code) == CODE_LENGTH
    messy = code.lower()[:3] + "-" + code.lower()[3:]  # typed with a dash, in lower case
    result = linking.redeem_code(database, "telegram", "42", messy, NOW)
    assert result == linking.LinkResult(linking.LinkOutcome.LINKED, student_id=student)
    assert linking.linked_student(database, "telegram", "42") == student
    again = linking.redeem_code(database, "telegram", "43", code, NOW)
    assert again.outcome is linking.LinkOutcome.ALREADY_USED
    assert linking.linked_student(database, "telegram", "43") is None


def test_codes_are_stored_hashed(database: Database) -> None:
    code = linking.issue_code(database, World(database).student(), NOW)
    with database.engine.connect() as connection:
        stored = connection.execute(text("SELECT code_hash FROM link_codes")).scalar_one()
    assert code not in stored and stored == linking.hash_code(code)


def test_a_code_expires_after_ten_minutes(database: Database) -> None:
    code = linking.issue_code(database, World(database).student(), NOW)
    later = NOW + linking.CODE_LIFETIME
    result = linking.redeem_code(database, "telegram", "42", code, later)
    assert result.outcome is linking.LinkOutcome.EXPIRED
    assert linking.linked_student(database, "telegram", "42") is None


def test_five_wrong_codes_lock_the_chat_out_for_a_while(database: Database) -> None:
    code = linking.issue_code(database, World(database).student(), NOW)
    outcomes = [
        linking.redeem_code(database, "web", "7", "ZZZZZZ", NOW).outcome
        for _ in range(linking.MAX_FAILED_TRIES)
    ]
    assert outcomes[:-1] == [linking.LinkOutcome.WRONG_CODE] * (linking.MAX_FAILED_TRIES - 1)
    assert outcomes[-1] is linking.LinkOutcome.LOCKED_OUT
    # Even the right code is refused while locked, and the code is not spent by that.
    locked = linking.redeem_code(database, "web", "7", code, NOW + dt.timedelta(minutes=1))
    assert locked.outcome is linking.LinkOutcome.LOCKED_OUT
    assert linking.redeem_code(database, "web", "8", code, NOW).outcome is (
        linking.LinkOutcome.LINKED
    )
    after = NOW + linking.LOCKOUT + dt.timedelta(seconds=1)
    other_code = linking.issue_code(database, World(database).student(), after)
    assert linking.redeem_code(database, "web", "7", other_code, after).outcome is (
        linking.LinkOutcome.LINKED
    )


def test_relinking_moves_the_chat_and_unlinking_removes_it(database: Database) -> None:
    world = World(database)
    first, second = world.student(), world.student("Ece")
    for student in (first, second):
        code = linking.issue_code(database, student, NOW)
        linking.redeem_code(database, "telegram", "42", code, NOW)
    assert linking.linked_student(database, "telegram", "42") == second
    assert linking.unlink(database, "telegram", "42") is True
    assert linking.linked_student(database, "telegram", "42") is None
    assert linking.unlink(database, "telegram", "42") is False


def test_codes_are_issued_only_for_existing_students(database: Database) -> None:
    with pytest.raises(LookupError):
        linking.issue_code(database, 999_999, NOW)
