"""Who is talking: derived from the sender id that our verified channels make on the server.

Verified channels name their senders `tg:<telegram user id>` (the Telegram update's user, after
the webhook secret or the bot token proved it came from Telegram) and `web:<student id>` (the
portal-signed token's claim). Any other sender id (REST, shell, anonymous web) is unverified
and never sees a student's data. Nothing in a message's text decides who the student is.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bot.db import linking
from bot.db.session import Database


class Channel(str, enum.Enum):
    """Channels whose sender ids are verified."""

    TELEGRAM = "telegram"
    WEB = "web"


SENDER_PREFIXES = {"tg": Channel.TELEGRAM, "web": Channel.WEB}


@dataclass(frozen=True)
class ChannelIdentity:
    """A verified channel user: Telegram user id, or the portal's student id on the web."""

    channel: Channel
    external_user_id: str

    @property
    def sender_id(self) -> str:
        """The Rasa sender id of this identity."""
        prefix = next(p for p, channel in SENDER_PREFIXES.items() if channel is self.channel)
        return f"{prefix}:{self.external_user_id}"

    @property
    def can_link(self) -> bool:
        """Telegram chats link with a code; the portal's web chat already knows the student."""
        return self.channel is Channel.TELEGRAM


def identity_of(sender_id: str) -> ChannelIdentity | None:
    """The verified identity behind a sender id, or None for an unverified sender."""
    prefix, _, external_user_id = sender_id.partition(":")
    channel = SENDER_PREFIXES.get(prefix)
    if channel is None or not external_user_id or not external_user_id.isdigit():
        return None
    return ChannelIdentity(channel, external_user_id)


def student_of(db: Database, identity: ChannelIdentity | None) -> int | None:
    """The student a verified identity acts for, if any."""
    if identity is None:
        return None
    if identity.channel is Channel.WEB:
        return int(identity.external_user_id)
    return linking.linked_student(db, identity.channel.value, identity.external_user_id)
