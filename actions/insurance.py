"""Status action: where the insurance steps of the student's approved internships stand."""

from __future__ import annotations

import datetime as dt

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.offers import PROGRAM_NAMES
from actions.student_data import StudentDataAction, local_date, local_time
from bot.db import insurance
from bot.db.models import InsuranceStepKind
from bot.db.session import Database

STEP_NAMES = {
    InsuranceStepKind.ACCEPTANCE_DOCUMENT_ISSUED: "Kaşeli ve imzalı kabul belgesi (işverenden)",
    InsuranceStepKind.DOCUMENT_HANDED_TO_UNIVERSITY: "Belgenin üniversitene teslimi",
    InsuranceStepKind.SGK_ENTRY_DONE: "SGK girişi (üniversite yapar, 5510 sayılı Kanun)",
    InsuranceStepKind.SGK_DOCUMENT_SHARED: "SGK giriş belgesinin işverenle paylaşılması",
}
NEXT_ACTIONS = {
    InsuranceStepKind.ACCEPTANCE_DOCUMENT_ISSUED: (
        "Staj yapacağın kurumdan kaşeli ve imzalı kabul belgesini iste."
    ),
    InsuranceStepKind.DOCUMENT_HANDED_TO_UNIVERSITY: (
        "Kabul belgesini üniversitenin/yüksekokulunun ilgili birimine teslim et."
    ),
    InsuranceStepKind.SGK_ENTRY_DONE: (
        "Üniversitenin SGK girişini yapmasını takip et; sorun olursa önce kariyer merkezine başvur."
    ),
    InsuranceStepKind.SGK_DOCUMENT_SHARED: "SGK giriş belgesini işverenle paylaş.",
}


def describe(program: insurance.ApprovedProgram) -> str:
    """One approved program's insurance situation."""
    title = (
        f"{program.employer_name} — {PROGRAM_NAMES[program.program_type]} "
        f"({local_date(program.start_date)})"
    )
    if not program.needs_insurance:
        return f"{title}\nBu program için sigorta zorunlu değil."
    lines = [title]
    for step, name in STEP_NAMES.items():
        done = program.steps_done.get(step)
        lines.append(
            f"✅ {name}: tamam ({local_time(done)})" if done else f"❌ {name}: henüz yapılmadı"
        )
    next_step = program.next_step
    lines.append(
        f"Sıradaki adım: {NEXT_ACTIONS[next_step]}"
        if next_step
        else "Sigorta adımlarının hepsi tamam."
    )
    return "\n".join(lines)


class ActionCheckInsuranceStatus(StudentDataAction):
    """For each finally approved internship, the four insurance steps and what to do next."""

    def name(self) -> str:
        """Action name in the domain."""
        return "action_check_insurance_status"

    def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        db: Database,
        student_id: int,
        now: dt.datetime,
    ) -> None:
        """Describes each approved program, or says there is none yet."""
        programs = insurance.approved_programs(db, student_id)
        if not programs:
            dispatcher.utter_message(response="utter_no_approved_programs")
            return
        dispatcher.utter_message(
            response="utter_insurance_status", programs="\n\n".join(describe(p) for p in programs)
        )
