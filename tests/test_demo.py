"""Demo data: deterministic, every status present, named students in their known situations."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import subprocess
import sys

from sqlalchemy import func, select

from bot.config import PROJECT_ROOT
from bot.db import calendar, demo, insurance, offers
from bot.db.migrate import upgrade
from bot.db.models import (
    InsuranceStepKind,
    Interview,
    InterviewStatus,
    NegativeFeedback,
    Offer,
    OfferRank,
    OfferStatus,
    Student,
)
from bot.db.session import Database
from tests.db_fixtures import NOW

ELIF, MERT, ZEYNEP, CAN = (named.student_id for named in demo.NAMED_STUDENTS)


def digest(db: Database) -> str:
    """A fingerprint of all offers."""
    with db.engine.connect() as connection:
        rows = connection.execute(
            select(
                Offer.student_id,
                Offer.employer_id,
                Offer.status,
                Offer.program_type,
                Offer.response_deadline,
            ).order_by(Offer.id)
        ).all()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def test_demo_data_is_deterministic_and_covers_every_status(database: Database, tmp_path) -> None:
    assert demo.seed(database, 150, NOW, progress=False)
    url = f"sqlite:///{tmp_path / 'again.db'}"
    upgrade(url)
    again = Database(url)
    demo.seed(again, 150, NOW, progress=False)
    assert digest(again) == digest(database)
    with database.engine.connect() as connection:
        statuses = set(connection.execute(select(Offer.status).distinct()).scalars())
        interviews = set(connection.execute(select(Interview.status).distinct()).scalars())
        feedback = connection.execute(select(func.count(NegativeFeedback.id))).scalar_one()
    assert statuses == set(OfferStatus)
    assert interviews == {InterviewStatus.SCHEDULED, InterviewStatus.COMPLETED}
    assert feedback > 0


def test_named_students_are_in_their_known_situations(database: Database) -> None:
    demo.seed(database, 20, NOW, progress=False)
    pending = offers.pending_offers(database, ELIF, NOW)
    assert [p.rank for p in pending] == [OfferRank.RESERVE, OfferRank.MAIN]
    assert pending[0].response_deadline == NOW + dt.timedelta(days=1)
    (internship,) = insurance.approved_programs(database, MERT)
    assert internship.next_step is InsuranceStepKind.SGK_ENTRY_DONE
    assert [c.priority for c in calendar.calendars(database, ZEYNEP)] == [1, 2, 3, 4, 5]
    assert offers.pending_offers(database, CAN, NOW) == []
    assert calendar.calendars(database, CAN) == []
    assert insurance.approved_programs(database, CAN) == []


def test_seeding_again_only_refreshes_the_named_students(database: Database) -> None:
    demo.seed(database, 20, NOW, progress=False)
    later = NOW + dt.timedelta(days=30)
    assert demo.seed(database, 20, later, progress=False) is False
    with database.session() as session:
        assert session.execute(select(func.count(Student.id))).scalar_one() == 20 + len(
            demo.NAMED_STUDENTS
        )
    (reserve, _) = offers.pending_offers(database, ELIF, later)
    assert reserve.response_deadline == later + dt.timedelta(days=1)


def test_link_code_command_issues_a_code_for_a_student_only(tmp_path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    command = [sys.executable, "-m", "bot"]
    subprocess.run(
        [*command, "seed-demo", "--students", "5"],
        env=env,
        check=True,
        cwd=PROJECT_ROOT,
        capture_output=True,
    )
    issued = subprocess.run(
        [*command, "link-code", "--student", str(ELIF)],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )
    assert issued.returncode == 0 and "Bağlantı kodu: " in issued.stdout
    unknown = subprocess.run(
        [*command, "link-code", "--student", "999999"],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )
    assert unknown.returncode == 1 and "Öğrenci bulunamadı" in unknown.stderr
