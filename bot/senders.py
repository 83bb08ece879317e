"""Every channel students reach the assistant on, as its Rasa sender ids show it.

A sender id is `<prefix>:<user>`, made on the server by the channel's own code (never taken
from a client): `tg:<Telegram user id>`, `web:<student id>`, `web-anon:<random>`,
`rest:<whatever the REST client sent>`. This module is the one list of those channels; who a
sender is (bot/identity.py), how staff filter and label conversations (bot/db/review.py,
bot/review/), and the channels themselves (bot/channels/) read it. It imports nothing, so every
process can.

Adding a channel: an entry here, its input channel in bot/channels/, its line in
credentials.yml, and its tests.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Channel:
    """One channel, as its sender ids and its messages in Rasa show it.

    prefix: sender ids are `<prefix>:<user>`; staff filter conversations by it.
    name: Rasa's `input_channel` of its messages; for a channel whose chats link to a student
        with a code, also the `channel` of those links in the database (never rename it).
    label: what staff read in the review app (Turkish).
    verified: the server made the sender id from proof of who the user is (Telegram's update,
        the portal's signed token); only then may the assistant show a student's data.
    names_student: the user part is the student's id itself; otherwise a verified chat acts for
        a student only once it is linked with a one-time code.
    """

    prefix: str
    name: str
    label: str
    verified: bool = False
    names_student: bool = False

    def sender_id(self, user: str | int) -> str:
        """The Rasa sender id of `user` on this channel."""
        return f"{self.prefix}:{user}"


TELEGRAM = Channel("tg", "telegram", "Telegram", verified=True)
WEB = Channel("web", "webchat", "Portal (doğrulanmış)", verified=True, names_student=True)
WEB_ANON = Channel("web-anon", "webchat", "Portal (anonim)")
REST = Channel("rest", "rest", "REST")
CHANNELS = (TELEGRAM, WEB, WEB_ANON, REST)

# Staff see a sender id of no known channel (e.g. Rasa's HTTP API) as "other".
OTHER = "other"
LABELS = {**{channel.prefix: channel.label for channel in CHANNELS}, OTHER: "Diğer"}

_BY_PREFIX = {channel.prefix: channel for channel in CHANNELS}


def channel_of(sender_id: str) -> Channel | None:
    """The channel whose prefix the sender id carries, or None."""
    return _BY_PREFIX.get(sender_id.partition(":")[0])


def prefix_of(sender_id: str) -> str:
    """The prefix of the sender id's channel, or OTHER: how staff filter conversations."""
    channel = channel_of(sender_id)
    return channel.prefix if channel is not None else OTHER
