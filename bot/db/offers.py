"""Offers of one student: pending ones, rights used, interviews; and the offer life cycle."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import aliased

from bot.db.models import (
    ALLOWED_TRANSITIONS,
    Employer,
    EmployerContact,
    Interview,
    InterviewMode,
    InterviewStatus,
    Offer,
    OfferRank,
    OfferStatus,
    ProgramType,
)
from bot.db.session import Database


@dataclass(frozen=True)
class Contact:
    """A person at the employer a student can ask."""

    full_name: str
    title: str
    email: str
    phone: str


@dataclass(frozen=True)
class OfferDetails:
    """One offer of a student with what the portal's "Aldığım Teklifler" page shows of it."""

    offer_id: int
    employer_name: str
    employee_count: int
    program_type: ProgramType
    rank: OfferRank
    status: OfferStatus
    start_date: dt.date
    end_date: dt.date
    city: str
    note: str
    response_deadline: dt.datetime
    responsible: Contact
    sender: Contact


def _contact_columns(contact: Any) -> tuple[Any, ...]:
    return contact.full_name, contact.title, contact.email, contact.phone


# Built once: constructing this select (aliases above all) costs more than running it. Plain
# columns rather than ORM entities, because nothing here is modified and rows are much cheaper.
_RESPONSIBLE = aliased(EmployerContact, name="responsible")
_SENDER = aliased(EmployerContact, name="sender")
_OFFER_DETAILS = (
    select(
        Offer.id,
        Employer.name,
        Employer.employee_count,
        Offer.program_type,
        Offer.rank,
        Offer.status,
        Offer.start_date,
        Offer.end_date,
        Offer.city,
        Offer.note,
        Offer.response_deadline,
        *_contact_columns(_RESPONSIBLE),
        *_contact_columns(_SENDER),
    )
    .join(Employer, Offer.employer_id == Employer.id)
    .join(_RESPONSIBLE, Offer.responsible_contact_id == _RESPONSIBLE.id)
    .join(_SENDER, Offer.sender_contact_id == _SENDER.id)
)


def _student_offers(
    db: Database, student_id: int, *conditions: Any, order_by: Sequence[Any]
) -> list[OfferDetails]:
    query = _OFFER_DETAILS.where(Offer.student_id == student_id, *conditions).order_by(*order_by)
    with db.reading() as session:
        return [
            OfferDetails(*row[:11], Contact(*row[11:15]), Contact(*row[15:19]))
            for row in session.execute(query)
        ]


def pending_offers(db: Database, student_id: int, now: dt.datetime) -> list[OfferDetails]:
    """The student's offers still open for an answer, soonest deadline first."""
    return _student_offers(
        db,
        student_id,
        Offer.status == OfferStatus.PENDING,
        Offer.response_deadline > now,
        order_by=(Offer.response_deadline, Offer.id),
    )


def student_offers(db: Database, student_id: int) -> list[OfferDetails]:
    """Every offer of the student, newest first."""
    return _student_offers(db, student_id, order_by=(Offer.created_at.desc(), Offer.id.desc()))


# An internship the student said yes to, on its way to (or through) the program: the stipend
# rule applies to it.
ACCEPTED_STATUSES = (
    OfferStatus.ACCEPTED,
    OfferStatus.ADDITIONAL_EVALUATION,
    OfferStatus.FINAL_APPROVAL,
    OfferStatus.STARTED,
    OfferStatus.COMPLETED,
)


def accepted_internships(db: Database, student_id: int) -> list[OfferDetails]:
    """The student's accepted internships (not shadowing or training), newest first."""
    return _student_offers(
        db,
        student_id,
        Offer.program_type == ProgramType.INTERNSHIP,
        Offer.status.in_(ACCEPTED_STATUSES),
        order_by=(Offer.created_at.desc(), Offer.id.desc()),
    )


class TransitionNotAllowed(ValueError):
    """An offer cannot move from its status to the requested one."""


def change_status(db: Database, offer_id: int, new_status: OfferStatus, now: dt.datetime) -> None:
    """Moves an offer along its life cycle, refusing transitions the program does not have."""
    with db.session() as session:
        offer = session.get(Offer, offer_id)
        if offer is None:
            raise LookupError(f"no offer with id {offer_id}")
        if new_status not in ALLOWED_TRANSITIONS.get(offer.status, frozenset()):
            raise TransitionNotAllowed(f"{offer.status.value} -> {new_status.value}")
        offer.status = new_status
        offer.status_changed_at = now


# A program uses the year's right once finally approved; a cancelled approval or a program left
# early ("Yarıda Bıraktı") frees it again, as the FAQ says.
RIGHT_USING = (OfferStatus.FINAL_APPROVAL, OfferStatus.STARTED, OfferStatus.COMPLETED)


def rights_used(db: Database, student_id: int, year: int) -> dict[ProgramType, str]:
    """Program types whose right the student used in `year`, with the employer's name."""
    query = (
        select(Offer.program_type, Employer.name)
        .join(Employer, Offer.employer_id == Employer.id)
        .where(
            Offer.student_id == student_id,
            Offer.status.in_(RIGHT_USING),
            Offer.start_date >= dt.date(year, 1, 1),
            Offer.start_date <= dt.date(year, 12, 31),
        )
        .order_by(Offer.start_date)
    )
    with db.reading() as session:
        used: dict[ProgramType, str] = {}
        for program_type, employer_name in session.execute(query):
            used.setdefault(program_type, employer_name)
        return used


@dataclass(frozen=True)
class UpcomingInterview:
    """An interview still to come."""

    employer_name: str
    scheduled_at: dt.datetime
    mode: InterviewMode


def upcoming_interviews(db: Database, student_id: int, now: dt.datetime) -> list[UpcomingInterview]:
    """The student's scheduled interviews from now on, soonest first."""
    query = (
        select(Employer.name, Interview.scheduled_at, Interview.mode)
        .join(Offer, Interview.offer_id == Offer.id)
        .join(Employer, Offer.employer_id == Employer.id)
        .where(
            Offer.student_id == student_id,
            Interview.status == InterviewStatus.SCHEDULED,
            Interview.scheduled_at > now,
        )
        .order_by(Interview.scheduled_at)
    )
    with db.reading() as session:
        return [UpcomingInterview(*row) for row in session.execute(query)]
