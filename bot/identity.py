"""Who is talking: derived from the sender id that our verified channels make on the server.

Verified channels (bot/senders.py) name their senders `tg:<telegram user id>` (the Telegram
update's user, after the webhook secret or the bot token proved it came from Telegram) and
`web:<student id>` (the portal-signed token's claim). Any other sender id (REST, shell,
anonymous web) is unverified and never sees a student's data. Nothing in a message's text
decides who the student is. Which student a verified chat acts for is the database's answer
(bot/db/linking.py, `student_of`).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.senders import Channel, channel_of


@dataclass(frozen=True)
class ChannelIdentity:
    """A verified channel user: Telegram user id, or the portal's student id on the web."""

    channel: Channel
    external_user_id: str


def identity_of(sender_id: str) -> ChannelIdentity | None:
    """The verified identity behind a sender id, or None for an unverified sender."""
    channel = channel_of(sender_id)
    external_user_id = sender_id.partition(":")[2]
    if channel is None or not channel.verified or not external_user_id.isdigit():
        return None
    return ChannelIdentity(channel, external_user_id)
