"""Linking a verified chat identity to a student with a one-time code from the portal."""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
from dataclasses import dataclass

from sqlalchemy import delete, select, update

from bot.db.models import ChatIdentity, LinkAttempts, LinkCode, Student
from bot.db.session import Database
from bot.identity import ChannelIdentity
from bot.link_code import new_code, normalize_code

CODE_LIFETIME = dt.timedelta(minutes=10)
MAX_FAILED_TRIES = 5
LOCKOUT = dt.timedelta(minutes=15)


class LinkOutcome(str, enum.Enum):
    """What happened to a code a chat sent."""

    LINKED = "linked"
    WRONG_CODE = "wrong_code"
    EXPIRED = "expired"
    ALREADY_USED = "already_used"
    LOCKED_OUT = "locked_out"


@dataclass(frozen=True)
class LinkResult:
    """The outcome, the linked student if any, and until when a locked chat must wait."""

    outcome: LinkOutcome
    student_id: int | None = None
    locked_until: dt.datetime | None = None


def hash_code(code: str) -> str:
    """The stored form of a code."""
    return hashlib.sha256(normalize_code(code).encode()).hexdigest()


def issue_code(db: Database, student_id: int, now: dt.datetime) -> str:
    """A new one-time code for the student (the portal shows it to them)."""
    code = new_code()
    with db.session() as session:
        if session.get(Student, student_id) is None:
            raise LookupError(f"no student with id {student_id}")
        session.add(
            LinkCode(
                student_id=student_id,
                code_hash=hash_code(code),
                created_at=now,
                expires_at=now + CODE_LIFETIME,
            )
        )
    return code


def redeem_code(
    db: Database, channel: str, external_user_id: str, code: str, now: dt.datetime
) -> LinkResult:
    """Links the chat to the code's student, unless the code is wrong or the chat locked."""
    with db.session() as session:
        attempts = session.get(LinkAttempts, (channel, external_user_id))
        if attempts and attempts.locked_until and attempts.locked_until > now:
            return LinkResult(LinkOutcome.LOCKED_OUT, locked_until=attempts.locked_until)
        link_code = session.execute(
            select(LinkCode).where(LinkCode.code_hash == hash_code(code))
        ).scalar_one_or_none()
        failure = None
        if link_code is None:
            failure = LinkOutcome.WRONG_CODE
        elif link_code.used_at is not None:
            failure = LinkOutcome.ALREADY_USED
        elif link_code.expires_at <= now:
            failure = LinkOutcome.EXPIRED
        else:
            # Single use even under concurrency: only one UPDATE can see used_at IS NULL.
            claimed = session.execute(
                update(LinkCode)
                .where(LinkCode.id == link_code.id, LinkCode.used_at.is_(None))
                .values(used_at=now)
            ).rowcount
            failure = None if claimed == 1 else LinkOutcome.ALREADY_USED
        if failure is not None:
            return _record_failure(session, channel, external_user_id, failure, now)

        if attempts:
            session.delete(attempts)
        session.execute(
            delete(ChatIdentity).where(
                ChatIdentity.channel == channel, ChatIdentity.external_user_id == external_user_id
            )
        )
        session.add(
            ChatIdentity(
                channel=channel,
                external_user_id=external_user_id,
                student_id=link_code.student_id,
                linked_at=now,
            )
        )
        return LinkResult(LinkOutcome.LINKED, student_id=link_code.student_id)


def _record_failure(
    session, channel: str, external_user_id: str, failure: LinkOutcome, now: dt.datetime
) -> LinkResult:
    attempts = session.get(LinkAttempts, (channel, external_user_id))
    if attempts is None:
        attempts = LinkAttempts(channel=channel, external_user_id=external_user_id, failed_count=0)
        session.add(attempts)
    attempts.failed_count += 1
    if attempts.failed_count >= MAX_FAILED_TRIES:
        attempts.failed_count = 0
        attempts.locked_until = now + LOCKOUT
        return LinkResult(LinkOutcome.LOCKED_OUT, locked_until=attempts.locked_until)
    return LinkResult(failure)


def linked_student(db: Database, channel: str, external_user_id: str) -> int | None:
    """The student linked to this verified chat identity, if any."""
    with db.reading() as session:
        return session.execute(
            select(ChatIdentity.student_id).where(
                ChatIdentity.channel == channel, ChatIdentity.external_user_id == external_user_id
            )
        ).scalar_one_or_none()


def student_of(db: Database, identity: ChannelIdentity | None) -> int | None:
    """The student a verified identity acts for: the one its channel names, or the one its chat
    is linked to; None for no identity or an unlinked chat."""
    if identity is None:
        return None
    if identity.channel.names_student:
        return int(identity.external_user_id)
    return linked_student(db, identity.channel.name, identity.external_user_id)


def unlink(db: Database, channel: str, external_user_id: str) -> bool:
    """Removes the link of this chat identity; False if there was none."""
    with db.session() as session:
        removed = session.execute(
            delete(ChatIdentity).where(
                ChatIdentity.channel == channel, ChatIdentity.external_user_id == external_user_id
            )
        ).rowcount
    return removed > 0
