"""Offers of one student: pending ones, rights used, interviews; and the offer life cycle."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

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
class PendingOffer:
    """An offer waiting for the student's answer."""

    offer_id: int
    employer_name: str
    program_type: ProgramType
    rank: OfferRank
    start_date: dt.date
    end_date: dt.date
    city: str
    note: str
    response_deadline: dt.datetime
    responsible: Contact


def pending_offers(db: Database, student_id: int, now: dt.datetime) -> list[PendingOffer]:
    """The student's offers still open for an answer, soonest deadline first."""
    responsible = aliased(EmployerContact)
    query = (
        select(Offer, Employer.name, responsible)
        .join(Employer, Offer.employer_id == Employer.id)
        .join(responsible, Offer.responsible_contact_id == responsible.id)
        .where(
            Offer.student_id == student_id,
            Offer.status == OfferStatus.PENDING,
            Offer.response_deadline > now,
        )
        .order_by(Offer.response_deadline, Offer.id)
    )
    with db.session() as session:
        return [
            PendingOffer(
                offer_id=offer.id,
                employer_name=employer_name,
                program_type=offer.program_type,
                rank=offer.rank,
                start_date=offer.start_date,
                end_date=offer.end_date,
                city=offer.city,
                note=offer.note,
                response_deadline=offer.response_deadline,
                responsible=Contact(contact.full_name, contact.title, contact.email,
                                    contact.phone),
            )
            for offer, employer_name, contact in session.execute(query)
        ]


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
    with db.session() as session:
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
    with db.session() as session:
        return [UpcomingInterview(*row) for row in session.execute(query)]
