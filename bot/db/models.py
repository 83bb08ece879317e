"""Tables mirroring what the Kariyer Kapısı portal holds for the program, plus our own.

Timestamps are stored in UTC and come back timezone-aware on SQLite and PostgreSQL alike;
users are shown Europe/Istanbul time.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import declarative_base, relationship
from sqlalchemy.types import TypeDecorator

# Stable constraint names, so migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
Base = declarative_base(metadata=MetaData(naming_convention=NAMING_CONVENTION))

MAX_CALENDARS = 5


class UtcDateTime(TypeDecorator):
    """A timezone-aware timestamp, stored as UTC (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: give timestamps a timezone")
        return value.astimezone(dt.timezone.utc)

    def process_result_value(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value


def utc_now() -> dt.datetime:
    """The current time, timezone-aware."""
    return dt.datetime.now(dt.timezone.utc)


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    """A portable enum column: VARCHAR plus a CHECK constraint, values as stored strings."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class ProgramType(str, enum.Enum):
    """The three kinds of program an offer can be for."""

    INTERNSHIP = "staj"
    JOB_SHADOWING = "is_golgeleme"
    TRAINING = "egitim"


class OfferRank(str, enum.Enum):
    """Asil: the employer's first choice; yedek: chosen if an asil candidate declines."""

    MAIN = "asil"
    RESERVE = "yedek"


class OfferStatus(str, enum.Enum):
    """Where an offer is in its life."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    EXPIRED = "expired"  # no answer by the deadline: counts as rejected
    ADDITIONAL_EVALUATION = "additional_evaluation"  # ek değerlendirme
    FINAL_APPROVAL = "final_approval"  # son onay, by the employer
    CANCELLED = "cancelled"  # "İptal Edilmiştir"
    STARTED = "started"
    COMPLETED = "completed"
    ABANDONED = "abandoned"  # "Yarıda Bıraktı/Tamamlamadı"


ALLOWED_TRANSITIONS: dict[OfferStatus, frozenset[OfferStatus]] = {
    OfferStatus.PENDING: frozenset(
        {OfferStatus.ACCEPTED, OfferStatus.REJECTED, OfferStatus.EXPIRED}
    ),
    OfferStatus.ACCEPTED: frozenset(
        {OfferStatus.ADDITIONAL_EVALUATION, OfferStatus.FINAL_APPROVAL}
    ),
    OfferStatus.ADDITIONAL_EVALUATION: frozenset({OfferStatus.FINAL_APPROVAL}),
    OfferStatus.FINAL_APPROVAL: frozenset({OfferStatus.CANCELLED, OfferStatus.STARTED}),
    OfferStatus.STARTED: frozenset({OfferStatus.COMPLETED, OfferStatus.ABANDONED}),
}


class InsuranceStepKind(str, enum.Enum):
    """The steps that make an approved internship insured (Law 5510), in order."""

    ACCEPTANCE_DOCUMENT_ISSUED = "acceptance_document_issued"  # stamped, signed, by employer
    DOCUMENT_HANDED_TO_UNIVERSITY = "document_handed_to_university"
    SGK_ENTRY_DONE = "sgk_entry_done"  # by the university
    SGK_DOCUMENT_SHARED = "sgk_document_shared"  # with the employer


class InterviewMode(str, enum.Enum):
    """How an interview (Mülakatlarım) is held."""

    ONLINE = "online"
    IN_PERSON = "in_person"
    PHONE = "phone"


class InterviewStatus(str, enum.Enum):
    """Where an interview stands."""

    SCHEDULED = "scheduled"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class University(Base):
    """A higher-education institution."""

    __tablename__ = "universities"
    id = Column(Integer, primary_key=True)
    name = Column(String(200), nullable=False, unique=True)
    city = Column(String(60), nullable=False)


class Department(Base):
    """A department (bölüm) of a university."""

    __tablename__ = "departments"
    __table_args__ = (UniqueConstraint("university_id", "name"),)
    id = Column(Integer, primary_key=True)
    university_id = Column(ForeignKey("universities.id"), nullable=False)
    name = Column(String(200), nullable=False)
    university = relationship(University)


class Student(Base):
    """A student registered in the program (fixtures hold no real personal data)."""

    __tablename__ = "students"
    id = Column(Integer, primary_key=True)
    first_name = Column(String(80), nullable=False)
    last_name = Column(String(80), nullable=False)
    department_id = Column(ForeignKey("departments.id"), nullable=False, index=True)
    created_at = Column(UtcDateTime, nullable=False, default=utc_now)
    department = relationship(Department)


class Employer(Base):
    """An employer offering programs; its headcount decides the minimum stipend rate."""

    __tablename__ = "employers"
    __table_args__ = (CheckConstraint("employee_count >= 1", name="employee_count_positive"),)
    id = Column(Integer, primary_key=True)
    name = Column(String(200), nullable=False, index=True)
    city = Column(String(60), nullable=False)
    employee_count = Column(Integer, nullable=False)


class EmployerContact(Base):
    """A person at an employer: the one responsible, or the one who sent an offer."""

    __tablename__ = "employer_contacts"
    id = Column(Integer, primary_key=True)
    employer_id = Column(ForeignKey("employers.id"), nullable=False, index=True)
    full_name = Column(String(160), nullable=False)
    title = Column(String(120), nullable=False)
    email = Column(String(200), nullable=False)
    phone = Column(String(40), nullable=False)


class Offer(Base):
    """An offer from an employer to a student, and where it stands."""

    __tablename__ = "offers"
    __table_args__ = (
        CheckConstraint("end_date >= start_date", name="dates_ordered"),
        # Pending offers of a student, soonest deadline first; and due reminders.
        Index("ix_offers_student_status_deadline", "student_id", "status", "response_deadline"),
        Index("ix_offers_status_deadline", "status", "response_deadline"),
    )
    id = Column(Integer, primary_key=True)
    student_id = Column(ForeignKey("students.id"), nullable=False)
    employer_id = Column(ForeignKey("employers.id"), nullable=False, index=True)
    responsible_contact_id = Column(ForeignKey("employer_contacts.id"), nullable=False)
    sender_contact_id = Column(ForeignKey("employer_contacts.id"), nullable=False)
    program_type = Column(_enum(ProgramType, "program_type"), nullable=False)
    rank = Column(_enum(OfferRank, "offer_rank"), nullable=False)
    start_date = Column(Date, nullable=False)
    end_date = Column(Date, nullable=False)
    city = Column(String(60), nullable=False)
    note = Column(Text, nullable=False, default="")
    response_deadline = Column(UtcDateTime, nullable=False)
    status = Column(_enum(OfferStatus, "offer_status"), nullable=False, default=OfferStatus.PENDING)
    created_at = Column(UtcDateTime, nullable=False, default=utc_now)
    status_changed_at = Column(UtcDateTime, nullable=False, default=utc_now)

    student = relationship(Student)
    employer = relationship(Employer)
    responsible_contact = relationship(EmployerContact, foreign_keys=[responsible_contact_id])
    sender_contact = relationship(EmployerContact, foreign_keys=[sender_contact_id])


class NegativeFeedback(Base):
    """The employer's note when a student walked away without an excuse."""

    __tablename__ = "negative_feedback"
    id = Column(Integer, primary_key=True)
    offer_id = Column(ForeignKey("offers.id"), nullable=False, unique=True)
    note = Column(Text, nullable=False)
    created_at = Column(UtcDateTime, nullable=False, default=utc_now)


class AvailabilityCalendar(Base):
    """A date range a student is available in (TAKVİMLERİM); at most 5, priorities 1–5."""

    __tablename__ = "availability_calendars"
    __table_args__ = (
        UniqueConstraint("student_id", "priority"),  # with 1..5, at most five per student
        CheckConstraint(f"priority BETWEEN 1 AND {MAX_CALENDARS}", name="priority_range"),
        CheckConstraint("end_date >= start_date", name="dates_ordered"),
    )
    id = Column(Integer, primary_key=True)
    student_id = Column(ForeignKey("students.id"), nullable=False)
    priority = Column(Integer, nullable=False)
    start_date = Column(Date, nullable=False)
    end_date = Column(Date, nullable=False)


class InsuranceStep(Base):
    """One of the four insurance steps of a finally approved internship; done when dated."""

    __tablename__ = "insurance_steps"
    __table_args__ = (UniqueConstraint("offer_id", "step"),)
    id = Column(Integer, primary_key=True)
    offer_id = Column(ForeignKey("offers.id"), nullable=False)
    step = Column(_enum(InsuranceStepKind, "insurance_step"), nullable=False)
    completed_at = Column(UtcDateTime, nullable=True)


class Interview(Base):
    """An interview an employer requested (Mülakatlarım)."""

    __tablename__ = "interviews"
    __table_args__ = (Index("ix_interviews_offer_time", "offer_id", "scheduled_at"),)
    id = Column(Integer, primary_key=True)
    offer_id = Column(ForeignKey("offers.id"), nullable=False)
    scheduled_at = Column(UtcDateTime, nullable=False)
    mode = Column(_enum(InterviewMode, "interview_mode"), nullable=False)
    status = Column(
        _enum(InterviewStatus, "interview_status"),
        nullable=False,
        default=InterviewStatus.SCHEDULED,
    )


class TalentPoolEntry(Base):
    """An employer added the student to its talent pool (Yetenek Havuzu)."""

    __tablename__ = "talent_pool_entries"
    __table_args__ = (UniqueConstraint("student_id", "employer_id"),)
    id = Column(Integer, primary_key=True)
    student_id = Column(ForeignKey("students.id"), nullable=False)
    employer_id = Column(ForeignKey("employers.id"), nullable=False)
    added_at = Column(UtcDateTime, nullable=False, default=utc_now)


class ChatIdentity(Base):
    """A verified chat identity (channel + the channel's user id) linked to a student."""

    __tablename__ = "chat_identities"
    __table_args__ = (UniqueConstraint("channel", "external_user_id"),)
    id = Column(Integer, primary_key=True)
    channel = Column(String(20), nullable=False)
    external_user_id = Column(String(100), nullable=False)
    student_id = Column(ForeignKey("students.id"), nullable=False, index=True)
    linked_at = Column(UtcDateTime, nullable=False, default=utc_now)


class LinkCode(Base):
    """A one-time code the portal issued to link a chat; only its hash is stored."""

    __tablename__ = "link_codes"
    id = Column(Integer, primary_key=True)
    student_id = Column(ForeignKey("students.id"), nullable=False, index=True)
    code_hash = Column(String(64), nullable=False, unique=True)
    created_at = Column(UtcDateTime, nullable=False, default=utc_now)
    expires_at = Column(UtcDateTime, nullable=False)
    used_at = Column(UtcDateTime, nullable=True)


class LinkAttempts(Base):
    """Failed link-code tries of one chat identity, and until when it is locked out."""

    __tablename__ = "link_attempts"
    __table_args__ = (CheckConstraint("failed_count >= 0", name="failed_count_positive"),)
    channel = Column(String(20), primary_key=True)
    external_user_id = Column(String(100), primary_key=True)
    failed_count = Column(Integer, nullable=False, default=0)
    locked_until = Column(UtcDateTime, nullable=True)


# --- Staff review of transcripts (bot/review/, bot/db/review.py) ----------------------------
# The transcript itself is Rasa's `events` table (bot/tracker_store.py, masked at save time);
# these tables are the reviewers' index over it: one row per conversation session and per
# user or bot message, plus staff accounts and their tags, notes and corrections.


class StaffRole(str, enum.Enum):
    """What a staff member may do: reviewers review; admins also manage staff and delete."""

    REVIEWER = "reviewer"
    ADMIN = "admin"


class StaffUser(Base):
    """A support-team account of the review app; the password is stored as a scrypt hash."""

    __tablename__ = "staff_users"
    id = Column(Integer, primary_key=True)
    username = Column(String(64), nullable=False, unique=True)
    password_hash = Column(String(300), nullable=False)
    role = Column(_enum(StaffRole, "staff_role"), nullable=False)
    created_at = Column(UtcDateTime, nullable=False, default=utc_now)
    failed_logins = Column(Integer, nullable=False, default=0)
    locked_until = Column(UtcDateTime, nullable=True)


class StaffSession(Base):
    """A signed-in browser: the cookie carries the token, the database only its hash."""

    __tablename__ = "staff_sessions"
    token_hash = Column(String(64), primary_key=True)
    staff_id = Column(ForeignKey("staff_users.id", ondelete="CASCADE"), nullable=False, index=True)
    csrf_token = Column(String(64), nullable=False)
    created_at = Column(UtcDateTime, nullable=False, default=utc_now)
    expires_at = Column(UtcDateTime, nullable=False)


class ReviewConversation(Base):
    """One conversation session of one sender, as reviewers list it."""

    __tablename__ = "review_conversations"
    __table_args__ = (
        Index("ix_review_conversations_sender_started", "sender_id", "started_at"),
        Index("ix_review_conversations_channel_started", "channel", "started_at"),
        Index("ix_review_conversations_min_confidence", "min_confidence"),
    )
    id = Column(Integer, primary_key=True)
    sender_id = Column(String(255), nullable=False)
    channel = Column(String(20), nullable=False)
    started_at = Column(UtcDateTime, nullable=False, index=True)
    last_event_at = Column(UtcDateTime, nullable=False, index=True)
    turns = Column(Integer, nullable=False, default=0)
    min_confidence = Column(Float, nullable=True)
    fell_back = Column(Boolean, nullable=False, default=False)
    asked_human = Column(Boolean, nullable=False, default=False)
    linked = Column(Boolean, nullable=False, default=False)
    reviewed_at = Column(UtcDateTime, nullable=True)
    reviewed_by = Column(ForeignKey("staff_users.id", ondelete="SET NULL"), nullable=True)


class ReviewMessage(Base):
    """A user or bot message of a conversation, masked, with what the assistant understood."""

    __tablename__ = "review_messages"
    __table_args__ = (
        Index("ix_review_messages_conversation_position", "conversation_id", "position"),
        CheckConstraint("kind IN ('user', 'bot')", name="kind_known"),
    )
    id = Column(Integer, primary_key=True)
    conversation_id = Column(
        ForeignKey("review_conversations.id", ondelete="CASCADE"), nullable=False
    )
    position = Column(Integer, nullable=False)
    sent_at = Column(UtcDateTime, nullable=False, index=True)
    kind = Column(String(4), nullable=False)
    text = Column(Text, nullable=False, default="")
    folded_text = Column(Text, nullable=False, default="")
    intent = Column(String(100), nullable=True, index=True)
    faq_key = Column(String(100), nullable=True, index=True)
    confidence = Column(Float, nullable=True)
    fell_back = Column(Boolean, nullable=False, default=False)
    action = Column(String(100), nullable=True)


class ReviewTag(Base):
    """A tag staff put on a conversation."""

    __tablename__ = "review_tags"
    conversation_id = Column(
        ForeignKey("review_conversations.id", ondelete="CASCADE"), primary_key=True
    )
    tag = Column(String(50), primary_key=True, index=True)


class ReviewNote(Base):
    """A note a staff member left on a conversation."""

    __tablename__ = "review_notes"
    id = Column(Integer, primary_key=True)
    conversation_id = Column(
        ForeignKey("review_conversations.id", ondelete="CASCADE"), nullable=False, index=True
    )
    staff_id = Column(ForeignKey("staff_users.id", ondelete="SET NULL"), nullable=True)
    text = Column(Text, nullable=False)
    created_at = Column(UtcDateTime, nullable=False, default=utc_now)


class ReviewCorrection(Base):
    """A reviewer's verdict on a user message: the intent (and FAQ topic) it really had."""

    __tablename__ = "review_corrections"
    message_id = Column(ForeignKey("review_messages.id", ondelete="CASCADE"), primary_key=True)
    intent = Column(String(100), nullable=False)
    faq_key = Column(String(100), nullable=True)
    staff_id = Column(ForeignKey("staff_users.id", ondelete="SET NULL"), nullable=True)
    created_at = Column(UtcDateTime, nullable=False, default=utc_now)


# --- Reminders (bot/db/reminders.py) --------------------------------------------------------


class OfferReminder(Base):
    """A deadline reminder for one offer: claimed before sending, so it goes out at most once."""

    __tablename__ = "offer_reminders"
    offer_id = Column(ForeignKey("offers.id", ondelete="CASCADE"), primary_key=True)
    channel = Column(String(20), nullable=False)
    external_user_id = Column(String(100), nullable=False)
    claimed_at = Column(UtcDateTime, nullable=False)
    sent_at = Column(UtcDateTime, nullable=True)
