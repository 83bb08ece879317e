"""A deterministic, realistic demo data set, with named students in known situations.

    python -m bot seed-demo                  # a few thousand students (skipped if not empty)
    python -m bot seed-demo --students 200000  # benchmark scale: about 1,000,000 offers

Names are common Turkish first and last names combined at random: no real person's data.
The named demo students (NAMED_STUDENTS) are re-created relative to "now" on every run, so
"a deadline tomorrow" stays true whenever someone tries the demo.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.orm import Session
from tqdm import tqdm

from bot.db.models import (
    AvailabilityCalendar,
    ChatIdentity,
    Department,
    Employer,
    EmployerContact,
    InsuranceStep,
    InsuranceStepKind,
    Interview,
    InterviewMode,
    InterviewStatus,
    LinkCode,
    NegativeFeedback,
    Offer,
    OfferRank,
    OfferStatus,
    ProgramType,
    Student,
    TalentPoolEntry,
    University,
)
from bot.db.session import Database

SEED = 20240601
BATCH = 5_000
OFFERS_PER_STUDENT = 5  # on average
FIRST_NAMES = (
    "Ahmet Ayşe Mehmet Fatma Mustafa Zeynep Emre Elif Burak Merve Can Ece Deniz Selin Kerem "
    "Büşra Oğuz İrem Yusuf Gizem Hakan Şeyma Serkan Özge Barış Tuğba Onur Gökçe Çağrı Ceren"
).split()
LAST_NAMES = (
    "Yılmaz Kaya Demir Şahin Çelik Yıldız Yıldırım Öztürk Aydın Özdemir Arslan Doğan Kılıç "
    "Aslan Çetin Kara Koç Kurt Özkan Şimşek Polat Korkmaz Erdem Güneş Aksoy Uçar Tekin Bulut"
).split()
CITIES = (
    "İstanbul Ankara İzmir Bursa Antalya Konya Kocaeli Eskişehir Kayseri Gaziantep Samsun "
    "Trabzon Adana Mersin Diyarbakır Erzurum Sakarya Denizli Manisa Tekirdağ"
).split()
UNIVERSITIES = (
    ("Anadolu Teknik Üniversitesi", "Eskişehir"),
    ("Boğaziçi Kıyısı Üniversitesi", "İstanbul"),
    ("Başkent Bilim Üniversitesi", "Ankara"),
    ("Ege Kıyısı Üniversitesi", "İzmir"),
    ("Karadeniz Yıldızı Üniversitesi", "Trabzon"),
    ("Toros Üniversitesi", "Mersin"),
    ("Uludağ Eteği Üniversitesi", "Bursa"),
    ("Selçuklu Bilim Üniversitesi", "Konya"),
)
DEPARTMENTS = (
    "Bilgisayar Mühendisliği",
    "Endüstri Mühendisliği",
    "İktisat",
    "İşletme",
    "Hukuk",
    "Elektrik-Elektronik Mühendisliği",
    "Psikoloji",
    "Mimarlık",
    "Kamu Yönetimi",
    "Tıp",
)
EMPLOYER_WORDS = (
    "Atlas Mavi Yıldız Çınar Poyraz Karma Nova Delta Zirve Vadi Pusula Kule Marmara Anka Ekin"
).split()
SECTORS = ("Yazılım", "Enerji", "Lojistik", "Gıda", "Danışmanlık", "Sağlık", "İnşaat", "Tekstil")
OFFER_NOTES = (
    "",
    "",
    "Yaz dönemi programıdır.",
    "Hibrit çalışma imkânı vardır.",
    "Programın ilk haftası oryantasyondur.",
)
# Status mix of the bulk offers (weights); pending ones get deadlines around "now".
STATUS_WEIGHTS = {
    OfferStatus.PENDING: 18,
    OfferStatus.ACCEPTED: 6,
    OfferStatus.REJECTED: 14,
    OfferStatus.EXPIRED: 14,
    OfferStatus.ADDITIONAL_EVALUATION: 4,
    OfferStatus.FINAL_APPROVAL: 10,
    OfferStatus.CANCELLED: 4,
    OfferStatus.STARTED: 8,
    OfferStatus.COMPLETED: 18,
    OfferStatus.ABANDONED: 4,
}


@dataclass(frozen=True)
class NamedStudent:
    """A demo student whose situation is known, for trying the assistant."""

    student_id: int
    first_name: str
    last_name: str
    situation: str


NAMED_STUDENTS = (
    NamedStudent(
        1, "Elif", "Demir", "iki bekleyen teklif: biri asil, biri yedek ve süresi yarın doluyor"
    ),
    NamedStudent(2, "Mert", "Kaya", "son onayı verilmiş bir staj; SGK girişi henüz yapılmadı"),
    NamedStudent(3, "Zeynep", "Çelik", "5 takvim (en fazla olan)"),
    NamedStudent(4, "Can", "Yılmaz", "hiçbir teklifi, takvimi ya da mülakatı yok"),
)


def _batches(rows: Iterator[dict], size: int = BATCH) -> Iterator[list[dict]]:
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def seed(db: Database, students: int, now: dt.datetime, progress: bool = True) -> bool:
    """Fills an empty database; returns False (touching nothing bulk) if students exist."""
    with db.session() as session:
        if session.execute(select(func.count(Student.id))).scalar_one():
            refresh_named_students(session, now)
            return False
        rng = random.Random(SEED)
        department_ids = _reference_data(session)
        employers = _employers(session, rng)
        _named_students_rows(session, department_ids)
        session.flush()
        first_bulk_id = len(NAMED_STUDENTS) + 1
        bar = tqdm(total=students, desc="Öğrenciler", unit=" öğrenci", disable=not progress)
        for batch in _batches(_student_rows(rng, first_bulk_id, students, department_ids, now)):
            session.execute(insert(Student), batch)
            _bulk_details(session, rng, [row["id"] for row in batch], employers, now)
            bar.update(len(batch))
        bar.close()
        _sync_id_sequences(session)
        refresh_named_students(session, now)
    return True


def _sync_id_sequences(session: Session) -> None:
    """After inserts with explicit ids, PostgreSQL's id sequences must catch up."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in (Student.__table__, Offer.__table__):
        session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table.name}))"
            )
        )


