"""Repository of staff accounts of the review app: scrypt passwords, lockout, sessions."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import hmac
import secrets

from sqlalchemy import delete, select

from bot.db.models import StaffRole, StaffSession, StaffUser
from bot.db.session import Database

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
MAX_FAILED_LOGINS = 5
LOCKOUT = dt.timedelta(minutes=15)
SESSION_LIFETIME = dt.timedelta(hours=8)
MIN_PASSWORD_LENGTH = 10
USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-")


def hash_password(password: str) -> str:
    """A scrypt hash with its own random salt, in a self-describing string."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32
    )
    encode = base64.b64encode
    return (
        f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${encode(salt).decode()}${encode(digest).decode()}"
    )


def verify_password(password: str, stored: str) -> bool:
    """True if the password matches the stored hash (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


@dataclasses.dataclass(frozen=True)
class Staff:
    """A signed-in staff member."""

    id: int
    username: str
    role: StaffRole

    @property
    def is_admin(self) -> bool:
        """Admins may also delete conversations."""
        return self.role is StaffRole.ADMIN


def valid_username(username: str) -> bool:
    """Lower-case letters, digits, dot, dash, underscore; 3 to 64 characters."""
    return 3 <= len(username) <= 64 and set(username) <= USERNAME_CHARS


def add_staff(db: Database, username: str, password: str, role: StaffRole, now: dt.datetime) -> int:
    """Creates an account, or sets a new password and role for an existing one."""
    if not valid_username(username):
        raise ValueError("invalid username")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError("password too short")
    with db.session() as session:
        user = session.scalars(select(StaffUser).where(StaffUser.username == username)).first()
        if user is None:
            user = StaffUser(username=username, created_at=now)
            session.add(user)
        user.password_hash, user.role = hash_password(password), role
        user.failed_logins, user.locked_until = 0, None
        session.flush()
        return user.id


class LockedOut(Exception):
    """Too many wrong passwords: the account is locked for a while."""


def authenticate(db: Database, username: str, password: str, now: dt.datetime) -> Staff | None:
    """The staff member if the password is right; counts failures and locks the account.

    Raises LockedOut while the account is locked, even for the right password.
    """
    with db.session() as session:
        user = session.scalars(select(StaffUser).where(StaffUser.username == username)).first()
        if user is None:
            verify_password(password, _DUMMY_HASH)  # same work as for a real account
            return None
        if user.locked_until is not None and user.locked_until > now:
            raise LockedOut
        if verify_password(password, user.password_hash):
            user.failed_logins, user.locked_until = 0, None
            return Staff(user.id, user.username, user.role)
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.failed_logins, user.locked_until = 0, now + LOCKOUT
    return None


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(db: Database, staff_id: int, now: dt.datetime) -> tuple[str, str]:
    """A new session: (cookie token, CSRF token). Only the token's hash is stored."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    with db.session() as session:
        session.execute(delete(StaffSession).where(StaffSession.expires_at < now))
        session.add(
            StaffSession(
                token_hash=_token_hash(token),
                staff_id=staff_id,
                csrf_token=csrf,
                created_at=now,
                expires_at=now + SESSION_LIFETIME,
            )
        )
    return token, csrf


def session_staff(db: Database, token: str, now: dt.datetime) -> tuple[Staff, str] | None:
    """The staff member and CSRF token of a live session, or None."""
    with db.session() as session:
        row = session.execute(
            select(StaffUser, StaffSession.csrf_token)
            .join(StaffSession, StaffSession.staff_id == StaffUser.id)
            .where(StaffSession.token_hash == _token_hash(token), StaffSession.expires_at > now)
        ).first()
        if row is None:
            return None
        user, csrf = row
        return Staff(user.id, user.username, user.role), csrf


def close_session(db: Database, token: str) -> None:
    """Signs the browser out."""
    with db.session() as session:
        session.execute(delete(StaffSession).where(StaffSession.token_hash == _token_hash(token)))
