"""The one registry of channels (bot/senders.py): sender ids, who is verified, staff's labels."""

from __future__ import annotations

import pytest

from bot import senders
from bot.identity import identity_of
from bot.review.server import filters_from


def test_every_channel_has_its_own_prefix_and_a_label() -> None:
    prefixes = [channel.prefix for channel in senders.CHANNELS]
    assert len(set(prefixes)) == len(prefixes)
    assert set(senders.LABELS) == {*prefixes, senders.OTHER}
    assert all(label for label in senders.LABELS.values())


@pytest.mark.parametrize("channel", senders.CHANNELS, ids=lambda channel: channel.prefix)
def test_a_sender_id_names_its_channel(channel: senders.Channel) -> None:
    assert senders.channel_of(channel.sender_id(42)) is channel
    assert senders.prefix_of(channel.sender_id("x")) == channel.prefix


def test_sender_ids_of_no_channel_are_other() -> None:
    for sender_id in ("default", "tgx:1", "", "webanon:1"):
        assert senders.channel_of(sender_id) is None
        assert senders.prefix_of(sender_id) == senders.OTHER


@pytest.mark.parametrize(
    ("sender_id", "channel"),
    [
        ("tg:42", senders.TELEGRAM),
        ("web:7", senders.WEB),
        ("web-anon:123", None),  # a portal visitor without a token
        ("rest:tg:1", None),  # a REST client choosing a Telegram id
        ("tg:abc", None),
        ("tg:", None),
        ("web:", None),
        ("default", None),
    ],
)
def test_only_verified_channels_give_an_identity(
    sender_id: str, channel: senders.Channel | None
) -> None:
    identity = identity_of(sender_id)
    assert (identity.channel if identity else None) is channel


@pytest.mark.parametrize("key", [*senders.LABELS, "no-such-channel"])
def test_staff_can_filter_by_every_channel_and_nothing_else(key: str) -> None:
    expected = key if key in senders.LABELS else None
    assert filters_from({"channel": key}).channel == expected