def _reference_data(session: Session) -> list[int]:
    department_ids = []
    for name, city in UNIVERSITIES:
        university = University(name=name, city=city)
        session.add(university)
        for department_name in DEPARTMENTS:
            department = Department(university=university, name=department_name)
            session.add(department)
            session.flush()
            department_ids.append(department.id)
    return department_ids


def _employers(session: Session, rng: random.Random) -> list[tuple[int, int, int, str]]:
    """(employer id, responsible contact id, sender contact id, city) of each employer."""
    employers = []
    for index in range(400):
        word, sector = EMPLOYER_WORDS[index % len(EMPLOYER_WORDS)], rng.choice(SECTORS)
        employer = Employer(
            name=f"{word} {sector} {'A.Ş.' if index % 3 else 'Ltd. Şti.'} {index + 1}",
            city=rng.choice(CITIES),
            employee_count=rng.choice((3, 8, 12, 19, 20, 45, 120, 800, 5000)),
        )
        session.add(employer)
        session.flush()
        contacts = []
        for title in ("İnsan Kaynakları Uzmanı", "Staj Programı Sorumlusu"):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            contact = EmployerContact(
                employer_id=employer.id,
                full_name=f"{first} {last}",
                title=title,
                email=f"ik{employer.id}@ornek-isveren.example",
                phone=f"0{rng.randint(212, 488)} {rng.randint(100, 999)} 00 00",
            )
            session.add(contact)
            session.flush()
            contacts.append(contact.id)
        employers.append((employer.id, contacts[0], contacts[1], employer.city))
    return employers


def _named_students_rows(session: Session, department_ids: list[int]) -> None:
    for named in NAMED_STUDENTS:
        session.add(
            Student(
                id=named.student_id,
                first_name=named.first_name,
                last_name=named.last_name,
                department_id=department_ids[0],
            )
        )


def _student_rows(
    rng: random.Random, first_id: int, count: int, department_ids: list[int], now: dt.datetime
) -> Iterator[dict]:
    for student_id in range(first_id, first_id + count):
        yield {
            "id": student_id,
            "first_name": rng.choice(FIRST_NAMES),
            "last_name": rng.choice(LAST_NAMES),
            "department_id": rng.choice(department_ids),
            "created_at": now,
        }


