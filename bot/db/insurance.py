"""Insurance steps of a student's finally approved programs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from bot.db.models import (
    Employer,
    InsuranceStep,
    InsuranceStepKind,
    Offer,
    OfferStatus,
    ProgramType,
)
from bot.db.session import Database

# Approved programs whose insurance still matters: not yet over, not cancelled.
APPROVED = (OfferStatus.FINAL_APPROVAL, OfferStatus.STARTED)


@dataclass(frozen=True)
class ApprovedProgram:
    """A finally approved program; for an internship, when each insurance step was done."""

    offer_id: int
    employer_name: str
    program_type: ProgramType
    start_date: dt.date
    steps_done: dict[InsuranceStepKind, dt.datetime | None]

    @property
    def needs_insurance(self) -> bool:
        """Only internships are insured; shadowing and training need none."""
        return self.program_type is ProgramType.INTERNSHIP

    @property
    def next_step(self) -> InsuranceStepKind | None:
        """The first step not done yet, in the order they happen."""
        if not self.needs_insurance:
            return None
        return next((s for s in InsuranceStepKind if self.steps_done.get(s) is None), None)


def approved_programs(db: Database, student_id: int) -> list[ApprovedProgram]:
    """The student's finally approved or started programs, soonest start first."""
    offers_query = (
        select(Offer.id, Employer.name, Offer.program_type, Offer.start_date)
        .join(Employer, Offer.employer_id == Employer.id)
        .where(Offer.student_id == student_id, Offer.status.in_(APPROVED))
        .order_by(Offer.start_date, Offer.id)
    )
    with db.reading() as session:
        offers = session.execute(offers_query).all()
        steps: dict[int, dict[InsuranceStepKind, dt.datetime | None]] = {
            offer_id: dict.fromkeys(InsuranceStepKind) for offer_id, *_ in offers
        }
        if steps:
            for offer_id, step, completed_at in session.execute(
                select(
                    InsuranceStep.offer_id, InsuranceStep.step, InsuranceStep.completed_at
                ).where(InsuranceStep.offer_id.in_(steps))
            ):
                steps[offer_id][step] = completed_at
    return [
        ApprovedProgram(offer_id, name, program_type, start_date, steps[offer_id])
        for offer_id, name, program_type, start_date in offers
    ]
