"""Databases for tests: a fresh SQLite file and a fresh PostgreSQL database, both migrated."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from itertools import count

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from bot.db.migrate import upgrade
from bot.db.models import (
    Department,
    Employer,
    EmployerContact,
    Offer,
    OfferRank,
    OfferStatus,
    ProgramType,
    Student,
    University,
)
from bot.db.session import Database

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
NOW = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.timezone.utc)


def _postgres_database() -> Iterator[str]:
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"staj_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as error:
        admin.dispose()
        pytest.skip(f"PostgreSQL unreachable at {POSTGRES_ADMIN_URL}: {error.orig}")
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path) -> Iterator[Database]:
    """A migrated, empty database on each backend."""
    if request.param == "sqlite":
        urls = iter([f"sqlite:///{tmp_path / 'test.db'}"])
    else:
        urls = _postgres_database()
    url = next(urls)
    upgrade(url)
    db = Database(url)
    try:
        yield db
    finally:
        db.dispose()
        for _ in urls:  # runs the PostgreSQL clean-up
            pass


class World:
    """Builds small, readable fixtures: students, employers and offers."""

    _ids = count(1)

    def __init__(self, db: Database) -> None:
        self.db = db
        with db.session() as session:
            university = University(name=f"Test Üniversitesi {next(self._ids)}", city="Ankara")
            department = Department(university=university, name="Bilgisayar Mühendisliği")
            session.add(department)
            session.flush()
            self.department_id = department.id

    def student(self, first_name: str = "Deniz", last_name: str = "Test") -> int:
        with self.db.session() as session:
            student = Student(
                first_name=first_name,
                last_name=last_name,
                department_id=self.department_id,
                created_at=NOW,
            )
            session.add(student)
            session.flush()
            return student.id

    def employer(self, name: str = "Örnek A.Ş.", employee_count: int = 50) -> tuple[int, int]:
        """An employer and its responsible contact: (employer id, contact id)."""
        with self.db.session() as session:
            employer = Employer(name=name, city="İstanbul", employee_count=employee_count)
            session.add(employer)
            session.flush()
            contact = EmployerContact(
                employer_id=employer.id,
                full_name="Ayşe Yetkili",
                title="İK Uzmanı",
                email="ik@example.com",
                phone="0212 000 00 00",
            )
            session.add(contact)
            session.flush()
            return employer.id, contact.id

    def offer(
        self,
        student_id: int,
        employer: tuple[int, int],
        *,
        status: OfferStatus = OfferStatus.PENDING,
        program_type: ProgramType = ProgramType.INTERNSHIP,
        rank: OfferRank = OfferRank.MAIN,
        deadline: dt.datetime = NOW + dt.timedelta(days=3),
        start: dt.date = dt.date(2026, 7, 1),
    ) -> int:
        employer_id, contact_id = employer
        with self.db.session() as session:
            offer = Offer(
                student_id=student_id,
                employer_id=employer_id,
                responsible_contact_id=contact_id,
                sender_contact_id=contact_id,
                program_type=program_type,
                rank=rank,
                start_date=start,
                end_date=start + dt.timedelta(days=27),
                city="İstanbul",
                note="",
                response_deadline=deadline,
                status=status,
                created_at=NOW,
                status_changed_at=NOW,
            )
            session.add(offer)
            session.flush()
            return offer.id