def _bulk_details(
    session: Session,
    rng: random.Random,
    student_ids: list[int],
    employers: list[tuple[int, int, int, str]],
    now: dt.datetime,
) -> None:
    statuses, weights = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
    offers, calendars, pools, approved = [], [], [], []
    for student_id in student_ids:
        for _ in range(rng.randint(0, 2 * OFFERS_PER_STUDENT)):
            employer_id, responsible, sender, city = rng.choice(employers)
            status = rng.choices(statuses, weights)[0]
            start = (now + dt.timedelta(days=rng.randint(-120, 150))).date()
            offer = {
                "student_id": student_id,
                "employer_id": employer_id,
                "responsible_contact_id": responsible,
                "sender_contact_id": sender,
                "program_type": rng.choice(list(ProgramType)),
                "rank": rng.choice(list(OfferRank)),
                "start_date": start,
                "end_date": start + dt.timedelta(days=rng.choice((3, 5, 10, 27, 40))),
                "city": city,
                "note": rng.choice(OFFER_NOTES),
                "status": status,
                "response_deadline": now + dt.timedelta(hours=rng.randint(-24 * 60, 24 * 14))
                if status is OfferStatus.PENDING
                else now - dt.timedelta(days=rng.randint(1, 90)),
                "created_at": now - dt.timedelta(days=rng.randint(1, 120)),
                "status_changed_at": now - dt.timedelta(days=rng.randint(0, 30)),
            }
            offers.append(offer)
        for priority in range(1, rng.randint(0, 5) + 1):
            start = (now + dt.timedelta(days=rng.randint(0, 200))).date()
            calendars.append(
                {
                    "student_id": student_id,
                    "priority": priority,
                    "start_date": start,
                    "end_date": start + dt.timedelta(days=rng.randint(10, 60)),
                }
            )
        if rng.random() < 0.2:
            pools.append(
                {
                    "student_id": student_id,
                    "employer_id": rng.choice(employers)[0],
                    "added_at": now - dt.timedelta(days=rng.randint(0, 60)),
                }
            )
    if not offers:
        return
    first_offer_id = (session.execute(select(func.max(Offer.id))).scalar_one() or 0) + 1
    for offset, offer in enumerate(offers):
        offer["id"] = first_offer_id + offset
        if offer["status"] in (OfferStatus.FINAL_APPROVAL, OfferStatus.STARTED) and (
            offer["program_type"] is ProgramType.INTERNSHIP
        ):
            approved.append(offer["id"])
    session.execute(insert(Offer), offers)
    if calendars:
        session.execute(insert(AvailabilityCalendar), calendars)
    if pools:
        session.execute(insert(TalentPoolEntry), pools)
    _bulk_interviews_and_feedback(session, rng, offers, now)
    steps = []
    for offer_id in approved:  # insurance at every stage
        done = rng.randint(0, len(InsuranceStepKind))
        for index, step in enumerate(InsuranceStepKind):
            steps.append(
                {
                    "offer_id": offer_id,
                    "step": step,
                    "completed_at": now - dt.timedelta(days=9 - index) if index < done else None,
                }
            )
    if steps:
        session.execute(insert(InsuranceStep), steps)


def _bulk_interviews_and_feedback(
    session: Session, rng: random.Random, offers: list[dict], now: dt.datetime
) -> None:
    """Interviews for offers under the employer's evaluation (coming) or past it (done), and
    the employer's note on some programs left without an excuse."""
    interviews, feedback = [], []
    for offer in offers:
        status = offer["status"]
        if status in (OfferStatus.ACCEPTED, OfferStatus.ADDITIONAL_EVALUATION):
            interviews.append(
                {
                    "offer_id": offer["id"],
                    "mode": rng.choice(list(InterviewMode)),
                    "scheduled_at": now + dt.timedelta(hours=rng.randint(2, 24 * 14)),
                    "status": InterviewStatus.SCHEDULED,
                }
            )
        elif status in (OfferStatus.FINAL_APPROVAL, OfferStatus.STARTED) and rng.random() < 0.5:
            interviews.append(
                {
                    "offer_id": offer["id"],
                    "mode": rng.choice(list(InterviewMode)),
                    "scheduled_at": now - dt.timedelta(days=rng.randint(10, 60)),
                    "status": InterviewStatus.COMPLETED,
                }
            )
        elif status is OfferStatus.ABANDONED and rng.random() < 0.3:
            feedback.append(
                {
                    "offer_id": offer["id"],
                    "created_at": now,
                    "note": "Öğrenci programı mazeret bildirmeden bıraktı.",
                }
            )
    if interviews:
        session.execute(insert(Interview), interviews)
    if feedback:
        session.execute(insert(NegativeFeedback), feedback)


