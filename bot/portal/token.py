"""The portal's chat token: who the student is, signed with the secret the assistant shares.

The portal issues it to the widget of a logged-in student; the web chat channel verifies it on
connect and derives the sender id `web:<student id>` from its `sub` claim. HS256, 15 minutes.
"""

from __future__ import annotations

import datetime as dt

import jwt

ALGORITHM = "HS256"
ISSUER = "staj-portal"
AUDIENCE = "staj-asistani-webchat"
LIFETIME = dt.timedelta(minutes=15)


class InvalidPortalToken(Exception):
    """The token is missing a claim, expired, or not signed with our secret."""


def issue(student_id: int, secret: str, now: dt.datetime) -> str:
    """A token that says `student_id` is logged in to the portal, valid for LIFETIME."""
    if not secret:
        raise ValueError("PORTAL_JWT_SECRET is empty")
    claims = {
        "sub": str(student_id),
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + LIFETIME,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify(token: str, secret: str) -> dict:
    """The claims of a valid token (`sub` is a student id); raises InvalidPortalToken."""
    if not secret or not isinstance(token, str) or not token:
        raise InvalidPortalToken("no secret or no token")
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["sub", "exp", "iat"]},
        )
    except jwt.PyJWTError as error:
        raise InvalidPortalToken(str(error)) from error
    if not str(claims["sub"]).isdigit():
        raise InvalidPortalToken("sub is not a student id")
    return claims