def refresh_named_students(session: Session, now: dt.datetime) -> None:
    """Re-creates the named students' situations relative to `now`."""
    ids = [named.student_id for named in NAMED_STUDENTS]
    offer_ids = select(Offer.id).where(Offer.student_id.in_(ids))
    for table in (InsuranceStep, Interview, NegativeFeedback):
        session.execute(
            delete(table)
            .where(table.offer_id.in_(offer_ids))
            .execution_options(synchronize_session=False)
        )
    for table in (Offer, AvailabilityCalendar, TalentPoolEntry, LinkCode, ChatIdentity):
        session.execute(
            delete(table)
            .where(table.student_id.in_(ids))
            .execution_options(synchronize_session=False)
        )
    employers = session.execute(
        select(Employer.id, Employer.city, func.min(EmployerContact.id))
        .join(EmployerContact, EmployerContact.employer_id == Employer.id)
        .group_by(Employer.id, Employer.city)
        .order_by(Employer.id)
        .limit(3)
    ).all()
    today = now.date()

    def offer(student_id: int, employer: tuple, **fields) -> Offer:
        employer_id, city, contact_id = employer
        start = fields.pop("start", today + dt.timedelta(days=30))
        values = {
            "program_type": ProgramType.INTERNSHIP,
            "rank": OfferRank.MAIN,
            "status": OfferStatus.PENDING,
            "note": "",
            "response_deadline": now + dt.timedelta(days=3),
            **fields,
        }
        row = Offer(
            student_id=student_id,
            employer_id=employer_id,
            city=city,
            responsible_contact_id=contact_id,
            sender_contact_id=contact_id,
            start_date=start,
            end_date=start + dt.timedelta(days=27),
            created_at=now,
            status_changed_at=now,
            **values,
        )
        session.add(row)
        return row

    elif_, mert, zeynep, _can = NAMED_STUDENTS
    offer(
        elif_.student_id,
        employers[0],
        response_deadline=now + dt.timedelta(days=4, hours=6),
        note="Yaz dönemi programıdır.",
    )
    offer(
        elif_.student_id,
        employers[1],
        rank=OfferRank.RESERVE,
        program_type=ProgramType.JOB_SHADOWING,
        response_deadline=now + dt.timedelta(days=1),
    )
    approved = offer(
        mert.student_id,
        employers[2],
        status=OfferStatus.FINAL_APPROVAL,
        response_deadline=now - dt.timedelta(days=20),
    )
    session.flush()
    for index, step in enumerate(InsuranceStepKind):
        done = step in (
            InsuranceStepKind.ACCEPTANCE_DOCUMENT_ISSUED,
            InsuranceStepKind.DOCUMENT_HANDED_TO_UNIVERSITY,
        )
        session.add(
            InsuranceStep(
                offer_id=approved.id,
                step=step,
                completed_at=now - dt.timedelta(days=5 - index) if done else None,
            )
        )
    session.add(
        Interview(
            offer_id=approved.id,
            scheduled_at=now - dt.timedelta(days=25),
            mode=InterviewMode.ONLINE,
            status=InterviewStatus.COMPLETED,
        )
    )
    for priority in range(1, 6):
        start = today + dt.timedelta(days=30 * priority)
        session.add(
            AvailabilityCalendar(
                student_id=zeynep.student_id,
                priority=priority,
                start_date=start,
                end_date=start + dt.timedelta(days=20),
            )
        )
